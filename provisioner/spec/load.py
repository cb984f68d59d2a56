"""Load spec files into validated, normalised campaigns and contact lists (their classes:
provisioner/spec/resources.py) plus located problems.

Files are listed, read (capped) and analysed one by one (`provisioner.spec.analysis`, a pure
function of a file's bytes), in worker processes and through the cache when there are
many; then the name clash check runs over all of them. Problems are collected as data so
one bad file never hides another; this module never raises on bad input.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from provisioner.body import CAMPAIGN, CONTACT_LIST
from provisioner.spec import files as specfiles
from provisioner.speed.collector import paused as collector_paused
from provisioner.errors import ERROR as ERROR, WARNING as WARNING
from provisioner.spec.printable import confusable_key
from provisioner.spec.record import Analysis, Context, FileContext, campaign_body
from provisioner.spec.resources import Campaign as Campaign, ContactList as ContactList
from provisioner.spec.resources import ListRef as ListRef, Resource as Resource
from provisioner.spec.runstate import clock_problems
from provisioner.spec.files import (DEFAULTS_FILE, Analyser, Displayer, analyse_any,
                                    context_digest, display_path, keyed, read_one, yaml_files)


Names = dict[tuple[str, str], tuple[str, str, int, int]]   # (kind, confusable key) -> first use


@dataclass(frozen=True)
class Problem:
    file: str        # path as given/relative to cwd, e.g. "campaigns/x.yaml"
    line: int        # 1-based
    column: int      # 1-based
    path: str        # JSON path, e.g. "$.dialingStrategy.callingHours.days[2].start"
    message: str
    severity: str    # "error" | "warning"


@dataclass
class SpecSet:
    campaigns: list[Campaign] = field(default_factory=list)   # only valid documents
    problems: list[Problem] = field(default_factory=list)     # errors and warnings
    files: dict[str, str] = field(default_factory=dict)       # file -> "sha256:<hex>"
    contact_lists: list[ContactList] = field(default_factory=list)   # valid, kind ContactList
    notes: list[str] = field(default_factory=list)   # said once, neither error nor warning

    @property
    def ok(self) -> bool:
        return not any(problem.severity == ERROR for problem in self.problems)


class SpecStore(Protocol):
    """A content-addressed store of file analyses (provisioner/speed/cache.py)."""

    stats: dict[str, Any]

    def summaries(self) -> dict[str, Analysis]: ...

    def vouch(self, files: list[tuple[str, str]]) -> dict[str, Any]: ...

    def store(self, analysed: dict[str, Analysis], stats: dict[str, Any] | None = None
              ) -> None: ...

    def full(self, digest: str) -> Analysis | None: ...


def load_specs(paths: Sequence[Path | str], *, cache: SpecStore | None = None,
               workers: int | None = None, analyser: Analyser | None = None,
               context: Context | None = None, root: Path | str | None = None) -> SpecSet:
    """Read every spec file under `paths` (files, or folders searched for *.yaml/*.yml):
    `start_loading(...).result()`."""
    return start_loading(paths, cache=cache, workers=workers, analyser=analyser,
                         context=context, root=root).result()


def start_loading(paths: Sequence[Path | str], *, cache: SpecStore | None = None,
                  workers: int | None = None, analyser: Analyser | None = None,
                  context: Context | None = None, root: Path | str | None = None
                  ) -> SpecLoading:
    """Start loading every spec file under `paths`; `result()` gives the SpecSet.

    Each file is analysed on its own: a pure function of its bytes, so results are looked
    up in `cache` by content digest. Files the cache vouches for by their stat are not even
    read; the others are read, hashed and, when not cached, analysed in `workers` processes
    (or, for a few, in `analyser`) while the caller goes on. The name clash check then runs
    over every campaign, in file order, when the result is asked for.

    With a `context` (an environment: provisioner/spec/resolve.py), each campaign is
    resolved for it, with the `_defaults.yaml` files above it; the context is part of each
    file's cache key.
    """
    result = SpecSet()
    with collector_paused():
        summaries: dict[str, Analysis] = cache.summaries() if cache else {}
        shown_paths = _spec_files(paths, result)
        roots = [str(root)] if root is not None else [str(p) for p in paths]
        contexts = file_contexts(shown_paths, context, roots) if context is not None else {}
        stats: dict[str, Any] = cache.vouch(shown_paths) if cache else {}
        stats = {shown: stat for shown, stat in stats.items()
                 if _context_of(stat) == _digest_of(contexts.get(shown))}
        result.files = {shown: stat[4] for shown, stat in stats.items()}   # never opened
        todo = [(shown, path) for shown, path in shown_paths if shown not in result.files]
        loading = specfiles.start_loading([path for _, path in todo], summaries, workers,
                                          analyser, [contexts.get(shown) for shown, _ in todo])
    return SpecLoading(result, cache, summaries, shown_paths, stats, todo, loading, contexts)


def file_contexts(shown_paths: list[tuple[str, str]], context: Context,
                  roots: Sequence[str] = ()) -> dict[str, FileContext]:
    """Each file's context: `context` with the `_defaults.yaml` of its folder and of each
    folder above it up to its root (the campaigns folder; the folders listed), farthest
    first, found on disk so that a file named alone (a pre-commit hook) gets them too; a
    defaults file's own."""
    own = context._replace(defaults=())
    own_context = FileContext(own, context_digest(own) + ":defaults", True)
    folders = _Defaults([os.path.abspath(root) for root in roots])
    by_folder: dict[str, FileContext] = {}   # one per folder: its files share it
    out: dict[str, FileContext] = {}
    for shown, path in shown_paths:
        if os.path.basename(path) == DEFAULTS_FILE:
            out[shown] = own_context
            continue
        folder = os.path.dirname(path)
        if folder not in by_folder:
            chain = folders.chain(os.path.dirname(os.path.abspath(path)))
            resolved = context._replace(defaults=tuple(folders.data[f] for f in chain))
            by_folder[folder] = FileContext(resolved, context_digest(resolved))
        out[shown] = by_folder[folder]
    return out


class _Defaults:
    """The `_defaults.yaml` files above spec files, looked up once per folder."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.data: dict[str, tuple[str, bytes]] = {}   # folder -> (shown, bytes)
        self._chains: dict[str, tuple[str, ...]] = {}

    def chain(self, folder: str) -> tuple[str, ...]:
        """The folders from the root of `folder` down to it that hold a defaults file."""
        if folder not in self._chains:
            root = max((r for r in self.roots if folder == r or folder.startswith(
                r.rstrip(os.sep) + os.sep)), key=len, default=folder)
            parent = os.path.dirname(folder)
            above = self.chain(parent) if folder != root and parent != folder else ()
            self._chains[folder] = above + ((folder,) if self._holds(folder) else ())
        return self._chains[folder]

    def _holds(self, folder: str) -> bool:
        path = os.path.join(folder, DEFAULTS_FILE)
        if folder not in self.data and os.path.lexists(path):
            self.data[folder] = (display_path(path), _defaults_bytes(path))
        return folder in self.data


def _defaults_bytes(path: str) -> bytes:
    """A defaults file's bytes (b"" when unreadable or too big: its own analysis says why,
    and the campaigns below it are then reported as not checked)."""
    from provisioner.disk.limits import MAX_FILE_BYTES
    from provisioner.disk.regular import read_regular

    try:
        data = read_regular(path, MAX_FILE_BYTES + 1)[0]
    except OSError:
        return b""
    return data if len(data) <= MAX_FILE_BYTES else b""


def _context_of(stat: Any) -> str:
    return stat[5] if len(stat) > 5 else ""


def _digest_of(context: FileContext | None) -> str:
    return context.digest if context is not None else ""


@dataclass
class SpecLoading:
    """Spec files being loaded (`start_loading`); `result` waits for them and assembles."""

    specs: SpecSet
    cache: SpecStore | None
    summaries: dict[str, Analysis]
    shown_paths: list[tuple[str, str]]
    stats: dict[str, Any]
    todo: list[tuple[str, str]]
    loading: specfiles.Loading
    contexts: dict[str, FileContext] = field(default_factory=dict)

    def result(self) -> SpecSet:
        with collector_paused():
            return self._assemble_all(self.loading.result())

    def _assemble_all(self, loaded: list[specfiles.Loaded]) -> SpecSet:
        result, cache, stats = self.specs, self.cache, self.stats
        fresh: dict[str, Analysis] = {}
        errors: dict[str, str] = {}
        for (shown, _), (error, digest, analysed, stat) in zip(self.todo, loaded):
            if error:
                errors[shown] = error
                continue
            result.files[shown], stats[shown] = digest, stat
            if analysed is not None:
                fresh[digest] = analysed
        if cache and (fresh or stats != cache.stats):
            cache.store(fresh, stats)
        result.files = {shown: result.files[shown] for shown, _ in self.shown_paths
                        if shown in result.files}   # in file order, however found
        names: Names = {}
        claims: list[tuple[str, str, Any, str]] = []   # (file, name, previousNames, kind)
        bodies = _Bodies(cache)
        now = time.time()   # one clock for every schedule of this load
        for shown, path in self.shown_paths:
            if shown in errors:
                _assemble(shown, [[(1, 1, "$", errors[shown], ERROR)], []], result, names)
                continue
            digest = result.files[shown]
            if digest in fresh:
                _assemble(shown, fresh[digest], result, names, None, claims, now)
            else:
                _assemble(shown, self.summaries[digest], result, names,
                          (bodies, digest, path, self.contexts.get(shown)), claims, now)
        if claims:
            _check_previous(claims, result)
        return result


class _Bodies:
    """The campaign bodies of files the cache vouched for, loaded on first use: from the
    cache's pack, else (record missing or damaged) by analysing the file again, which must
    still have the digest it was planned with. One per load; analyses kept by digest."""

    def __init__(self, cache: Any) -> None:
        self.cache = cache
        self.analyses: dict[str, Analysis] = {}

    def body(self, digest: str, shown: str, path: str, context: FileContext | None,
             index: int) -> dict[str, Any]:
        if digest not in self.analyses:
            self.analyses[digest] = (self.cache.full(digest)
                                     or self._again(digest, shown, path, context))
        return campaign_body(self.analyses[digest], index)

    @staticmethod
    def _again(expected: str, shown: str, path: str, context: FileContext | None) -> Analysis:
        from provisioner.errors import SpecError

        error, digest, data, _ = keyed(read_one(path), context)
        analysed = None if error or digest != expected else analyse_any(data, context)
        if analysed is None or isinstance(analysed, str):
            raise SpecError(f"{shown}: changed while it was being planned; run again")
        return analysed


def _spec_files(paths: Sequence[Path | str], result: SpecSet) -> list[tuple[str, str]]:
    """(shown path, path) of every spec file under `paths`, each once, in path order per
    folder given."""
    display = Displayer(os.getcwd())
    files: dict[str, str] = {}   # path -> shown
    for given in map(Path, paths):
        if given.is_dir():
            found = yaml_files(given, display)
            if not found:
                result.problems.append(Problem(display_path(given), 1, 1, "$",
                                               "no *.yaml or *.yml spec files here", WARNING))
            files.update(found)
        elif given.is_file() or os.path.lexists(given):   # a FIFO, a loop: read_one names it
            files[str(given)] = display(str(given))
        else:
            result.problems.append(Problem(display_path(given), 1, 1, "$",
                                           "no such file or directory", ERROR))
    return [(shown, path) for path, shown in files.items()]


def _assemble(shown: str, analysed: Analysis, result: SpecSet, names: Names,
              source: tuple[_Bodies, str, str, FileContext | None] | None = None,
              claims: list[tuple[str, str, Any, str]] | None = None,
              now: float = 0.0) -> None:
    """Add one analysed file's problems, campaigns and contact lists, checking names across
    files (per kind: a campaign and a contact list may share a name), and judge its
    schedules against the clock at `now` (never cached: provisioner/spec/runstate.py). A
    summary from the cache has no bodies: `source` (loader, file digest, path) loads them
    when they are read. (Runs once per file: kept lean.)"""
    file_problems, documents = analysed
    problems = [_problem(shown, problem) for problem in file_problems] if file_problems else []
    for index, (doc_problems, name, line, column, resource, kind, clock) in enumerate(documents):
        if doc_problems:
            problems.extend(_problem(shown, problem) for problem in doc_problems)
        if clock is not None:
            timed = clock_problems(clock, now or time.time())
            problems.extend(_problem(shown, problem) for problem in timed)
            if any(problem[4] == ERROR for problem in timed):
                resource = None   # not a valid campaign at this time
        if name is not None:   # names are unique case-insensitively, as the API's `lname`,
            here = (name, shown, line, column)   # and must not look like one another
            first = names.setdefault((kind, confusable_key(name)), here)
            if first is not here:
                problems.append(Problem(shown, line, column, "$.name",
                                        _clash(name, first, kind), ERROR))
                continue
        if resource is not None:
            (name, body, line, column, ensure, protect, digest, previous, ignore, kind,
             lists, run, rerun) = resource
            if previous and claims is not None:
                claims.append((shown, name, previous, kind))
            where = None if body is not None or source is None else (*source, index)
            olds = tuple(p[0] for p in previous)
            if kind == CONTACT_LIST:
                result.contact_lists.append(ContactList(
                    name, body, shown, line, column, ensure, protect, digest, where, olds))
            else:
                result.campaigns.append(Campaign(name, body, shown, line, column, ensure,
                                                 protect, digest, where, olds, tuple(ignore),
                                                 lists, run, rerun))
    if problems:
        result.problems.extend(sorted(problems, key=lambda p: (p.line, p.column)))


def _check_previous(claims: list[tuple[str, str, Any, str]], result: SpecSet) -> None:
    """A previous name must name one resource's past: not one of its kind declared now,
    and not claimed by two specs of its kind (either would make a rename ambiguous)."""
    declared: dict[tuple[str, str], Resource] = {
        (r.kind, r.lname): r for r in [*result.campaigns, *result.contact_lists]}
    first: dict[tuple[str, str], tuple[str, str]] = {}
    for shown, name, previous, kind in claims:
        for old, line, column in previous:
            where = first.setdefault((kind, old.lower()), (name, f"{shown}:{line}:{column}"))
            other = declared.get((kind, old.lower()))
            why = ""
            if other is not None and old.lower() != name.lower():
                why = (f"{old!r} is the name of the {_NOUN.get(kind, 'campaign')} at "
                       f"{other.file}:{other.line}:{other.column}; a previous name must be free")
            elif where[0] != name:
                why = f"{old!r} is claimed as a previous name by {where[0]!r} at {where[1]} too"
            if why:
                result.problems.append(Problem(shown, line, column, "$.previousNames", why,
                                               ERROR))


def _problem(shown: str, problem: Any) -> Problem:
    """A problem of file `shown`, or of the file it names (a defaults file, the config)."""
    if len(problem) > 5:
        return Problem(problem[5], *problem[:5])
    return Problem(shown, *problem)


_NOUN = {CAMPAIGN: "campaign", CONTACT_LIST: "contact list"}


def _clash(name: str, first: tuple[str, str, int, int], kind: str = CAMPAIGN) -> str:
    """Why `name` is refused: it is, or looks like, the name first used at `first` by a
    document of the same kind."""
    first_name, where = first[0], f"{first[1]}:{first[2]}:{first[3]}"
    noun = _NOUN.get(kind, f"{kind} document")
    if first_name.lower() == name.lower():
        return (f"{noun} name {name!r} is already used at {where} (names are compared "
                "case-insensitively)")
    return (f"{noun} name {name!r} looks the same as {first_name!r} at {where} (they differ "
            "only by Unicode normalisation, spacing or invisible characters)")
