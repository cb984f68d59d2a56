"""Which campaigns a targeted run covers (`plan`/`apply` `--target PATTERN`, `--exclude
PATTERN`): shell-style globs (fnmatch) on campaign names, case-insensitive, like names.

Not to be confused with `config.Target`, the environment and tenant a command works on.
A `Selection` is what was asked; a `Scope` is what a plan built with it covered, carried in
plan JSON as `"targets"` so a saved plan applies only what it showed. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import translate
from functools import lru_cache
from typing import Any

from provisioner.errors import ConfigError


@dataclass(frozen=True)
class Selection:
    """Names matching any `include` pattern (every name when there is none) and no
    `exclude` pattern. Empty (falsy): not targeted, everything is selected."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def matches(self, name: str) -> bool:
        lname = name.lower()
        if self.include and not _compiled(self.include).match(lname):
            return False
        return not (self.exclude and _compiled(self.exclude).match(lname))

    def same_as(self, other: Selection) -> bool:
        """Equal as selections: the same patterns, whatever their order, case or repeats."""
        return _key(self) == _key(other)

    def unmatched(self, lnames: Iterable[str]) -> list[str]:
        """The patterns (include, then exclude) that match none of `lnames`."""
        left = {p: _compiled((p,)) for p in dict.fromkeys(self.include + self.exclude)}
        for lname in lnames:
            for pattern in [p for p, rx in left.items() if rx.match(lname)]:
                del left[pattern]
            if not left:
                break
        return list(left)

    def check(self, lnames: Iterable[str]) -> None:
        """ConfigError when a pattern matches no name of `lnames` (the campaigns in the
        specs or the state): a typo must not quietly turn a run into a no-op."""
        missing = self.unmatched(lnames)
        if missing:
            flags = [f"{'--target' if p in self.include else '--exclude'} {p!r}"
                     for p in missing]
            raise ConfigError(f"{' and '.join(flags)} match{'es' if len(flags) == 1 else ''} "
                              "no campaign in the specs or the state (check the spelling); "
                              "nothing was planned or sent")

    def to_dict(self) -> dict[str, list[str]]:
        return {"include": list(self.include), "exclude": list(self.exclude)}


def selection(include: Iterable[str] = (), exclude: Iterable[str] = ()) -> Selection:
    """A Selection of these patterns, repeats dropped, order kept."""
    return Selection(tuple(dict.fromkeys(include)), tuple(dict.fromkeys(exclude)))


@dataclass(frozen=True)
class Scope:
    """What a targeted plan covered: its selection, and how many of the campaigns in the
    specs or the state (`known`) it took (`selected`); the others are left alone."""

    selection: Selection
    selected: int
    known: int

    def to_dict(self) -> dict[str, Any]:
        return {**self.selection.to_dict(), "selected": self.selected, "known": self.known}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Scope | None:
        """The scope a plan's `"targets"` records (its shape is checked by plan/saved.py)."""
        if not data:
            return None
        return cls(selection(data.get("include", ()), data.get("exclude", ())),
                   int(data.get("selected", 0)), int(data.get("known", 0)))


def _key(chosen: Selection) -> tuple[frozenset[str], frozenset[str]]:
    return (frozenset(p.lower() for p in chosen.include),
            frozenset(p.lower() for p in chosen.exclude))


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression matching a lowercased name against any of `patterns`."""
    return re.compile("|".join(translate(p.lower()) for p in patterns))
