"""Load campaign spec files into validated, normalised campaigns plus located problems.

The pipeline per file: read bytes (capped) -> compose YAML keeping marks (yamlnodes) ->
schema check (schema) -> semantic checks and warnings (rules) -> normalised API body.
Problems are collected as data so one bad file never hides another; this module never
raises on bad input.
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
from provisioner import rules, schema
from provisioner.yamlnodes import MAX_FILE_BYTES, Document, format_path, parse

SUFFIXES = (".yaml", ".yml")
PARALLEL_MIN_FILES = 256   # below this, forking workers costs more than it saves
ERROR, WARNING = "error", "warning"
Analysis = list[Any]   # what `analyse` returns for one file (plain data)


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
    up in `cache` (a `provisioner.cache.SpecCache`) by content digest and the rest are
    computed in `workers` processes. The name clash check then runs over every campaign,
    in file order. `meanwhile` is called once, while the workers run (the parent would
    otherwise only wait): a plan reads the recorded state there.
    """
    result = SpecSet()
    with _collector_paused():
        stats: dict[str, Any] = {}
        read = _read_all(_spec_files(paths, result), result, cache, stats)
        known: dict[str, Analysis] = cache.lookup(result.files.values()) if cache else {}
        todo = {result.files[shown]: data for shown, data in read
                if isinstance(data, bytes) and result.files[shown] not in known}
        known.update(zip(todo, analyse_all(list(todo.values()), workers, meanwhile)))
        if cache and (todo or stats != cache.stats):
            cache.store(known, stats)
        names: dict[str, str] = {}   # lname -> "file:line:col" of its first use
        for shown, data in read:
            analysed = [[(1, 1, "$", data, ERROR)], []] if isinstance(data, str) else \
                known[result.files[shown]]
            _assemble(shown, analysed, result, names)
    return result


def analyse(data: bytes) -> Analysis:
    """Everything about one file that depends only on its bytes, as plain data (marshal-
    and cache-friendly): [file problems, [per document: problems, name, name line, name
    column, campaign or None]]. A problem is (line, column, path, message, severity); a
    campaign (name, body, line, column, ensure, protect, digest)."""
    documents, issues = parse(data)
    return [[(i.line, i.column, i.path, i.message, ERROR) for i in issues],
            [_analyse_document(document) for document in documents]]


def analyse_all(datas: list[bytes], workers: int | None = None,
                meanwhile: Callable[[], None] | None = None) -> list[Analysis]:
    """`analyse` of every file, in worker processes when there are enough files to pay for
    them (forked: the bytes are inherited, and results come back marshalled, in bulk).
    `meanwhile` runs in this process after the workers are forked (never in a thread
    beside a fork), or first when there are no workers."""
    workers = workers if workers is not None else _cpu_count()
    if workers < 2 or len(datas) < PARALLEL_MIN_FILES or not _can_fork():
        if meanwhile:
            meanwhile()
        return [analyse(data) for data in datas]
    global _PENDING
    _PENDING = datas
    try:
        bounds = _chunks(len(datas), workers * 4)
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending = pool.map_async(_analyse_range, bounds, chunksize=1)
            if meanwhile:
                meanwhile()
            parts = pending.get()
    finally:
        _PENDING = []
    return [analysed for part in parts for analysed in marshal.loads(part)]


_PENDING: list[bytes] = []   # the files a forked worker pool analyses, by index range


def _analyse_range(bounds: tuple[int, int]) -> bytes:
    with _collector_paused():
        return marshal.dumps([analyse(data) for data in _PENDING[bounds[0]:bounds[1]]])


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


def normalise(spec: dict[str, Any]) -> dict[str, Any]:
    """The API body of a valid spec document (docs/architecture.md, "Normalisation")."""
    merged = {"campaignType": "sms", **spec}
    out = {key: merged[key] for key in api_body.BODY_FIELDS if key in merged}
    if "priority" in out and not isinstance(out["priority"], str):
        out["priority"] = str(int(out["priority"]))
    if isinstance(out.get("message"), dict):
        out["message"] = _normalise_message(out["message"])
    return out


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


def _normalise_message(message: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in message.items():
        if key == "text":
            out["message"] = api_body.encode_message(value)
        elif key == "message":
            out["message"] = api_body.encode_message(api_body.decode_message(value))
        else:
            out[key] = value
    return out


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
    while pending:
        parts, where = pending.pop()
        with os.scandir(where) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    pending.append(((*parts, entry.name), entry.path))
                elif entry.name.endswith(SUFFIXES) and entry.is_file():
                    found.append(((*parts, entry.name), entry.path))
    return [Path(path) for _, path in sorted(found)]


def _read_all(files: list[Path], result: SpecSet, cache: Any = None,
              stats: dict[str, Any] | None = None) -> list[tuple[str, bytes | str | None]]:
    """(shown path, bytes, or None when the cache vouches for its unchanged digest, or why
    it cannot be read) per file; digests go to result.files, stats to `stats`."""
    display = _Displayer(os.getcwd())
    read: list[tuple[str, bytes | str | None]] = []
    for path in files:
        shown = display(path)
        try:
            st = os.stat(path)   # a stat the cache vouches for spares the open and read
            known = cache.known_digest(shown, st) if cache else None
            data = None if known else _read_bytes(path)
        except OSError as exc:
            read.append((shown, f"cannot read: {exc.strerror or exc}"))
            continue
        digest = known or "sha256:" + hashlib.sha256(data or b"").hexdigest()
        result.files[shown] = digest
        if stats is not None:
            stats[shown] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, digest)
        read.append((shown, data))
    return read


def _read_bytes(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)


def _analyse_document(doc: Document) -> list[Any]:
    problems = [(i.line, i.column, i.path, i.message, ERROR) for i in doc.issues]
    value = doc.value
    if value is None:
        return [problems, None, 0, 0, None]
    for finding in schema.check(value) + rules.check(value):
        line, column = doc.locate(finding.path, key=finding.on_key)
        problems.append((line, column, format_path(finding.path), finding.message,
                         finding.severity))
    name = value.get("name")
    name_line, name_column = doc.locate(("name",)) if isinstance(name, str) else (0, 0)
    campaign = None
    if not any(problem[4] == ERROR for problem in problems):
        body = normalise(value)
        campaign = (name, body, doc.line, doc.column, value.get("ensure", "present"),
                    bool(value.get("protect", False)), api_body.digest(body))
    return [problems, name if isinstance(name, str) else None, name_line, name_column,
            campaign]


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
