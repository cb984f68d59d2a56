"""Contact lists read from the tenant turned into one spec file of `kind: ContactList`
documents (`provisioner export`, issue 16).

Each list is one document of the API's fields (name, description, allowDuplicates; server
fields such as `_id`, `campaignInUse` or `mapping` left out), after a comment naming its id.
The text is analysed exactly as `validate` analyses the file, as for campaigns
(provisioner/spec/export.py): each error is written as a comment on its line, and each
valid document's body is compared with the tenant's, so that `plan` right after an export
shows no change.

Pure functions; no I/O.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from provisioner import body as api_body
from provisioner.body import CONTACT_LIST
from provisioner.spec.analysis import analyse
from provisioner.spec.export import comment_errors, errors_of, mapping_lines, safe_id
from provisioner.spec.record import C_BODY, DOC_CAMPAIGN, DOCUMENTS

if TYPE_CHECKING:
    from provisioner.spec.record import Context


class ExportedLists(NamedTuple):
    """The file text, and its problems as (index of the list in the input, one line)."""

    text: str
    problems: list[tuple[int, str]]


def export_contact_lists(lists: Sequence[tuple[str, dict[str, Any]]], *, when: str,
                         context: Context | None) -> ExportedLists:
    """The spec text of the contact lists `lists`, each (id, body in normal form:
    provisioner/body `normalise_remote_list`), exported at `when`, in that order."""
    lines: list[str] = []
    starts: list[int] = []   # the first line (1-based) of each list's document
    for index, (list_id, body) in enumerate(lists):
        if index:
            lines.append("---")
        starts.append(len(lines) + 1)
        lines.append(f"# Exported from contact list {safe_id(list_id)} at {when} by "
                     "provisioner export.")
        lines += mapping_lines(list_spec(body), 0)
    analysis = analyse(("\n".join(lines) + "\n").encode("utf-8"), context)
    errors = errors_of(analysis, len(lines))
    comment_errors(lines, errors)
    problems = [(max(bisect_right(starts, e.line) - 1, 0), f"{e.path}: {e.message}")
                for e in errors]
    failed = {index for index, _ in problems}
    problems += [(index, "$: the spec does not resolve to the tenant's list (plan will show "
                         "an update)")
                 for index in _differing(analysis, lists) if index not in failed]
    return ExportedLists("\n".join(lines) + "\n", sorted(problems))


def list_spec(body: dict[str, Any]) -> dict[str, Any]:
    """The spec mapping of a contact list's normal-form body: `kind` first, the description
    only when there is one (a spec without one sends "")."""
    spec: dict[str, Any] = {"kind": CONTACT_LIST, "name": body["name"]}
    if body.get("description"):
        spec["description"] = body["description"]
    spec["allowDuplicates"] = bool(body.get("allowDuplicates"))
    return spec


def _differing(analysis: list[Any], lists: Sequence[tuple[str, dict[str, Any]]]) -> list[int]:
    """The indexes of valid documents that resolve to another body than the tenant's."""
    documents = analysis[DOCUMENTS]
    if len(documents) != len(lists):
        return list(range(len(lists)))
    return [index for index, (document, (_, body)) in enumerate(zip(documents, lists))
            if document[DOC_CAMPAIGN] is not None
            and api_body.digest(document[DOC_CAMPAIGN][C_BODY]) != api_body.digest(body)]
