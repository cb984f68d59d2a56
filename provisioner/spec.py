"""Load campaign spec files into validated, normalised campaigns plus located problems.

Files are listed, read (capped) and analysed one by one (`provisioner.analysis`, a pure
function of a file's bytes), in worker processes and through the cache when there are
many; then the name clash check runs over all of them. Problems are collected as data so
one bad file never hides another; this module never raises on bad input.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner import body as api_body
from provisioner.analysis import ERROR, WARNING, Analysis, analyse
from provisioner.yamlnodes import MAX_FILE_BYTES

SUFFIXES = (".yaml", ".yml")
PARALLEL_MIN_FILES = 256   # below this, forking workers costs more than it saves


@dataclass(frozen=True)
class Problem:
    file: str        # path as given/relative to cwd, e.g. "campaigns/x.yaml"
    line: int        # 1-based
    column: int      # 1-based
    path: str        # JSON path, e.g. "$.dialingStrategy.callingHours.days[2].start"
    message: str
    severity: str    # "error" | "warning"


@dataclass(frozen=True)
class Campaign:
    name: str
    body: dict[str, Any]   # the normalised API body: exactly what create/update sends
    file: str
    line: int
    column: int
    ensure: str = "present"   # spec-only key `ensure: present|absent` (never sent)
    protect: bool = False     # spec-only key `protect: true` (never sent)
    _digest: str = field(default="", repr=False, compare=False)   # known at load time

    @property
    def lname(self) -> str:
        return self.name.lower()

    @property
    def digest(self) -> str:
        return self._digest or api_body.digest(self.body)


@dataclass
class SpecSet:
    campaigns: list[Campaign] = field(default_factory=list)   # only valid documents
    problems: list[Problem] = field(default_factory=list)     # errors and warnings
    files: dict[str, str] = field(default_factory=dict)       # file -> "sha256:<hex>"

    @property
    def ok(self) -> bool:
        return not any(problem.severity == ERROR for problem in self.problems)


def load_specs(paths: Sequence[Path | str], *, cache: Any = None,
               workers: int | None = None,
               meanwhile: Callable[[], None] | None = None) -> SpecSet:
    """Read every spec file under `paths` (files, or folders searched for *.yaml/*.yml).

    Each file is analysed on its own: a pure function of its bytes, so results are looked
    up in `cache` (a `provisioner.cache.SpecCache`) by content digest. Files the cache
    vouches for by their stat are not even read; the others are read, hashed and, when not
    cached, analysed in `workers` processes. The name clash check then runs over every
    campaign, in file order. `meanwhile` is called once, while the workers run (the parent
    would otherwise only wait): a plan reads the recorded state there.
    """
    result = SpecSet()
    with _collector_paused():
        entries: dict[str, Analysis] = cache.valid_entries() if cache else {}
        stats: dict[str, Any] = {}
        shown_paths = _vouch(_spec_files(paths, result), cache, result, stats)
        todo = [(shown, path) for shown, path in shown_paths if shown not in result.files]
        loaded = load_all([path for _, path in todo], entries, workers, meanwhile)
        fresh: dict[str, Analysis] = {}
        errors: dict[str, str] = {}
        for (shown, _), (error, digest, analysed, stat) in zip(todo, loaded):
            if error:
                errors[shown] = error
                continue
            result.files[shown], stats[shown] = digest, stat
            if analysed is not None:
                fresh[digest] = entries[digest] = analysed
        if cache and (fresh or stats != cache.stats):
            cache.store(fresh, stats)
        result.files = {shown: result.files[shown] for shown, _ in shown_paths
                        if shown in result.files}   # in file order, however found
        names: dict[str, str] = {}   # lname -> "file:line:col" of its first use
        for shown, _ in shown_paths:
            analysed = [[(1, 1, "$", errors[shown], ERROR)], []] if shown in errors else \
                entries[result.files[shown]]
            _assemble(shown, analysed, result, names)
    return result


def _vouch(files: list[Path], cache: Any, result: SpecSet,
           stats: dict[str, Any]) -> list[tuple[str, str]]:
    """(shown path, path) per file; those whose stat the cache vouches for get their digest
    (and stat) recorded at once, so they are never opened."""
    display = _Displayer(os.getcwd())
    out = []
    for path in files:
        shown = display(path)
        out.append((shown, str(path)))
        if cache is None:
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue   # reported when the file is read
        known = cache.known_digest(shown, st)
        if known:
            result.files[shown] = known
            stats[shown] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, known)
    return out


Loaded = tuple[str, str, Any, Any]   # (error, digest, analysis or None if cached, stat)


def load_all(paths: list[str], entries: dict[str, Analysis] | None = None,
             workers: int | None = None,
             meanwhile: Callable[[], None] | None = None) -> list[Loaded]:
    """Read, hash and (unless `entries` has its digest) analyse every file, in worker
    processes when there are enough files to pay for them: forked, so they inherit the
    paths and the cache entries, and read the files in parallel too; results come back
    marshalled, in bulk. `meanwhile` runs in this process after the workers are forked
    (never in a thread beside a fork), or first when there are no workers."""
    global _PENDING, _ENTRIES
    _PENDING, _ENTRIES = paths, entries or {}
    try:
        workers = workers if workers is not None else _cpu_count()
        if workers < 2 or len(paths) < PARALLEL_MIN_FILES or not _can_fork():
            if meanwhile:
                meanwhile()
            return [_load_one(path) for path in paths]
        bounds = _chunks(len(paths), workers * 4)
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending = pool.map_async(_load_range, bounds, chunksize=1)
            if meanwhile:
                meanwhile()
            parts = pending.get()
    finally:
        _PENDING, _ENTRIES = [], {}
    return [loaded for part in parts for loaded in marshal.loads(part)]


_PENDING: list[str] = []                # the files a forked worker pool loads, by index
_ENTRIES: dict[str, Analysis] = {}      # cached analyses the workers may skip


def _load_one(path: str) -> Loaded:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            st = os.fstat(fd)
            data = os.read(fd, MAX_FILE_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        return (f"cannot read: {exc.strerror or exc}", "", None, None)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, digest)
    return ("", digest, None if digest in _ENTRIES else analyse(data), stat)


def _load_range(bounds: tuple[int, int]) -> bytes:
    with _collector_paused():
        return marshal.dumps([_load_one(path) for path in _PENDING[bounds[0]:bounds[1]]])


def _chunks(total: int, parts: int) -> list[tuple[int, int]]:
    size = -(-total // parts)
    return [(start, min(total, start + size)) for start in range(0, total, size)]


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while loading.

    YAML node trees are acyclic (reference counting frees them), but they are millions of
    tracked objects: with the collector on, composing 10,000 campaigns took 5x longer,
    almost all of it in full collections that found nothing to free.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Everything allocated meanwhile sits in the youngest generation: the first
        # collection after re-enabling would scan it all (a quarter second at 10,000
        # campaigns). The specs live until the process ends, so they are frozen instead.
        gc.freeze()
        if enabled:
            gc.enable()


def display_path(path: Path) -> str:
    """The path relative to the cwd when it lies under it, else as given; `/` separated."""
    return _Displayer(os.getcwd())(path)


class _Displayer:
    """display_path with the cwd looked up once (it was a tenth of the load time)."""

    def __init__(self, cwd: str) -> None:
        self.prefix = cwd.rstrip(os.sep) + os.sep
        self.folders: dict[str, str] = {}   # folder as given -> its shown form + "/"

    def __call__(self, path: Path) -> str:
        folder, name = os.path.split(path)
        if folder not in self.folders:
            absolute = os.path.abspath(os.path.join(folder, "x"))[:-1]
            self.folders[folder] = (absolute[len(self.prefix):].replace(os.sep, "/")
                                    if absolute.startswith(self.prefix)
                                    else Path(folder).as_posix().rstrip("/") + "/"
                                    if folder else "")
        return self.folders[folder] + name


def _spec_files(paths: Sequence[Path | str], result: SpecSet) -> list[Path]:
    files: dict[Path, None] = {}
    for given in map(Path, paths):
        if given.is_dir():
            found = _yaml_files(given)
            if not found:
                result.problems.append(Problem(display_path(given), 1, 1, "$",
                                               "no *.yaml or *.yml spec files here", WARNING))
            files.update(dict.fromkeys(found))
        elif given.is_file():
            files[given] = None
        else:
            result.problems.append(Problem(display_path(given), 1, 1, "$",
                                           "no such file or directory", ERROR))
    return list(files)


def _yaml_files(folder: Path) -> list[Path]:
    """Spec files under `folder`, hidden files and folders skipped, in path order.
    (scandir and string keys: rglob, a stat per file and Path sorting took a fifth of a
    warm run.)"""
    found: list[tuple[tuple[str, ...], str]] = []
    pending: list[tuple[tuple[str, ...], str]] = [((), str(folder))]
    seen = {os.path.realpath(folder)}   # a symlinked folder is followed once: no cycles
    while pending:
        parts, where = pending.pop()
        with os.scandir(where) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    real = os.path.realpath(entry.path)
                    if real not in seen:
                        seen.add(real)
                        pending.append(((*parts, entry.name), entry.path))
                elif entry.name.endswith(SUFFIXES) and (entry.is_file() or entry.is_symlink()):
                    # a dangling link is kept, so that it is reported, not silently skipped
                    # (a skipped spec would look removed, and prune would delete it)
                    found.append(((*parts, entry.name), entry.path))
    return [Path(path) for _, path in sorted(found)]


def _assemble(shown: str, analysed: Analysis, result: SpecSet, names: dict[str, str]) -> None:
    """Add one analysed file's problems and campaigns, checking names across files."""
    file_problems, documents = analysed
    problems = [Problem(shown, *problem) for problem in file_problems]
    for doc_problems, name, line, column, campaign in documents:
        problems.extend(Problem(shown, *problem) for problem in doc_problems)
        clash = _name_clash(name, line, column, shown, names)
        problems.extend(clash)
        if campaign is not None and not clash:
            name, body, line, column, ensure, protect, digest = campaign
            result.campaigns.append(Campaign(name, body, shown, line, column, ensure,
                                             protect, _digest=digest))
    result.problems.extend(sorted(problems, key=lambda p: (p.line, p.column)))


def _name_clash(name: str | None, line: int, column: int, shown: str,
                names: dict[str, str]) -> list[Problem]:
    """Names are unique case-insensitively, as the API keeps a lowercased `lname`. O(1)."""
    if name is None:
        return []
    first = names.setdefault(name.lower(), f"{shown}:{line}:{column}")
    if first == f"{shown}:{line}:{column}":
        return []
    return [Problem(shown, line, column, "$.name", f"campaign name {name!r} is already used at "
                    f"{first} (names are compared case-insensitively)", ERROR)]
