"""Check a spec document (a campaign, or with `kind: ContactList` a contact list) against
`schemas/campaign.schema.json`, in plain words.

jsonschema's messages describe the schema ("'x' is a required property", "Additional
properties are not allowed"); here each error becomes a `Finding` that names the exact node
(the unknown key itself, the duplicate list item) and says what to write instead. The
schema may carry `patternErrorMessage`/`errorMessage` (the keywords yaml-language-server
shows in the editor), so the wording lives next to the rule it explains.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:   # imported when first needed: it costs more than a warm plan may take
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

from provisioner.errors import ConfigError

# `provisioner/campaign.schema.json` is a symlink to `schemas/campaign.schema.json` (the one
# copy editors and yaml-language-server use); building a wheel copies its content, so an
# installed package (pip install ., the pre-commit hook) carries the schema too.
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "campaign.schema.json"

_EXPECTED = {"string": "a string", "integer": "an integer", "number": "a number",
             "object": "a mapping", "array": "a list", "boolean": "true or false"}


@dataclass(frozen=True)
class Finding:
    """A problem at a JSON path of one document, before it is placed in a file."""

    path: tuple[str | int, ...]
    message: str
    severity: str = "error"
    on_key: bool = False      # locate the mapping key rather than its value


@functools.cache
def load_schema() -> dict[str, Any]:
    """The campaign schema. Raises ConfigError when it is missing or not JSON."""
    try:
        schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{SCHEMA_PATH}: cannot read the campaign schema ({exc})") from None
    return schema


@functools.cache
def validator() -> Draft202012Validator:
    """One validator per process; no format checker (the schema uses no `format`).
    `pattern` is matched as JSON Schema means it (ECMA-262: `$` ends the string), not as
    Python's re does (`$` also before a final newline, so "9:00 AM\n" passed as a time)."""
    from jsonschema import Draft202012Validator, validators

    checker: Any = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {"pattern": _pattern})
    return checker(load_schema())  # type: ignore[no-any-return]


def _pattern(checker: Any, pattern: str, instance: Any, _schema: Any) -> Any:
    if checker.is_type(instance, "string") and not exact_pattern(pattern)(instance):
        from jsonschema.exceptions import ValidationError

        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def exact_pattern(pattern: str) -> Callable[[str], Any]:
    """`search` of a JSON Schema pattern with ECMA-262's `$`: end of the string only.
    (An escaped `\\$` is left alone; the schema has no `$` inside a character class.)"""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern)).search


def check(value: Any) -> list[Finding]:
    """Every schema problem of one document, deduplicated, in discovery order."""
    if _decide(value):
        return []
    checker = validator()
    if checker.is_valid(value):
        return []
    findings: dict[tuple[tuple[str | int, ...], str], Finding] = {}
    mistyped: set[tuple[str | int, ...]] = set()   # a wrong type says it all: no enum too
    errors = list(checker.iter_errors(value))
    for error in errors:
        if error.validator == "type":
            mistyped.add(tuple(error.absolute_path))
    for error in errors:
        if error.validator == "enum" and tuple(error.absolute_path) in mistyped:
            continue
        for finding in _findings(error):
            findings.setdefault((finding.path, finding.message), finding)
    return list(findings.values())


# Below this many documents in a process, the compiled check decides: importing jsonschema-rs
# (~35 ms) costs more than it saves, and a warm plan analyses only the files that changed.
LIGHT_DOCUMENTS = 200
_decided = 0


def _decide(value: Any) -> bool:
    """True when `value` is certainly valid; False means: ask jsonschema."""
    global _decided
    _decided += 1
    if _decided <= LIGHT_DOCUMENTS and "jsonschema_rs" not in sys.modules:
        return compiled_check()(value)
    return fast_check()(value)


@functools.cache
def compiled_check() -> Callable[[Any], bool]:
    """The compiled fast path below, built once."""
    return compile_schema(load_schema())


@functools.cache
def fast_check() -> Callable[[Any], bool]:
    """A quick yes for valid documents, so jsonschema (the reference, which explains every
    failure) runs only on documents with a problem. jsonschema-rs decides valid/invalid
    about 8x faster than the compiled check below (0.06 s against 0.49 s for 5,000
    campaigns, bench data), which is itself about 20x faster than jsonschema; the compiled
    check remains for platforms without a jsonschema-rs wheel. Neither ever explains."""
    try:
        import jsonschema_rs
    except ImportError:
        return compile_schema(load_schema())
    return jsonschema_rs.validator_for(load_schema(), validate_formats=False).is_valid


def suggest(word: str, choices: list[str], cutoff: float = 0.6) -> str:
    """`; did you mean 'x'?` for the closest choice (case-insensitive), or ''."""
    lowered = {choice.lower(): choice for choice in choices}
    import difflib

    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return f"; did you mean '{lowered[close[0]]}'?" if close else ""


def show(value: Any) -> str:
    """A value as a user wrote it: strings quoted, everything else as JSON/YAML."""
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _findings(error: ValidationError) -> list[Finding]:
    path = tuple(error.absolute_path)
    # the stubs allow an unset validator or a boolean schema; a failure of ours has neither
    kind, schema = str(error.validator), cast("dict[str, Any]", error.schema)
    value: Any = error.instance
    if kind == "additionalProperties":
        known = list(schema.get("properties", {}))
        return [Finding(path + (key,), _unknown(key, known), on_key=True)
                for key in value if key not in known]
    if kind == "uniqueItems":
        return [_duplicate_item(path, value)]
    if kind == "not" and path and isinstance(path[-1], str) and "errorMessage" in schema:
        # a field the document's kind, type or dialing mode refuses: said on its key
        return [Finding(path, f"'{path[-1]}' is {schema['errorMessage']}", on_key=True)]
    return [Finding(path, _message(error, kind, schema, value))]


def _message(error: ValidationError, kind: str, schema: dict[str, Any], value: Any) -> str:
    limit: Any = error.validator_value
    if kind == "pattern" and "patternErrorMessage" in schema:
        return f"{show(value)} is {schema['patternErrorMessage']}"
    if "errorMessage" in schema:
        return f"{show(value)} is {schema['errorMessage']}"
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required key '{missing}'{_condition(error)}"
    if kind == "enum":
        hint = suggest(value, [str(v) for v in limit]) if isinstance(value, str) else ""
        return f"{show(value)} is not one of {', '.join(map(str, limit))}{hint}"
    if kind == "type":
        return _type_message(limit, value)
    if kind == "minLength":
        return "must not be empty" if limit == 1 else f"too short: at least {limit} characters"
    if kind == "maxLength":
        return f"too long: {len(value)} characters, at most {limit}"
    if kind == "minimum":
        return f"too low: {show(value)}, at least {limit}"
    if kind == "maximum":
        return f"too high: {show(value)}, at most {limit}"
    if kind == "minItems":
        return f"must list at least {limit} item{'s' if limit != 1 else ''}"
    if kind == "maxItems":
        return f"too many items: {len(value)}, at most {limit}"
    return error.message


def _unknown(key: str, known: list[str]) -> str:
    hint = suggest(key, known)
    return f"unknown key '{key}'" + (hint or f" (allowed: {', '.join(known)})")


def _type_message(expected: str | list[str], value: Any) -> str:
    names = [expected] if isinstance(expected, str) else expected
    want = " or ".join(_EXPECTED.get(name, name) for name in names)
    if isinstance(value, dict):
        return f"expected {want}, got a mapping"
    if isinstance(value, list):
        return f"expected {want}, got a list"
    hint = ""
    if "string" in names and isinstance(value, (bool, int, float)):
        hint = " (quote it: unquoted YAML reads it as a " + (
            "boolean)" if isinstance(value, bool) else "number)")
    return f"expected {want}, got {show(value)}{hint}"


def _duplicate_item(path: tuple[str | int, ...], items: list[Any]) -> Finding:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        key = json.dumps(item, sort_keys=True)
        if key in seen:
            return Finding(path + (index,), f"{show(item)} is listed twice "
                                            f"(first at [{seen[key]}])")
        seen[key] = index
    return Finding(path, "items must be distinct")


def _condition(error: ValidationError) -> str:
    """' (needed when format is 'advanced')' for a requirement inside an if/then: the
    innermost branch it sits in, when that is a `then` whose `if` names a value. (An `else`,
    such as the one of `ensure: absent`, and the branch of a document's kind say nothing a
    reader needs.)"""
    steps = list(error.schema_path)
    branches = [at for at, step in enumerate(steps[:-1]) if step in ("then", "else")]
    if not branches or steps[branches[-1]] != "then":
        return ""
    node: Any = load_schema()
    for step in steps[:branches[-1]]:
        node = node[step]
    for key, sub in node.get("if", {}).get("properties", {}).items():
        values = [sub["const"]] if "const" in sub else sub.get("enum", [])
        if values and key != "kind":
            return f" (needed when {key} is {' or '.join(show(v) for v in values)})"
    return ""


# The compiled fast path. Every keyword the schema uses is handled; any other keyword, or any
# value it is unsure about (a non-string enum, unhashable list items), makes it answer False
# so that jsonschema decides. Annotation keywords do not constrain.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "examples",
                          "default", "errorMessage", "patternErrorMessage"})
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}
Check = Callable[[Any], bool]


def compile_schema(node: dict[str, Any]) -> Check:
    """A predicate that is True only when `node` certainly accepts the value."""
    checks = [_compile_keyword(key, value, node) for key, value in node.items()
              if key not in _ANNOTATIONS and key not in ("then", "else")]

    def run(value: Any) -> bool:
        for check in checks:   # a plain loop: measurably faster than all() over a generator
            if not check(value):
                return False
        return True
    return run


def _compile_keyword(key: str, arg: Any, node: dict[str, Any]) -> Check:
    if key == "if":
        cond = compile_schema(arg)
        then, other = (compile_schema(node.get(k, {})) for k in ("then", "else"))
        return lambda v: then(v) if cond(v) else other(v)
    if key in ("anyOf", "allOf"):
        subs = [compile_schema(sub) for sub in arg]
        combine = any if key == "anyOf" else all
        return lambda v: combine(sub(v) for sub in subs)
    if key in _OBJECT_KEYWORDS:
        inner = _OBJECT_KEYWORDS[key](arg, node)
        return lambda v: not isinstance(v, dict) or inner(v)
    if key in _ARRAY_KEYWORDS:
        inner = _ARRAY_KEYWORDS[key](arg)
        return lambda v: not isinstance(v, list) or inner(v)
    if key in _STRING_KEYWORDS:
        inner = _STRING_KEYWORDS[key](arg)
        return lambda v: not isinstance(v, str) or inner(v)
    return _compile_other(key, arg)


def _compile_other(key: str, arg: Any) -> Check:
    if key == "type" and isinstance(arg, str) and arg in _TYPES:
        return _TYPES[arg]
    if key in ("enum", "const"):
        allowed = frozenset(arg if key == "enum" else [arg])
        if all(isinstance(item, str) for item in allowed):
            return lambda v: isinstance(v, str) and v in allowed
        if all(isinstance(item, bool) for item in allowed):   # 1 == True: check the type
            return lambda v: isinstance(v, bool) and v in allowed
    if key in ("minimum", "maximum"):
        sign = 1 if key == "minimum" else -1
        return lambda v: not _TYPES["integer"](v) or sign * (v - arg) >= 0
    return lambda v: False   # unknown to the fast path: let jsonschema decide


def _properties(arg: dict[str, Any], node: dict[str, Any]) -> Check:
    subs = {name: compile_schema(sub) for name, sub in arg.items()}
    return lambda v: all(subs[k](item) for k, item in v.items() if k in subs)


def _closed(arg: Any, node: dict[str, Any]) -> Check:
    known = frozenset(node.get("properties", {}))
    return (lambda v: known.issuperset(v)) if arg is False else (lambda v: False)


def _items(arg: dict[str, Any]) -> Check:
    sub = compile_schema(arg)
    return lambda v: all(sub(item) for item in v)


def _unique(arg: bool) -> Check:
    return lambda v: not arg or (all(isinstance(i, str) for i in v) and len(set(v)) == len(v))


_OBJECT_KEYWORDS: dict[str, Callable[[Any, dict[str, Any]], Check]] = {
    "properties": _properties,
    "additionalProperties": _closed,
    "required": lambda arg, node: lambda v: all(k in v for k in arg),
}
_ARRAY_KEYWORDS: dict[str, Callable[[Any], Check]] = {
    "items": _items,
    "uniqueItems": _unique,
    "minItems": lambda n: lambda v: len(v) >= n,
    "maxItems": lambda n: lambda v: len(v) <= n,
}
_STRING_KEYWORDS: dict[str, Callable[[Any], Check]] = {
    "pattern": exact_pattern,
    "minLength": lambda n: lambda v: len(v) >= n,
    "maxLength": lambda n: lambda v: len(v) <= n,
}
