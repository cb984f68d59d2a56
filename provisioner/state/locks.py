"""The lock of a local state file: `<file>.lock`, created exclusively, naming its holder
(JSON: id, pid, host, user, since, operation). A lock left by a dead process on this host is
taken over with a warning; elsewhere a lock is respected until `force-unlock`. The holder
helpers are shared with the PostgreSQL backend.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from provisioner.errors import LockError, StateError
from provisioner.state.model import now_iso

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
def os_errors(doing: str, location: str) -> Iterator[None]:
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


class FileLock:
    """`<file>.lock` beside a state file. `location` is how messages name the state."""

    def __init__(self, lock_path: Path, location: str, warn: Warn) -> None:
        self.lock_path, self.location, self._warn = lock_path, location, warn

    @contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[None]:
        """Hold `<file>.lock` for the block. LockError naming the holder when it stays held
        for `timeout` seconds; a lock left by a dead process on this host is taken over."""
        with os_errors("lock", self.location):
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
        with os_errors("unlock", self.location), _dir_guard(self._lock_dir()):
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


