"""The analysis of one spec file: a pure function of its bytes, returning plain data
(marshal- and cache-friendly), so it can run in worker processes and be cached by the
file's digest.

The pipeline per file: compose YAML keeping marks (yamlnodes) -> schema check (schema) ->
semantic checks and warnings (rules) -> normalised API body and its digest.
"""

from __future__ import annotations

from typing import Any

from provisioner import body as api_body
from provisioner.spec import rules
from provisioner.spec import schema
from provisioner.errors import ERROR, WARNING  # noqa: F401 -- re-exported
from provisioner.spec.record import Analysis
from provisioner.disk.yamlnodes import Document, RunCapExceeded, format_path, parse



def analyse(data: bytes) -> Analysis:
    """Everything about one file that depends only on its bytes, as plain data (marshal-
    and cache-friendly): [file problems, [per document: problems, name, name line, name
    column, campaign or None]]. A problem is (line, column, path, message, severity); a
    campaign (name, body, line, column, ensure, protect, digest)."""
    documents, issues = parse(data)
    return [[(i.line, i.column, i.path, i.message, ERROR) for i in issues],
            [_analyse_document(document) for document in documents]]


def analyse_capped(data: bytes) -> Analysis | str:
    """`analyse`, or (a string) why not: this run's cap on alias expansion is spent. That
    depends on the run, not on the bytes, so the caller reports it and caches nothing."""
    try:
        return analyse(data)
    except RunCapExceeded as exc:
        return str(exc)


def _analyse_document(doc: Document) -> list[Any]:
    problems = [(i.line, i.column, i.path, i.message, ERROR) for i in doc.issues]
    value = doc.value
    if value is None:
        return [problems, None, 0, 0, None]
    for finding in schema.check(value) + rules.check(value):
        line, column = doc.locate(finding.path, key=finding.on_key)
        problems.append((line, column, format_path(finding.path), finding.message,
                         finding.severity))
    name = value.get("name")
    name_line, name_column = doc.locate(("name",)) if isinstance(name, str) else (0, 0)
    campaign = None
    if not any(problem[4] == ERROR for problem in problems):
        body = normalise(value)
        campaign = (name, body, doc.line, doc.column, value.get("ensure", "present"),
                    bool(value.get("protect", False)), api_body.digest(body))
    return [problems, name if isinstance(name, str) else None, name_line, name_column,
            campaign]


def normalise(spec: dict[str, Any]) -> dict[str, Any]:
    """The API body of a valid spec document (docs/architecture.md, "Normalisation")."""
    merged = {"campaignType": "sms", **spec}
    out = {key: merged[key] for key in api_body.BODY_FIELDS if key in merged}
    if "priority" in out and not isinstance(out["priority"], str):
        out["priority"] = str(int(out["priority"]))
    if isinstance(out.get("message"), dict):
        out["message"] = _normalise_message(out["message"])
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
