"""`provisioner export` (issue 15) with the real CLI against the emulator: the round trip
(export, then validate and `plan --detailed-exitcode` exit 0 and render prints the tenant's
bodies), the request bound, skips, refusals, and hostile tenant data."""

from __future__ import annotations

import base64
import json
import signal
import time
from pathlib import Path
from typing import Any

from provisioner.body import comparable, normalise_remote
from tests.conftest import CLIENT_SECRET, EmulatorProcess, Workspace

DAYS = [{"day": d, "start": "9:00 AM", "end": "5:00 PM"} for d in ("MO", "TU", "WE", "TH")]


def body(name: str, **extra: Any) -> dict[str, Any]:
    """A valid create body (simple, one day, a DNC list), changed by `extra`."""
    out: dict[str, Any] = {
        "name": name, "description": "Made in the console.", "contactLists": ["Customers"],
        "dncLists": {"name": "Marketing DNC"}, "priority": "3", "format": "simple",
        "campaignType": "sms", "message": {"message": "SGk="},
        "dialingStrategy": {"callerId": {"phoneNumber": "+14155550123"}, "callingHours": {
            "frequency": "DAILY", "timezone": "America/Chicago", "days": DAYS[:1]}}}
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None}


def seed(emulator: EmulatorProcess, data: dict[str, Any], **patch: Any) -> str:
    """A campaign made in the console; `patch` then changes stored fields as they are."""
    campaign_id = str(emulator.admin("POST", "campaigns", json=data)["_id"])
    if patch:
        emulator.admin("PATCH", f"campaigns/{campaign_id}", json=patch)
    return campaign_id


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def seed_every_shape(emulator: EmulatorProcess) -> dict[str, str]:
    """Every documented shape; returns name -> id."""
    ids = {}
    advanced = body("Advanced Flow Campaign", format="advanced", message=None,
                    experienceFlowName="SMS Support Flow")
    # the API answers only the flow id; a console that shows the name is a tenant that
    # echoes it (PATCH stores it beside the id)
    ids["Advanced Flow Campaign"] = seed(emulator, advanced,
                                         experienceFlowName="SMS Support Flow")
    ids["Plain Base64"] = seed(emulator, body("Plain Base64", message={"message": b64("Hi")}))
    ids["URL Encoded"] = seed(emulator, body("URL Encoded"), message={
        "message": b64("Sale: 20% off?").replace("=", "%3D").replace("+", "%2B")})
    ids["Ünïcödé 日本"] = seed(emulator, body("Ünïcödé 日本", description="Prix ${var.x} — été",
                                              message={"message": b64("Grüße 😀 ${x} $${y}")}))
    ids["Several Days"] = seed(emulator, body("Several Days", dialingStrategy={
        "callerId": {"phoneNumber": "+14155550123"},
        "callingHours": {"frequency": "WEEKLY", "timezone": "Asia/Kolkata", "days": DAYS}},
        schedule={"isSchedulingEnabled": False}))
    ids["No DNC"] = seed(emulator, body("No DNC", dncLists=None, priority="5"))
    return ids


def rendered_bodies(ws: Workspace) -> dict[str, dict[str, Any]]:
    result = ws.run("render", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    return {c["name"]: c["body"] for c in json.loads(result.stdout)["campaigns"]}


def test_round_trip_of_every_shape(workspace: Workspace, emulator: EmulatorProcess) -> None:
    ids = seed_every_shape(emulator)
    emulator.admin("DELETE", "requests")
    result = workspace.run("export")
    assert result.returncode == 0, result.stdout + result.stderr
    assert CLIENT_SECRET not in result.stdout + result.stderr
    ops = [entry["op"] for entry in emulator.requests_log()]
    assert sorted(set(ops)) == ["get", "list"], ops   # nothing but reads
    assert ops.count("list") == 1 and ops.count("get") == len(ids)
    files = sorted(p.name for p in (workspace.root / "campaigns").iterdir())
    assert files == ["advanced-flow-campaign.yaml", "no-dnc.yaml", "plain-base64.yaml",
                     "several-days.yaml", "unicode.yaml", "url-encoded.yaml"]
    text = (workspace.root / "campaigns" / "url-encoded.yaml").read_text(encoding="utf-8")
    assert text.startswith(f"# Exported from campaign {ids['URL Encoded']} at ")
    assert 'text: "Sale: 20% off?"' in text
    assert "$${var.x}" in (workspace.root / "campaigns" / "unicode.yaml").read_text("utf-8")

    for command in (["validate"], ["plan", "--detailed-exitcode"]):
        result = workspace.run(*command)
        assert result.returncode == 0, (command, result.stdout + result.stderr)
    # the tenant's bodies as a refresh reads them; a get echoes `schedule` at its default
    # where the stored document has none, so both sides fold server defaults away
    tenant = {doc["name"]: comparable(normalise_remote(doc)) for doc in emulator.campaigns()}
    assert {name: comparable(b) for name, b in rendered_bodies(workspace).items()} == tenant
    state = workspace.state()["campaigns"]
    assert {e["name"]: e["id"] for e in state.values()} == ids
    assert "Grüße 😀 ${x} $${y}" == base64.b64decode(
        tenant["Ünïcödé 日本"]["message"]["message"].replace("%3D", "=")).decode()


def test_a_rerun_leaves_exported_campaigns_and_completes_the_rest(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    seed(emulator, body("First"))
    assert workspace.run("export").returncode == 0
    seed(emulator, body("Second"))
    (workspace.root / "state" / "test.json").unlink()   # as if killed before recording
    result = workspace.run("export")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Exported 1 of 2 campaign(s)" in result.stdout and "1 already managed" in result.stdout
    assert sorted(e["name"] for e in workspace.state()["campaigns"].values()) == ["First",
                                                                                 "Second"]
    assert workspace.run("plan", "--detailed-exitcode").returncode == 0


DECLARED = """\
name: Declared
description: Declared by hand.
contactLists: [Customers]
priority: 2
format: simple
message: {text: Hi}
dialingStrategy:
  callerId: {phoneNumber: "+14155550123"}
  callingHours:
    frequency: DAILY
    timezone: America/Chicago
    days: [{day: MO, start: "9:00 AM", end: "5:00 PM"}]
"""


def test_declared_duplicate_and_existing_names_are_skipped(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    seed(emulator, body("Declared"))
    first = seed(emulator, body("Twice"))
    second = seed(emulator, body("TWICE"))
    exists = seed(emulator, body("Exists"))
    seed(emulator, body("Fine"))
    workspace.write_spec("declared.yaml", DECLARED)
    workspace.write_spec("exists.yaml", DECLARED.replace("Declared", "Mine"))
    result = workspace.run("export")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "skipped 'Declared': already declared in campaigns/declared.yaml:1" in out
    assert f"2 campaigns have this name ({', '.join(sorted([first, second]))})" in out
    assert out.count("2 campaigns have this name") == 1
    assert "exists.yaml exists (--force overwrites it)" in out
    assert "name: Mine" in (workspace.root / "campaigns" / "exists.yaml").read_text()
    assert (workspace.root / "campaigns" / "fine.yaml").exists()
    kept = workspace.run("export", "--force", "--match", "^exists$")
    assert kept.returncode == 1 and "declares other campaigns (mine)" in kept.stdout
    (workspace.root / "campaigns" / "exists.yaml").unlink()
    assert workspace.run("export", "--match", "^exists$").returncode == 0
    # --force re-exports a campaign over its own file, with what the tenant holds now
    emulator.admin("PATCH", f"campaigns/{exists}", json={"priority": "1"})
    again = workspace.run("export", "--match", "^exists$")
    assert again.returncode == 1 and "already declared in campaigns/exists.yaml:2" in again.stdout
    forced = workspace.run("export", "--force", "--match", "^exists$")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert 'priority: "1"' in (workspace.root / "campaigns" / "exists.yaml").read_text()
    plan = workspace.run("plan", "--format", "json")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    actions = {c["name"]: c["action"] for c in json.loads(plan.stdout)["changes"]}
    assert actions["Exists"] == "noop" and actions["Fine"] == "noop", actions


def test_a_campaign_the_schema_rejects_is_written_with_comments(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    flow_only = seed(emulator, body("Flow Id Only", format="advanced", message=None,
                                    experienceFlowName="Some Flow"))
    seed(emulator, body("Bad Caller"), dialingStrategy={
        "callerId": {"phoneNumber": "555-0100"},
        "callingHours": {"frequency": "DAILY", "timezone": "America/Chicago", "days": DAYS}})
    seed(emulator, body("Not Base64"), message={"message": "not base64 at all!"})
    seed(emulator, body("Missing Fields"), dialingStrategy=None, contactLists=None)
    result = workspace.run("export")
    assert result.returncode == 1, result.stdout + result.stderr
    folder = workspace.root / "campaigns"
    bad = (folder / "bad-caller.yaml").read_text(encoding="utf-8")
    assert 'phoneNumber: "555-0100"  # error: ' in bad
    assert "bad-caller.yaml: 'Bad Caller' was written with a problem" in result.stdout
    assert 'message: "not base64 at all!"' in (folder / "not-base64.yaml").read_text("utf-8")
    flow = (folder / "flow-id-only.yaml").read_text(encoding="utf-8")
    assert "experienceFlowName: the API gives only the flow id 'cf-" in flow
    assert flow.startswith(f"# Exported from campaign {flow_only} ")
    validate = workspace.run("validate")
    assert validate.returncode == 1
    for name in ("bad-caller", "not-base64", "flow-id-only", "missing-fields"):
        assert f"campaigns/{name}.yaml:" in validate.stdout + validate.stderr, name


def test_hostile_names_never_become_paths(workspace: Workspace, emulator: EmulatorProcess,
                                          tmp_path: Path) -> None:
    names = ["../../escape", "a/b/c", "..", "nul\x00byte", "😀" * 48, "   ", "Case Only",
             "case only", "CON", "line\nbreak: # not a comment", "${var.secret}"]
    ids = []
    for index, name in enumerate(names):
        ids.append(seed(emulator, body(f"placeholder {index}"), name=name))
    result = workspace.run("export")
    assert result.returncode == 1, result.stdout + result.stderr   # the case-only pair
    assert "Traceback" not in result.stderr
    folder = workspace.root / "campaigns"
    written = sorted(p.name for p in folder.iterdir())
    assert all("/" not in n and n.endswith(".yaml") and not n.startswith(".") for n in written)
    assert not list(tmp_path.glob("*.yaml")) and not list(workspace.root.glob("*.yaml"))
    assert len(written) == len(names) - 2, written
    assert "con-campaign.yaml" in written and "campaign.yaml" in written
    assert "2 campaigns have this name" in result.stdout
    state = workspace.state()["campaigns"]
    assert "${var.secret}" in {e["name"] for e in state.values()}
    assert "line\nbreak: # not a comment" in {e["name"] for e in state.values()}
    # the names the rules refuse are written, reported, and then shown by validate
    refused = ["campaign.yaml", "line-break-not-a-comment.yaml", "nul-byte.yaml"]
    assert sorted(line.split(":")[0].split("/")[-1] for line in result.stdout.splitlines()
                  if "was written with a problem" in line) == refused
    validate = workspace.run("validate")
    assert validate.returncode == 1 and "Traceback" not in validate.stderr
    assert sorted({line.split(":")[0].split("/")[-1] for line in validate.stdout.splitlines()
                   if line.startswith("campaigns/")}) == refused
    for name in refused:
        (folder / name).unlink()
    plan = workspace.run("plan", "--format", "json")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    actions = [c["action"] for c in json.loads(plan.stdout)["changes"]]
    assert actions.count("noop") == len(names) - 2 - len(refused)   # the rest round-trip


def test_a_defaults_file_over_the_folder_is_refused(workspace: Workspace,
                                                    emulator: EmulatorProcess) -> None:
    seed(emulator, body("One"))
    workspace.write_spec("_defaults.yaml", "priority: 2\n")
    result = workspace.run("export")
    assert result.returncode == 1
    assert "_defaults.yaml applies to every file written to campaigns" in result.stderr
    assert [p.name for p in (workspace.root / "campaigns").iterdir()] == ["_defaults.yaml"]
    bad = workspace.run("export", "--out", "exported", "--match", "(")
    assert bad.returncode == 1 and bad.stderr.startswith("error: --match '(' is not a regular")
    elsewhere = workspace.run("export", "--out", "exported")
    assert elsewhere.returncode == 0, elsewhere.stdout + elsewhere.stderr
    assert (workspace.root / "exported" / "one.yaml").exists()


def test_request_bound_for_a_thousand_campaigns(workspace: Workspace,
                                                emulator: EmulatorProcess) -> None:
    for index in range(1000):
        seed(emulator, body(f"Bulk {index:04d}"))
    emulator.admin("DELETE", "requests")
    result = workspace.run("export", timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    ops = [entry["op"] for entry in emulator.requests_log()]
    assert ops.count("list") <= 1 + 1000 // 100 and ops.count("get") == 1000
    assert set(ops) == {"list", "get"}
    assert "export: 500/1000 campaign(s) done" in result.stderr
    assert len(list((workspace.root / "campaigns").iterdir())) == 1000
    assert workspace.run("plan", "--detailed-exitcode").returncode == 0


def test_ctrl_c_leaves_whole_files_and_a_rerun_completes(workspace: Workspace,
                                                         emulator: EmulatorProcess) -> None:
    for index in range(60):
        seed(emulator, body(f"Slow {index:02d}"))
    emulator.set_faults(latency_ms=50)
    folder = workspace.root / "campaigns"
    proc = workspace.popen("export")
    deadline = time.monotonic() + 60
    while len(list(folder.glob("*.yaml"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    written = list(folder.iterdir())
    assert 5 <= len(written) < 60
    assert all(p.suffix == ".yaml" for p in written)   # no temporary file left behind
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# Exported from campaign ") and "end: \"5:00 PM\"" in text
    emulator.set_faults(latency_ms=0)
    rerun = workspace.run("export")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert len(list(folder.iterdir())) == 60
    assert len(workspace.state()["campaigns"]) == 60
    assert workspace.run("plan", "--detailed-exitcode").returncode == 0
