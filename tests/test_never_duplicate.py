"""Issue 18, "Never a duplicate or a wrong delete": each finding reproduced through the real
CLI against the emulator (and, where the class is wider than one command, on the model,
the planner or the client), grouped by the class it belongs to."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from provisioner.errors import AmbiguousError, ApiError, SpecError, StateError
from provisioner.plan.build import build_plan
from provisioner.state.local import LocalBackend
from provisioner.state.model import State
from tests.conftest import ACCOUNT_ID, STREAM_ID, EmulatorProcess, Workspace
from tests.test_client import Harness, ok
from tests.test_exactly_once import TEMPLATE, write_campaigns


def ids_of(emulator: EmulatorProcess, name: str) -> list[str]:
    return [c["_id"] for c in emulator.campaigns() if c["name"].lower() == name.lower()]


def applied(ws: Workspace, count: int = 1) -> list[str]:
    names = write_campaigns(ws, count)
    result = ws.run("apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    return names


def seed_like(emulator: EmulatorProcess, name: str) -> str:
    """A campaign made in the console under `name` (a valid create body)."""
    body = {"name": name, "description": "Made in the console.", "contactLists": ["Customers"],
            "dncLists": {"name": "Marketing DNC"}, "priority": "3", "format": "simple",
            "campaignType": "sms", "message": {"message": "SGk="},
            "dialingStrategy": {"callerId": {"phoneNumber": "+14155550123"}, "callingHours": {
                "frequency": "DAILY", "timezone": "America/Chicago",
                "days": [{"day": "MO", "start": "9:00 AM", "end": "5:00 PM"}]}}}
    return str(emulator.admin("POST", "campaigns", json=body)["_id"])


def run_with(ws: Workspace, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with some environment variables changed."""
    return subprocess.run([sys.executable, "-m", "provisioner", *args], cwd=ws.root,
                          env={**ws.env, **env}, text=True, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def prune_on(ws: Workspace) -> None:
    (ws.root / "provisioner.yaml").write_text(
        "environments:\n  test:\n    state: state/test.json\n    prune: true\n")


def clean(result: Any) -> None:
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


# -- class: every create first makes sure no campaign of that name exists -----------------

def test_console_delete_and_recreate_is_adopted_never_duplicated(workspace: Workspace,
                                                                 emulator) -> None:
    (name,) = applied(workspace)
    (old,) = ids_of(emulator, name)
    emulator.admin("DELETE", f"campaigns/{old}")
    new = seed_like(emulator, name)
    drift = workspace.run("drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    result = workspace.run("apply", "--auto-approve")
    clean(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ids_of(emulator, name) == [new]
    assert workspace.state()["campaigns"][name.lower()]["id"] == new
    assert workspace.run("drift").returncode == 0


def test_recreate_is_blocked_when_the_name_is_ambiguous(workspace: Workspace, emulator) -> None:
    (name,) = applied(workspace)
    emulator.admin("DELETE", f"campaigns/{ids_of(emulator, name)[0]}")
    made = {seed_like(emulator, name), seed_like(emulator, name)}
    result = workspace.run("apply", "--auto-approve")
    clean(result)
    assert result.returncode == 1 and "resolve by hand" in result.stdout
    assert set(ids_of(emulator, name)) == made


def test_drift_reports_a_same_name_campaign_state_does_not_know(workspace: Workspace,
                                                                emulator) -> None:
    (name,) = applied(workspace)
    stranger = seed_like(emulator, name)
    drift = workspace.run("drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert stranger in drift.stdout and "not in state" in drift.stdout
    data = json.loads(workspace.run("drift", "--format", "json").stdout)
    (entry,) = [c for c in data["changes"] if c["name"] == name]
    assert entry["action"] == "noop" and entry["drift"] and stranger in entry["reason"]
    apply = workspace.run("apply", "--auto-approve")   # nothing is created for it
    assert apply.returncode == 0 and len(ids_of(emulator, name)) == 2


# -- class: one remote id belongs to one state entry ---------------------------------------

def test_import_refuses_an_id_recorded_under_another_name(workspace: Workspace,
                                                          emulator) -> None:
    (name,) = applied(workspace)
    (cid,) = ids_of(emulator, name)
    emulator.admin("PATCH", f"campaigns/{cid}", json={"name": "Renamed In Console"})
    before = workspace.state_file.read_bytes()
    result = workspace.run("import", "Renamed In Console", cid)
    clean(result)
    assert result.returncode == 1 and name in result.stderr and cid in result.stderr
    assert workspace.state_file.read_bytes() == before
    by_name = workspace.run("import", "Renamed In Console")   # found through the list
    assert by_name.returncode == 1 and workspace.state_file.read_bytes() == before


def test_the_state_model_keeps_one_entry_per_id() -> None:
    state = State.new({"host": "https://a", "streamId": "st", "accountId": "acc"})
    state.record_campaign("A", "cd-1", {}, "sha256:a")
    state.record_campaign("A", "cd-1", {"x": 1}, "sha256:b")   # the same entry again: fine
    with pytest.raises(StateError, match="cd-1.*'A'"):
        state.record_campaign("B", "cd-1", {}, "sha256:a")
    assert list(state.campaigns) == ["a"]
    # A state written by an older version with a shared id is readable (so `state rm` can
    # repair it) but never planned from: prune on one entry would delete the other's.
    state.campaigns["b"] = {**state.campaigns["a"], "name": "B", "lname": "b"}
    with pytest.raises(StateError, match="state rm"):
        build_plan([], state, env="t", specs={}, prune=True, allow_empty_prune=True)


# -- class: prune never deletes from an empty desired set unless asked ----------------------

def test_prune_refuses_an_empty_desired_set_without_the_flag(workspace: Workspace,
                                                             emulator) -> None:
    names = applied(workspace, 2)
    prune_on(workspace)
    for path in (workspace.root / "campaigns").iterdir():
        path.unlink()
    for args in (("apply", "--auto-approve"), ("plan",), ("drift",)):
        result = workspace.run(*args)
        clean(result)
        assert result.returncode == 1 and "--allow-empty-prune" in result.stderr, args
    assert len(emulator.campaigns()) == 2
    plan = workspace.run("plan", "--allow-empty-prune")
    assert plan.returncode == 0 and "2 to delete" in plan.stdout
    result = workspace.run("apply", "--auto-approve", "--allow-empty-prune")
    assert result.returncode == 0, result.stdout + result.stderr
    assert emulator.campaigns() == [] and names


def test_one_spec_left_still_prunes_the_rest(workspace: Workspace, emulator) -> None:
    names = applied(workspace, 2)
    prune_on(workspace)
    (workspace.root / "campaigns" / "batch000.yaml").unlink()
    workspace.write_spec("one.yaml", TEMPLATE.format(name=names[0], priority=1))
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [c["name"] for c in emulator.campaigns()] == [names[0]]


# -- class: an answer that lacks what we expect is an ambiguous outcome ----------------------

def test_put_answered_without_data_is_settled_by_reading_back(workspace: Workspace,
                                                              emulator) -> None:
    (name,) = applied(workspace)
    workspace.write_spec("batch000.yaml", TEMPLATE.format(name=name, priority=5))
    emulator.set_faults(no_data_next=1, ops=["update"])
    result = workspace.run("apply", "--auto-approve")
    clean(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reading it back" in result.stdout + result.stderr
    (stored,) = emulator.campaigns()
    assert stored["priority"] == "5"
    assert workspace.run("plan", "--refresh", "--detailed-exitcode").returncode == 0


def test_delete_answered_without_data_is_settled_by_reading_back(workspace: Workspace,
                                                                 emulator) -> None:
    (name,) = applied(workspace)
    workspace.write_spec("batch000.yaml", TEMPLATE.format(name=name, priority=1)
                         + "ensure: absent\n")
    emulator.set_faults(no_data_next=1, ops=["delete"])
    result = workspace.run("apply", "--auto-approve")
    clean(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert emulator.campaigns() == [] and workspace.state()["campaigns"] == {}


@pytest.mark.parametrize("call, reply, error", [
    ("update", ok(None), AmbiguousError),
    ("update", ok(["not", "a", "campaign"]), AmbiguousError),
    ("delete", (200, {"status": "success"}), AmbiguousError),
    ("create", (200, {"status": "success"}), AmbiguousError),
    ("get", (200, {"status": "success"}), ApiError),   # never taken for a 404 ("gone")
    ("list", ok({"results": [None], "hasMore": False}), ApiError),
    ("list", ok({"results": [{"name": "no id"}], "hasMore": False}), ApiError),
])
def test_every_parser_treats_a_success_without_its_data_as_unknown(
        call: str, reply: Any, error: type[Exception]) -> None:
    client = Harness([reply]).client
    send = {"update": lambda: client.update("cd-1", {"name": "A"}),
            "delete": lambda: client.delete("cd-1"),
            "create": lambda: client.create({"name": "A"}),
            "get": lambda: client.get("cd-1"),
            "list": lambda: client.list_campaigns()}[call]
    with pytest.raises(error) as caught:
        send()
    assert type(caught.value) is error


def test_get_still_answers_none_for_a_404() -> None:
    client = Harness([(404, {"errors": [{"msg": "Campaign cd-1 not found"}]})]).client
    assert client.get("cd-1") is None


# -- class: state binds to a target only once it has answered --------------------------------

def test_a_first_apply_refused_by_the_target_leaves_no_state(workspace: Workspace,
                                                             emulator) -> None:
    write_campaigns(workspace, 1)
    typo = run_with(workspace, {"KORE_ACCOUNT_ID": "acc-typo"}, "apply", "--auto-approve")
    clean(typo)
    assert typo.returncode == 1, typo.stdout + typo.stderr
    assert not workspace.state_file.exists()
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert workspace.state()["target"]["accountId"] == ACCOUNT_ID


# -- class: a saved plan applies only to the target it was made for -------------------------

def test_a_saved_plan_is_refused_for_another_target(workspace: Workspace, emulator) -> None:
    write_campaigns(workspace, 1)
    other = run_with(workspace, {"KORE_STREAM_ID": "st-other"}, "plan", "--out", "p.json")
    assert other.returncode == 0, other.stderr
    saved = json.loads((workspace.root / "p.json").read_text())
    assert saved["target"] == {"host": workspace.env["KORE_HOST"], "streamId": "st-other",
                               "accountId": ACCOUNT_ID}
    result = workspace.run("apply", "p.json")
    clean(result)
    assert result.returncode == 1 and "st-other" in result.stderr and STREAM_ID in result.stderr
    assert emulator.campaigns() == []
    assert workspace.run("plan", "--out", "p.json").returncode == 0
    assert workspace.run("apply", "p.json").returncode == 0
    assert len(emulator.campaigns()) == 1


def test_a_saved_plan_without_a_target_is_refused(workspace: Workspace, emulator) -> None:
    write_campaigns(workspace, 1)
    assert workspace.run("plan", "--out", "p.json").returncode == 0
    path = workspace.root / "p.json"
    saved = json.loads(path.read_text())
    del saved["target"]
    path.write_text(json.dumps(saved))
    result = workspace.run("apply", "p.json")
    clean(result)
    assert result.returncode == 1 and "target" in result.stderr
    assert emulator.campaigns() == []


# -- class: an intent no lookup can settle fails the run, and has a documented way out -------

def stranded_intent(ws: Workspace, emulator: EmulatorProcess, name: str) -> set[str]:
    """Two campaigns named `name` on the tenant and a pending create intent for it."""
    made = {seed_like(emulator, name), seed_like(emulator, name)}
    state = State.new({"host": ws.env["KORE_HOST"], "streamId": STREAM_ID,
                       "accountId": ACCOUNT_ID})
    state.record_intent(name, {"name": name}, "sha256:" + "0" * 64)
    ws.state_file.parent.mkdir(parents=True, exist_ok=True)
    LocalBackend(ws.state_file).write(state)
    return made


def test_an_unresolvable_intent_fails_and_state_rm_clears_it(workspace: Workspace,
                                                             emulator) -> None:
    write_campaigns(workspace, 1)
    stranded_intent(workspace, emulator, "ZZ")
    result = workspace.run("apply", "--auto-approve")
    clean(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "provisioner state rm" in result.stderr and "provisioner import" in result.stderr
    rm = workspace.run("state", "rm", "zz")
    assert rm.returncode == 0, rm.stderr
    assert "pending create intent" in rm.stdout and workspace.state()["pending"] == {}
    again = workspace.run("apply", "--auto-approve")
    assert again.returncode == 0, again.stdout + again.stderr
    assert Counter(c["name"] for c in emulator.campaigns())["ZZ"] == 2


def test_import_with_an_id_settles_an_unresolvable_intent(workspace: Workspace,
                                                          emulator) -> None:
    keep = sorted(stranded_intent(workspace, emulator, "ZZ"))[0]
    result = workspace.run("import", "ZZ", keep)
    assert result.returncode == 0, result.stderr
    state = workspace.state()
    assert state["pending"] == {} and state["campaigns"]["zz"]["id"] == keep


def test_readme_says_what_prune_refuses_and_the_way_out() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for phrase in ("--allow-empty-prune", "protect: true", "provisioner state rm",
                   "provisioner import NAME ID"):
        assert phrase in readme


def test_build_plan_refuses_an_empty_prune_only_when_something_would_go() -> None:
    state = State.new({"host": "https://a", "streamId": "st", "accountId": "acc"})
    assert build_plan([], state, env="t", specs={}, prune=True).changes == []
    state.record_campaign("Kept", "cd-1", {}, "sha256:a")
    state.mark_protected("kept", True)
    assert [c.action for c in build_plan([], state, env="t", specs={}, prune=True).changes] \
        == ["orphan"]
    state.record_campaign("Gone", "cd-2", {}, "sha256:b")
    with pytest.raises(SpecError, match="1 campaign"):
        build_plan([], state, env="t", specs={}, prune=True)
