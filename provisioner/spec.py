"""Load campaign spec files into validated, normalised campaigns plus located problems.

The pipeline per file: read bytes (capped) -> compose YAML keeping marks (yamlnodes) ->
schema check (schema) -> semantic checks and warnings (rules) -> normalised API body.
Problems are collected as data so one bad file never hides another; this module never
raises on bad input.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner import body as api_body
from provisioner import rules, schema
from provisioner.yamlnodes import MAX_FILE_BYTES, Document, format_path, parse

SUFFIXES = (".yaml", ".yml")
ERROR, WARNING = "error", "warning"


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

    @property
    def lname(self) -> str:
        return self.name.lower()

    @property
    def digest(self) -> str:
        return api_body.digest(self.body)


@dataclass
class SpecSet:
    campaigns: list[Campaign] = field(default_factory=list)   # only valid documents
    problems: list[Problem] = field(default_factory=list)     # errors and warnings
    files: dict[str, str] = field(default_factory=dict)       # file -> "sha256:<hex>"

    @property
    def ok(self) -> bool:
        return not any(problem.severity == ERROR for problem in self.problems)


def load_specs(paths: Sequence[Path | str]) -> SpecSet:
    """Read every spec file under `paths` (files, or folders searched for *.yaml/*.yml)."""
    result = SpecSet()
    names: dict[str, str] = {}   # lname -> "file:line:col" of its first use
    with _collector_paused():
        for path in _spec_files(paths, result):
            problems = _load_file(path, display_path(path), result, names)
            result.problems.extend(sorted(problems, key=lambda p: (p.line, p.column)))
    return result


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
    try:
        return Path(os.path.abspath(path)).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


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
            found = sorted(_yaml_files(given))
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


def _yaml_files(folder: Path) -> Iterable[Path]:
    for path in folder.rglob("*"):
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        if path.suffix in SUFFIXES and not hidden and path.is_file():
            yield path


def _load_file(path: Path, shown: str, result: SpecSet, names: dict[str, str]) -> list[Problem]:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return [Problem(shown, 1, 1, "$", f"cannot read: {exc.strerror or exc}", ERROR)]
    result.files[shown] = "sha256:" + hashlib.sha256(data).hexdigest()
    documents, issues = parse(data)
    problems = [Problem(shown, i.line, i.column, i.path, i.message, ERROR) for i in issues]
    for document in documents:
        problems.extend(_load_document(document, shown, result, names))
    return problems


def _load_document(doc: Document, shown: str, result: SpecSet,
                   names: dict[str, str]) -> list[Problem]:
    problems = [Problem(shown, i.line, i.column, i.path, i.message, ERROR) for i in doc.issues]
    if doc.value is None:
        return problems
    for finding in schema.check(doc.value) + rules.check(doc.value):
        line, column = doc.locate(finding.path, key=finding.on_key)
        problems.append(Problem(shown, line, column, format_path(finding.path),
                                finding.message, finding.severity))
    clash = _name_clash(doc, shown, names)
    problems.extend(clash)
    if not any(problem.severity == ERROR for problem in problems):
        result.campaigns.append(_campaign(doc, shown))
    return problems


def _name_clash(doc: Document, shown: str, names: dict[str, str]) -> list[Problem]:
    """Names are unique case-insensitively, as the API keeps a lowercased `lname`. O(1)."""
    name = doc.value.get("name")
    if not isinstance(name, str):
        return []
    line, column = doc.locate(("name",))
    first = names.setdefault(name.lower(), f"{shown}:{line}:{column}")
    if first == f"{shown}:{line}:{column}":
        return []
    return [Problem(shown, line, column, "$.name", f"campaign name {name!r} is already used at "
                    f"{first} (names are compared case-insensitively)", ERROR)]


def _campaign(doc: Document, shown: str) -> Campaign:
    value = doc.value
    return Campaign(name=value["name"], body=normalise(value), file=shown, line=doc.line,
                    column=doc.column, ensure=value.get("ensure", "present"),
                    protect=bool(value.get("protect", False)))
