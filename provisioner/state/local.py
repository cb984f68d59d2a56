"""The local backend: one JSON file per environment, written atomically under a lock file.

Layout beside `<file>`: `<file>.backup` (the previous version, kept on every write) and
`<file>.lock` (present while an operation holds the lock; JSON naming the holder). When
the state path is a symlink, `<file>` is the file it points to: that file is written (the
link stays a link) and locked, and its backup sits beside it, so every link to one state
file shares one lock.

No content of the file and no failure of the file system (a full disk, a read-only or
unwritable folder) escapes as anything but a one-line StateError naming the file.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from provisioner.speed.collector import paused as collector_paused
from provisioner.errors import LockError, StateError
from provisioner.disk.jsondoc import JsonProblem
from provisioner.disk.jsondoc import loads as json_loads
from provisioner.disk.atomic import write_atomic
from provisioner.disk.regular import read_regular
from provisioner.state.model import (State, check_writable, decode_document, dump_document,
                                     next_serial, now_iso)

Warn = Callable[[str], None]
POLL_SECONDS = 0.1


def holder_info(operation: str) -> dict[str, Any]:
    """Who is taking a lock: id, pid, host, user, since, operation."""
    import getpass   # these three only when a lock is taken: a plan takes none
    import socket
    import uuid

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = str(os.getuid())
    return {"id": str(uuid.uuid4()), "pid": os.getpid(), "host": socket.gethostname(),
            "user": user, "since": now_iso(), "operation": operation}


def locked_message(location: str, holder: dict[str, Any]) -> str:
    """The LockError text naming the holder and how to get past it."""
    if not holder:
        return (f"state {location} is locked, but its lock file is unreadable; if no "
                f"provisioner is running, remove {location}.lock by hand")
    get = holder.get
    return (f"state {location} is locked by {get('user', '?')}@{get('host', '?')} pid "
            f"{get('pid', '?')} since {get('since', '?')} (operation: {get('operation', '?')}, "
            f"lock id {get('id', '?')}); wait with --lock-timeout or clear it with "
            f"`provisioner force-unlock {get('id', '?')}`")


def _pid_alive(pid: int) -> bool:
    """Whether process `pid` may still run (True where that cannot be told: a lock file
    naming pid 0, -1 or 2**70 is not judged stale, and no signal goes to a group)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, OSError):   # PermissionError: it exists, owned by someone else
        return True
    return True


@contextmanager
def _suppress_missing() -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        pass


@contextmanager
def _os_errors(doing: str, location: str) -> Iterator[None]:
    """OSError (disk full, read-only or unwritable folder...) as a one-line StateError."""
    try:
        yield
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise StateError(f"cannot {doing} state {location}: {exc.strerror or exc}{where}; "
                         "nothing was written") from None


@contextmanager
def _dir_guard(directory: Path) -> Iterator[None]:
    """flock on the directory: serialises lock take-over between local processes, and is
    released by the kernel if the process dies."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class LocalBackend:
    """State in a JSON file. `on_warning` receives one-line warnings (stale lock taken over)."""

    def __init__(self, path: str | os.PathLike[str], *, on_warning: Warn | None = None) -> None:
        self.location = str(path)
        # The file a symlink points to (followed now, once): written in place of the link
        # would turn the link into a plain file, and a lock beside the link would not be
        # seen by a run that reaches the same file another way.
        self.path = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
        self.backup_path = Path(f"{self.path}.backup")
        self.lock_path = Path(f"{self.path}.lock")
        self._warn: Warn = on_warning or (lambda message: None)

    # -- reading -----------------------------------------------------------------------------

    def read(self) -> State | None:
        """The stored state, or None when the file does not exist. StateError when corrupt."""
        return self._load(self.path)

    def read_bytes(self) -> bytes | None:
        """The state file's bytes, None when there is no file: for a reader that indexes
        them (provisioner/speed/state_index.py) and parses them with `parse`."""
        return self._read_bytes(self.path)

    def parse(self, data: bytes, scan: Callable[[str], Any] | None = None) -> State:
        """`data` (this file's bytes) as a State; the same StateError as `read`."""
        return self._parse(self.path, data, scan)

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
        """Write `state` atomically if its content changed; bumps `state.serial` then.

        Compare-and-swap: raises StaleStateError when the file moved on since `state` was
        read, and StateError (never overwriting) when the file is corrupt. TypeError for a
        StateView: it is read-only.
        """
        check_writable(state)
        stored = self.read()
        serial = next_serial(stored, state, self.location)
        if serial is None:
            return
        self._replace(state, serial)

    def import_state(self, state: State) -> None:
        """Store a copy of `state` as is (lineage and serial kept), only where none exists."""
        check_writable(state)
        stored = self.read()
        if stored is not None:
            raise StateError(f"state {self.location} already exists (lineage {stored.lineage}, "
                             f"serial {stored.serial}); refusing to overwrite it")
        self._replace(state, state.serial)

    def _replace(self, state: State, serial: int) -> None:
        candidate = dataclasses.replace(state, serial=serial)
        data = dump_document(candidate).encode("utf-8")
        with _os_errors("write", self.location):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                previous = self.path.read_bytes()
            except FileNotFoundError:
                previous = None
            if previous is not None:
                write_atomic(self.backup_path, previous, durable=True)
            write_atomic(self.path, data, durable=True)
        state.serial = serial
        state.location = self.location

    # -- history (local keeps one previous version) ---------------------------------------------

    def history(self) -> list[dict[str, Any]]:
        """Versions that can be restored, newest first: the current file and its backup."""
        versions = []
        for label, path in (("current", self.path), ("backup", self.backup_path)):
            state = self._load(path)
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
        """Hold `<file>.lock` for the block. LockError naming the holder when it stays held
        for `timeout` seconds; a lock left by a dead process on this host is taken over."""
        with _os_errors("lock", self.location):
            mine = self._acquire(operation, timeout)
        try:
            yield
        finally:
            try:
                with _suppress_missing(), _dir_guard(self.lock_path.parent):
                    if self._holder().get("id") == mine["id"]:
                        self.lock_path.unlink()
            except OSError as exc:   # never hides what the block raised
                self._warn(f"could not remove the lock {self.lock_path}: {exc.strerror or exc}"
                           f"; remove it by hand, or `provisioner force-unlock {mine['id']}`")

    def force_unlock(self, lock_id: str) -> dict[str, Any]:
        """Remove the lock if its id is `lock_id`; returns the holder removed."""
        with _os_errors("unlock", self.location), _dir_guard(self._lock_dir()):
            if not self.lock_path.exists():
                raise LockError(f"state {self.location} is not locked")
            holder = self._holder()
            if holder.get("id") != lock_id:
                raise LockError(f"lock id {lock_id} does not match the lock on {self.location}:"
                                f" {locked_message(self.location, holder)}")
            self.lock_path.unlink()
        return holder

    def _lock_dir(self) -> Path:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        return self.lock_path.parent

    def _acquire(self, operation: str, timeout: float) -> dict[str, Any]:
        mine = holder_info(operation)
        payload = (json.dumps(mine, sort_keys=True, indent=2) + "\n").encode("utf-8")
        deadline = time.monotonic() + (timeout if timeout > 0 else 0.0)   # nan: no wait
        while True:
            holder = self._try_create(payload)
            if holder is None:
                return mine
            if time.monotonic() >= deadline:
                raise LockError(locked_message(self.location, holder))
            time.sleep(POLL_SECONDS)

    def _try_create(self, payload: bytes) -> dict[str, Any] | None:
        """Create the lock file (taking over a stale one); None on success, else the holder."""
        with _dir_guard(self._lock_dir()):
            holder = self._create_or_holder(payload)
            if holder is None or not self._is_stale(holder):
                return holder
            self.lock_path.unlink()
            self._warn(f"took over a stale lock left by pid {holder.get('pid')} on "
                       f"{holder.get('host')} (operation: {holder.get('operation')}, since "
                       f"{holder.get('since')}, lock id {holder.get('id')}): that process "
                       f"no longer exists")
            return self._create_or_holder(payload)

    def _create_or_holder(self, payload: bytes) -> dict[str, Any] | None:
        try:
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return self._holder()
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        return None

    def _holder(self) -> dict[str, Any]:
        """The lock file's content; {} when unreadable (then it is never judged stale)."""
        try:
            data = json.loads(self.lock_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}

    def _is_stale(self, holder: dict[str, Any]) -> bool:
        import socket

        # Only a pid on this host can be checked; elsewhere the lock is respected.
        pid = holder.get("pid")
        return (holder.get("host") == socket.gethostname() and isinstance(pid, int)
                and not _pid_alive(pid))


def _mtime(path: Path) -> str:
    try:
        stamp = path.stat().st_mtime
    except OSError:   # gone since it was read (or never readable): no time to show
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def _summary(state: State, label: str, saved_at: str) -> dict[str, Any]:
    return {"serial": state.serial, "lineage": state.lineage, "savedAt": saved_at,
            "campaigns": len(state.campaigns), "pending": len(state.pending), "version": label}
