"""Finding and reading spec files: listing folders (hidden entries skipped, a symlinked
folder walked once, `.yaml`/`.yml` in any case), reading each regular file up to the size
cap and hashing it (anything else, such as a FIFO, a folder that cannot be listed or a
symlink loop, is named as a problem, never waited on), and analysing
many in forked worker processes, or a few in another process that offers to
(an `Analyser`: the plan's helper, provisioner/speed/worker.py), in two steps so the caller
can read the state meanwhile. What comes back is plain data; `provisioner.spec.load` assembles it.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from provisioner.speed.collector import paused as collector_paused
from provisioner.disk.limits import MAX_FILE_BYTES, RunBudget
from provisioner.spec.record import Analysis, Context, FileContext
from provisioner.disk.regular import NotRegularFile, read_regular

SUFFIXES = (".yaml", ".yml")   # compared in lower case: `X.YAML` is a spec file too
PARALLEL_MIN_FILES = 256   # below this, forking workers costs more than it saves
Loaded = tuple[str, str, Any, Any]   # (error, key, analysis or None if cached, stat)
DEFAULTS_FILE = "_defaults.yaml"


def analysis_key(digest: str, context_digest: str) -> str:
    """What an analysis is cached under: the file's digest, combined with its context's
    (environment, variables, policy, defaults files above it) when it has one."""
    if not context_digest:
        return digest
    return "sha256:" + hashlib.sha256(f"{digest} {context_digest}".encode()).hexdigest()


def context_digest(context: Context) -> str:
    return hashlib.sha256(marshal.dumps(tuple(context))).hexdigest()


class Analyser(Protocol):
    """Analyses file contents somewhere else while this process goes on (the plan's helper
    process, provisioner/speed/worker.py); `analysed` gives None when it could not."""

    def start_analysis(self, jobs: list[tuple[bytes, FileContext | None]]) -> None: ...

    def analysed(self) -> list[Analysis | str] | None: ...


class Loading:
    """Spec files being read and analysed: started by `start_loading`, so the caller can
    do something else (read the state) while workers run; `result` waits for them."""

    def __init__(self, finish: Callable[[], list[Loaded]]) -> None:
        self._finish = finish

    def result(self) -> list[Loaded]:
        global _PENDING, _ENTRIES, _CONTEXTS
        try:
            return self._finish()
        finally:
            _PENDING, _ENTRIES, _CONTEXTS = [], {}, []


def start_loading(paths: list[str], entries: dict[str, Analysis] | None = None,
                  workers: int | None = None, analyser: Analyser | None = None,
                  contexts: list[FileContext | None] | None = None) -> Loading:
    """Start reading, hashing and (unless `entries` has its digest) analysing every file:
    in forked worker processes when there are enough files to pay for them (they inherit
    the paths and the cache entries, read the files in parallel too and send results back
    marshalled, in bulk); else the few files not cached in `analyser` when given; else
    here, when the result is asked for."""
    global _PENDING, _ENTRIES, _CONTEXTS
    _PENDING, _ENTRIES = paths, entries or {}
    _CONTEXTS = contexts or [None] * len(paths)
    RunBudget.reset()
    workers = workers if workers is not None else _cpu_count()
    if workers < 2 or len(paths) < PARALLEL_MIN_FILES or not _can_fork():
        if analyser is not None:
            return _start_with(analyser, paths)
        return Loading(lambda: [load_one(path, context)
                                for path, context in zip(paths, _CONTEXTS)])
    import multiprocessing   # only here: importing it is a tenth of a warm run

    from provisioner.spec import analysis  # noqa: F401 - once, before the fork
    from provisioner.spec import schema
    schema.fast_check()   # many files: jsonschema-rs decides, loaded once for all
    RunBudget.reset(share=workers)   # the run's cap, shared among the workers
    pool = multiprocessing.get_context("fork").Pool(workers)
    pending = pool.map_async(_load_range, _chunks(len(paths), workers * 4), chunksize=1)

    def finish() -> list[Loaded]:
        with pool:   # terminated on the way out, as `with Pool(...)` does
            parts = pending.get()
        return [loaded for part in parts for loaded in marshal.loads(part)]
    return Loading(finish)


_PENDING: list[str] = []                # the files a forked worker pool loads, by index
_ENTRIES: dict[str, Analysis] = {}      # cached analyses the workers may skip
_CONTEXTS: list[FileContext | None] = []        # each pending file's context, by index


def load_one(path: str, context: FileContext | None = None) -> Loaded:
    """read_one, and the analysis unless the cache has the file's key."""
    error, digest, data, stat = keyed(read_one(path), context)
    if error or digest in _ENTRIES:
        return (error, digest, None, stat)
    return _analysed(digest, analyse_any(data, context), stat)


def keyed(read: Loaded, context: FileContext | None) -> Loaded:
    """A read file's Loaded with its analysis key (and context digest in its stat)."""
    error, digest, data, stat = read
    if error or context is None:
        return read
    key = analysis_key(digest, context.digest)
    return (error, key, data, (*stat[:4], key, context.digest))


def plain(context: FileContext | None) -> tuple[Any, ...] | None:
    """`context` as plain tuples (marshal takes no named tuples): for the helper process."""
    return None if context is None else (tuple(context.context), *context[1:])


def analyse_plain(data: bytes, context: tuple[Any, ...] | None = None) -> Analysis | str:
    """`analyse_any` of a context sent as `plain` (the helper process's job)."""
    if context is None:
        return analyse_any(data, None)
    return analyse_any(data, FileContext(Context(*context[0]), *context[1:]))


def analyse_any(data: bytes, context: FileContext | None) -> Analysis | str:
    """A spec file's analysis, or a `_defaults.yaml`'s (its context says which)."""
    from provisioner.spec import analysis

    if context is not None and context.defaults_file:
        return analysis.analyse_defaults(data, context.context)
    return analysis.analyse_capped(data, None if context is None else context.context)


def _analysed(digest: str, analysed: Analysis | str, stat: Any) -> Loaded:
    """A file's Loaded, from `analysis.analyse_capped`: a string says why it was not
    analysed (the run's cap), which is reported as an error and never cached."""
    if isinstance(analysed, str):
        return (analysed, digest, None, stat)
    return ("", digest, analysed, stat)


def read_one(path: str) -> Loaded:
    """(error, digest, the bytes, stat) of one regular file, read up to the size cap (a
    FIFO is named, not waited on)."""
    try:
        data, st = read_regular(path, MAX_FILE_BYTES + 1)
    except OSError as exc:
        why = exc.strerror or exc
        if isinstance(exc, NotRegularFile):
            why = f"{why}; spec files must be regular files"
        return (f"cannot read: {why}", "", None, None)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return ("", digest, data, (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, digest))


def _start_with(analyser: Analyser, paths: list[str]) -> Loading:
    """Read and hash here; analyse what is not cached in `analyser` meanwhile, and here
    whatever it could not."""
    contexts = _CONTEXTS
    read = [keyed(read_one(path), context) for path, context in zip(paths, contexts)]
    todo = [i for i, (error, digest, _, _) in enumerate(read)
            if not error and digest not in _ENTRIES]
    if todo:
        analyser.start_analysis([(read[i][2], contexts[i]) for i in todo])

    def finish() -> list[Loaded]:
        done = analyser.analysed() if todo else []
        if done is None:
            done = [analyse_any(read[i][2], contexts[i]) for i in todo]
        analysed = dict(zip(todo, done))
        return [_analysed(digest, analysed[i], stat) if i in analysed else
                (error, digest, None, stat) for i, (error, digest, _, stat) in enumerate(read)]
    return Loading(finish)


def _load_range(bounds: tuple[int, int]) -> bytes:
    start, end = bounds
    with collector_paused():
        return marshal.dumps([load_one(path, context) for path, context
                              in zip(_PENDING[start:end], _CONTEXTS[start:end])])


def _chunks(total: int, parts: int) -> list[tuple[int, int]]:
    size = -(-total // parts)
    return [(start, min(total, start + size)) for start in range(0, total, size)]


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _can_fork() -> bool:
    return hasattr(os, "fork")


def display_path(path: Path | str) -> str:
    """The path relative to the cwd when it lies under it, else as given; `/` separated."""
    return Displayer(os.getcwd())(path)


class Displayer:
    """display_path with the cwd looked up once (it was a tenth of the load time)."""

    def __init__(self, cwd: str) -> None:
        self.prefix = cwd.rstrip(os.sep) + os.sep
        self.folders: dict[str, str] = {}   # folder as given -> its shown form + "/"

    def __call__(self, path: Path | str) -> str:
        folder, name = os.path.split(path)
        if folder not in self.folders:
            absolute = os.path.abspath(os.path.join(folder, "x"))[:-1]
            self.folders[folder] = (absolute[len(self.prefix):].replace(os.sep, "/")
                                    if absolute.startswith(self.prefix)
                                    else Path(folder).as_posix().rstrip("/") + "/"
                                    if folder else "")
        return self.folders[folder] + name


def yaml_files(folder: Path, display: Displayer) -> dict[str, str]:
    """Spec files under `folder` (path -> shown path), hidden files and folders skipped,
    depth first in name order (a folder's files sort where its name does). (scandir and
    one display prefix per folder: rglob, Path objects and a display per file took a fifth
    of a warm run.) Whatever has a spec suffix and is not a folder is kept, and so is a
    folder that cannot be listed: `read_one` then names what is wrong with it (a skipped
    spec would look removed, and prune would delete its campaign); so is a symlink loop,
    whatever its name."""
    found: dict[str, str] = {}
    seen = {os.path.realpath(folder)}   # a symlinked folder is followed once: no cycles

    def walk(where: str) -> None:
        prefix = display(os.path.join(where, "x"))[:-1]
        try:
            with os.scandir(where) as entries:
                listed = sorted((entry.name, entry) for entry in entries
                                if not entry.name.startswith("."))
        except OSError:   # unreadable: reading it as a file reports why
            found[where] = display(where)
            return
        for name, entry in listed:
            try:
                is_dir = entry.is_dir()
            except OSError:   # a symlink loop: reported whatever its name (it may have
                found[entry.path] = prefix + name   # been meant as a folder of specs)
                continue
            if is_dir:
                real = os.path.realpath(entry.path)
                if real not in seen:
                    seen.add(real)
                    walk(entry.path)
            elif name.lower().endswith(SUFFIXES):
                # dangling links, loops, FIFOs: kept, so that they are reported
                found[entry.path] = prefix + name

    walk(str(folder))
    return found
