"""A content-addressed index of a local state file, so a warm plan parses no 18 MB of JSON.

`load_view` gives a `StateView`: the state without its campaign bodies. Each body is
fetched on demand by decoding only its own JSON object, whose [start, end) span in the
state's text the index records. The spans come from the one parse a miss needs anyway: the
top-level object is walked here with json's own C scanner for each value, giving what
json.loads gives; where the walk fails, json.loads itself runs, for its exact error.

The index is one sidecar file per state file, `state-<sha256 of the state's resolved path,
16 hex>.bin` in the cache folder (so environments do not evict each other). Its payload
records the sha256 of the state file's bytes and the file's stat (size, mtime, ctime,
inode) when they were read. A stat that still matches, with times more than RACY_NS older
than the index (the rule git and the spec cache use: ctime cannot be set back, so an edit
always changes it), vouches for the content without reading 18 MB; otherwise the file is
read and hashed, and the index is used only for exactly the bytes it recorded, so it is
never stale. Any other content is a miss, which parses the state fully (with the same
errors as `LocalBackend.read`) and rewrites the index. Where the state is plain UTF-8
without carriage returns the spans are byte offsets, so a body is read from the file alone;
otherwise they are offsets in the decoded text. As with the spec cache
(provisioner/speed/cache.py), the file is only trusted whole: its header must name this format,
tool version and code (the key), and a sha256 of the payload must match, else it is
ignored as if absent. Writes replace it atomically; a failure to write is ignored.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import time
from collections.abc import Callable
from contextlib import suppress
from functools import lru_cache
from json.decoder import WHITESPACE, scanstring  # type: ignore[attr-defined]  # C-backed, undocumented
from pathlib import Path
from typing import Any, Protocol

from provisioner.speed.checked import RACY_NS, code_key, read_checked, write_checked
from provisioner.errors import StateError
from provisioner.state.document import decode_document
from provisioner.state.model import State
from provisioner.state.view import VIEW_FIELDS, Fetch, StateView

FORMAT = b"provisioner-state-index 2"
Spans = dict[str, tuple[int, int]]
_SOURCES = ("provisioner.speed.state_index", "provisioner.state.model",
            "provisioner.state.document", "provisioner.state.view")  # the code whose output an index records
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # the C scanner json.loads itself uses
_SPACE = " \t\n\r"


def index_path(path: Path, cache_dir: Path) -> Path:
    """The sidecar index of the state file at `path`."""
    # realpath, not Path.resolve: that raises RuntimeError on a symlink loop
    named = hashlib.sha256(os.path.realpath(path).encode()).hexdigest()[:16]
    return cache_dir / f"state-{named}.bin"


@lru_cache(maxsize=1)
def index_key() -> bytes:
    """The key of the indexing code (provisioner/speed/checked.py)."""
    return code_key(_SOURCES)


class Indexable(Protocol):
    """A backend whose state is one local file (provisioner/state/local.py)."""

    path: Path

    def read_bytes(self) -> bytes | None: ...

    def parse(self, data: bytes, scan: Callable[[str], Any] | None = None) -> State: ...


def read_view(backend: Indexable, cache_dir: Path | str) -> StateView | None:
    """The stored state without campaign bodies (fetched one by one with `body_of`), from
    the index in `cache_dir` when it matches the file's bytes; None when there is no file.
    The same StateError as the backend's `read` when the file is corrupt or malformed."""
    return load_view(backend.path, Path(cache_dir), backend.read_bytes, backend.parse)


def load_view(path: Path, cache_dir: Path, read: Callable[[], bytes | None],
              parse: Callable[[bytes, Callable[[str], Any]], State]) -> StateView | None:
    """The view of the state file at `path` (None when there is none): from its index when
    the file's stat vouches for the bytes it recorded, or the bytes `read()` gives are
    those; else by `parse(data, scan)`, which must build the State from the text with
    `scan` (json.loads' stand-in that records spans) and raise the backend's StateError,
    and then the index is rewritten."""
    try:
        seen = _stat(path)
    except OSError:
        seen = None   # missing or unreadable: `read` says which
    sidecar = index_path(path, cache_dir)
    fields = _read_index(sidecar)
    if fields is not None and seen is not None and fields[1] == seen and not _racy(
            seen, fields[2]):
        return _view(path, fields, None)
    data = read()
    if data is None:
        return None
    digest = hashlib.sha256(data).hexdigest()
    if fields is not None and fields[0] == digest:   # same bytes, new stat (copied, touched)
        _save(sidecar, (digest, seen, 0, *fields[3:]))
        return _view(path, fields, data)
    scan = _Scan()
    state = parse(data, scan)
    campaigns = _without_bodies(state.campaigns)
    if scan.spans is None:   # the fast walk failed yet json.loads did not: keep bodies here
        return StateView(state.lineage, state.serial, state.target, campaigns,
                         state.pending, str(path), state.campaigns.get,
                         state.contact_lists, state.list_pending)
    spans, unit = _byte_spans(data, scan.text, scan.spans)
    fields = (digest, seen, 0, state.lineage, state.serial, state.target, state.pending,
              campaigns, spans, unit, (state.contact_lists, state.list_pending))
    _save(sidecar, fields)
    return _view(path, fields, data)


def _stat(path: Path) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _racy(seen: tuple[int, int, int, int], written: int) -> bool:
    """Changed too close to when the index was written for the stat to vouch for it."""
    return max(seen[1], seen[2]) > written - RACY_NS


def _save(sidecar: Path, fields: tuple[Any, ...]) -> None:
    if fields[1] is None:
        return
    with suppress(OSError, ValueError):   # the index is an optimisation, never a failure
        _write_index(sidecar, marshal.dumps((*fields[:2], time.time_ns(), *fields[3:])))


def _view(path: Path, fields: tuple[Any, ...], data: bytes | None) -> StateView:
    _, _, _, lineage, serial, target, pending, campaigns, spans, unit, lists = fields
    return StateView(lineage, serial, target, campaigns, pending, str(path),
                     _SpanSource(path, data, spans, unit).entry, *lists)


def _byte_spans(data: bytes, text: str, spans: Spans) -> tuple[Spans, str]:
    """The spans as byte offsets into `data` when the text is its plain decoding (no
    carriage returns folded), so one body is read without the rest; else text offsets."""
    if b"\r" in data:
        return spans, "text"
    if len(text) == len(data):   # ASCII: characters are bytes
        return spans, "bytes"
    points = sorted({point for span in spans.values() for point in span})
    offsets, done, at = {}, 0, 0
    for point in points:
        done += len(text[at:point].encode("utf-8"))
        offsets[point], at = done, point
    return {key: (offsets[a], offsets[b]) for key, (a, b) in spans.items()}, "bytes"


class _Scan:
    """json.loads with the same result and errors, recording each campaign's span."""

    def __init__(self) -> None:
        self.spans: Spans | None = None
        self.text = ""

    def __call__(self, text: str) -> Any:
        self.text = text
        try:
            document, self.spans = _walk(text)
        except (ValueError, StopIteration, IndexError):
            self.spans = None
            return json.loads(text)   # for json.loads' own error (or, failing that, result)
        return document


class _SpanSource:
    """Whole recorded campaign entries, decoded one by one: from the file's bytes at their
    span ("bytes"), or from the decoded text ("text"). What is found is checked by the
    caller against the name and digest the index recorded."""

    def __init__(self, path: Path, data: bytes | None, spans: Spans, unit: str) -> None:
        self._path, self._data, self._spans, self._unit = path, data, spans, unit
        self._text: str | None = None

    def entry(self, lname: str) -> Any:
        start, end = self._spans[lname]
        try:
            if self._unit == "bytes":
                return json.loads(self._bytes(start, end))
            if self._text is None:
                self._text = decode_document(self._data or self._path.read_bytes())
            return json.loads(self._text[start:end])
        except (OSError, ValueError):
            return None

    def _bytes(self, start: int, end: int) -> bytes:
        if self._data is not None:
            return self._data[start:end]
        with open(self._path, "rb") as handle:
            handle.seek(start)
            return handle.read(end - start)


def _walk(text: str) -> tuple[Any, Spans]:
    """Parse `text` as json.loads does, with the span of each value in the top-level
    "campaigns" object. Raises ValueError, StopIteration or IndexError where it cannot."""
    found: list[Spans] = [{}]

    def campaigns(idx: int) -> tuple[Any, int]:
        spans: Spans = {}
        found.append(spans)   # a repeated "campaigns" key: the last one wins, as in json.loads
        if text[idx] != "{":
            return _SCAN(text, idx)
        return _object(text, idx, lambda key, start: _spanned(text, start, spans, key))

    idx = _skip(text, 0)
    if text[idx] != "{":
        raise ValueError("not an object")
    document, idx = _object(text, idx, lambda key, start: (
        campaigns(start) if key == "campaigns" else _SCAN(text, start)))
    if _skip(text, idx) != len(text):
        raise ValueError("extra data")
    return document, found[-1]


def _object(text: str, idx: int,
            value: Callable[[str, int], tuple[Any, int]]) -> tuple[dict[str, Any], int]:
    """The object whose "{" is at `idx`, and where it ends; `value(key, start)` parses each
    member's value. Whitespace, separators and repeated keys (last wins) as in json."""
    result: dict[str, Any] = {}
    idx = _skip(text, idx + 1)
    if text[idx] == "}":
        return result, idx + 1
    while True:
        if text[idx] != '"':
            raise ValueError("expected a key")
        key, idx = scanstring(text, idx + 1)
        idx = _skip(text, idx)
        if text[idx] != ":":
            raise ValueError("expected a colon")
        result[key], idx = value(key, _skip(text, idx + 1))
        idx = _skip(text, idx)
        if text[idx] == "}":
            return result, idx + 1
        if text[idx] != ",":
            raise ValueError("expected a comma")
        idx = _skip(text, idx + 1)


def _spanned(text: str, start: int, spans: Spans, key: str) -> tuple[Any, int]:
    value, end = _SCAN(text, start)
    spans[key] = (start, end)
    return value, end


def _skip(text: str, idx: int) -> int:
    """Past the whitespace at `idx`; the test first saves the regex where there is none."""
    if text[idx:idx + 1] not in _SPACE:
        return idx
    end: int = WHITESPACE.match(text, idx).end()   # `*` always matches
    return end


def _without_bodies(campaigns: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    # The lname key object is reused as the "lname" value: marshal then writes it once.
    return {lname: {key: lname if key == "lname" else entry[key]
                    for key in VIEW_FIELDS if key in entry}
            for lname, entry in campaigns.items()}


def _read_index(sidecar: Path) -> tuple[Any, ...] | None:
    """The fields recorded: (sha256 of the state's bytes, its stat, when written, lineage,
    serial, target, pending, campaigns, spans, span unit, (contact lists, their
    intents)), or None."""
    payload = read_checked(sidecar, FORMAT + b" " + index_key())
    if payload is None:
        return None
    try:
        fields = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if not (isinstance(fields, tuple) and len(fields) == 11 and isinstance(fields[0], str)
            and isinstance(fields[1], tuple) and isinstance(fields[2], int)
            and fields[9] in ("bytes", "text") and isinstance(fields[10], tuple)
            and len(fields[10]) == 2 and all(isinstance(part, dict) for part in fields[10])):
        return None
    return fields if _well_formed(*fields[3:9]) else None


def _well_formed(lineage: Any, serial: Any, target: Any, pending: Any, campaigns: Any,
                 spans: Any) -> bool:
    """The outline our own writer gives (the checksum vouches for the bytes); checked
    with set algebra over the types, not a Python step per campaign."""
    return (isinstance(lineage, str) and isinstance(serial, int) and isinstance(target, dict)
            and isinstance(pending, dict) and isinstance(campaigns, dict)
            and isinstance(spans, dict) and spans.keys() == campaigns.keys()
            and set(map(type, pending.values())) <= {dict}
            and set(map(type, campaigns.values())) <= {dict}
            and set(map(type, spans.values())) <= {tuple})


def _write_index(sidecar: Path, payload: bytes) -> None:
    write_checked(sidecar, FORMAT + b" " + index_key(), payload)
