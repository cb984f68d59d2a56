"""Issue 17 end to end: declared run state (start and stop) and schedules, behind an
explicit approval. The real CLI drives the real emulator over loopback HTTP; what the
tenant did is read from the emulator's own store and request log."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta
from typing import Any, Callable

from tests.conftest import EmulatorProcess, Workspace

SPEC = """\
name: {name}
description: {description}
contactLists: [Customers, VIPs]
dncLists: {{name: Marketing DNC}}
priority: 3
format: simple
message: {{text: "Hello from {name}. Reply STOP to opt out."}}
dialingStrategy:
  callerId: {{phoneNumber: "+14155550123"}}
  callingHours:
    frequency: WEEKLY
    timezone: Asia/Kolkata
    days:
      - {{day: MO, start: "9:00 AM", end: "6:00 PM"}}
      - {{day: TU, start: "9:00 AM", end: "6:00 PM"}}
      - {{day: WE, start: "9:00 AM", end: "6:00 PM"}}
      - {{day: TH, start: "9:00 AM", end: "6:00 PM"}}
      - {{day: FR, start: "9:00 AM", end: "6:00 PM"}}
"""


def write(ws: Workspace, name: str = "Launch", description: str = "A launch.",
          extra: str = "") -> None:
    ws.write_spec("launch.yaml", SPEC.format(name=name, description=description) + extra)


def triggers(emulator: EmulatorProcess, trigger: str) -> int:
    """Requests of the start or stop endpoint with `trigger` (play or stop)."""
    return sum(1 for r in emulator.requests_log()
               if r.get("op") == "trigger" and (r.get("query") or {}).get("trigger") == [trigger])


def stored(emulator: EmulatorProcess, name: str = "Launch") -> dict[str, Any]:
    [found] = [c for c in emulator.campaigns() if c["name"] == name]
    return found


def test_a_start_needs_the_approval_and_is_sent_once(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    write(workspace, extra="run: active\n")
    plan = workspace.run("plan", "--format", "markdown")
    assert plan.returncode == 0, plan.stderr
    text = plan.stdout.replace("\\", "")
    assert text.index("start SMS campaign") < text.index("create SMS campaign")  # starts first
    assert ("starts sending SMS to lists Customers, VIPs; window MO-FR 9:00 AM-6:00 PM "
            "Asia/Kolkata") in text
    refused = workspace.run("apply", "--auto-approve")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "not started: a start sends to every contact" in refused.stdout
    assert stored(emulator)["status"] == "Ready" and triggers(emulator, "play") == 0
    started = workspace.run("apply", "--auto-approve", "--allow-start")
    assert started.returncode == 0, started.stdout + started.stderr
    assert stored(emulator)["status"] == "Active" and triggers(emulator, "play") == 1
    entry = workspace.state()["campaigns"]["launch"]
    assert entry["run"] == "active" and entry["runSetAt"] and entry["status"] == "Active"
    again = workspace.run("apply", "--auto-approve", "--allow-start")
    assert again.returncode == 0 and triggers(emulator, "play") == 1
    assert workspace.run("plan", "--detailed-exitcode").returncode == 0


def test_allow_start_in_the_environment_config(workspace: Workspace,
                                               emulator: EmulatorProcess) -> None:
    (workspace.root / "provisioner.yaml").write_text(
        "environments:\n  default:\n    allowStart: true\n")
    write(workspace, extra="run: active\n")
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert triggers(emulator, "play") == 1


def test_a_stop_stops_and_an_update_of_an_active_campaign_follows_it(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    write(workspace, extra="run: active\n")
    assert workspace.run("apply", "--auto-approve", "--allow-start").returncode == 0
    write(workspace, description="Edited while running.")
    blocked = workspace.run("plan")
    assert "update blocked" in blocked.stdout
    write(workspace, description="Edited while running.", extra="run: stopped\n")
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    ops = [r["op"] for r in emulator.requests_log() if r.get("op") in ("trigger", "update")]
    assert ops[-2:] == ["trigger", "update"]   # stopped first, then updated
    campaign = stored(emulator)
    assert campaign["status"] == "Stopped" and campaign["description"] == "Edited while running."
    assert workspace.state()["campaigns"]["launch"]["run"] == "stopped"


def wait_for(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _start_intent(ws: Workspace) -> bool:
    try:
        return ws.state()["pending"].get("launch", {}).get("op") == "start"
    except Exception:
        return False


def test_kill_9_between_a_start_and_its_answer_never_starts_twice(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    write(workspace, extra="run: active\n")
    assert workspace.run("apply", "--auto-approve").returncode == 1   # created, not started
    emulator.set_faults(latency_ms=1500, ops=["trigger"])
    proc = workspace.popen("apply", "--auto-approve", "--allow-start")
    wait_for(lambda: _start_intent(workspace))
    time.sleep(0.3)   # the start request is on its way
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    emulator.set_faults(latency_ms=0)
    wait_for(lambda: stored(emulator)["status"] == "Active", timeout=10)
    rerun = workspace.run("apply", "--auto-approve", "--allow-start")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "earlier start had arrived" in rerun.stderr
    assert triggers(emulator, "play") == 1
    assert workspace.state()["campaigns"]["launch"]["run"] == "active"


def test_a_start_whose_answer_is_lost_is_settled_by_its_status(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    write(workspace, extra="run: active\n")
    emulator.set_faults(drop_next=1, ops=["trigger"])
    result = workspace.run("apply", "--auto-approve", "--allow-start")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "confirmed by its status" in result.stderr
    assert triggers(emulator, "play") == 1 and stored(emulator)["status"] == "Active"


def test_a_completed_campaign_is_not_restarted_without_a_new_rerun_token(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    emulator.set_faults(active_seconds=1)
    write(workspace, extra="run: active\n")
    assert workspace.run("apply", "--auto-approve", "--allow-start").returncode == 0
    time.sleep(1.5)
    plan = workspace.run("plan", "--refresh")
    assert "Not started" in plan.stdout and "never re-run by accident" in plan.stdout
    again = workspace.run("apply", "--auto-approve", "--allow-start")
    assert again.returncode == 0 and triggers(emulator, "play") == 1
    assert "started or stopped outside the tool" not in plan.stdout   # it ended on its own
    # A new token lifts the tool's guard: one start is sent. No documented API re-runs a
    # Completed campaign, and the tenant (the emulator, strictly) refuses it: the refusal
    # is reported in one line, nothing is recorded as started.
    write(workspace, extra="run: active\nrerun: spring-2\n")
    plan = workspace.run("plan", "--refresh")
    assert "rerun: spring-2" in plan.stdout
    rerun = workspace.run("apply", "--auto-approve", "--allow-start")
    assert rerun.returncode == 1 and "Traceback" not in rerun.stderr
    assert "Completed: it cannot start" in rerun.stdout
    assert triggers(emulator, "play") == 2
    assert workspace.state()["pending"] == {}


def test_a_console_start_shows_as_drift(workspace: Workspace,
                                        emulator: EmulatorProcess) -> None:
    write(workspace, extra="run: stopped\n")
    assert workspace.run("apply", "--auto-approve").returncode == 0
    emulator.admin("POST", f"campaigns/{stored(emulator)['_id']}/status",
                   json={"status": "Active"})
    drift = workspace.run("drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "To stop" in drift.stdout and "started or stopped outside the tool" in drift.stdout


def _schedule(start: datetime, end: datetime, recur: str) -> str:
    fmt = "%Y-%m-%d %H:%M:%S"
    return ("schedule:\n  isSchedulingEnabled: true\n"
            f"  startDateTime: \"{start.strftime(fmt)}\"\n"
            f"  endDateTime: \"{end.strftime(fmt)}\"\n" + recur)


DAILY = "  recurrenceObject: {recurType: Daily, dailyDetails: {onceEveryNdays: 1}}\n"
WEEKLY = ("  recurrenceObject: {recurType: Weekly, weeklyDetails: {onceEveryNweeks: 1, "
          "whichDays: [Mon, Wed]}}\n")


def test_a_schedule_is_enabled_changed_and_disabled(workspace: Workspace,
                                                    emulator: EmulatorProcess) -> None:
    start = datetime.now() + timedelta(days=2)
    write(workspace, extra=_schedule(start, start + timedelta(days=7), DAILY))
    assert workspace.run("apply", "--auto-approve").returncode == 0
    campaign = stored(emulator)
    assert campaign["status"] == "Scheduled"
    assert campaign["schedule"]["recurrenceObject"]["recurType"] == "Daily"
    write(workspace, extra=_schedule(start, start + timedelta(days=14), WEEKLY))
    plan = workspace.run("plan")
    assert "schedule" in plan.stdout and "Weekly" in plan.stdout
    assert workspace.run("apply", "--auto-approve").returncode == 0
    assert stored(emulator)["schedule"]["recurrenceObject"]["recurType"] == "Weekly"
    write(workspace, extra="schedule: {isSchedulingEnabled: false}\n")
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    campaign = stored(emulator)
    assert campaign["status"] == "Ready" and not campaign["schedule"]["isSchedulingEnabled"]
    schedules = [r["query"].get("enableSchedule") for r in emulator.requests_log()
                 if r.get("op") == "schedule"]
    assert schedules == [["true"], ["true"], ["false"]]


def test_a_schedule_ending_in_the_past_is_an_error(workspace: Workspace,
                                                   emulator: EmulatorProcess) -> None:
    start = datetime.now() - timedelta(days=9)
    write(workspace, extra=_schedule(start, start + timedelta(days=1), DAILY))
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "campaigns/launch.yaml" in result.stderr and "past" in result.stderr
    assert emulator.campaigns() == []


def test_the_pull_request_flow_counts_a_start_and_applies_the_saved_plan(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    write(workspace)
    assert workspace.run("apply", "--auto-approve").returncode == 0
    write(workspace, extra="run: active\n")   # the PR: only the run state changes
    plan = workspace.run("plan", "--detailed-exitcode", "--out", "plan.json")
    assert plan.returncode == 2, plan.stdout + plan.stderr   # a start is a change
    assert plan.stdout.startswith("To START")
    merged = workspace.run("apply", "plan.json", "--allow-start")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert triggers(emulator, "play") == 1 and stored(emulator)["status"] == "Active"
    assert workspace.run("plan", "--detailed-exitcode").returncode == 0


def test_a_scheduled_campaign_is_never_started_by_apply(workspace: Workspace,
                                                         emulator: EmulatorProcess) -> None:
    start = datetime.now() + timedelta(days=2)
    write(workspace, extra="run: active\n" + _schedule(start, start + timedelta(days=7), DAILY))
    plan = workspace.run("plan", "--format", "markdown")
    assert "not started" in plan.stdout and "the tenant starts it" in plan.stdout
    result = workspace.run("apply", "--auto-approve", "--allow-start")
    assert result.returncode == 0, result.stdout + result.stderr
    assert triggers(emulator, "play") == 0 and stored(emulator)["status"] == "Scheduled"
