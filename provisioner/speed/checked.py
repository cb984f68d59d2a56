"""Cache files trusted only whole: a header line naming the format and key (tool version,
code), a line with the sha256 of the payload, then the payload. A reader gets the payload
only when both match (anything else is foreign or torn, and ignored as if absent); a writer
replaces the file atomically (temporary file + os.replace), so no reader sees it half
written. Used by the spec cache's index and the state index.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import sys
from pathlib import Path

from provisioner import __version__
from provisioner.disk.atomic import write_atomic
from provisioner.disk.regular import read_regular

# A stat vouches for a file's content only when the file's times are more than this older
# than the record of that stat (git's racy-clean rule): an edit within the filesystem's
# timestamp granularity of the record could otherwise keep the old times.
RACY_NS = 2_000_000_000


def code_key(modules: tuple[str, ...], data: tuple[Path, ...] = ()) -> bytes:
    """Hex sha256 of the tool version, Python's version and marshal format, and the bytes
    of `modules` (dotted names, found where Python would import them from, so a module that
    moves can never leave a key frozen on its old path: a name that no longer resolves is an
    error) and of the `data` files whose output a cache file records."""
    digest = hashlib.sha256(f"{__version__} {sys.version_info[:2]} {marshal.version}".encode())
    for path in (*map(module_file, modules), *data):
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"missing " + path.name.encode())
    return digest.hexdigest().encode()


def module_file(name: str) -> Path:
    """The source file of module `name`, without importing it (only its parent packages)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"cache key source {name} not found", name=name)
    return Path(spec.origin)


def read_checked(path: Path, header: bytes) -> memoryview | None:
    """The payload of the file at `path` if its header is `header` and its checksum
    matches; None otherwise (missing, foreign, torn). No copy of the payload is made."""
    try:
        data = read_regular(path)[0]   # a FIFO put in the cache folder is ignored, not waited on
    except OSError:
        return None
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1)
    if first < 0 or second < 0 or data[:first] != header:
        return None   # another format, version or code: foreign, never trusted
    payload = memoryview(data)[second + 1:]
    if data[first + 1:second] != hashlib.sha256(payload).hexdigest().encode():
        return None   # torn or corrupt
    return payload


def write_checked(path: Path, header: bytes, payload: bytes) -> None:
    """Replace the file at `path` atomically; OSError when it cannot be written."""
    checksum = hashlib.sha256(payload).hexdigest().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, header + b"\n" + checksum + b"\n" + payload)
