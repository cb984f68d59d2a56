"""Several processes applying against one PostgreSQL state never lose or duplicate a
campaign (issue 7), through the real CLI against the emulator."""

from __future__ import annotations

import os
import signal

import pytest

from tests.conftest import Workspace
from tests.test_exactly_once import assert_exactly_once, wait_for, write_campaigns
from tests.test_state_postgres import url  # noqa: F401  (the fixture: a fresh schema)

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_workspace(workspace: Workspace, url: str) -> Workspace:  # noqa: F811
    workspace.env["PROVISIONER_STATE"] = url
    return workspace


def test_two_applies_from_separate_processes_create_each_once(pg_workspace: Workspace,
                                                               emulator) -> None:
    names = write_campaigns(pg_workspace, 6)
    emulator.set_faults(latency_ms=100)
    procs = [pg_workspace.popen("apply", "--auto-approve", "--lock-timeout", "120")
             for _ in range(2)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    assert [code for _o, _e, code in results] == [0, 0], results
    creates = [r for r in emulator.requests_log() if r["op"] == "create"]
    assert len(creates) == len(names)
    _exactly_once_pg(pg_workspace, emulator, names)


def test_loser_fails_naming_the_holder(pg_workspace: Workspace, emulator) -> None:
    names = write_campaigns(pg_workspace, 4)
    emulator.set_faults(latency_ms=300)
    first = pg_workspace.popen("apply", "--auto-approve", "--parallelism", "1")
    wait_for(lambda: any(r["op"] == "create" for r in emulator.requests_log()))
    second = pg_workspace.run("apply", "--auto-approve")
    assert second.returncode == 1
    assert f"pid {first.pid}" in second.stderr and "apply" in second.stderr
    assert first.wait(timeout=300) == 0
    _exactly_once_pg(pg_workspace, emulator, names)


def test_kill_9_of_the_holder_frees_the_lock(pg_workspace: Workspace, emulator) -> None:
    names = write_campaigns(pg_workspace, 6)
    emulator.set_faults(latency_ms=400)
    proc = pg_workspace.popen("apply", "--auto-approve", "--parallelism", "1")
    wait_for(lambda: sum(r["op"] == "create" for r in emulator.requests_log()) >= 2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    rerun = pg_workspace.run("apply", "--auto-approve", "--lock-timeout", "30",
                             "--create-lag", "3")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    _exactly_once_pg(pg_workspace, emulator, names)


def _exactly_once_pg(ws: Workspace, emulator, names: list[str]) -> None:
    """assert_exactly_once reads the state through `state migrate` to a local file."""
    local = ws.root / "state" / "test.json"
    local.parent.mkdir(exist_ok=True)
    if local.exists():
        local.unlink()
    moved = ws.run("state", "migrate", "--to", str(local))
    assert moved.returncode == 0, moved.stderr
    assert_exactly_once(ws, emulator, names)
