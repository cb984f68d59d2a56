"""Process-wide settings of one short command, in one place: how often the cyclic garbage
collector runs, and how the process ends. The pipeline never touches either."""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn

# Commands that may end with os._exit, after flushing their output: measured by
# `python bench/exit.py` (10,000 campaigns, warm plan), a normal exit spends FAST_EXIT_MS
# tearing the heap down object by object, for nothing. They register no exit handlers
# (pools and helper processes are joined or ended before the command returns); every other
# command (apply, import, state, emulator) exits normally, so exit handlers always run.
FAST_EXIT = frozenset({"plan", "validate"})


def tune(command: str | None) -> None:
    """Collect rarely: a short command holds tens of thousands of small acyclic objects,
    and collecting every 700 allocations spent seconds freeing nothing. A plan, built in
    one go and ended at once, turns the cyclic collector off (a third of a warm plan's
    diffing time at 10,000 campaigns); apply, which runs for hours, keeps it."""
    gc.set_threshold(100_000, 50, 50)
    if command == "plan":
        gc.disable()


def leave(code: int, command: str | None) -> NoReturn:
    """Flush, then end the process: at once for FAST_EXIT commands, normally otherwise."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        code = code or 1
    if command in FAST_EXIT:
        os._exit(code)
    sys.exit(code)
