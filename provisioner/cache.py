"""A content-addressed cache of analysed spec files, so a warm run parses no unchanged YAML.

An entry maps the sha256 of a file's bytes to `analysis.analyse` of those bytes: its problems
(warnings too, so output is the same with or without the cache) and its normalised
campaigns. Nothing in an entry depends on the file's path, so renaming a file is a hit.

All entries live in one packed file, `specs.bin` in the cache folder: reading 5,000 small
files cost more than the parse they save.

Beside the entries, the index remembers each file's stat (size, mtime, ctime, inode) and
the digest it had, so a warm run need not even read unchanged files. A stat is trusted only
when all four match and the file's times are more than RACY_NS older than the index itself
(as git does: an edit within the filesystem's timestamp granularity of the index write
could otherwise keep the old times). ctime cannot be set by a user, so an edit always
changes it; a miss just reads and hashes the file. The file is only trusted whole: its header must
name this format, tool version, schema and analysing code (the key), and a sha256 of the
payload must match, else it is ignored as if absent. Writes go to a temporary file that
replaces the old one atomically, so concurrent runs never leave a torn file (the last one
wins; the loser's new entries are merely missing next time). Deleting the folder is safe.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from provisioner import __version__

FORMAT = b"provisioner-spec-cache 2"
RACY_NS = 2_000_000_000
INDEX = "specs.bin"
MAX_ENTRIES = 200_000   # old entries beyond this are dropped, the ones in use are kept
DEFAULT_DIR = ".provisioner-cache"
# The code whose behaviour an entry records: a change to any of them is a new key.
_SOURCES = ("yamlnodes.py", "analysis.py", "spec.py", "schema.py", "rules.py", "sms.py",
            "body.py")


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    """PROVISIONER_CACHE_DIR, else `.provisioner-cache/` in the current directory."""
    environ = dict(os.environ) if environ is None else environ
    return Path(environ.get("PROVISIONER_CACHE_DIR") or DEFAULT_DIR)


def cache_key() -> bytes:
    """Hex sha256 of the tool version, Python's marshal format, the schema and the code."""
    from provisioner.schema import SCHEMA_PATH

    digest = hashlib.sha256(f"{__version__} {sys.version_info[:2]} {marshal.version}".encode())
    package = Path(__file__).resolve().parent
    for path in [SCHEMA_PATH, *(package / name for name in _SOURCES)]:
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"missing " + path.name.encode())
    return digest.hexdigest().encode()


class SpecCache:
    """The packed index in `directory`. Never raises on a bad or missing index."""

    def __init__(self, directory: Path | str, key: bytes | None = None) -> None:
        self.path = Path(directory) / INDEX
        self.key = key or cache_key()
        self.entries: dict[str, Any] | None = None
        self.stats: dict[str, tuple[int, int, int, int, str]] = {}
        self.written = 0

    def lookup(self, digests: Iterable[str]) -> dict[str, Any]:
        """The cached analyses of those file digests that have one."""
        entries = self._load()
        return {d: entries[d] for d in digests if d in entries and _well_formed(entries[d])}

    def valid_entries(self) -> dict[str, Any]:
        """A copy of every well-formed cached analysis, by file digest."""
        return {d: e for d, e in self._load().items() if _well_formed(e)}

    def known_digest(self, shown: str, st: os.stat_result) -> str | None:
        """The digest `shown` had when its stat was recorded, if it still has that stat
        and an analysis of it is cached; None means: read and hash the file."""
        entries = self._load()
        seen = self.stats.get(shown)
        if seen is None or seen[:4] != (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino):
            return None
        if max(st.st_mtime_ns, st.st_ctime_ns) > self.written - RACY_NS:
            return None
        entry = entries.get(seen[4])
        return seen[4] if entry is not None and _well_formed(entry) else None

    def store(self, analysed: dict[str, Any],
              stats: dict[str, tuple[int, int, int, int, str]] | None = None) -> None:
        """Add entries (and file stats) and rewrite the index atomically; a failure to
        write is ignored (the cache is an optimisation, never a reason for a run to fail)."""
        entries = {**self._load(), **analysed}
        if len(entries) > MAX_ENTRIES:
            entries = dict(analysed)
        self.entries = entries
        if stats is not None:
            self.stats = stats
        self.written = time.time_ns()
        try:
            self._write(marshal.dumps({"entries": entries, "stats": self.stats,
                                       "written": self.written}))
        except (OSError, ValueError):
            pass

    def _load(self) -> dict[str, Any]:
        if self.entries is None:
            packed = self._read()
            entries, stats, written = (packed.get("entries"), packed.get("stats"),
                                       packed.get("written"))
            ok = (isinstance(entries, dict) and isinstance(stats, dict)
                  and isinstance(written, int))
            self.entries = entries if ok else {}
            self.stats = stats if ok else {}
            self.written = written if ok else 0
        return self.entries

    def _read(self) -> dict[str, Any]:
        try:
            data = self.path.read_bytes()
        except OSError:
            return {}
        header, _, rest = data.partition(b"\n")
        checksum, _, payload = rest.partition(b"\n")
        if header != FORMAT + b" " + self.key:
            return {}   # another version, schema or code: foreign, never trusted
        if checksum != hashlib.sha256(payload).hexdigest().encode():
            return {}   # torn or corrupt
        try:
            entries = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def _write(self, payload: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        checksum = hashlib.sha256(payload).hexdigest().encode()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".specs-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(FORMAT + b" " + self.key + b"\n" + checksum + b"\n" + payload)
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise


def _well_formed(entry: Any) -> bool:
    """The outline `analysis.analyse` produces: [problems, documents of five fields]."""
    return (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list)
            and isinstance(entry[1], list)
            and all(isinstance(doc, list) and len(doc) == 5 for doc in entry[1]))
