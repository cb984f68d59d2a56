"""RateLimiter with an injected clock and sleep: nothing here really waits."""

from __future__ import annotations

import threading

import pytest

from provisioner.errors import ConfigError
from provisioner.remote.ratelimit import (
    ASSUMED_LATENCY, SAFETY, UNLIMITED_PARALLELISM, WINDOW, RateLimiter, choose_parallelism,
)


class FakeClock:
    """Virtual time: `sleep` moves it forward. Thread-safe; time never goes back."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


def most_in_any_window(starts: list[float]) -> int:
    """The largest number of starts inside any half-open 60 s window [t, t + 60)."""
    starts = sorted(starts)
    best, low = 0, 0
    for high, moment in enumerate(starts):
        while moment - starts[low] >= WINDOW:
            low += 1
        best = max(best, high - low + 1)
    return best


def test_paces_evenly_and_uses_the_budget() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock, sleep=clock.sleep)
    starts = [limiter.acquire() for _ in range(300)]
    gaps = {round(b - a, 9) for a, b in zip(starts, starts[1:])}
    assert gaps == {round(WINDOW / 60 * SAFETY, 9)}
    rate_per_minute = (len(starts) - 1) / (starts[-1] - starts[0]) * WINDOW
    assert 0.9 * 60 <= rate_per_minute < 60
    assert most_in_any_window(starts) == 59  # the slack means not even N in a window


def test_first_request_does_not_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock, sleep=clock.sleep)
    assert limiter.acquire() == 1000.0
    assert clock.slept == []


@pytest.mark.parametrize("threads", [2, 3, 4])
def test_never_more_than_n_in_a_window_across_threads(threads: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(20, clock=clock, sleep=clock.sleep)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for number in range(40):
            slot = limiter.acquire()
            with lock:
                starts.append(slot)
            if number == 17:
                limiter.penalise(5)  # a 429 in the middle must not let a burst through

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert len(starts) == len(set(starts)) == threads * 40
    assert most_in_any_window(starts) <= 20
    ordered = sorted(starts)
    assert min(b - a for a, b in zip(ordered, ordered[1:])) >= WINDOW / 20 * SAFETY - 1e-9


def test_penalise_pauses_everyone_and_reports_why() -> None:
    clock = FakeClock()
    waits: list[tuple[float, str]] = []
    limiter = RateLimiter(60, clock=clock, sleep=clock.sleep,
                          on_wait=lambda s, r: waits.append((s, r)))
    limiter.acquire()
    limiter.penalise(60, "the API's rate limit (429)")
    assert limiter.acquire() == pytest.approx(1060.0)
    assert waits == [(pytest.approx(60.0), "the API's rate limit (429)")]
    assert limiter.acquire() == pytest.approx(1060.0 + SAFETY)  # paced again, no burst


def test_slot_reserved_before_a_pause_is_taken_again_after_it() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock)
    limiter.acquire()

    def sleep_while_a_429_arrives(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.slept) == 1:
            limiter.pause_until(clock.now + 30)

    limiter._sleep = sleep_while_a_429_arrives
    assert limiter.acquire() >= 1000.0 + SAFETY + 30


def test_short_pacing_waits_are_not_reported_long_ones_are() -> None:
    clock = FakeClock()
    waits: list[tuple[float, str]] = []
    limiter = RateLimiter(6, clock=clock, sleep=lambda s: None,
                          on_wait=lambda s, r: waits.append((s, r)))
    limiter.acquire()
    limiter.acquire()  # 10.2 s ahead, clock not moved: reported
    assert waits == [(pytest.approx(10.2), "the rate limit (6/min)")]
    fast = RateLimiter(60, clock=clock, sleep=lambda s: None,
                       on_wait=lambda s, r: waits.append((s, r)))
    fast.acquire()
    fast.acquire()  # 1.02 s: below the report threshold
    assert len(waits) == 1


def test_unlimited_never_waits_but_honours_pauses() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(100)] == [1000.0] * 100
    limiter.penalise(7)
    assert limiter.acquire() == pytest.approx(1007.0)
    assert limiter.eta_seconds(500) == 0.0


def test_eta_follows_the_budget_and_pauses() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock, sleep=clock.sleep)
    assert limiter.eta_seconds(0) == 0.0
    assert limiter.eta_seconds(1) == 0.0
    assert limiter.eta_seconds(501) == pytest.approx(500 * SAFETY)
    limiter.penalise(20)
    assert limiter.eta_seconds(1) == pytest.approx(20.0)


def test_negative_budget_refused() -> None:
    with pytest.raises(ConfigError, match="per minute"):
        RateLimiter(-1)


@pytest.mark.parametrize("per_minute", [-1, float("nan"), float("inf"), 1.5, True, "60",
                                        10**400, 60_001])
def test_a_budget_that_is_not_a_sane_whole_number_is_refused(per_minute: object) -> None:
    """nan paced nothing and 10**400 crashed the first acquire with OverflowError."""
    with pytest.raises(ConfigError, match="rate limit: requests per minute must"):
        RateLimiter(per_minute)  # type: ignore[arg-type]


# -- choose_parallelism: Little's law, pure ------------------------------------------------

@pytest.mark.parametrize("rate, latency, cap, expected", [
    (60, 0.3, 64, 2),        # 1/s x 0.3 s = 0.3 in flight -> 1, +1 headroom
    (60, 1.0, 64, 2),        # exactly 1 in flight -> 1, +1
    (60, 2.5, 64, 4),        # 2.5 -> 3, +1
    (600, 0.25, 64, 4),      # 10/s x 0.25 s = 2.5 -> 3, +1
    (6000, 0.5, 16, 16),     # 50 in flight, capped
    (60, 0.0, 64, 1),        # no latency: one worker keeps up
    (60, -1.0, 64, 1),       # nonsense latency counts as none
    (60, float("nan"), 64, 1),
    (60, float("inf"), 5, 5),
    (60, None, 64, 2),       # not measured yet: ASSUMED_LATENCY
])
def test_choose_parallelism_from_rate_and_latency(rate: float, latency: float | None,
                                                  cap: int, expected: int) -> None:
    assert choose_parallelism(rate, latency, cap) == expected


@pytest.mark.parametrize("rate", [None, 0, -5, float("inf"), float("nan")])
def test_choose_parallelism_without_a_rate_limit(rate: float | None) -> None:
    assert choose_parallelism(rate, 0.05, 64) == UNLIMITED_PARALLELISM
    assert choose_parallelism(rate, 0.05, 3) == 3


def test_choose_parallelism_assumes_a_generous_latency() -> None:
    assert choose_parallelism(600, None, 64) == choose_parallelism(600, ASSUMED_LATENCY, 64)
    with pytest.raises(ValueError, match="cap"):
        choose_parallelism(60, 0.1, 0)
