"""End to end: the real CLI as a subprocess against the emulator on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import CLIENT_SECRET, Workspace

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = json.loads((FIXTURES / "sample_request.json").read_text(encoding="utf-8"))

SIMPLE = """\
name: Spring Sale Reminder
description: Tells opted-in customers about the spring sale.
contactLists: [Spring Sale 2026]
dncLists: {name: Marketing DNC}
priority: 3
format: simple
message:
  text: "Spring sale starts Monday: 20% off everything. Reply STOP to opt out."
dialingStrategy:
  callerId: {phoneNumber: "+14155550123"}
  callingHours:
    frequency: WEEKLY
    timezone: America/New_York
    days:
      - {day: MO, start: "9:00 AM", end: "6:00 PM"}
      - {day: TU, start: "9:00 AM", end: "6:00 PM"}
schedule: {isSchedulingEnabled: false}
"""


def sample_yaml() -> str:
    return yaml.safe_dump(SAMPLE, sort_keys=False, allow_unicode=True)


def api_calls(emulator, method: str | None = None) -> list[dict]:
    calls = [r for r in emulator.requests_log() if not r["path"].startswith("/_emulator")]
    return [r for r in calls if method is None or r["method"] == method]


def test_sample_campaign_goes_from_yaml_to_the_emulator_field_for_field(
        workspace: Workspace, emulator) -> None:
    workspace.write_spec("sample.yaml", sample_yaml())
    plan = workspace.run("plan", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    assert "Plan: 1 to create, 0 to update, 0 to delete, 0 unchanged." in plan.stdout

    applied = workspace.run("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr

    posts = api_calls(emulator, "POST")
    creates = [p for p in posts if not p["path"].endswith("getAllCampaignDetails")]
    assert len(creates) == 1
    assert creates[0]["path"] == "/api/v2/public/st-test-0001/campaign"
    assert creates[0]["body"] == SAMPLE          # the page's sample request, field for field
    assert list(creates[0]["body"]) == list(SAMPLE)  # and in the page's order

    stored = emulator.campaigns()
    assert [c["name"] for c in stored] == [SAMPLE["name"]]
    recorded = workspace.state()["campaigns"][SAMPLE["name"].lower()]
    assert recorded["id"] == stored[0]["_id"]

    again = workspace.run("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


def test_update_shows_field_changes_with_decoded_message(workspace: Workspace, emulator) -> None:
    workspace.write_spec("simple.yaml", SIMPLE)
    assert workspace.run("apply", "--auto-approve").returncode == 0
    workspace.write_spec("simple.yaml", SIMPLE.replace("priority: 3", "priority: 5")
                         .replace("20% off", "30% off"))
    plan = workspace.run("plan", "--format", "json")
    data = json.loads(plan.stdout)
    (change,) = [c for c in data["changes"] if c["action"] == "update"]
    paths = {c["path"]: (c["before"], c["after"]) for c in change["changes"]}
    assert paths["$.priority"] == ("3", "5")
    before, after = paths["$.message.text"]
    assert "20% off" in before and "30% off" in after
    assert data["summary"]["update"] == 1

    applied = workspace.run("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    (put,) = api_calls(emulator, "PUT")
    assert put["body"]["priority"] == "5"
    assert workspace.run("plan", "--detailed-exitcode").returncode == 0


def test_removed_spec_is_an_orphan_and_never_deleted(workspace: Workspace, emulator) -> None:
    path = workspace.write_spec("simple.yaml", SIMPLE)
    assert workspace.run("apply", "--auto-approve").returncode == 0
    path.unlink()
    plan = workspace.run("plan")
    assert "Orphaned" in plan.stdout and "Spring Sale Reminder" in plan.stdout
    applied = workspace.run("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert not api_calls(emulator, "DELETE")
    assert len(emulator.campaigns()) == 1


def test_apply_without_a_terminal_or_approval_sends_nothing(workspace: Workspace,
                                                            emulator) -> None:
    workspace.write_spec("simple.yaml", SIMPLE)
    result = workspace.run("apply")
    assert result.returncode == 1
    assert "--auto-approve" in result.stderr
    assert api_calls(emulator) == []
    assert not workspace.state_file.exists()


def test_bad_spec_stops_apply_before_any_request(workspace: Workspace, emulator) -> None:
    workspace.write_spec("simple.yaml", SIMPLE.replace("priority: 3", "priority: 9"))
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 1
    assert "simple.yaml:5:" in result.stderr
    assert "Traceback" not in result.stderr
    assert api_calls(emulator) == []
    assert not workspace.state_file.exists()


def test_saved_plan_applies_and_a_stale_one_is_refused(workspace: Workspace, emulator) -> None:
    workspace.write_spec("simple.yaml", SIMPLE)
    assert workspace.run("plan", "--out", "plan.json").returncode == 0
    assert workspace.run("apply", "plan.json").returncode == 0
    assert len(emulator.campaigns()) == 1

    workspace.write_spec("simple.yaml", SIMPLE.replace("priority: 3", "priority: 4"))
    assert workspace.run("plan", "--out", "plan2.json").returncode == 0
    workspace.write_spec("simple.yaml", SIMPLE.replace("priority: 3", "priority: 2"))
    stale = workspace.run("apply", "plan2.json")
    assert stale.returncode == 1
    assert "specs changed since the plan was saved" in stale.stderr
    assert api_calls(emulator, "PUT") == []


def test_import_adopts_an_existing_campaign(workspace: Workspace, emulator) -> None:
    workspace.write_spec("simple.yaml", SIMPLE)
    assert workspace.run("apply", "--auto-approve").returncode == 0
    campaign_id = emulator.campaigns()[0]["_id"]
    assert workspace.run("state", "rm", "spring sale reminder").returncode == 0
    assert "spring sale reminder" not in workspace.state()["campaigns"]

    imported = workspace.run("import", "Spring Sale Reminder")
    assert imported.returncode == 0, imported.stderr
    assert workspace.state()["campaigns"]["spring sale reminder"]["id"] == campaign_id
    plan = workspace.run("plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout


def test_secret_never_reaches_output_or_files(workspace: Workspace, emulator) -> None:
    workspace.write_spec("simple.yaml", SIMPLE)
    outputs = [workspace.run(*args) for args in (
        ("validate",), ("plan",), ("plan", "--out", "plan.json"), ("apply", "--auto-approve"),
        ("plan", "--refresh"), ("state", "list"), ("drift",), ("import", "nope"))]
    for result in outputs:
        assert CLIENT_SECRET not in result.stdout + result.stderr
    for path in workspace.root.rglob("*"):
        if path.is_file():
            assert CLIENT_SECRET.encode() not in path.read_bytes(), path
    for call in api_calls(emulator):
        assert CLIENT_SECRET not in json.dumps(call)


def test_every_request_carries_a_fresh_short_lived_jwt(workspace: Workspace, emulator) -> None:
    workspace.write_spec("simple.yaml", SIMPLE)
    assert workspace.run("apply", "--auto-approve").returncode == 0
    assert workspace.run("plan", "--refresh").returncode == 0
    calls = api_calls(emulator)
    assert len(calls) >= 3
    claims = [c["jwt_claims"] for c in calls]
    for claim in claims:
        assert claim["appId"] == "cs-test-client" and claim["sub"]
        assert 0 < claim["exp"] - claim["iat"] <= 3600
    # one token reused until shortly before it expires: no `jti`, so never a replay
    # (one per process: apply, then plan --refresh)
    assert all("jti" not in c for c in claims) and len({c["iat"] for c in claims}) <= 2
    for call in calls:
        headers = {k.lower(): v for k, v in call["headers"].items()}
        assert headers["iid"] == "st-test-0001" and headers["accountid"] == "acc-test-0001"
        assert call["query"]["accountId"] == ["acc-test-0001"]


def _apply_on_a_terminal(workspace: Workspace, answer: str) -> tuple[int, str]:
    """Run apply with a pseudo-terminal as stdin/stdout and type `answer` at the prompt."""
    import os
    import pty
    import subprocess
    import sys
    import time

    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "provisioner", "apply"], cwd=workspace.root,
                            env=workspace.env, stdin=follower, stdout=follower,
                            stderr=follower)
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 60
    while b"Only 'yes' is accepted" not in seen and time.monotonic() < deadline:
        seen += os.read(leader, 4096)
    os.write(leader, answer.encode() + b"\n")
    while True:  # read until the child closes the terminal
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=60)
    os.close(leader)
    return proc.returncode, seen.decode(errors="replace")


def test_apply_on_a_terminal_asks_and_only_yes_applies(workspace: Workspace, emulator) -> None:
    workspace.write_spec("simple.yaml", SIMPLE)
    code, out = _apply_on_a_terminal(workspace, "y")
    assert code == 1 and "cancelled" in out
    assert [c for c in api_calls(emulator) if c["op"] == "create"] == []
    code, out = _apply_on_a_terminal(workspace, "yes")
    assert code == 0, out
    assert len(emulator.campaigns()) == 1


def test_usage_mistakes_exit_1_never_2_and_a_folder_is_no_plan_file(workspace: Workspace,
                                                                    emulator) -> None:
    """2 means "changes" (plan --detailed-exitcode) or "drift": a typo must not read so."""
    for args in (("drift", "--bogus"), ("plan", "--format", "nope"), ("nonsense",)):
        result = workspace.run(*args)
        assert result.returncode == 1, args
    workspace.write_spec("simple.yaml", SIMPLE)
    folder = workspace.run("apply", "campaigns")
    assert folder.returncode == 1 and "cannot read the plan file" in folder.stderr
    assert "Traceback" not in folder.stderr and api_calls(emulator) == []


def test_jti_per_request_signs_a_fresh_token_for_every_call(workspace: Workspace,
                                                            emulator) -> None:
    """For a JWT app with "Enforce JTI" on: `jti: per-request` in the environment."""
    (workspace.root / "provisioner.yaml").write_text(
        "environments:\n  test:\n    jti: per-request\n")
    from tests.test_exactly_once import write_campaigns
    write_campaigns(workspace, 3)
    assert workspace.run("apply", "--auto-approve").returncode == 0
    claims = [c["jwt_claims"] for c in api_calls(emulator)]
    assert len(claims) >= 4 and len({c["jti"] for c in claims}) == len(claims)
    (workspace.root / "provisioner.yaml").write_text(
        "environments:\n  test:\n    jti: sometimes\n")
    bad = workspace.run("plan")
    assert bad.returncode == 1 and "jti must be one of reuse, per-request" in bad.stderr


@pytest.mark.slow
def test_make_demo_shows_a_contact_list_an_sms_and_a_voice_campaign() -> None:
    """scripts/demo.py (`make demo`) against the shipped campaigns/: every step exits as it
    should, the list is created before the campaigns, the voice one waits out Preparing,
    and the second plan and drift find nothing to do."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PROVISIONER_"))}
    demo = subprocess.run([sys.executable, str(root / "scripts" / "demo.py")], cwd=root,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)   # one stream: each step's lines together
    out = demo.stdout
    assert demo.returncode == 0, out[-3000:]
    applied = out[out.index("# make it so"):out.index("# nothing left to do")]
    created = re.findall(r"^ok +create +(.+?) \((c[ld]-[0-9a-f-]+)\)", applied, re.M)
    assert [name for name, _ in created][0] == "Spring Sale Opt-ins"
    assert created[0][1].startswith("cl-") and len(created) == 5
    assert "(create voice campaign (Agentless))" in applied
    assert "Spring Sale Feedback Call" in applied and "Ready after Preparing" in applied
    assert out.count("0 to create, 0 to update, 0 to delete, 5 unchanged.") == 2   # plan, drift
    assert "demo: done" in out and "Traceback" not in out
