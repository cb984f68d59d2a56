"""build_plan: identity by lowercased name, digest decides, deepdiff explains."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioner import body as bodies
from provisioner.errors import SpecError
from provisioner.plan.model import Plan, Remote
from provisioner.plan.build import build_plan
from provisioner.spec.load import Campaign
from provisioner.state import State

TARGET = {"host": "https://h", "streamId": "st-1", "accountId": "acc-1"}


def body(name: str, priority: str = "5", text: str = "Hello") -> dict[str, Any]:
    return {"name": name, "contactLists": ["L"], "priority": priority, "format": "simple",
            "campaignType": "sms", "message": {"message": bodies.encode_message(text)}}


def spec(name: str, **kw: Any) -> Campaign:
    extra = {k: kw.pop(k) for k in ("ensure", "protect") if k in kw}
    return Campaign(name=name, body=body(name, **kw), file="c.yaml", line=1, column=1, **extra)


def state_with(*campaigns: tuple[str, dict[str, Any], str]) -> State:
    state = State.new(TARGET)
    for name, b, status in campaigns:
        state.record_campaign(name, f"cd-{name.lower()}", b, bodies.digest(b),
                              remote={"status": status, "updatedAt": "t1"})
    return state


def actions(plan: Plan) -> dict[str, str]:
    return {c.name: c.action for c in plan.changes}


def test_set_algebra_on_names_case_insensitively() -> None:
    state = state_with(("Kept", body("Kept"), "Ready"), ("Changed", body("Changed"), "Ready"),
                       ("Gone", body("Gone"), "Ready"))
    plan = build_plan([spec("Kept"), spec("CHANGED"), spec("New")], state,
                      env="t", specs={})
    # "CHANGED" is the same campaign as "Changed" (a rename of case is an update, not a
    # create plus an orphan)
    assert actions(plan) == {"Kept": "noop", "CHANGED": "update", "New": "create",
                             "Gone": "orphan"}
    assert plan.summary["create"] == 1 and plan.summary["update"] == 1
    assert plan.has_changes


def test_update_explains_fields_with_the_message_decoded() -> None:
    state = state_with(("A", body("A", text="Old words"), "Ready"))
    plan = build_plan([spec("A", priority="2", text="New words")], state, env="t", specs={})
    (change,) = plan.changes
    assert {c["path"]: (c["before"], c["after"]) for c in change.changes} == {
        "$.priority": ("5", "2"), "$.message.text": ("Old words", "New words")}
    assert change.message == {"text": "New words", "encoding": "GSM-7", "segments": 1}


def test_active_campaign_update_is_blocked_with_a_reason() -> None:
    state = state_with(("A", body("A"), "Active"))
    (change,) = build_plan([spec("A", priority="1")], state, env="t", specs={}).changes
    assert change.action == "blocked" and change.blocked_action == "update"
    assert "Active" in change.reason


def test_refresh_finds_deleted_changed_and_adoptable_campaigns() -> None:
    state = state_with(("Deleted", body("Deleted"), "Ready"), ("Edited", body("Edited"), "Ready"))
    console = {**body("Edited"), "priority": "1", "_id": "cd-edited", "lname": "edited"}
    remote = {"edited": [Remote("cd-edited", "Edited", "Ready", "t2", console)],
              "orphanless": [Remote("cd-x", "Orphanless", "Ready", "t1")]}
    plan = build_plan([spec("Deleted"), spec("Edited"), spec("Orphanless")], state, env="t",
                      specs={}, remote=remote)
    by = {c.name: c for c in plan.changes}
    assert by["Deleted"].action == "create" and by["Deleted"].recreate
    assert by["Edited"].action == "update" and by["Edited"].drift
    assert by["Edited"].drift_changes == [{"path": "$.priority", "before": "5", "after": "1"}]
    assert by["Orphanless"].action == "adopt" and by["Orphanless"].id == "cd-x"


def test_two_remote_campaigns_of_one_name_block_with_both_ids() -> None:
    remote = {"dup": [Remote("cd-1", "Dup"), Remote("cd-2", "dup")]}
    (change,) = build_plan([spec("Dup")], None, env="t", specs={}, remote=remote).changes
    assert change.action == "blocked" and change.candidates == ["cd-1", "cd-2"]
    assert "cd-1" in change.reason and "cd-2" in change.reason


def test_removal_only_when_asked_and_never_when_protected() -> None:
    state = state_with(("Orphan", body("Orphan"), "Ready"), ("Absent", body("Absent"), "Ready"))
    plain = build_plan([spec("Absent", ensure="absent")], state, env="t", specs={})
    assert actions(plain) == {"Absent": "delete", "Orphan": "orphan"}
    pruned = build_plan([], state, env="t", specs={}, prune=True, allow_empty_prune=True)
    assert actions(pruned) == {"Absent": "delete", "Orphan": "delete"}
    with pytest.raises(SpecError, match="protect"):
        build_plan([spec("Absent", ensure="absent", protect=True)], state, env="t", specs={})


def test_active_campaign_is_never_deleted() -> None:
    state = state_with(("A", body("A"), "Active"))
    (change,) = build_plan([spec("A", ensure="absent")], state, env="t", specs={}).changes
    assert change.action == "blocked" and change.blocked_action == "delete"


def test_plan_round_trips_through_json() -> None:
    state = state_with(("A", body("A"), "Ready"))
    plan = build_plan([spec("A", priority="1"), spec("B")], state, env="t",
                      specs={"c.yaml": "sha256:x"})
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.to_dict() == plan.to_dict()
