"""Process-wide settings of one short command, in one place: how often the cyclic garbage
collector runs, and how the process ends. The pipeline never touches either."""

from __future__ import annotations

import atexit
import gc
import os
import sys
from typing import NoReturn

FAST_EXIT = frozenset({"plan", "validate"})   # what they write is written before they return


def tune(command: str | None) -> None:
    """Collect rarely: a short command holds tens of thousands of small acyclic objects,
    and collecting every 700 allocations spent seconds freeing nothing. A plan, built in
    one go and ended at once, turns the cyclic collector off (a third of a warm plan's
    diffing time at 10,000 campaigns); apply, which runs for hours, keeps it."""
    gc.set_threshold(100_000, 50, 50)
    if command == "plan":
        gc.disable()


def leave(code: int, command: str | None = None) -> NoReturn:
    """Flush, run the exit handlers (a pool's, a logger's), then end the process. A command
    that only reads (FAST_EXIT) then skips the interpreter's teardown of its heap, object
    by object: 1-6 ms of a 161-171 ms warm plan at 10,000 campaigns (`python
    bench/exit.py`), which is what the warm plan needs to stay within 10% of the floor
    (`make bench`, docs/performance.md). Every other command exits normally."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        code = code or 1
    if command in FAST_EXIT:
        atexit._run_exitfuncs()   # what a normal exit runs first; only the teardown is skipped
        os._exit(code)
    sys.exit(code)
