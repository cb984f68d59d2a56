"""The analysis of one spec file: a pure function of its bytes, returning plain data
(marshal- and cache-friendly), so it can run in worker processes and be cached by the
file's digest.

The pipeline per file: compose YAML keeping marks (yamlnodes) -> schema check (schema) ->
semantic checks and warnings (rules) -> normalised API body and its digest.
"""

from __future__ import annotations

from typing import Any

from provisioner import body as api_body
from provisioner.body import CAMPAIGN, CONTACT_LIST
from provisioner.spec import rules, runstate
from provisioner.spec import schema
from provisioner.errors import ERROR, WARNING  # noqa: F401 -- re-exported
from provisioner.disk.yamlnodes import Document, RunCapExceeded, format_path, parse
from provisioner.spec.record import Analysis, Context
from provisioner.spec.resolve import Finding, Lines, Resolved, references, resolve



def analyse(data: bytes, context: Context | None = None) -> Analysis:
    """Everything about one file that depends only on its bytes (and, for an environment,
    on its `context`: provisioner/spec/resolve.py), as plain data (marshal- and cache-
    friendly): [file problems, [per document: problems, name, name line, name column,
    campaign or None]], laid out as provisioner/spec/record.py says."""
    documents, issues = parse(data)
    problems = [(i.line, i.column, i.path, i.message, ERROR) for i in issues]
    defaults = _defaults(context, problems) if context is not None else []
    if defaults is None:   # a defaults file above is broken: it is reported on its own
        return [problems, []]
    refs = references(data)
    return [problems, [_analyse_document(document, context, defaults, refs)
                       for document in documents]]


def analyse_capped(data: bytes, context: Context | None = None) -> Analysis | str:
    """`analyse`, or (a string) why not: this run's cap on alias expansion is spent. That
    depends on the run, not on the bytes, so the caller reports it and caches nothing."""
    try:
        return analyse(data, context)
    except RunCapExceeded as exc:
        return str(exc)


def analyse_defaults(data: bytes, context: Context) -> Analysis:
    """A `_defaults.yaml`: one mapping (its own problems only; campaigns below it are
    checked with it merged in)."""
    documents, issues = parse(data)
    problems = [(i.line, i.column, i.path, i.message, ERROR) for i in issues]
    problems += [(i.line, i.column, i.path, i.message, ERROR) for d in documents
                 for i in d.issues]
    if not issues and (len(documents) != 1 or not isinstance(documents[0].value, dict)):
        line, column = (documents[1].line, documents[1].column) if len(documents) > 1 else (1, 1)
        problems.append((line, column, "$", "a _defaults.yaml holds one mapping of campaign "
                                            "fields (merged under every campaign below it)",
                         ERROR))
    return [problems, []]


def _usable_defaults(documents: list[Document], issues: list[Any]) -> Document | None:
    """The one mapping a `_defaults.yaml` holds, or None when it holds anything else or
    has a problem (analyse_defaults reports it)."""
    if issues or len(documents) != 1 or documents[0].issues:
        return None
    return documents[0] if isinstance(documents[0].value, dict) else None


_PARSED: dict[bytes, Document | None] = {}   # defaults files parsed in this process


def _defaults(context: Context, problems: list[Any]) -> list[tuple[str, Document, Lines]] | None:
    """The context's defaults files, parsed (once per process); None when one is broken."""
    out = []
    for shown, data in context.defaults:
        if data not in _PARSED:
            _PARSED[data] = _usable_defaults(*parse(data))
        document = _PARSED[data]
        if document is None:
            problems.append((1, 1, "$", f"not checked: the defaults file {shown} above it has "
                                        "errors (reported there)", ERROR))
            return None
        out.append((shown, document, references(data)))
    return out


def _analyse_document(doc: Document, context: Context | None = None,
                      defaults: list[tuple[str, Document, Lines]] | None = None,
                      refs: Lines = None) -> list[Any]:
    problems = [(i.line, i.column, i.path, i.message, ERROR) for i in doc.issues]
    value = doc.value
    if value is None:
        return [problems, None, 0, 0, None, CAMPAIGN, None]
    name = value.get("name") if isinstance(value, dict) else None
    resolved = None
    if context is not None and isinstance(value, dict):
        # shared defaults are campaign fields: a contact list takes none of them
        below = defaults if _kind(value) == CAMPAIGN else []
        resolved = resolve(doc, "", below or [], context, refs)
        problems += [_finding(f, name) for f in resolved.findings]
        if resolved.value is None:   # not in this environment (no name: it takes none
            return [problems, None, 0, 0, None, _kind(value), None]   # here), or unresolvable
        value = resolved.value
        name = value.get("name")
    kind = _kind(value)
    for finding in _findings(value, context, kind):
        problems.append(_located(doc, resolved, finding, name, context))
    name_line, name_column = (_place(doc, resolved, ("name",))
                              if isinstance(name, str) else (0, 0))
    resource = None
    if not any(problem[4] == ERROR for problem in problems):
        resource = _resource(doc, resolved, value, kind)
    clock = _clock(doc, resolved, value, name, context) if kind == CAMPAIGN else None
    return [problems, name if isinstance(name, str) else None, name_line, name_column,
            resource, kind, clock]


def _kind(value: Any) -> str:
    """A document's `kind` as written (Campaign when absent or not a string: the schema
    reports a bad one)."""
    kind = value.get("kind", CAMPAIGN) if isinstance(value, dict) else CAMPAIGN
    return kind if isinstance(kind, str) else CAMPAIGN


def _resource(doc: Document, resolved: Resolved | None, value: dict[str, Any],
              kind: str) -> tuple[Any, ...]:
    """A valid document as provisioner/spec/record.py lays a resource out."""
    if kind == CONTACT_LIST:
        body, ignore, lists = api_body.contact_list_body(value), [], []
    else:
        body = normalise(value)
        ignore = list(value.get("ignoreChanges") or [])
        lists = _lists(doc, resolved, value.get("contactLists") or [])
    return (value["name"], body, doc.line, doc.column, value.get("ensure", "present"),
            bool(value.get("protect", False)), api_body.digest(body),
            _previous(doc, resolved, value.get("previousNames") or []), ignore, kind, lists,
            value.get("run"), value.get("rerun"))


def _clock(doc: Document, resolved: Resolved | None, value: Any, name: Any,
           context: Context | None) -> tuple[Any, ...] | None:
    """What the rules that read the current time judge of a campaign (provisioner/spec/
    record.py `clock`): recorded, never judged here, since an analysis is cached."""
    found = runstate.clock_values(value) if isinstance(value, dict) else None
    if found is None:
        return None
    places = tuple(_located(doc, resolved, schema.Finding(("schedule", key), ""), name,
                            context) for key in ("startDateTime", "endDateTime"))
    return (*found, *places)


def _lists(doc: Document, resolved: Resolved | None, names: list[str]
           ) -> list[tuple[str, int, int, str]]:
    """Each `contactLists` entry with where it was written (file "" for this file): a
    reference to a contact list is checked once every spec is loaded
    (provisioner/spec/references.py) and reported there."""
    out = []
    for index, name in enumerate(names):
        if resolved is None:
            line, column = doc.locate(("contactLists", index))
            out.append((name, line, column, ""))
        else:
            file, line, column, _ = resolved.locate(("contactLists", index))
            out.append((name, line, column, file))
    return out


def _previous(doc: Document, resolved: Resolved | None, names: list[str]
              ) -> list[tuple[str, int, int]]:
    """Each previous name with where it was written (its clashes are located there)."""
    return [(name, *_place(doc, resolved, ("previousNames", index)))
            for index, name in enumerate(names)]


def _findings(value: dict[str, Any], context: Context | None,
              kind: str = CAMPAIGN) -> list[schema.Finding]:
    """Schema, rule and (for a campaign in an environment with one) policy findings; a
    quietHours policy of error or off replaces the quiet-hours warnings."""
    found = schema.check(value) + rules.check(value)
    if context is None or not context.policy or kind != CAMPAIGN:
        return found
    from provisioner.spec import policy

    if context.policy.get("quietHours") in ("error", "off"):
        found = [f for f in found if not rules.is_quiet_hours(f)]
    return found + policy.check(value, context.policy, context.env)


def _located(doc: Document, resolved: Resolved | None, finding: Any, name: Any,
             context: Context | None) -> tuple[Any, ...]:
    """A schema, rule or policy finding as a problem, located where its value was written:
    this file, a defaults file, or the variable in the config file."""
    if resolved is None:
        line, column = doc.locate(finding.path, key=finding.on_key)
        return (line, column, format_path(finding.path), finding.message, finding.severity)
    file, line, column, var = resolved.locate(tuple(finding.path), key=finding.on_key)
    message = finding.message
    if var and context is not None and var in context.var_places:
        at = f"{file or 'this file'}:{line}:{column}"
        file, line, column = context.var_places[var]
        message += f" (variable {var}, used by campaign {name!r} at {at})"
    elif file:
        message += f" (in campaign {name!r})"
    return _problem(line, column, format_path(finding.path), message, finding.severity, file)


def _finding(finding: Finding, name: Any) -> tuple[Any, ...]:
    message = finding.message + (f" (in campaign {name!r})" if finding.file and
                                 isinstance(name, str) else "")
    return _problem(finding.line, finding.column, finding.path, message, ERROR, finding.file)


def _problem(line: int, column: int, path: str, message: str, severity: str,
             file: str) -> tuple[Any, ...]:
    """A problem tuple (provisioner/spec/record.py): its file only when it is not this one."""
    problem = (line, column, path, message, severity)
    return problem + (file,) if file else problem


def _place(doc: Document, resolved: Resolved | None, path: tuple[str | int, ...]
           ) -> tuple[int, int]:
    if resolved is None:
        return doc.locate(path)
    file, line, column, _ = resolved.locate(path)
    return (line, column) if not file else (doc.line, doc.column)


def normalise(spec: dict[str, Any]) -> dict[str, Any]:
    """The API body of a valid campaign document (docs/architecture.md, "Normalisation")."""
    merged = {"campaignType": "sms", **spec}
    out = {key: merged[key] for key in api_body.BODY_FIELDS if key in merged}
    if "priority" in out and not isinstance(out["priority"], str):
        out["priority"] = str(int(out["priority"]))
    if isinstance(out.get("message"), dict):
        out["message"] = _normalise_message(out["message"])
    if isinstance(out.get("dialingStrategy"), dict):
        out["dialingStrategy"] = api_body.whole_numbers(out["dialingStrategy"])
    if isinstance(out.get("schedule"), dict):
        out["schedule"] = api_body.normal_schedule(out["schedule"])
    return out


def _normalise_message(message: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in message.items():
        if key == "text":
            out["message"] = api_body.encode_message(value)
        elif key == "message":
            out["message"] = api_body.encode_message(api_body.decode_message(value))
        else:
            out[key] = value
    return out
