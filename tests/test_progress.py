"""Apply's progress output: a bar with an ETA on a terminal, periodic lines otherwise."""

from __future__ import annotations

import io

from provisioner.apply.progress import LINE_EVERY, Progress


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
    assert "1/500 campaigns, ETA 8m28s" in text and "[" in text


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
    assert out.getvalue().count("progress: 5/10 campaigns") == 1
    assert "\r" not in out.getvalue()


def test_waits_are_said_with_their_reason() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress.event("wait", "waiting 40s: the API's rate limit (429)")
    assert out.getvalue() == "wait: waiting 40s: the API's rate limit (429)\n"
