"""The shared request budget: every request (reads included) from every worker thread
acquires a start slot here first.

Kore.ai enforces 60 requests per minute per account on a 60-second window, shared by all
Contact Center APIs, and documents no status code, Retry-After or rate-limit headers
(koreai-campaign-apis.md section 3, "Rate limits"). So the client paces itself.

How: slots are handed out one `interval` apart, `interval = 60 / N * SAFETY`. With
SAFETY = 1.02, any N+1 consecutive starts span N * interval = 61.2 s, whatever N is: a
fixed 1.2 s of slack per window. A server counting arrivals in a sliding (or fixed) 60 s
window therefore never sees N+1 unless network jitter moves arrivals by more than ~1.2 s,
while a long run still achieves 1 / 1.02 = 98% of the budget (the issue asks >= 90%).
Even pacing, not "N at once then wait", because a burst lands in one server window even
when our own count says otherwise. Slots only move forward (a pause pushes them later, never
earlier), so "at most N starts in any 60 s window" follows from the spacing alone.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from provisioner.errors import ConfigError
from provisioner.config import MAX_PER_MINUTE
from provisioner.options import whole_number

WINDOW = 60.0
SAFETY = 1.02

# Workers when nothing limits the rate: enough to overlap the API's latency, few enough
# not to swamp a tenant (or this machine's two cores) with requests.
UNLIMITED_PARALLELISM = 8
# Round trip assumed before any was measured: generous, because an idle extra worker costs
# nothing (the limiter paces starts anyway) while a missing one loses budget.
ASSUMED_LATENCY = 1.0

OnWait = Callable[[float, str], None]


def choose_parallelism(rate_per_minute: float | None, latency_seconds: float | None,
                       cap: int) -> int:
    """Workers needed to use a budget of `rate_per_minute` when a request takes
    `latency_seconds` (None: not measured yet, ASSUMED_LATENCY), between 1 and `cap`.

    Little's law: requests in flight = arrival rate x time each spends in the system; one
    more worker as headroom for jitter. No rate (None, 0 as in `RateLimiter(0)`, or not a
    finite positive number) means unlimited: UNLIMITED_PARALLELISM.
    Raises ValueError when `cap` < 1.
    """
    if cap < 1:
        raise ValueError(f"parallelism cap must be >= 1, not {cap}")
    if rate_per_minute is None or not 0 < rate_per_minute < math.inf:
        return min(cap, UNLIMITED_PARALLELISM)
    latency = ASSUMED_LATENCY if latency_seconds is None else latency_seconds
    in_flight = rate_per_minute / WINDOW * (latency if latency >= 0 else 0.0)  # nan: 0
    if in_flight >= cap:   # also infinity, which math.ceil refuses
        return cap
    return max(1, min(cap, math.ceil(in_flight) + 1))


class RateLimiter:
    """Thread-safe pacing of request starts; `per_minute == 0` means unlimited.

    `on_wait(seconds, reason)` is told about waits of at least `report_after` seconds and
    about every wait caused by a pause (a 429), so the CLI can say why it is waiting.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, on_wait: OnWait | None = None,
                 report_after: float = 5.0) -> None:
        try:   # nan, 1.5, True or 10**400 would pace nothing or crash the first acquire
            if isinstance(per_minute, str):   # the config reader converts text, not us
                raise ValueError(f"must be a whole number, not {per_minute!r}")
            whole_number(per_minute, high=MAX_PER_MINUTE)
        except ValueError as exc:
            raise ConfigError(f"rate limit: requests per minute {exc}") from None
        self.per_minute = per_minute
        self.interval = WINDOW / per_minute * SAFETY if per_minute else 0.0
        self.on_wait = on_wait
        self._clock, self._sleep, self._report_after = clock, sleep, report_after
        self._lock = threading.Lock()
        self._next = float("-inf")            # earliest slot the pacing allows
        self._paused_until = float("-inf")
        self._pause_reason = ""

    def __repr__(self) -> str:
        return f"RateLimiter(per_minute={self.per_minute})"

    def acquire(self) -> float:
        """Block until a request may start; return the granted start time (clock units).

        A slot reserved before a pause arrived and falling inside it is dropped and a new
        one reserved, so nobody starts during a pause.
        """
        while True:
            with self._lock:
                now = self._clock()
                slot, paused = self._reserve(now)
            self._wait(slot - now, paused)
            with self._lock:
                if slot >= self._paused_until:
                    return slot

    def pause_until(self, moment: float, reason: str = "the API refused a request (429)") -> None:
        """Let no request start before `moment` (clock units); later pauses win."""
        with self._lock:
            if moment > self._paused_until:
                self._paused_until = moment
                self._pause_reason = reason
            self._next = max(self._next, moment)

    def penalise(self, seconds: float, reason: str = "the API refused a request (429)") -> None:
        """Pause everyone for `seconds` from now."""
        self.pause_until(self._clock() + seconds, reason)

    def eta_seconds(self, remaining_requests: int) -> float:
        """Seconds until `remaining_requests` more requests can all have started."""
        if remaining_requests <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            first = max(now, self._next, self._paused_until)
        return (first - now) + (remaining_requests - 1) * self.interval

    def _reserve(self, now: float) -> tuple[float, bool]:
        """Take the next slot (lock held); say whether a pause is in force."""
        slot = max(now, self._next, self._paused_until)
        self._next = slot + self.interval
        return slot, self._paused_until > now

    def _wait(self, seconds: float, paused: bool) -> None:
        if seconds <= 0:
            return
        if self.on_wait is not None and (paused or seconds >= self._report_after):
            reason = self._pause_reason if paused else f"the rate limit ({self.per_minute}/min)"
            self.on_wait(seconds, reason)
        self._sleep(seconds)
