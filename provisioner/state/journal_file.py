"""The local journal file, `<state file>.journal` (record format: state/journal.py).

It is created whole (header written to a temporary file, renamed into place), appended one
record per `os.write` at its end, cut back to the last whole record when a write fails or a
killed run left a torn line, and fsynced by GroupCommit. It remembers what it last read or
wrote (inode, size), so a writer tells with one stat whether anyone else touched it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from provisioner.disk.atomic import fsync_dir, write_atomic
from provisioner.disk.regular import read_regular
from provisioner.state.journal import JournalRead, header_line, parse_journal, record_line


class JournalFile:
    """One journal file. `known` says whether `inode`, `end` and `size` describe it: after
    `read` or an append here; `forget` after anything else."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known = False
        self.exists = False
        self.inode = 0
        self.end = 0      # just after the last whole record
        self.size = 0     # on disk: more than `end` when a torn line follows
        self._fd: int | None = None

    def read(self) -> JournalRead | None:
        """The parsed journal, None when there is none. OSError when unreadable,
        JournalError when it cannot be trusted."""
        self.close()
        self.known = False
        try:
            data, stat = read_regular(self.path)
        except FileNotFoundError:
            self._know(False, 0, 0, 0)
            return None
        parsed = parse_journal(data)
        self._know(True, stat.st_ino, parsed.good_end, len(data))
        return parsed

    def as_known(self) -> bool:
        """Whether the file is as this object last read or wrote it (one stat)."""
        if not self.known:
            return False
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return not self.exists
        except OSError:
            return False
        return self.exists and (stat.st_ino, stat.st_size) == (self.inode, self.size)

    def append(self, lineage: str, serial: int, changes: list[dict[str, Any]]) -> int:
        """Write the record that makes `serial` (creating the journal after the document's
        serial - 1 when there is none); returns the bytes written. OSError when it cannot:
        the file is then as it was, or forgotten (the next writer reads it again and cuts
        off what a failed write left)."""
        assert self.known, "read the journal (or the state) before appending"
        fd = self._open(lineage, serial - 1)
        line = record_line(serial, changes)
        try:
            if os.write(fd, line) != len(line):
                raise OSError(28, "short write (is the disk full?)", str(self.path))
        except OSError:
            self._cut_back()
            raise
        self.end = self.size = self.end + len(line)
        return len(line)

    def sync(self) -> None:
        """fsync what was appended (nothing to do once closed: compaction holds it)."""
        if self._fd is not None:
            os.fsync(self._fd)

    def remove(self) -> None:
        """Delete the journal (its records are in the document now), durably."""
        self.close()
        if os.path.lexists(self.path):
            self.path.unlink()
            fsync_dir(self.path.parent)
        self._know(False, 0, 0, 0)

    def forget(self) -> None:
        self.close()
        self.known = False

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _open(self, lineage: str, base: int) -> int:
        if self._fd is not None:
            return self._fd
        if not self.exists:   # born whole: killed here, there is no journal or a headed one
            header = header_line(lineage, base)
            write_atomic(self.path, header, durable=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            self._know(True, os.fstat(self._fd).st_ino, len(header), len(header))
            return self._fd
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        if self.size != self.end:   # a torn line a killed run left: cut off before appending
            os.ftruncate(self._fd, self.end)
            os.fsync(self._fd)
            self.size = self.end
        return self._fd

    def _cut_back(self) -> None:
        try:
            assert self._fd is not None
            os.ftruncate(self._fd, self.end)
        except OSError:
            self.forget()

    def _know(self, exists: bool, inode: int, end: int, size: int) -> None:
        self.known, self.exists = True, exists
        self.inode, self.end, self.size = inode, end, size
