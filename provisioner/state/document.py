"""The stored state document (docs/architecture.md, "State"): its format versions, its
shape as a reader checks it, its text, and the compare-and-swap every backend shares.

Format 2 added the contact lists (`contactLists`, `contactListsPending`); a format-1
document reads as one without them (provisioner/state/model.py `State.from_dict`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from provisioner.errors import StaleStateError

if TYPE_CHECKING:
    from provisioner.state.model import State

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)   # 1: before contact lists (read as a state without any)
TARGET_KEYS = ("host", "streamId", "accountId")
_REQUIRED_CAMPAIGN: dict[str, type] = {"name": str, "id": str, "body": dict, "digest": str}
_REQUIRED_PENDING: dict[str, type] = {"op": str, "name": str, "digest": str, "body": dict}


def decode_document(data: bytes) -> str:
    """A stored state's bytes as text, as a text-mode read gives it: UTF-8 (UnicodeDecodeError
    otherwise) with universal newlines, so error positions match the text a user sees."""
    text = data.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def shape_problem(data: Any) -> str:
    """The first thing wrong with a state document's shape, or "" when it is fine."""
    if not isinstance(data, dict):
        return f"expected a JSON object, found {type(data).__name__}"
    version = data.get("format_version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        return (f"format_version {version!r} is not supported (this provisioner reads "
                f"{' and '.join(map(str, READABLE_VERSIONS))}; a newer provisioner wrote it?)")
    if not isinstance(data.get("lineage"), str) or not data["lineage"]:
        return "lineage must be a non-empty string"
    serial = data.get("serial")
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 0:
        return "serial must be a non-negative integer"
    target = data.get("target")
    if not isinstance(target, dict) or any(not isinstance(target.get(k), str)
                                           for k in TARGET_KEYS):
        return "target must be an object with string host, streamId and accountId"
    return (_entries_problem(data.get("campaigns"), "campaigns", _REQUIRED_CAMPAIGN)
            or _entries_problem(data.get("pending", {}), "pending", _REQUIRED_PENDING)
            or _entries_problem(data.get("contactLists", {}), "contactLists",
                                _REQUIRED_CAMPAIGN)
            or _entries_problem(data.get("contactListsPending", {}), "contactListsPending",
                                _REQUIRED_PENDING))


def _entries_problem(entries: Any, key: str, required: dict[str, type]) -> str:
    if not isinstance(entries, dict):
        return f"{key} must be an object keyed by lowercased name"
    for lname, entry in entries.items():
        if not isinstance(entry, dict):
            return f"{key}[{lname!r}] must be an object"
        for name, kind in required.items():
            if not isinstance(entry.get(name), kind):
                return f"{key}[{lname!r}].{name} must be a {kind.__name__}"
        if entry["name"].lower() != lname:
            return f"{key}[{lname!r}] is keyed differently from its name {entry['name']!r}"
    return ""


def dump_document(state: State, serial: int | None = None) -> str:
    """The stored text (at `serial`, when given): sorted keys, indent 2, trailing newline
    (diffs well in a PR)."""
    document = state.to_dict()
    if serial is not None:
        document["serial"] = serial
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def next_serial(stored: State | None, state: State, location: str) -> int | None:
    """Compare-and-swap decision shared by every backend.

    `state.serial` is the serial it was read at. Returns the serial to write, or None when
    the content equals what is stored (a no-op write). Raises StaleStateError when the stored
    state moved on, was removed, or is another lineage since `state` was read.
    """
    if stored is None:
        if state.serial != 0:
            raise StaleStateError(
                f"state {location} was removed since it was read at serial {state.serial}")
        return 1
    if stored.lineage != state.lineage:
        raise StaleStateError(
            f"state {location} now holds lineage {stored.lineage}, not {state.lineage}")
    if stored.serial != state.serial:
        raise StaleStateError(
            f"state {location} is at serial {stored.serial} but this write was based on "
            f"serial {state.serial}: someone else wrote it; read it again")
    if stored.content_digest() == state.content_digest():
        return None
    return stored.serial + 1
