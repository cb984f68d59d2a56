"""Fields the console owns (issue 15): `ignoreChanges` paths never count as drift, and an
update sends the tenant's current value for them, read just before the PUT."""

from __future__ import annotations

import json

from tests.conftest import EmulatorProcess, Workspace
from tests.test_exactly_once import TEMPLATE

OWNED = "ignoreChanges: [$.contactLists]\n"


def spec(priority: int, lists: str = "[Customers]", owned: str = OWNED) -> str:
    return TEMPLATE.format(name="Console Lists", priority=priority).replace(
        "contactLists: [Customers]", f"contactLists: {lists}") + owned


def test_console_owned_lists_are_neither_drift_nor_overwritten(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    workspace.write_spec("a.yaml", spec(2))
    assert workspace.run("apply", "--auto-approve").returncode == 0
    [campaign] = emulator.campaigns()
    cid = campaign.get("_id") or campaign.get("id")
    emulator.admin("PATCH", f"campaigns/{cid}", json={"contactLists": ["Picked In Console"]})
    drift = workspace.run("drift")
    assert drift.returncode == 0, drift.stdout + drift.stderr   # not drift
    refreshed = workspace.run("plan", "--refresh", "--detailed-exitcode")
    assert refreshed.returncode == 0, refreshed.stdout
    # the spec changes both its lists (owned: ignored) and its priority (sent)
    workspace.write_spec("a.yaml", spec(4, lists="[Spec Lists]"))
    text = workspace.run("plan", "--refresh")
    assert "# ignored (the console owns them; the tenant's values are sent): $.contactLists" \
        in text.stdout, text.stdout
    data = json.loads(workspace.run("plan", "--format", "json").stdout)
    [change] = [c for c in data["changes"] if c["action"] == "update"]
    assert change["ignored"] == ["$.contactLists"]
    emulator.add_contact_list("Changed Again")   # the tenant refuses a list it lacks
    emulator.admin("PATCH", f"campaigns/{cid}", json={"contactLists": ["Changed Again"]})
    emulator.admin("DELETE", "requests")
    assert workspace.run("apply", "--auto-approve").returncode == 0
    [put] = [e for e in emulator.requests_log() if e["op"] == "update"]
    assert put["body"]["contactLists"] == ["Changed Again"] and put["body"]["priority"] == "4"
    ops = [e["op"] for e in emulator.requests_log() if e["op"] in ("get", "update")]
    assert ops[-2:] == ["get", "update"]   # read just before the PUT
    [now] = emulator.campaigns()
    assert now["contactLists"] == ["Changed Again"] and now["priority"] == "4"
    assert workspace.run("plan", "--refresh", "--detailed-exitcode").returncode == 0


def test_without_ignore_changes_the_console_edit_is_drift(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    workspace.write_spec("a.yaml", spec(2, owned=""))
    assert workspace.run("apply", "--auto-approve").returncode == 0
    [campaign] = emulator.campaigns()
    emulator.admin("PATCH", f"campaigns/{campaign.get('_id') or campaign.get('id')}",
                   json={"contactLists": ["Picked In Console"]})
    assert workspace.run("drift").returncode == 2


def test_an_ignore_path_must_look_like_one(workspace: Workspace) -> None:
    workspace.write_spec("a.yaml", spec(2, owned="ignoreChanges: [contactLists]\n"))
    result = workspace.run("validate")
    assert result.returncode == 1
    assert "$.ignoreChanges[0]: 'contactLists' is not a path like $.contactLists" \
        in result.stdout, result.stdout
