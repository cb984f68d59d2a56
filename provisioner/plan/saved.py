"""Reading a saved plan file (`plan --out FILE`, read back by `apply FILE`).

Whatever the file holds, the outcome is a Plan or a ConfigError naming the file and what
is wrong, in one line: not a regular file, not UTF-8, not JSON (with line and column), an
integer too long or nesting too deep to read, or JSON of the wrong shape (a missing key,
a value of the wrong type: the message gives its JSON path). The shape is checked here in
full, so nothing downstream meets a list where it expects a string.
"""

from __future__ import annotations

from typing import Any

from provisioner.errors import ConfigError, ProvisionerError
from provisioner.disk.jsondoc import JsonProblem, loads
from provisioner.plan.model import FORMAT_VERSION, Plan
from provisioner.disk.regular import read_regular

_STR, _INT, _BOOL, _DICT, _LIST = ("a string", "a non-negative integer", "true or false",
                                   "an object", "a list")
_NONE = " or null"
_MISSING = object()   # a key the file lacks
# Each field of a saved change: what its value must be (Action's fields).
_CHANGE_FIELDS = {
    "action": _STR, "name": _STR, "lname": _STR, "id": _STR + _NONE, "source": _STR,
    "before": _DICT + _NONE, "after": _DICT + _NONE, "digest_before": _STR + _NONE,
    "digest_after": _STR + _NONE, "changes": "a list of objects", "reason": _STR,
    "drift": _BOOL, "recreate": _BOOL, "drift_changes": "a list of objects",
    "message": _DICT + _NONE, "blocked_action": _STR, "candidates": "a list of strings",
    "previous_name": _STR, "ignored": "a list of strings", "kind": _STR,
    "lists": "a list of strings", "status": _STR, "rerun": _STR,
}
_REQUIRED_CHANGE = ("action", "name", "lname")


def read_plan(path: str) -> Plan:
    """The plan saved in the file at `path`. ConfigError naming the file otherwise."""
    try:
        data = read_regular(path)[0]
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such plan file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the plan file ({exc.strerror or exc})") from None
    try:
        document = loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a plan file (byte {exc.start} is not UTF-8)") from None
    except JsonProblem as exc:
        raise ConfigError(f"{path}: not a plan file ({exc})") from None
    problem = shape_problem(document)
    if problem:
        raise ConfigError(f"{path}: not a provisioner plan file ({problem})")
    try:
        return Plan.from_dict(document)
    except ProvisionerError as exc:   # what the check above missed, named all the same
        raise ConfigError(f"{path}: {exc}") from None


def shape_problem(data: Any) -> str:
    """The first thing wrong with a saved plan's shape ("$.changes[3].lname must be a
    string"), or "" when it can be read."""
    if not isinstance(data, dict):
        return f"$ must be an object, not {_kind(data)}"
    if data.get("format_version") != FORMAT_VERSION or _is_bool(data.get("format_version")):
        return (f"$.format_version must be {FORMAT_VERSION}, not "
                f"{_kind(data.get('format_version'))}")
    state = data.get("state", _MISSING)
    checks: list[tuple[str, Any, str]] = [
        ("$.env", data.get("env", _MISSING), _STR), ("$.state", state, _DICT),
        ("$.specs", data.get("specs", _MISSING), "an object of strings"),
        ("$.changes", data.get("changes", _MISSING), "a list of objects"),
        ("$.refreshed", data.get("refreshed", False), _BOOL),
        ("$.warnings", data.get("warnings", []), "a list of objects"),
        ("$.target", data.get("target"), _DICT + _NONE),
        ("$.targets", data.get("targets"), _DICT + _NONE),
    ]
    if isinstance(state, dict):
        checks += [("$.state.lineage", state.get("lineage", _MISSING), _STR + _NONE),
                   ("$.state.serial", state.get("serial", _MISSING), _INT + _NONE)]
    for path, value, want in checks:
        if value is _MISSING:
            return f"{path} is missing"
        if not _fits(value, want):
            return f"{path} must be {want}, not {_kind(value)}"
    return _targets_problem(data.get("targets")) or next(filter(None, (
        _change_problem(i, c) for i, c in enumerate(data["changes"]))), "")


# A targeted plan's "targets" (provisioner/plan/selection.py Scope): what each key must be.
_TARGETS_FIELDS = {"include": "a list of strings", "exclude": "a list of strings",
                   "selected": _INT, "known": _INT}


def _targets_problem(targets: dict[str, Any] | None) -> str:
    """What is wrong with a saved plan's `"targets"` (null: not targeted), or ""."""
    if targets is None:
        return ""
    for key, value in targets.items():
        want = _TARGETS_FIELDS.get(key)
        if want is None:
            return f"$.targets has an unknown key {key[:40]!r}"
        if not _fits(value, want):
            return f"$.targets.{key} must be {want}, not {_kind(value)}"
    if not targets.get("include") and not targets.get("exclude"):
        return "$.targets must name at least one pattern in include or exclude"
    return ""


def _change_problem(index: int, change: dict[str, Any]) -> str:
    where = f"$.changes[{index}]"
    missing = [key for key in _REQUIRED_CHANGE if key not in change]
    if missing:
        return f"{where} lacks {missing[0]!r}"
    for key, value in change.items():
        want = _CHANGE_FIELDS.get(key)
        if want is None:
            return f"{where} has an unknown key {key[:40]!r}"
        if not _fits(value, want):
            return f"{where}.{key} must be {want}, not {_kind(value)}"
    return ""


def _fits(value: Any, want: str) -> bool:
    if want.endswith(_NONE):
        return value is None or _fits(value, want[:-len(_NONE)])
    kinds = {_STR: str, _DICT: dict, _LIST: list}
    if want in kinds:
        return isinstance(value, kinds[want])
    if want == _INT:
        return isinstance(value, int) and not _is_bool(value) and value >= 0
    if want == _BOOL:
        return _is_bool(value)
    if want == "an object of strings":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    item = {"a list of objects": dict, "a list of strings": str}[want]
    return isinstance(value, list) and all(isinstance(v, item) for v in value)


def _is_bool(value: Any) -> bool:
    return value is True or value is False


def _kind(value: Any) -> str:
    """What a JSON value is, in words, never the value itself (it may be huge)."""
    if value is None:
        return "null"
    if _is_bool(value):
        return "a boolean"
    names = {str: "a string", int: "a number", float: "a number", dict: "an object",
             list: "a list"}
    return names.get(type(value), type(value).__name__)
