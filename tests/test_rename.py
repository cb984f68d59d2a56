"""Renames (issue 15): a spec's `previousNames` turn a name change into one update of the
same campaign: no create, no delete, state re-keyed; on the local and PostgreSQL state."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EmulatorProcess, Workspace
from tests.test_exactly_once import TEMPLATE
from tests.test_state_postgres import url  # noqa: F401  (the fixture: a fresh schema)


def spec(name: str, previous: str = "") -> str:
    text = TEMPLATE.format(name=name, priority=2)
    return text + (f"previousNames: [{previous}]\n" if previous else "")


def ops(emulator: EmulatorProcess) -> list[tuple[str, str]]:
    return [(e["op"], e["path"]) for e in emulator.requests_log()
            if e["op"] in ("create", "update", "delete")]


def rename_once(ws: Workspace, emulator: EmulatorProcess) -> None:
    ws.write_spec("a.yaml", spec("Spring Sale"))
    assert ws.run("apply", "--auto-approve").returncode == 0
    [campaign] = emulator.campaigns()
    cid = campaign.get("_id") or campaign.get("id")
    ws.write_spec("a.yaml", spec("Spring Sale 2027", previous="Spring Sale"))
    text = ws.run("plan")
    assert "~ Spring Sale -> Spring Sale 2027  (update SMS campaign, id " in text.stdout, text.stdout
    data = json.loads(ws.run("plan", "--format", "json").stdout)
    [change] = [c for c in data["changes"] if c["action"] != "noop"]
    assert (change["action"], change["previous_name"], change["id"]) == (
        "update", "Spring Sale", cid)
    before = len(ops(emulator))
    applied = ws.run("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "renamed from Spring Sale" in applied.stderr
    assert [op for op, _ in ops(emulator)[before:]] == ["update"]
    assert [c["name"] for c in emulator.campaigns()] == ["Spring Sale 2027"]
    assert ws.run("plan", "--detailed-exitcode").returncode == 0


def test_a_rename_is_one_update_of_the_same_id(workspace: Workspace,
                                               emulator: EmulatorProcess) -> None:
    rename_once(workspace, emulator)
    recorded = workspace.state()["campaigns"]
    assert sorted(recorded) == ["spring sale 2027"]


@pytest.mark.postgres
def test_a_rename_on_postgres_state(workspace: Workspace, emulator: EmulatorProcess,
                                   url: str) -> None:  # noqa: F811
    workspace.env["PROVISIONER_STATE"] = url
    rename_once(workspace, emulator)


def test_state_holding_both_names_is_a_located_error(workspace: Workspace,
                                                     emulator: EmulatorProcess) -> None:
    workspace.write_spec("a.yaml", spec("Old") + "---\n" + spec("New"))
    assert workspace.run("apply", "--auto-approve").returncode == 0
    workspace.write_spec("a.yaml", spec("New", previous="Old"))
    result = workspace.run("plan")
    assert result.returncode == 1
    assert "campaigns/a.yaml:1:1: campaign 'New': state records it under its name and under " \
           "its previous name 'Old'" in result.stderr, result.stderr


def test_two_specs_claiming_one_previous_name_is_a_located_error(
        workspace: Workspace) -> None:
    workspace.write_spec("a.yaml", spec("First", previous="Old") + "---\n"
                         + spec("Second", previous="Old"))
    result = workspace.run("validate")
    assert result.returncode == 1
    assert "campaigns/a.yaml:29:17: $.previousNames: 'Old' is claimed as a previous name " \
           "by 'First'" in result.stdout, result.stdout
