"""`--target PATTERN` / `--exclude PATTERN` of `plan` and `apply`: which campaigns a run
covers (provisioner/plan/selection.py). Not the environment target of `_common.py`
(`--env`, `--state`): these pick campaigns within it."""

from __future__ import annotations

import argparse

from provisioner.errors import ConfigError
from provisioner.plan.selection import Selection, selection


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", metavar="PATTERN", action="append", default=[],
                        dest="select_include",
                        help="only campaigns whose name matches this shell-style pattern "
                             "(case-insensitive; repeatable); nothing else is created, "
                             "updated or deleted")
    parser.add_argument("--exclude", metavar="PATTERN", action="append", default=[],
                        dest="select_exclude",
                        help="leave out campaigns whose name matches this pattern "
                             "(repeatable)")


def selection_of(args: argparse.Namespace) -> Selection:
    """The selection the command line asks for (empty: every campaign)."""
    return selection(args.select_include, args.select_exclude)


def saved_selection(args: argparse.Namespace, saved: Selection, planfile: str) -> Selection:
    """A saved plan applies with the selection it was made with; options naming another
    one are refused rather than quietly ignored or merged."""
    asked = selection_of(args)
    if asked and not asked.same_as(saved):
        made = _options(saved) or "no --target or --exclude"
        raise ConfigError(f"{planfile} was planned with {made}, not {_options(asked)}; "
                          f"apply it without --target/--exclude, or plan again")
    return saved


def _options(chosen: Selection) -> str:
    return " ".join([f"--target {p!r}" for p in chosen.include]
                    + [f"--exclude {p!r}" for p in chosen.exclude])
