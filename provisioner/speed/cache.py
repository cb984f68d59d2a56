"""A content-addressed cache of analysed spec files, so a warm run parses no unchanged YAML
and loads no campaign body it does not show.

An entry maps the sha256 of a file's bytes to `analysis.analyse` of those bytes: its problems
(warnings too, so output is the same with or without the cache) and its normalised
campaigns. Nothing in an entry depends on the file's path, so renaming a file is a hit.

Two files in the cache folder:
- `specs.idx`, the index: per file digest, a *summary* of the analysis (the analysis with
  every campaign body left out: names, places, problems, body digests) and where the full
  analysis lies in the pack. A plan of unchanged campaigns needs only the summaries: at
  10,000 campaigns the index is ~1.5 MB, against ~8 MB with the bodies.
- `specs-<generation>.pack`, append-only full analyses (marshal), each checked against the
  sha256 the index records for it, so a torn or foreign record is a miss, never trusted.
  A warm run appends only what it analysed; the pack is rewritten (a new generation) only
  when most of it is dead.
- `specs-<generation>.log`, the index's journal: a warm run appends one small record (the
  entries and file stats it learned, checksummed) instead of rewriting the whole index; the
  index is rewritten, with a new journal, once the journal has grown to an eighth of it.

Beside the entries, the index remembers each file's stat (size, mtime, ctime, inode) and
the digest it had, so a warm run need not even read unchanged files. A stat is trusted only
when all four match and the file's times are more than RACY_NS older than the index itself
(as git does: an edit within the filesystem's timestamp granularity of the index write
could otherwise keep the old times). ctime cannot be set by a user, so an edit always
changes it; a miss just reads and hashes the file. The index is only trusted whole: its
header must name this format, tool version, schema and analysing code (the key), and a
sha256 of the payload must match, else it is ignored as if absent. Index writes go to a
temporary file that replaces the old one atomically, and appends to the pack hold an flock,
so concurrent runs never leave a torn file (the last index written wins; the loser's new
entries are merely missing next time). Deleting the folder is safe.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from provisioner.spec.record import Analysis, well_formed, without_bodies
from provisioner.speed.checked import RACY_NS, code_key, read_checked, write_checked

FORMAT = b"provisioner-spec-cache 5"
INDEX = "specs.idx"
MAX_ENTRIES = 200_000      # old entries beyond this are dropped, the ones in use are kept
COMPACT_SLACK = 1 << 20    # a pack is rewritten once its dead bytes exceed its live ones + this
STALE_PACK_SECONDS = 600   # an unreferenced pack this old is another run's leftover
DEFAULT_DIR = ".provisioner-cache"
# The code whose behaviour an entry records: a change to any of them is a new key.
_SOURCES = tuple(f"provisioner.{name}" for name in (
    "disk.yamlnodes", "disk.limits", "spec.analysis", "spec.load", "spec.schema", "spec.rules",
    "body.sms", "spec.printable", "spec.record", "body", "speed.cache", "spec.resolve",
    "spec.policy", "spec.files", "spec.runstate", "body.schedule"))

# size, mtime_ns, ctime_ns, inode, analysis key (spec/files.py analysis_key), context digest
Stat = tuple[Any, ...]
LOG_MIN_BYTES = 64 << 10   # a journal smaller than this never forces an index rewrite
_RECORD_HEAD = 40          # 8-byte payload length, 32-byte sha256 of the payload
Entry = list[Any]                       # [pack offset, length, sha256 of the record, summary]


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    """PROVISIONER_CACHE_DIR, else `.provisioner-cache/` in the current directory."""
    environ = dict(os.environ) if environ is None else environ
    return Path(environ.get("PROVISIONER_CACHE_DIR") or DEFAULT_DIR)


def cache_key() -> bytes:
    """The key of the code and schema whose output an entry records."""
    from provisioner.spec.schema import SCHEMA_PATH

    return code_key(_SOURCES, (SCHEMA_PATH,))


def summarise(analysis: Analysis) -> Analysis:
    """What the index keeps of an analysis: no bodies (provisioner/spec/record.py)."""
    return without_bodies(analysis)


class SpecCache:
    """The index and pack in `directory`. Never raises on a bad or missing cache."""

    def __init__(self, directory: Path | str, key: bytes | None = None) -> None:
        self.folder = Path(directory)
        self.path = self.folder / INDEX
        self.key = key or cache_key()
        self.entries: dict[str, Entry] | None = None
        self.stats: dict[str, Stat] = {}
        self.written = 0
        self.pack = ""
        self.log = ""                       # this index's journal file
        self.stamped: dict[str, int] = {}   # when a journal recorded a file's stat
        self.index_bytes = 0
        self.log_bytes = 0

    def summaries(self) -> dict[str, Any]:
        """Every cached analysis summary (bodies left out), by file digest."""
        return {digest: entry[3] for digest, entry in self._load().items()}

    def full(self, digest: str) -> Any:
        """The whole cached analysis of a file digest (bodies included), or None when it is
        not cached or its record in the pack is missing or damaged."""
        entry = self._load().get(digest)
        if entry is None or not self.pack:
            return None
        try:
            with open(self.folder / self.pack, "rb") as handle:
                handle.seek(entry[0])
                record = handle.read(entry[1])
        except OSError:
            return None
        return _unpack(record, entry[2])

    def lookup(self, digests: Iterable[str]) -> dict[str, Any]:
        """The whole cached analyses of those file digests that have one."""
        found = {digest: self.full(digest) for digest in digests}
        return {digest: analysis for digest, analysis in found.items() if analysis is not None}

    def vouch(self, files: list[tuple[str, str]]) -> dict[str, Stat]:
        """The recorded stat (ending in the file digest) of each (shown, path) whose stat
        still matches, whose times are safely older than the index, and whose analysis is
        cached: those files need not be read. The others must be read and hashed."""
        entries = self._load()
        recorded, stamped, stat = self.stats, self.stamped, os.stat
        base_limit = self.written - RACY_NS
        out: dict[str, Stat] = {}
        for shown, path in files:
            seen = recorded.get(shown)
            if seen is None:
                continue
            try:
                st = stat(path)
            except OSError:
                continue   # reported when the file is read
            limit = stamped[shown] - RACY_NS if shown in stamped else base_limit
            if ((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) == seen[:4]
                    and st.st_mtime_ns <= limit and st.st_ctime_ns <= limit
                    and seen[4] in entries):
                out[shown] = seen
        return out

    def store(self, analysed: dict[str, Any], stats: dict[str, Stat] | None = None) -> None:
        """Add new analyses to the pack and record the stats of every file seen this run
        (`stats`: all of them): as one journal record, or by rewriting the index atomically
        when the journal has grown. A failure to write is ignored (the cache is an
        optimisation, never a reason for a run to fail). Malformed analyses are not stored."""
        entries = self._load()
        stats = self.stats if stats is None else stats
        fresh = {digest: marshal.dumps(analysis) for digest, analysis in analysed.items()
                 if digest not in entries and _well_formed(analysis)}
        changed = {shown: st for shown, st in stats.items() if self.stats.get(shown) != st}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            pack, log = self.pack, self.log
            rewrite = len(entries) + len(fresh) > MAX_ENTRIES
            if rewrite:
                self._keep({seen[4] for seen in stats.values()})
            self._append(fresh, {d: summarise(analysed[d]) for d in fresh})
            live = self._live_bytes()
            if self._pack_bytes() - live > live + COMPACT_SLACK:
                self._compact()
            rewrite = (rewrite or not log or self.pack != pack
                       or self.log_bytes > max(LOG_MIN_BYTES, self.index_bytes // 8))
            if rewrite:
                self._rewrite(stats)
            else:   # the same pack: every fresh analysis was appended to it
                self._journal({d: self.entries[d] for d in fresh}, changed)   # type: ignore[index]
        except (OSError, ValueError):
            pass

    # -- the pack ----------------------------------------------------------------------------

    def _append(self, records: dict[str, bytes], summaries: dict[str, Any]) -> None:
        """Append records under an flock (concurrent runs append whole records)."""
        if not records:
            return
        import fcntl

        fd = self._open_pack()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            offset = os.lseek(fd, 0, os.SEEK_END)
            _write_all(fd, b"".join(records.values()))
        finally:
            os.close(fd)
        assert self.entries is not None
        for digest, record in records.items():
            self.entries[digest] = [offset, len(record), hashlib.sha256(record).digest(),
                                    summaries[digest]]
            offset += len(record)

    def _open_pack(self) -> int:
        if self.pack:
            try:
                return os.open(self.folder / self.pack, os.O_WRONLY | os.O_APPEND)
            except FileNotFoundError:
                self.entries = {}   # its pack is gone: nothing it indexes can be read
        self._forget_stale_packs()
        self.pack = f"specs-{os.urandom(8).hex()}.pack"
        return os.open(self.folder / self.pack, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _live_bytes(self) -> int:
        return sum(entry[1] for entry in (self.entries or {}).values())

    def _pack_bytes(self) -> int:
        try:
            return os.stat(self.folder / self.pack).st_size
        except OSError:
            return 0

    def _keep(self, digests: set[str]) -> None:
        """Drop every entry but `digests` (the cache grew past MAX_ENTRIES)."""
        self.entries = {d: e for d, e in (self.entries or {}).items() if d in digests}

    def _compact(self) -> None:
        """Rewrite the live records into a new generation of the pack; records that do
        not read back intact are dropped (a later run analyses those files again)."""
        old = self.pack
        live = {digest: self.full(digest) for digest in list(self.entries or {})}
        summaries = {d: self.entries[d][3] for d in live if live[d] is not None}   # type: ignore[index]
        self.entries, self.pack = {}, ""
        self._append({d: marshal.dumps(live[d]) for d in summaries}, summaries)
        if old and old != self.pack:
            _unlink_quietly(self.folder / old)

    def _forget_stale_packs(self) -> None:
        """Remove packs and journals no index has named for a while (left by a corrupt or
        foreign index); a concurrent run's fresh ones are younger and kept."""
        cutoff = time.time() - STALE_PACK_SECONDS
        for path in [*self.folder.glob("specs-*.pack"), *self.folder.glob("specs-*.log")]:
            if path.name == self.log:
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass

    # -- the index ---------------------------------------------------------------------------

    def _rewrite(self, stats: dict[str, Stat]) -> None:
        """A new index holding everything, with a new, empty journal."""
        old = self.log
        self.stats, self.stamped = stats, {}
        self.log = f"specs-{os.urandom(8).hex()}.log"
        self.written = time.time_ns()
        payload = marshal.dumps({"entries": self.entries, "stats": self.stats,
                                 "written": self.written, "pack": self.pack, "log": self.log})
        self._write_index(payload)
        self.index_bytes, self.log_bytes = len(payload), 0
        if old:
            _unlink_quietly(self.folder / old)

    def _journal(self, added: dict[str, Entry], changed: dict[str, Stat]) -> None:
        """Append one checksummed record to the journal, under an flock."""
        import fcntl

        now = time.time_ns()
        payload = marshal.dumps({"entries": added, "stats": changed, "written": now,
                                 "pack": self.pack})
        record = len(payload).to_bytes(8, "big") + hashlib.sha256(payload).digest() + payload
        fd = os.open(self.folder / self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _write_all(fd, record)
        finally:
            os.close(fd)
        self.stats.update(changed)
        self.stamped.update(dict.fromkeys(changed, now))
        self.log_bytes += len(record)

    def _load(self) -> dict[str, Entry]:
        if self.entries is None:
            packed = self._read()
            entries, stats, written, pack, log = (
                packed.get("entries"), packed.get("stats"), packed.get("written"),
                packed.get("pack"), packed.get("log"))
            # The checksum vouches for the bytes and the key for the code that wrote them;
            # only well-formed analyses are ever stored.
            if (isinstance(entries, dict) and isinstance(stats, dict)
                    and isinstance(written, int) and isinstance(pack, str)
                    and isinstance(log, str)):
                self.stats, self.written, self.pack, self.log = stats, written, pack, log
            else:
                entries, self.stats, self.written, self.pack, self.log = {}, {}, 0, "", ""
            loaded: dict[str, Entry] = entries
            self.entries = loaded
            if self.log:
                self._replay()
            return loaded
        return self.entries

    def _replay(self) -> None:
        """Apply the journal's records in order, up to the first torn or foreign one."""
        try:
            data = (self.folder / self.log).read_bytes()
        except OSError:
            return
        at = 0
        while at + _RECORD_HEAD <= len(data):
            size = int.from_bytes(data[at:at + 8], "big")
            payload = data[at + _RECORD_HEAD:at + _RECORD_HEAD + size]
            if len(payload) != size or hashlib.sha256(payload).digest() != data[at + 8:at + 40]:
                break
            try:
                record = marshal.loads(payload)
                entries, stats, when = record["entries"], record["stats"], record["written"]
                if record["pack"] != self.pack:
                    break
            except (EOFError, ValueError, TypeError, KeyError):
                break
            self.entries.update(entries)   # type: ignore[union-attr]
            self.stats.update(stats)
            self.stamped.update(dict.fromkeys(stats, when))
            at += _RECORD_HEAD + size
        self.log_bytes = at

    def _read(self) -> dict[str, Any]:
        payload = read_checked(self.path, FORMAT + b" " + self.key)
        if payload is None:
            return {}
        self.index_bytes = len(payload)
        try:
            packed = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return {}
        return packed if isinstance(packed, dict) else {}

    def _write_index(self, payload: bytes) -> None:
        write_checked(self.path, FORMAT + b" " + self.key, payload)


def _unpack(record: bytes, checksum: bytes) -> Any:
    if hashlib.sha256(record).digest() != checksum:
        return None   # torn, overwritten or another generation's bytes
    try:
        analysis = marshal.loads(record)
    except (EOFError, ValueError, TypeError):
        return None
    return analysis if _well_formed(analysis) else None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _well_formed(analysis: Any) -> bool:
    return well_formed(analysis)
