"""The write-ahead journal of a state (issue 13): one small record per write, so that what
apply writes per remote action does not grow with the number of campaigns state holds.

A state is its document (the full JSON, compacted now and then) plus the journal records
written since: each record carries the serial it makes and the changes
(`provisioner.state.model.Change`) one write made. Reading replays the records over the
document, in serial order; compaction writes the replayed document and drops the records.

The local journal is a text file of lines, each `<crc32 hex, 8> <compact JSON>\\n`; its first
line is a header naming the lineage and the document serial it follows. A line is trusted
only whole: newline-terminated, its CRC matching, its JSON an object. A last line that is not
(a kill -9 or power cut in the middle of an append) is torn: it is ignored and reported,
never trusted, never fatal; the writer that next holds the lock cuts it off before it
appends. A bad line before the last is corruption (StateError).

`GroupCommit` lets parallel workers share one sync: each stages its record and waits; the
first to wait syncs everything staged so far, and the others find theirs already durable.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Callable, Iterator
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from provisioner.state.model import State

JOURNAL_FORMAT = 1
# Compaction rewrites the document once the journal holds COMPACT_RATIO times its size (and
# at least COMPACT_BYTES): the document then grows geometrically between compactions, so
# what compacting costs per action stays the same at any size (bench/apply.py --scale).
COMPACT_BYTES = 1 << 20
COMPACT_RATIO = 4


def compaction_due(journal_bytes: int, document_bytes: int,
                   minimum: int = COMPACT_BYTES) -> bool:
    return journal_bytes >= max(minimum, COMPACT_RATIO * document_bytes)


class JournalRecord(NamedTuple):
    serial: int
    changes: list[dict[str, Any]]


class JournalRead(NamedTuple):
    """A parsed journal: its header, the whole records in order, where the last whole record
    ends (bytes), and what a torn last line was (empty when there was none)."""

    lineage: str
    base: int
    records: list[JournalRecord]
    good_end: int
    torn: str


class JournalError(ValueError):
    """A journal that cannot be trusted (a bad line before the last, a bad header)."""


def encode_line(payload: dict[str, Any]) -> bytes:
    """One journal line: CRC-32 of the JSON, a space, the JSON, a newline."""
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(data), data)


def header_line(lineage: str, base: int) -> bytes:
    return encode_line({"journal": JOURNAL_FORMAT, "lineage": lineage, "base": base})


def record_line(serial: int, changes: list[dict[str, Any]]) -> bytes:
    return encode_line({"serial": serial, "changes": changes})


def parse_journal(data: bytes) -> JournalRead:
    """The journal in `data`. JournalError when it cannot be trusted; a torn last line is
    left out and described in `torn`."""
    lines = list(_lines(data))
    header, end = _header(lines)
    records: list[JournalRecord] = []
    torn = ""
    for number, (line, line_end) in enumerate(lines[1:], start=2):
        payload, problem = _decode(line)
        if problem and number == len(lines):
            torn = f"line {number} ({problem})"
            break
        if problem:
            raise JournalError(f"line {number}: {problem}, and whole lines follow it")
        records.append(_record(payload, number))
        end = line_end
    return JournalRead(header["lineage"], header["base"], records, end, torn)


def _lines(data: bytes) -> Iterator[tuple[bytes, int]]:
    """(line with its newline, offset just after it); a last line without one as it is."""
    start = 0
    while start < len(data):
        cut = data.find(b"\n", start)
        end = len(data) if cut < 0 else cut + 1
        yield data[start:end], end
        start = end


def _header(lines: list[tuple[bytes, int]]) -> tuple[dict[str, Any], int]:
    payload, problem = _decode(lines[0][0]) if lines else (None, "empty")
    if problem or not isinstance(payload, dict):
        raise JournalError(f"line 1: not a journal header ({problem})")
    if payload.get("journal") != JOURNAL_FORMAT:
        raise JournalError(f"journal format {payload.get('journal')!r} is not supported "
                           f"(this provisioner reads {JOURNAL_FORMAT})")
    if not isinstance(payload.get("lineage"), str) or not _serial(payload.get("base")):
        raise JournalError("line 1: the header lacks a lineage or a base serial")
    return payload, lines[0][1]


def _decode(line: bytes) -> tuple[Any, str]:
    """(payload, "") for a whole, intact line; (None, why not) otherwise."""
    if not line.endswith(b"\n"):
        return None, "cut off before its end"
    crc, space, data = line[:-1].partition(b" ")
    if not space or len(crc) != 8:
        return None, "not a journal record"
    try:
        intact = int(crc, 16) == zlib.crc32(data)
    except ValueError:
        intact = False
    if not intact:
        return None, "its checksum does not match"
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):
        return None, "not JSON"
    return (payload, "") if isinstance(payload, dict) else (None, "not a JSON object")


def _record(payload: dict[str, Any], number: int) -> JournalRecord:
    serial, changes = payload.get("serial"), payload.get("changes")
    if not isinstance(serial, int) or not _serial(serial) or not isinstance(changes, list) \
            or not all(isinstance(change, dict) for change in changes):
        raise JournalError(f"line {number}: a record needs a serial and a list of changes")
    return JournalRecord(serial, changes)


def _serial(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def replay(state: State, records: Iterable[JournalRecord]) -> None:
    """Apply to `state` the records that follow its serial, in order (the ones it already
    holds, after a compaction cut short, are skipped). JournalError for a gap or a change
    that cannot be applied; `state.serial` ends at the last record's."""
    for record in records:
        if record.serial <= state.serial:
            continue
        if record.serial != state.serial + 1:
            raise JournalError(f"it jumps from serial {state.serial} to {record.serial}")
        try:
            for change in record.changes:
                state.apply(change, log=False)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise JournalError(f"it holds a malformed change at serial {record.serial}") \
                from None
        state.serial = record.serial


class GroupCommit:
    """Stage cheaply under the caller's lock, sync outside it: one `sync` call makes every
    record staged before it durable, so workers that wait together share it."""

    def __init__(self, sync: Callable[[int], None]) -> None:
        self._sync = sync            # makes everything staged up to the given ticket durable
        self._staged = 0             # the newest ticket handed out
        self._durable = 0            # the newest ticket known durable
        self._mutex = threading.Lock()      # guards the two counters
        self._syncing = threading.Lock()    # one sync at a time
        self._failed: BaseException | None = None   # a failed sync fails every later wait

    def quiet(self) -> threading.Lock:
        """Held, no sync runs (a compaction holds it while it closes the journal)."""
        return self._syncing

    def staged(self) -> int:
        """A ticket for the record just staged (call under the lock that staged it)."""
        with self._mutex:
            self._staged += 1
            return self._staged

    def wait(self, ticket: int) -> None:
        """Return once the record of `ticket` is durable; sync it (and every record staged
        before the sync starts) unless another waiter's sync already did."""
        with self._syncing:
            with self._mutex:
                if self._durable >= ticket:
                    return
                if self._failed is not None:
                    raise self._failed
                upto = self._staged
            try:
                self._sync(upto)
            except BaseException as exc:
                self._failed = exc
                raise
            with self._mutex:
                self._durable = max(self._durable, upto)


class Commit:
    """What a staged write returns: `wait()` returns once it is durable."""

    def __init__(self, group: GroupCommit | None = None, ticket: int = 0) -> None:
        self._group, self._ticket = group, ticket

    def wait(self) -> None:
        if self._group is not None:
            self._group.wait(self._ticket)


DONE = Commit()   # a write that was durable (or a no-op) when it returned
