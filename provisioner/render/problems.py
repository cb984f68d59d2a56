"""Reporters for `validate`, keyed by `--format`; each writes to an injected stream.

    text    campaigns/x.yaml:12:7: $.path: message            (warnings end in " (warning)")
            note: ...                                         (said once, before the summary)
    json    [{"file", "line", "column", "path", "message", "severity"}, ...]   (no notes)
    github  ::error file=...,line=...,col=...::$.path: message   (workflow annotations)
            ::notice::...                                     (a note)

File names, JSON paths and messages carry what the files hold (a key, a name, a value), so
each is escaped (`provisioner.spec.printable`) before it is written: one problem, one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TextIO

from provisioner.spec.printable import escape, escape_json
from provisioner.spec.load import Problem, SpecSet

# GitHub shows at most 10 annotations of each kind per step; the rest would be dropped silently.
GITHUB_LIMIT = 10


def format_problem(problem: Problem) -> str:
    """One problem as one line: `file:line:column: path: message`."""
    suffix = " (warning)" if problem.severity == "warning" else ""
    return (f"{escape(problem.file)}:{problem.line}:{problem.column}: {escape(problem.path)}: "
            f"{escape(problem.message)}{suffix}")


def report_text(specs: SpecSet, stream: TextIO) -> None:
    """Every problem, the notes, then a one-line summary (contact lists counted when there
    are any)."""
    for problem in specs.problems:
        stream.write(format_problem(problem) + "\n")
    for note in specs.notes:
        stream.write(f"note: {escape(note)}\n")
    errors, warnings = _counts(specs.problems)
    lists = (f", {len(specs.contact_lists)} valid contact list(s)" if specs.contact_lists
             else "")
    stream.write(f"{len(specs.campaigns)} valid campaign(s){lists} in {len(specs.files)} "
                 f"file(s); {errors} error(s), {warnings} warning(s)\n")


def report_json(specs: SpecSet, stream: TextIO) -> None:
    text = json.dumps([asdict(problem) for problem in specs.problems], indent=2,
                      ensure_ascii=False)
    stream.write(escape_json(text) + "\n")


def report_github(specs: SpecSet, stream: TextIO) -> None:
    """The first GITHUB_LIMIT errors and warnings as annotations, then how many were left."""
    for severity in ("error", "warning"):
        chosen = [p for p in specs.problems if p.severity == severity]
        for problem in chosen[:GITHUB_LIMIT]:
            props = f"file={_prop(escape(problem.file))},line={problem.line},col={problem.column}"
            # A newline stays one (written %0A, shown inside the annotation); nothing else
            # hidden gets through.
            text = escape(f"{problem.path}: {problem.message}", keep_newlines=True)
            stream.write(f"::{severity} {props}::{_data(text)}\n")
        if len(chosen) > GITHUB_LIMIT:
            stream.write(f"::{severity}::{len(chosen) - GITHUB_LIMIT} more {severity}s not shown; "
                         "run provisioner validate locally\n")
    for note in specs.notes:
        stream.write(f"::notice::{_data(escape(note))}\n")


REPORTERS: dict[str, Callable[[SpecSet, TextIO], None]] = {
    "text": report_text,
    "json": report_json,
    "github": report_github,
}


def _counts(problems: Sequence[Problem]) -> tuple[int, int]:
    errors = sum(1 for problem in problems if problem.severity == "error")
    return errors, len(problems) - errors


def _data(text: str) -> str:
    """Escape a workflow-command message (GitHub Actions toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    """Escape a workflow-command property value (toolkit `escapeProperty`)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")
