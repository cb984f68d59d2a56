"""A campaign read from the tenant turned into spec text (`provisioner export`, issue 15), and
a safe, unique file name for it.

The spec is the API's own fields (server fields left out), with `message.text` where the
Base64 decodes to UTF-8 text; a voice campaign's (issue 16) keeps `campaignType: voice` and
its `queue_name`, which the API echoes as `connection`. Fields the API never echoes
(`experienceFlowName`, `enableMachineDetect`) come from the body state last recorded, else
a comment says what to write. The text is then analysed exactly as `validate` and `plan`
analyse a spec file for the same environment, so what it would be refused for is known here:
each error is written as a comment on its line, and the body the spec resolves to is
compared with the tenant's, so that `plan` right after an export shows no change.

Every scalar is written on one line (plain only when nothing can misread it, else double-
quoted with escapes), so a comment appended to a line is never inside a value, and no
character of tenant data can start a new line, a comment or a `${var}` reference.

Pure functions; no I/O.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import TYPE_CHECKING, Any, NamedTuple

from provisioner import body as api_body
from provisioner.errors import ERROR
from provisioner.spec.analysis import analyse
from provisioner.spec.printable import escape
from provisioner.spec.record import C_BODY, DOC_CAMPAIGN, DOC_PROBLEMS, DOCUMENTS, FILE_PROBLEMS

if TYPE_CHECKING:
    from provisioner.spec.record import Context

# The longest file name stem written (before a `-2` suffix and `.yaml`).
MAX_STEM = 60
# Stems Windows refuses as file names, whatever the extension.
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                       *(f"lpt{i}" for i in range(10))})
# A string written without quotes only when it is this plain (and YAML reads it as text).
_PLAIN = re.compile(r"[^\W\d_][\w .,()/'-]*(?<! )\Z")
_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
# Characters written as escapes inside double quotes: outside PyYAML's printable set, line
# breaks of YAML 1.1 (NEL, LS, PS), the BOM, and the quote and backslash themselves.
_ESCAPED = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                      "\U00010000-\U0010ffff]|[\"\\\\]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


class Exported(NamedTuple):
    """One campaign as a spec: the file text, the body to record in state (the tenant's,
    normalised as a refresh would) and its digest, and the problems (one line each)."""

    text: str
    body: dict[str, Any]
    digest: str
    problems: list[str]


def export_campaign(data: dict[str, Any], *, campaign_id: str, when: str,
                    context: Context | None, known: dict[str, Any] | None = None) -> Exported:
    """The spec text of campaign `data` (a get by id) exported at `when`. `known` is the body
    state last recorded for it (the flow name the API never echoes comes from there)."""
    body = api_body.normalise_remote(data, known)
    spec, notes = spec_of(body, data)
    head = [f"# Exported from campaign {safe_id(campaign_id)} at {when} by provisioner export."]
    head += [f"# {escape(note)}" for note in notes]
    lines = [*head, *mapping_lines(spec, 0)]
    analysis = analyse(("\n".join(lines) + "\n").encode("utf-8"), context)
    errors = errors_of(analysis, len(lines))
    comment_errors(lines, errors)
    problems = [f"{e.path}: {e.message}" for e in errors]
    problems += _body_differs(analysis, body, problems)
    return Exported("\n".join(lines) + "\n", body, api_body.digest(body), problems)


def spec_of(body: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The spec mapping of a normalised remote `body`, and the notes for its comments."""
    spec: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in body.items():
        if key == "campaignType" and value == "sms":
            continue   # the spec's default
        spec[key] = _message(value) if key == "message" else value
    flow = data.get("experienceFlow")
    uses_flow = body.get("format") == "advanced" or body.get("dialingMode") == "Agentless"
    if uses_flow and "experienceFlowName" not in body:
        given = f"only the flow id {flow!r}" if flow else "no flow"
        notes.append(f"experienceFlowName: the API gives {given} here; write the flow's "
                     "name (`validate` asks for it).")
    if body.get("dialingMode") == "Agentless" and "enableMachineDetect" not in body:
        notes.append("enableMachineDetect: the API does not say which mode this campaign "
                     "uses; add it (no, detect or disconnect) if the console set one, as an "
                     "update sends only what the spec says.")
    return spec, notes


def _message(value: Any) -> Any:
    """`message.text` when `message.message` is Base64 of UTF-8 text, else as it is."""
    if not isinstance(value, dict) or not isinstance(value.get("message"), str):
        return value
    try:
        text = api_body.decode_message(value["message"])
    except ValueError:
        return value
    return {("text" if key == "message" else key): (text if key == "message" else item)
            for key, item in value.items()}


class Error(NamedTuple):
    """One error of an analysis: the line of the text it is on, its JSON path, message."""

    line: int
    path: str
    message: str


def errors_of(analysis: list[Any], count: int) -> list[Error]:
    """The errors of the analysis of a text of `count` lines (one outside it is put on the
    first line); warnings are left to `validate`: they refuse nothing."""
    found = list(analysis[FILE_PROBLEMS])
    for document in analysis[DOCUMENTS]:
        found += document[DOC_PROBLEMS]
    return [Error(line if 1 <= line <= count else 1, path, message)
            for line, _column, path, message, severity in (p[:5] for p in found)
            if severity == ERROR]


def comment_errors(lines: list[str], errors: list[Error]) -> None:
    """Append each error to its line as a comment (every scalar is on one line, so a
    comment never falls inside a value)."""
    by_line: dict[int, list[str]] = {}
    for error in errors:
        by_line.setdefault(error.line, []).append(error.message)
    for number, messages in sorted(by_line.items()):
        lines[number - 1] += "  # error: " + "; ".join(escape(m) for m in messages)


def _body_differs(analysis: list[Any], body: dict[str, Any], problems: list[str]) -> list[str]:
    """A problem when the spec, valid, resolves to another body than the tenant's."""
    documents = analysis[DOCUMENTS]
    if problems or len(documents) != 1 or documents[0][DOC_CAMPAIGN] is None:
        return []
    resolved = documents[0][DOC_CAMPAIGN][C_BODY]
    if api_body.digest(resolved) == api_body.digest(body):
        return []
    return ["$: the spec does not resolve to the tenant's body (plan will show an update)"]


def file_name(name: str, taken: set[str]) -> str:
    """A file name for campaign `name`: lowercase ASCII letters, digits and `-` (accents
    dropped), at most MAX_STEM of them, never empty, hidden, reserved or `_defaults`, and
    not in `taken` (stems, which it joins). Never a path: no `/`, `..` or NUL survives."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_STEM].strip("-")
    if not stem:
        stem = "campaign"
    if stem in _RESERVED:
        stem += "-campaign"
    candidate, number = stem, 2
    while candidate in taken:
        candidate, number = f"{stem}-{number}", number + 1
    taken.add(candidate)
    return f"{candidate}.yaml"


# -- YAML text ----------------------------------------------------------------------------

def mapping_lines(mapping: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for key, value in mapping.items():
        head = f"{pad}{_text(str(key), interpolated=False)}:"
        if isinstance(value, dict) and value:
            out += [head, *mapping_lines(value, indent + 2)]
        elif isinstance(value, list) and value:
            out += [head, *sequence_lines(value, indent + 2)]
        else:
            out.append(f"{head} {scalar(value)}")
    return out


def sequence_lines(items: list[Any], indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for item in items:
        if isinstance(item, dict) and item:
            inner = mapping_lines(item, indent + 2)
            out += [f"{pad}- {inner[0][indent + 2:]}", *inner[1:]]
        elif isinstance(item, list) and item:
            out += [f"{pad}-", *sequence_lines(item, indent + 2)]
        else:
            out.append(f"{pad}- {scalar(item)}")
    return out


def scalar(value: Any) -> str:
    """One JSON value (not a non-empty container) as a one-line YAML scalar."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        return (".inf" if value > 0 else "-.inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return _text(value, interpolated=True)
    return "{}" if isinstance(value, dict) else "[]"


def _text(value: str, *, interpolated: bool) -> str:
    """A string as a YAML scalar; in a value, `${` is written `$${` (a literal, not a
    variable reference: provisioner/spec/resolve.py)."""
    if interpolated:
        value = value.replace("${", "$${")
    if _PLAIN.match(value) and value.lower() not in _WORDS:
        return value
    return '"' + _ESCAPED.sub(_escape_char, value) + '"'


def _escape_char(found: re.Match[str]) -> str:
    char = found.group(0)
    if char in '"\\':
        return "\\" + char
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else (
        f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def safe_id(campaign_id: str) -> str:
    """An id as it may stand in a comment: one line of visible characters."""
    return campaign_id if re.fullmatch(r"[A-Za-z0-9_.:-]+", campaign_id) else json.dumps(
        campaign_id)
