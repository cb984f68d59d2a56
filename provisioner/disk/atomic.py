"""Replacing a file atomically: a reader sees the old content or the new, never half of
either, and a failure leaves the file as it was (the temporary file is removed)."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to a unique temporary file beside `path`, then rename it over `path`.

    With `durable`, the data and the rename are fsynced before this returns (state, and
    what must survive a power cut); without, a crash may lose the new content but never
    tears it (caches, port files, saved plans). OSError when it cannot be written."""
    import tempfile   # here: importing it costs a read-only command 2 ms for nothing

    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(directory)


def fsync_dir(directory: Path) -> None:
    """Make a rename (or a new file) in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
