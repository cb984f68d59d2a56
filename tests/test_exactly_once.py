"""Fault injection: apply never duplicates or loses a campaign.

Each test drives the real CLI as subprocesses against the emulator with faults on, then
checks on the emulator's own store that every spec exists exactly once, that state and
emulator agree, and that a final `plan --detailed-exitcode` exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter

import pytest

from provisioner.errors import StateError

from tests.conftest import EmulatorProcess, Workspace

TEMPLATE = """\
name: {name}
description: Fault-injection test campaign.
contactLists: [Customers]
dncLists: {{name: Marketing DNC}}
priority: {priority}
format: simple
message: {{text: "Hello from {name}. Reply STOP to opt out."}}
dialingStrategy:
  callerId: {{phoneNumber: "+14155550123"}}
  callingHours:
    frequency: DAILY
    timezone: America/Chicago
    days: [{{day: MO, start: "9:00 AM", end: "5:00 PM"}}]
"""


def write_campaigns(ws: Workspace, count: int, per_file: int = 3) -> list[str]:
    names = [f"Fault Test {i:03d}" for i in range(count)]
    for start in range(0, count, per_file):
        docs = [TEMPLATE.format(name=n, priority=1 + i % 5)
                for i, n in enumerate(names[start:start + per_file])]
        ws.write_spec(f"batch{start:03d}.yaml", "---\n".join(docs))
    return names


def assert_exactly_once(ws: Workspace, emulator: EmulatorProcess, names: list[str]) -> None:
    emulator.set_faults(fail_rate=0, drop_after_commit_rate=0, latency_ms=0, fail_next=0,
                        drop_next=0, list_lag_seconds=0, rate_limit_per_minute=0)
    stored = emulator.campaigns()
    counts = Counter(c["name"].lower() for c in stored)
    assert {n.lower(): counts[n.lower()] for n in names} == {n.lower(): 1 for n in names}
    assert len(stored) == len(names)
    state = ws.state()
    assert state.get("pending", {}) == {}
    assert {k: v["id"] for k, v in state["campaigns"].items()} == \
        {c["name"].lower(): c["_id"] for c in stored}
    final = ws.run("plan", "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr


def apply_until_done(ws: Workspace, *extra: str, runs: int = 4) -> list[int]:
    codes = []
    for _ in range(runs):
        result = ws.run("apply", "--auto-approve", *extra, timeout=300)
        assert "Traceback" not in result.stderr
        codes.append(result.returncode)
        if result.returncode == 0:
            break
    return codes


def faulted(emulator: EmulatorProcess, status: int | None = None, dropped: bool = False) -> int:
    return sum(1 for r in emulator.requests_log()
               if (dropped and r.get("dropped")) or (status and r.get("status") == status))


def test_5xx_before_commit_never_duplicates(workspace: Workspace, emulator) -> None:
    names = write_campaigns(workspace, 8)
    emulator.set_faults(fail_rate=0.3, seed=11)
    # a 5xx before commit is never found, so each is looked for the whole window: keep it short
    codes = apply_until_done(workspace, "--create-lag", "2")
    assert codes[-1] == 0, codes
    assert faulted(emulator, status=500) > 0  # the faults really happened
    assert_exactly_once(workspace, emulator, names)


def test_commit_then_drop_is_looked_up_not_resent(workspace: Workspace, emulator) -> None:
    names = write_campaigns(workspace, 8)
    emulator.set_faults(drop_after_commit_rate=0.5, ops=["create"], seed=3)
    result = workspace.run("apply", "--auto-approve", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert faulted(emulator, dropped=True) > 0
    assert "looking it up by name" in result.stderr
    assert_exactly_once(workspace, emulator, names)


def test_lookup_waits_for_a_lagging_list(workspace: Workspace, emulator) -> None:
    names = write_campaigns(workspace, 2)
    emulator.set_faults(drop_next=1, ops=["create"], list_lag_seconds=1.5)
    result = workspace.run("apply", "--auto-approve", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not in the list yet" in result.stderr
    assert_exactly_once(workspace, emulator, names)


def test_a_list_lagging_longer_than_a_few_looks_still_gives_one_campaign(
        workspace: Workspace, emulator) -> None:
    """The create is committed, the answer lost, and the list shows it only 8 s later:
    the lookup keeps looking (within --create-lag, default 30 s) instead of resending."""
    names = write_campaigns(workspace, 1)
    emulator.set_faults(drop_next=1, ops=["create"], list_lag_seconds=8)
    result = workspace.run("apply", "--auto-approve", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len([r for r in emulator.requests_log() if r["op"] == "create"]) == 1
    assert_exactly_once(workspace, emulator, names)


def test_latency_with_parallel_requests(workspace: Workspace, emulator) -> None:
    names = write_campaigns(workspace, 10)
    emulator.set_faults(latency_ms=150)
    result = workspace.run("apply", "--auto-approve", "--parallelism", "4", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_exactly_once(workspace, emulator, names)


@pytest.mark.slow
def test_server_429_pauses_and_continues(workspace: Workspace, emulator) -> None:
    names = write_campaigns(workspace, 8)
    emulator.set_faults(rate_limit_per_minute=5)  # the client's own budget is off here
    result = workspace.run("apply", "--auto-approve", timeout=400)
    assert result.returncode == 0, result.stdout + result.stderr
    assert faulted(emulator, status=429) > 0
    assert "rate limit" in result.stderr
    assert_exactly_once(workspace, emulator, names)


def wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def recorded(ws: Workspace) -> int:
    try:
        state = ws.state()
    except (FileNotFoundError, StateError):   # not yet written, or mid-write
        return 0
    return len(state.get("campaigns", {})) + len(state.get("pending", {}))


def test_kill_9_mid_apply_then_rerun(workspace: Workspace, emulator) -> None:
    names = write_campaigns(workspace, 8)
    emulator.set_faults(latency_ms=400)
    proc = workspace.popen("apply", "--auto-approve", "--parallelism", "1")
    wait_for(lambda: recorded(workspace) >= 3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < len(workspace.state()["campaigns"]) < len(names)
    rerun = workspace.run("apply", "--auto-approve", "--create-lag", "3", timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "stale lock" in rerun.stderr
    assert_exactly_once(workspace, emulator, names)


def test_sigterm_finishes_in_flight_and_says_what_was_done(workspace: Workspace,
                                                           emulator) -> None:
    names = write_campaigns(workspace, 8)
    emulator.set_faults(latency_ms=400)
    proc = workspace.popen("apply", "--auto-approve", "--parallelism", "1")
    wait_for(lambda: recorded(workspace) >= 2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, out + err
    assert "Interrupted" in out and "not started:" in out
    assert workspace.state().get("pending", {}) == {}  # in-flight creates were resolved
    assert workspace.run("apply", "--auto-approve", "--create-lag", "3",
                         timeout=300).returncode == 0
    assert_exactly_once(workspace, emulator, names)


def test_two_applies_started_together(workspace: Workspace, emulator) -> None:
    names = write_campaigns(workspace, 6)
    emulator.set_faults(latency_ms=100)
    procs = [workspace.popen("apply", "--auto-approve", "--lock-timeout", "120")
             for _ in range(2)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    assert [code for _out, _err, code in results] == [0, 0], results
    assert_exactly_once(workspace, emulator, names)


def test_second_apply_without_wait_fails_naming_the_holder(workspace: Workspace,
                                                           emulator) -> None:
    names = write_campaigns(workspace, 4)
    emulator.set_faults(latency_ms=300)
    first = workspace.popen("apply", "--auto-approve", "--parallelism", "1")
    wait_for(lambda: (workspace.state_file.parent / "test.json.lock").exists())
    second = workspace.run("apply", "--auto-approve")
    assert second.returncode == 1
    assert f"pid {first.pid}" in second.stderr and "apply" in second.stderr
    assert first.wait(timeout=300) == 0
    assert_exactly_once(workspace, emulator, names)


def test_pending_intents_of_an_earlier_run_are_resolved_first(workspace: Workspace,
                                                              emulator) -> None:
    """A crash between sending a create and recording its id leaves an intent: the next run
    looks the campaign up by name and records it instead of creating it again."""
    names = write_campaigns(workspace, 3)
    first = workspace.run("apply", "--auto-approve")
    assert first.returncode == 0
    state = workspace.state()
    arrived = state["campaigns"].pop(names[0].lower())      # created, id never recorded
    lost = state["campaigns"].pop(names[1].lower())         # never reached the tenant
    emulator.admin("DELETE", f"campaigns/{lost['id']}")
    for rec in (arrived, lost):
        state["pending"][rec["lname"]] = {"op": "create", "name": rec["name"],
                                          "digest": rec["digest"], "body": rec["body"],
                                          "since": "2026-01-01T00:00:00Z"}
    workspace.state_file.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    emulator.admin("DELETE", "requests")

    rerun = workspace.run("apply", "--auto-approve", "--create-lag", "2", timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "earlier create had succeeded" in rerun.stderr
    assert "earlier create never arrived" in rerun.stderr
    creates = [r for r in emulator.requests_log() if r["op"] == "create"]
    assert [c["body"]["name"] for c in creates] == [names[1]]
    assert_exactly_once(workspace, emulator, names)
    assert workspace.state()["campaigns"][names[0].lower()]["id"] == arrived["id"]
