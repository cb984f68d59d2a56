"""Reading only regular files: opened without blocking, so a FIFO (or a device) where a
file was expected is named in an error instead of waited on for ever. Used by the readers
of spec files, the state file and saved plan files."""

from __future__ import annotations

import errno
import os
import stat

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


class NotRegularFile(OSError):
    """The path exists but is not a regular file; `strerror` says what it is."""


def read_regular(path: str | os.PathLike[str], limit: int = -1
                 ) -> tuple[bytes, os.stat_result]:
    """The bytes (at most `limit` when not -1) and stat of the regular file at `path`.
    OSError as `open` raises it (FileNotFoundError, PermissionError...), with a symlink loop
    said as such, and NotRegularFile for anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            exc.strerror = "a symlink loop"
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a file")
            raise NotRegularFile(errno.EINVAL, f"{kind}, not a regular file", str(path))
        if limit >= 0:
            return os.read(fd, limit), st
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(), st
    finally:
        os.close(fd)
