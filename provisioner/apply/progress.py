"""Progress output for apply: a bar with done/total and an ETA on a terminal; in CI (no
terminal) a plain progress line every few seconds instead.

The ETA (issue 13): once MIN_DONE campaigns are done and MIN_SECONDS have passed, the
remaining campaigns at the rate observed so far, never less than the request budget
allows; before that, the budget's estimate alone, and none when the budget is unlimited
(its estimate of 0 s says nothing). Each event costs the same at any size.

Every event is written as exactly one line of visible characters (`printable.escape`):
its message carries campaign names, tenant ids and API error text, any of which could
otherwise forge log lines, rewrite the terminal or issue a workflow command."""

from __future__ import annotations

import threading
import time
from typing import Callable, TextIO

from provisioner.spec.printable import escape

LINE_EVERY = 5.0  # seconds between progress lines when not on a terminal
# Enough finished campaigns, and time, for the observed rate to mean something.
MIN_DONE = 5
MIN_SECONDS = 1.0


class Progress:
    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.clock = stream, clock
        self.tty = stream.isatty()
        self.total = self.done = 0
        self.eta: Callable[[int], float] | None = None
        self._lock = threading.Lock()
        self._last = self._started = 0.0
        self._bar_shown = False

    def start(self, total: int, *, eta: Callable[[int], float] | None = None) -> None:
        self.total, self.done, self.eta = total, 0, eta
        self._last = self._started = self.clock()

    def event(self, kind: str, message: str) -> None:
        """One line per finished campaign, wait and retry notices; then the bar/line."""
        with self._lock:
            if kind in ("done", "failed"):
                self.done += 1
            self._clear_bar()
            line = message if kind in ("done", "failed") else f"{kind}: {message}"
            self.stream.write(escape(line) + "\n")
            self._tick()
            self.stream.flush()

    def finish(self) -> None:
        with self._lock:
            self._clear_bar()
            self.stream.flush()

    def _tick(self) -> None:
        if not self.total:
            return
        status = f"{self.done}/{self.total} actions" + self._eta_text()
        if self.tty:
            width = 30
            filled = int(width * self.done / self.total)
            self.stream.write(f"[{'#' * filled}{'.' * (width - filled)}] {status}")
            self._bar_shown = True
        elif self.clock() - self._last >= LINE_EVERY or self.done == self.total:
            self.stream.write(f"progress: {status}\n")
            self._last = self.clock()

    def _eta_text(self) -> str:
        remaining = self.total - self.done
        seconds = self._eta_seconds(remaining) if remaining > 0 else None
        if seconds is None:
            return ""
        whole = int(seconds)
        return f", ETA {whole // 60}m{whole % 60:02d}s"

    def _eta_seconds(self, remaining: int) -> float | None:
        """Seconds left, or None when nothing tells yet (see the module docstring)."""
        budget = self.eta(remaining) if self.eta else 0.0
        elapsed = self.clock() - self._started
        if self.done >= MIN_DONE and elapsed >= MIN_SECONDS:
            return max(budget, remaining * elapsed / self.done)
        return budget if budget > 0 else None

    def _clear_bar(self) -> None:
        if self._bar_shown:
            self.stream.write("\r\x1b[K")
            self._bar_shown = False
