"""Drift and the lifecycle: the tenant changed behind the tool's back, and removal."""

from __future__ import annotations

import json
import math

from tests.conftest import EmulatorProcess, Workspace
from tests.test_exactly_once import write_campaigns


def ids_by_name(emulator: EmulatorProcess) -> dict[str, str]:
    return {c["name"]: c["_id"] for c in emulator.campaigns()}


def api_log(emulator: EmulatorProcess) -> list[dict]:
    return emulator.requests_log()


def plan_json(ws: Workspace, *args: str) -> dict:
    result = ws.run("plan", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def by_name(plan: dict) -> dict[str, dict]:
    return {c["name"]: c for c in plan["changes"]}


def applied(ws: Workspace, count: int) -> list[str]:
    names = write_campaigns(ws, count)
    result = ws.run("apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    return names


def test_refresh_finds_edits_deletions_and_started_campaigns(workspace: Workspace,
                                                             emulator) -> None:
    names = applied(workspace, 4)
    ids = ids_by_name(emulator)
    emulator.admin("PATCH", f"campaigns/{ids[names[0]]}", json={"priority": "5"})
    emulator.admin("DELETE", f"campaigns/{ids[names[1]]}")
    emulator.admin("POST", f"campaigns/{ids[names[2]]}/status", json={"status": "Active"})
    spec = workspace.root / "campaigns" / "batch000.yaml"
    spec.write_text(spec.read_text().replace("Hello from Fault Test 002", "Hi from Fault Test 002"))

    offline = by_name(plan_json(workspace))
    assert offline[names[0]]["action"] == "noop"  # offline, the edit cannot be seen

    plan = by_name(plan_json(workspace, "--refresh"))
    edited, deleted, started = plan[names[0]], plan[names[1]], plan[names[2]]
    assert edited["action"] == "update" and edited["drift"]
    assert edited["drift_changes"] == [{"path": "$.priority", "before": "1", "after": "5"}]
    assert deleted["action"] == "create" and deleted["recreate"]
    assert started["action"] == "blocked" and "Active" in started["reason"]
    assert plan[names[3]]["action"] == "noop"

    text = workspace.run("plan", "--refresh").stdout
    assert "Changed outside the tool" in text and "Deleted outside the tool" in text
    assert "Blocked" in text

    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 1  # the blocked one fails the run at the end
    assert f"{names[2]}: skipped update" in result.stdout
    stored = {c["name"]: c for c in emulator.campaigns()}
    assert stored[names[0]]["priority"] == "1"  # set back to the spec
    assert names[1] in stored  # created again
    after = by_name(plan_json(workspace, "--refresh"))
    assert after[names[0]]["action"] == "noop" and after[names[1]]["action"] == "noop"
    assert after[names[2]]["action"] == "blocked"


def test_drift_shows_the_console_edit_field_by_field(workspace: Workspace, emulator) -> None:
    names = applied(workspace, 1)
    campaign_id = ids_by_name(emulator)[names[0]]
    emulator.admin("PATCH", f"campaigns/{campaign_id}", json={"description": "console edit"})
    (change,) = plan_json(workspace, "--refresh")["changes"]
    assert change["drift_changes"] == [{"path": "$.description",
                                        "before": "Fault-injection test campaign.",
                                        "after": "console edit"}]
    assert change["changes"] == [{"path": "$.description", "before": "console edit",
                                  "after": "Fault-injection test campaign."}]


def test_refresh_request_cost_is_bounded(workspace: Workspace, emulator) -> None:
    names = applied(workspace, 12)
    ids = ids_by_name(emulator)
    for name in names[:2]:
        emulator.admin("PATCH", f"campaigns/{ids[name]}", json={"description": "edited"})
    emulator.admin("DELETE", "requests")
    plan_json(workspace, "--refresh")
    calls = api_log(emulator)
    page_size = 100
    # list pages of each type (sms, voice), one contact-list listing, the two gets
    bound = 2 * math.ceil(len(names) / page_size) + 1 + 2
    assert len(calls) <= bound, [(c["method"], c["path"]) for c in calls]
    assert sum(1 for c in calls if c["method"] == "GET" and "contactList" not in c["path"]) == 2


def test_apply_after_refresh_only_has_nothing_to_do(workspace: Workspace, emulator) -> None:
    names = applied(workspace, 3)
    serial = workspace.state()["serial"]
    result = workspace.run("plan", "--refresh-only")
    assert result.returncode == 0 and "matches" in result.stdout
    assert workspace.state()["serial"] == serial  # nothing seen, nothing written
    emulator.admin("DELETE", "requests")
    again = workspace.run("apply", "--auto-approve")
    assert again.returncode == 0
    # the list call of each type and the contact-list listing: reads only
    assert {c["op"] for c in api_log(emulator)} == {"list", "list_list"}
    assert len(api_log(emulator)) == 3

    campaign_id = ids_by_name(emulator)[names[0]]
    emulator.admin("POST", f"campaigns/{campaign_id}/status", json={"status": "Active"})
    recorded = workspace.run("plan", "--refresh-only")
    assert "status Active" in recorded.stdout
    assert workspace.state()["campaigns"][names[0].lower()]["status"] == "Active"
    spec = workspace.root / "campaigns" / "batch000.yaml"
    spec.write_text(spec.read_text().replace("priority: 1", "priority: 4", 1))
    offline = by_name(plan_json(workspace))  # state now knows it is Active
    assert offline[names[0]]["action"] == "blocked"


def test_remote_campaign_with_a_spec_name_is_adopted(workspace: Workspace, emulator) -> None:
    names = applied(workspace, 2)
    assert workspace.run("state", "rm", names[0]).returncode == 0
    plan = by_name(plan_json(workspace, "--refresh"))
    assert plan[names[0]]["action"] == "adopt"
    emulator.admin("DELETE", "requests")
    assert workspace.run("apply", "--auto-approve").returncode == 0
    creates = [c for c in api_log(emulator) if c["op"] == "create"]
    assert creates == []
    assert len(emulator.campaigns()) == 2
    assert workspace.run("plan", "--detailed-exitcode").returncode == 0


def test_drift_command_exit_codes_and_markdown(workspace: Workspace, emulator) -> None:
    names = applied(workspace, 2)
    clean = workspace.run("drift")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    emulator.admin("PATCH", f"campaigns/{ids_by_name(emulator)[names[1]]}",
                   json={"priority": "5"})
    drifted = workspace.run("drift", "--format", "markdown")
    assert drifted.returncode == 2
    assert names[1] in drifted.stdout and "<details>" in drifted.stdout


def test_ensure_absent_deletes_and_protect_refuses(workspace: Workspace, emulator) -> None:
    names = applied(workspace, 3)
    spec = workspace.root / "campaigns" / "batch000.yaml"
    text = spec.read_text()
    spec.write_text(text.replace(f"name: {names[0]}\n", f"name: {names[0]}\nensure: absent\n"))
    plan = by_name(plan_json(workspace))
    assert plan[names[0]]["action"] == "delete"
    assert workspace.run("apply", "--auto-approve").returncode == 0
    assert names[0] not in ids_by_name(emulator)
    assert names[0].lower() not in workspace.state()["campaigns"]

    spec.write_text(text.replace(f"name: {names[1]}\n",
                                 f"name: {names[1]}\nensure: absent\nprotect: true\n"))
    refused = workspace.run("plan")
    assert refused.returncode == 1 and "protect" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_prune_deletes_orphans_but_never_active_ones(workspace: Workspace, emulator) -> None:
    names = applied(workspace, 3)  # batch000.yaml holds all three
    (workspace.root / "provisioner.yaml").write_text(
        "environments:\n  test:\n    state: state/test.json\n    prune: true\n")
    emulator.admin("POST", f"campaigns/{ids_by_name(emulator)[names[2]]}/status",
                   json={"status": "Active"})
    (workspace.root / "campaigns" / "batch000.yaml").unlink()
    workspace.write_spec("keep.yaml", "")  # an empty folder would be an error
    (workspace.root / "campaigns" / "keep.yaml").unlink()
    result = workspace.run("apply", "--auto-approve", "--allow-empty-prune")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Active" in result.stdout
    remaining = ids_by_name(emulator)
    assert list(remaining) == [names[2]]


def test_state_rm_forgets_without_touching_the_tenant(workspace: Workspace, emulator) -> None:
    names = applied(workspace, 1)
    emulator.admin("DELETE", "requests")
    result = workspace.run("state", "rm", names[0])
    assert result.returncode == 0
    assert workspace.state()["campaigns"] == {}
    assert api_log(emulator) == []
    assert len(emulator.campaigns()) == 1


def test_applied_then_refreshed_at_once_shows_no_drift(workspace: Workspace, emulator) -> None:
    from tests.test_e2e import SIMPLE, sample_yaml
    workspace.write_spec("sample.yaml", sample_yaml())  # advanced: the flow name is not echoed
    # no schedule: the tenant fills in its default (not scheduled)
    workspace.write_spec("simple.yaml", SIMPLE.replace("schedule: {isSchedulingEnabled: false}\n",
                                                       ""))
    assert workspace.run("apply", "--auto-approve").returncode == 0
    for campaign in emulator.campaigns():  # make every list entry look changed: full gets
        emulator.admin("PATCH", f"campaigns/{campaign['_id']}", json={})
    result = workspace.run("plan", "--refresh", "--detailed-exitcode")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sum(1 for r in emulator.requests_log()   # the contact-list listings aside
               if r["method"] == "GET" and "contactList" not in r["path"]) == 2


def test_a_rename_in_the_console_is_drift_never_a_deletion(workspace: Workspace,
                                                           emulator) -> None:
    names = applied(workspace, 2)
    ids = ids_by_name(emulator)
    emulator.admin("PATCH", f"campaigns/{ids[names[0]]}", json={"name": "Renamed In Console"})
    emulator.admin("PATCH", f"campaigns/{ids[names[1]]}", json={"name": "Also Renamed"})
    emulator.admin("POST", f"campaigns/{ids[names[1]]}/status", json={"status": "Active"})
    plan = by_name(plan_json(workspace, "--refresh"))
    renamed, started = plan[names[0]], plan[names[1]]
    assert renamed["action"] == "update" and renamed["drift"] and not renamed["recreate"]
    assert {"path": "$.name", "before": names[0], "after": "Renamed In Console"} in \
        renamed["drift_changes"]
    assert started["action"] == "blocked" and not started["recreate"]

    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 1  # the Active one is blocked
    stored = {c["_id"]: c["name"] for c in emulator.campaigns()}
    assert stored == {ids[names[0]]: names[0], ids[names[1]]: "Also Renamed"}  # no copies
    assert {k: v["id"] for k, v in workspace.state()["campaigns"].items()} == {
        names[0].lower(): ids[names[0]], names[1].lower(): ids[names[1]]}


def test_a_deleted_orphan_is_drift(workspace: Workspace, emulator) -> None:
    names = applied(workspace, 2)
    spec = workspace.root / "campaigns" / "batch000.yaml"
    spec.write_text(spec.read_text().split("---\n")[0])   # keep only the first campaign
    emulator.admin("DELETE", f"campaigns/{ids_by_name(emulator)[names[1]]}")
    assert workspace.run("drift").returncode == 2
    (orphan,) = [c for c in plan_json(workspace, "--refresh")["changes"]
                 if c["action"] == "orphan"]
    assert orphan["drift"] and "deleted outside the tool" in orphan["reason"]


def test_protect_survives_the_removal_of_its_spec(workspace: Workspace, emulator) -> None:
    names = write_campaigns(workspace, 2)
    spec = workspace.root / "campaigns" / "batch000.yaml"
    spec.write_text(spec.read_text().replace(f"name: {names[0]}\n",
                                             f"name: {names[0]}\nprotect: true\n"))
    assert workspace.run("apply", "--auto-approve").returncode == 0
    assert workspace.state()["campaigns"][names[0].lower()]["protect"] is True
    (workspace.root / "provisioner.yaml").write_text(
        "environments:\n  test:\n    state: state/test.json\n    prune: true\n")
    spec.unlink()
    workspace.write_spec("other.yaml", TEMPLATE_OTHER)
    plan = by_name(plan_json(workspace))
    assert plan[names[0]]["action"] == "orphan" and "protected" in plan[names[0]]["reason"]
    assert plan[names[1]]["action"] == "delete"
    assert workspace.run("apply", "--auto-approve").returncode == 0
    assert names[0] in ids_by_name(emulator) and names[1] not in ids_by_name(emulator)


TEMPLATE_OTHER = """\
name: Unrelated Campaign
description: Keeps the campaigns folder non-empty.
contactLists: [Customers]
dncLists: {name: Marketing DNC}
priority: 2
format: simple
message: {text: "Hello. Reply STOP to opt out."}
dialingStrategy:
  callerId: {phoneNumber: "+14155550123"}
  callingHours:
    frequency: DAILY
    timezone: America/Chicago
    days: [{day: MO, start: "9:00 AM", end: "5:00 PM"}]
"""
