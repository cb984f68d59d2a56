"""Apply's progress output: a bar with an ETA on a terminal, periodic lines otherwise."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from provisioner.apply.progress import LINE_EVERY, MIN_DONE, MIN_SECONDS, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_a_bar_with_done_total_and_eta() -> None:
    out = Terminal()
    progress = Progress(out)
    progress.start(500, eta=lambda remaining: remaining * 1.02)
    progress.event("done", "ok create A")
    text = out.getvalue()
    assert "ok create A\n" in text
    assert "1/500 actions, ETA 8m28s" in text and "[" in text


def test_ci_gets_a_line_every_few_seconds_not_per_event() -> None:
    now = [0.0]
    out = io.StringIO()
    progress = Progress(out, clock=lambda: now[0])
    progress.start(10)
    for i in range(4):
        now[0] += 1.0
        progress.event("done", f"ok create {i}")
    assert "progress:" not in out.getvalue()
    now[0] += LINE_EVERY
    progress.event("done", "ok create 4")
    assert out.getvalue().count("progress: 5/10 actions") == 1
    assert "\r" not in out.getvalue()


def test_waits_are_said_with_their_reason() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress.event("wait", "waiting 40s: the API's rate limit (429)")
    assert out.getvalue() == "wait: waiting 40s: the API's rate limit (429)\n"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run(total: int, done: int, seconds_each: float,
        eta: Callable[[int], float] | None = None) -> str:
    """Finish `done` of `total` campaigns, one every `seconds_each`; the last bar's text."""
    clock, out = Clock(), Terminal()
    progress = Progress(out, clock=clock)
    progress.start(total, eta=eta)
    for n in range(done):
        clock.now += seconds_each
        progress.event("done", f"ok create {n}")
    return out.getvalue().rsplit("\n", 1)[-1]


def test_unlimited_budget_eta_comes_from_the_observed_rate() -> None:
    """The issue's case: no budget said `ETA 0m00s` at 471 of 10,000."""
    bar = run(10_000, 471, 0.01, eta=lambda remaining: 0.0)
    assert bar.endswith("471/10000 actions, ETA 1m35s")   # 9529 left at 100/s = 95.29 s


def test_before_enough_are_done_an_unlimited_budget_shows_no_eta() -> None:
    assert run(100, MIN_DONE - 1, 1.0, eta=lambda remaining: 0.0).endswith(
        f"{MIN_DONE - 1}/100 actions")


def test_before_a_second_has_passed_the_budget_estimate_is_used() -> None:
    """5 done in half a second: the observed rate would say 9.5 s; too early to trust."""
    bar = run(100, MIN_DONE, MIN_SECONDS / 2 / MIN_DONE, eta=lambda remaining: remaining * 0.02)
    assert bar.endswith(f"{MIN_DONE}/100 actions, ETA 0m01s")


def test_the_budget_is_a_floor_under_the_observed_rate() -> None:
    """A fast start (say, updates that were no-ops) must not promise more than the budget
    lets through: 90 left at 60/min take at least 91.8 s."""
    bar = run(100, 10, 0.2, eta=lambda remaining: remaining * 1.02)
    assert bar.endswith("10/100 actions, ETA 1m31s")


@pytest.mark.parametrize("done, expected", [(5, "ETA 0m20s"), (20, "ETA 0m05s")])
def test_observed_rate_eta_without_a_budget(done: int, expected: str) -> None:
    assert run(25, done, 1.0).endswith(f"{done}/25 actions, {expected}")
