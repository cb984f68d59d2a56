"""The local backend: one JSON document per environment and its write-ahead journal.

Layout beside `<file>`: `<file>.journal` (the records written since the document was last
compacted: provisioner/state/journal.py), `<file>.backup` (the document as it was before
the last compaction or whole write), `<file>.lock` (held by an operation:
provisioner/state/locks.py). When the state path is a symlink, `<file>` is the file it
points to: that file is written (the link stays a link) and locked, and its journal and
backup sit beside it, so every link to one state file shares one lock.

A write appends one journal record of the changes made since the last write (State logs
them), so its cost does not grow with the campaigns the state holds; the record is durable
when `Commit.wait()` returns, and workers waiting together share one fsync. The document is
rewritten (compacted) when the journal outgrows it, when the lock is released after writes,
and when whoever next takes the lock finds a journal a killed run left. A state that is new,
or was changed other than through State's methods, is written whole, as before.

Compare-and-swap: a write must start from the serial and lineage stored. After its own read
or write the backend knows what the files held and checks that with two stats; anything
else is read again in full (StaleStateError when it moved on).

No content of the files and no failure of the file system (a full disk, a read-only or
unwritable folder) escapes as anything but a one-line StateError naming the file.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from provisioner.disk.atomic import write_atomic
from provisioner.disk.jsondoc import JsonProblem
from provisioner.disk.jsondoc import loads as json_loads
from provisioner.disk.regular import read_regular
from provisioner.errors import StaleStateError, StateError
from provisioner.speed.collector import paused as collector_paused
from provisioner.state.journal import (COMPACT_BYTES, DONE, Commit, GroupCommit, JournalError,
                                       JournalRead, compaction_due, replay)
from provisioner.state.journal_file import JournalFile
from provisioner.state.locks import FileLock, Warn, os_errors
from provisioner.state.document import decode_document, dump_document, next_serial
from provisioner.state.model import State, check_writable

FileSig = tuple[int, int, int]   # (inode, size, mtime_ns)


class _Seen(NamedTuple):
    """What the state was when this backend last read or wrote it (the journal file
    remembers its own part)."""

    lineage: str
    serial: int
    document: FileSig | None


class LocalBackend:
    """State in a JSON file. `on_warning` receives one-line warnings (a stale lock taken
    over, a torn journal record ignored)."""

    def __init__(self, path: str | os.PathLike[str], *, on_warning: Warn | None = None,
                 compact_bytes: int = COMPACT_BYTES) -> None:
        self.location = str(path)
        # The file a symlink points to (followed now, once): written in place of the link
        # would turn the link into a plain file, and a lock beside the link would not be
        # seen by a run that reaches the same file another way.
        self.path = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
        self.backup_path = Path(f"{self.path}.backup")
        self.journal_path = Path(f"{self.path}.journal")
        self._warn: Warn = on_warning or (lambda message: None)
        self._locks = FileLock(Path(f"{self.path}.lock"), self.location, self._warn)
        self.lock_path = self._locks.lock_path
        self.compact_bytes = compact_bytes
        self._mutex = threading.RLock()
        self._group = GroupCommit(self._sync)
        self._seen: _Seen | None = None
        self._journal = JournalFile(self.journal_path)
        self._locked = False
        self._backed_up = False              # the backup holds the version before this lock
        self._last: State | None = None      # the state last appended (compacted on unlock)

    # -- reading -----------------------------------------------------------------------------

    def read(self) -> State | None:
        """The stored state (document + journal), or None when there is none. StateError
        when corrupt. Under the lock, a journal found is compacted at once."""
        with self._mutex:
            state = self._read_current()
            if state is not None and self._locked and self._journal.exists:
                self._compact(state)
            return state

    def read_view(self) -> State | None:
        """What a plan reads: here the whole state (the index of the document, in
        provisioner/speed/state_index.py, is faster where no journal follows it)."""
        return self.read()

    def has_journal(self) -> bool:
        """Whether a journal lies beside the document (the state index then steps aside)."""
        return os.path.lexists(self.journal_path)

    def read_bytes(self) -> bytes | None:
        """The state document's bytes, None when there is none: for a reader that indexes
        them (provisioner/speed/state_index.py) and parses them with `parse`."""
        return self._read_bytes(self.path)

    def parse(self, data: bytes, scan: Callable[[str], Any] | None = None) -> State:
        """`data` (this document's bytes) as a State; the same StateError as `read`."""
        return self._parse(self.path, data, scan)

    def _read_current(self) -> State | None:
        document = _sig(self.path)
        state = self._load(self.path)
        journal = self._read_journal()
        if state is None:
            if journal is not None:
                raise StateError(f"state {self.location} has a journal ({self.journal_path}) "
                                 "but no document; if the state was removed on purpose, "
                                 "remove the journal too")
            self._seen = None
            return None
        if journal is not None:
            self._replay(state, journal)
        self._seen = _Seen(state.lineage, state.serial, document)
        return state

    def _load(self, path: Path) -> State | None:
        data = self._read_bytes(path)
        return None if data is None else self._parse(path, data)

    def _read_bytes(self, path: Path) -> bytes | None:
        try:
            return read_regular(path)[0]   # a FIFO is named, not waited on
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read state {self._shown(path)}: {exc.strerror or exc}"
                             f"{self._backup_hint(path)}") from None

    def _parse(self, path: Path, data: bytes,
               scan: Callable[[str], Any] | None = None) -> State:
        """`data` read from `path` as a State. `scan` (default json.loads) turns the text
        into a document, raising as json.loads does (the index's scan also records spans);
        whatever it raises for bad content becomes a StateError locating it."""
        try:
            text = decode_document(data)
        except UnicodeDecodeError as exc:
            raise StateError(f"cannot read state {self._shown(path)}: {exc}"
                             f"{self._backup_hint(path)}") from None
        try:
            with collector_paused():   # half the parse time at 10,000 campaigns
                document = json_loads(text, scan)
                return State.from_dict(document, location=self._shown(path))
        except JsonProblem as exc:
            raise StateError(f"state {self._shown(path)} is corrupt ({exc})"
                             f"{self._backup_hint(path)}") from None
        except StateError as exc:
            raise StateError(f"{exc}{self._backup_hint(path)}") from None

    def _read_journal(self) -> JournalRead | None:
        try:
            return self._journal.read()
        except OSError as exc:
            raise StateError(f"cannot read the journal of state {self.location} "
                             f"({self.journal_path}): {exc.strerror or exc}") from None
        except JournalError as exc:
            raise StateError(f"the journal of state {self.location} ({self.journal_path}) is "
                             f"corrupt: {exc}; it was not changed") from None

    def _replay(self, state: State, journal: JournalRead) -> None:
        """Apply the journal's records that follow the document's serial to `state`."""
        where = f"the journal of state {self.location} ({self.journal_path})"
        if journal.lineage != state.lineage:
            raise StateError(f"{where} belongs to lineage {journal.lineage}, not the "
                             f"document's {state.lineage}; it was not changed")
        try:
            replay(state, journal.records)
        except JournalError as exc:
            raise StateError(f"{where} is corrupt: {exc}; it was not changed") from None
        if journal.torn:
            self._warn(f"state {self.location}: ignored the torn last record of its journal "
                       f"({journal.torn}): a run was stopped while writing it, so what it "
                       "recorded was never confirmed to that run")

    def _shown(self, path: Path) -> str:
        """`path` as the user named it: the state's location, not where its link points."""
        return self.location if path == self.path else str(path)

    def _backup_hint(self, path: Path) -> str:
        if path == self.path and self.backup_path.exists():
            return (f"; it was not overwritten; the previous version is in {self.backup_path}"
                    f" (inspect it, then copy it over {self.path})")
        return "; it was not overwritten"

    # -- writing -----------------------------------------------------------------------------

    def write(self, state: State) -> None:
        """Store `state`'s changes durably (see `append`)."""
        self.append(state).wait()

    def append(self, state: State) -> Commit:
        """Append the changes `state` logged since its last write as one journal record
        (serial + 1), or write it whole when it is new, logged none (then only if its
        content changed) or the lock is not held. The record is durable once the returned Commit's `wait()` returns.

        StaleStateError when the files moved on since `state` was read; StateError (never
        overwriting) when they are corrupt. TypeError for a StateView: it is read-only.
        """
        check_writable(state)
        with self._mutex:
            changes = state.take_changes()
            if not changes or not state.serial or not self._locked or state.migrated_from:
                # without the lock, nothing would compact; an older format is rewritten
                # whole (as the current one) before any record follows it
                self._write_document(state)
                state.migrated_from = None
                return DONE
            try:
                with os_errors("write", self.location):
                    self._check_unmoved(state)
                    self._journal.append(state.lineage, state.serial + 1, changes)
            except BaseException:
                state.restore_changes(changes)   # a later write records them
                raise
            state.serial += 1
            state.location = self.location
            self._seen = _Seen(state.lineage, state.serial, self._seen.document
                               if self._seen else None)
            self._last = state
            ticket = self._group.staged()
            if self._over_threshold():
                self._compact(state)
            return Commit(self._group, ticket)

    def compact(self, state: State) -> None:
        """Write `state` (the one last read or written here) whole and drop the journal."""
        with self._mutex:
            if state.unsaved:
                self.append(state)
            if self._journal.exists:
                self._compact(state)

    def import_state(self, state: State) -> None:
        """Store a copy of `state` as is (lineage and serial kept), only where none exists."""
        check_writable(state)
        with self._mutex:
            stored = self._read_current()
            if stored is not None:
                raise StateError(f"state {self.location} already exists (lineage "
                                 f"{stored.lineage}, serial {stored.serial}); refusing to "
                                 "overwrite it")
            state.take_changes()
            self._replace(state, state.serial, None)

    def _write_document(self, state: State) -> None:
        stored = self._read_current()
        serial = next_serial(stored, state, self.location)
        if serial is not None:
            self._replace(state, serial, stored)

    def _check_unmoved(self, state: State) -> None:
        """Compare-and-swap in two stats when this backend saw the files last; else a full
        read. StaleStateError when the stored state is not the one `state` was read at."""
        seen = self._seen
        if (seen is None or (seen.lineage, seen.serial) != (state.lineage, state.serial)
                or _sig(self.path) != seen.document or not self._journal.as_known()):
            stored = self._read_current()
            if stored is None:
                raise StaleStateError(f"state {self.location} was removed since it was read "
                                      f"at serial {state.serial}")
            if (stored.lineage, stored.serial) != (state.lineage, state.serial):
                next_serial(stored, state, self.location)   # raises, naming what moved
                raise StaleStateError(f"state {self.location} moved on since it was read")

    def _sync(self, _upto: int) -> None:
        """GroupCommit's sync: everything appended so far reaches the disk."""
        try:
            self._journal.sync()
        except OSError as exc:
            raise StateError(f"cannot write state {self.location}: {exc.strerror or exc} "
                             f"({self.journal_path}); the last changes may not be "
                             "recorded") from None

    def _over_threshold(self) -> bool:
        document = self._seen.document if self._seen else None
        return compaction_due(self._journal.end, document[1] if document else 0,
                              self.compact_bytes)

    def _compact(self, state: State) -> None:
        """Write `state` whole at its serial, then drop the journal. Killed at any point,
        a reader finds the old document and the journal, or the new document and a journal
        whose records it already holds."""
        seen = self._seen
        if seen is None or (seen.lineage, seen.serial) != (state.lineage, state.serial):
            raise StaleStateError(f"state {self.location}: cannot compact a state that is "
                                  "not the one stored here")
        self._replace(state, state.serial, None)

    def _replace(self, state: State, serial: int, stored: State | None) -> None:
        """Write the document whole (the previous one kept as the backup), then remove the
        journal, whose records it now holds."""
        data = dump_document(state, serial).encode("utf-8")
        with os_errors("write", self.location), self._group.quiet():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            previous = None if self._backed_up else self._previous_document(stored)
            if previous is not None:   # under the lock: the version before this run, once
                write_atomic(self.backup_path, previous, durable=True)
                self._backed_up = self._locked
            write_atomic(self.path, data, durable=True)
            self._journal.remove()
        state.serial = serial
        state.location = self.location
        self._seen = _Seen(state.lineage, serial, _sig(self.path))

    def _previous_document(self, stored: State | None) -> bytes | None:
        """What the backup keeps: the stored state as a document (with its journal's
        records when it had one), else the document file as it is."""
        if stored is not None and self._journal.exists:
            return dump_document(stored).encode("utf-8")
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    # -- history (local keeps one previous version) ---------------------------------------------

    def history(self) -> list[dict[str, Any]]:
        """Versions that can be restored, newest first: the current file and its backup."""
        versions = []
        with self._mutex:
            current = self._read_current()
        for label, path, state in (("current", self.path, current),
                                   ("backup", self.backup_path, self._load(self.backup_path))):
            if state is not None:
                versions.append(_summary(state, label, _mtime(path)))
        return versions

    def restore(self, serial: int) -> State:
        """Write the version at `serial` (the backup) back as a new serial; returns it."""
        current = self.read()
        backup = self._load(self.backup_path)
        if current is None or backup is None or backup.serial != serial:
            have = ", ".join(str(v["serial"]) for v in self.history()) or "none"
            raise StateError(f"state {self.location} has no version at serial {serial} "
                             f"(available: {have})")
        if backup.lineage != current.lineage:
            raise StateError(f"backup of {self.location} is lineage {backup.lineage}, not "
                             f"{current.lineage}; refusing to restore it")
        backup.serial = current.serial
        self.write(backup)
        return backup


    # -- locking ------------------------------------------------------------------------------

    @contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[None]:
        """Hold `<file>.lock` for the block (provisioner/state/locks.py); on the way out, the
        journal this block wrote is compacted into the document."""
        with self._locks.lock(operation, timeout):
            self._locked, self._backed_up = True, False
            try:
                yield
            finally:
                self._finish()
                self._locked = self._backed_up = False

    def _finish(self) -> None:
        """Compact what this process journalled; a failure only warns (the journal is
        complete, and whoever next takes the lock compacts it)."""
        with self._mutex:
            last, self._last = self._last, None
            try:
                if last is not None and self._journal.exists:
                    self.compact(last)
            except StateError as exc:
                self._warn(f"{exc} (the journal keeps every change; the next run compacts it)")
            finally:
                self._journal.close()

    def force_unlock(self, lock_id: str) -> dict[str, Any]:
        """Remove the lock if its id is `lock_id`; returns the holder removed."""
        return self._locks.force_unlock(lock_id)


def _sig(path: Path) -> FileSig | None:
    try:
        stat = os.stat(path)
    except OSError:   # absent, or unreadable: the read that follows names the problem
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _mtime(path: Path) -> str:
    try:
        stamp = path.stat().st_mtime
    except OSError:   # gone since it was read (or never readable): no time to show
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def _summary(state: State, label: str, saved_at: str) -> dict[str, Any]:
    return {"serial": state.serial, "lineage": state.lineage, "savedAt": saved_at,
            "campaigns": len(state.campaigns), "pending": len(state.pending), "version": label}
