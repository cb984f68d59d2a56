"""`provisioner export` (issue 15) with the real CLI against the emulator: the round trip
(export, then validate and `plan --detailed-exitcode` exit 0 and render prints the tenant's
bodies), the request bound, skips, refusals, and hostile tenant data."""

from __future__ import annotations

import base64
import json
import signal
import time
from collections import Counter
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
    ops = Counter(entry["op"] for entry in emulator.requests_log())
    # nothing but reads: a listing per campaign type, a get per campaign, the contact
    # lists' listing and a get of the one list they name
    assert ops == {"list": 2, "get": len(ids), "list_list": 1, "list_get": 1}, ops
    files = sorted(p.name for p in (workspace.root / "campaigns").iterdir())
    assert files == ["advanced-flow-campaign.yaml", "contact-lists.yaml", "no-dnc.yaml",
                     "plain-base64.yaml", "several-days.yaml", "unicode.yaml",
                     "url-encoded.yaml"]
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
    state = workspace.state()
    assert {e["name"]: e["id"] for e in state["campaigns"].values()} == ids
    assert [e["name"] for e in state["contactLists"].values()] == ["Customers"]
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
    assert result.stdout.splitlines()[-1] == ("Exported 1 of 2 campaign(s) to campaigns, 1 "
                                              "already managed; 0 contact list(s), 1 already "
                                              "managed; 0 problem(s).")
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
    # (contactLists: null too would make the emulator's contact-list listing fail)
    seed(emulator, body("Missing Fields"), dialingStrategy=None, description=None)
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
    written = sorted(p.name for p in folder.iterdir() if p.name != "contact-lists.yaml")
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
    actions = [c["action"] for c in json.loads(plan.stdout)["changes"]
               if c.get("kind") != "ContactList"]
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
    lists = [f"Bulk List {index}" for index in range(10)]
    for name in lists:
        emulator.add_contact_list(name)
    for index in range(800):
        seed(emulator, body(f"Bulk {index:04d}", contactLists=[lists[index % 10]]))
    for index in range(200):
        seed(emulator, voice(f"Bulk Voice {index:04d}", contactLists=[lists[index % 5]]))
    emulator.admin("DELETE", "requests")
    result = workspace.run("export", timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    ops = Counter(entry["op"] for entry in emulator.requests_log())
    # each type's pages, a get per campaign, then one listing and a get per named list:
    # at most 2 + ceil(S/100) + ceil(V/100) + N + 1 + L
    assert ops["list"] <= 2 + 800 // 100 + 200 // 100 and ops["get"] == 1000
    assert ops - Counter(list=ops["list"], get=1000) == {"list_list": 1, "list_get": 10}
    assert "export: 500/1000 campaign(s) done" in result.stderr
    assert len(list((workspace.root / "campaigns").iterdir())) == 1000 + 1
    assert len(workspace.state()["contactLists"]) == 10
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
    assert 5 <= len(written) < 60 and not (folder / "contact-lists.yaml").exists()
    assert all(p.suffix == ".yaml" for p in written)   # no temporary file left behind
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# Exported from campaign ") and "end: \"5:00 PM\"" in text
    emulator.set_faults(latency_ms=0)
    rerun = workspace.run("export")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert len(list(folder.iterdir())) == 60 + 1   # and the contact lists' file
    assert len(workspace.state()["campaigns"]) == 60
    assert list(workspace.state()["contactLists"]) == ["customers"]
    assert workspace.run("plan", "--detailed-exitcode").returncode == 0


# -- voice campaigns and contact lists (issue 16) -------------------------------------------

VOICE_STRATEGY = {"callerId": {"phoneNumber": "+14846550123"}, "callingHours": {
    "frequency": "WEEKLY", "timezone": "Asia/Kolkata", "days": DAYS},
    "dialingOrder": "LIFO", "maxAttemptsPerRecord": 3, "defaultRetryPeriod": 10,
    "maxRingTime": 30}


def voice(name: str, mode: str = "Progressive", **extra: Any) -> dict[str, Any]:
    """A valid voice create body (create-voice-campaign-*-v2), changed by `extra`."""
    out: dict[str, Any] = {
        "name": name, "description": "Made in the console.", "contactLists": ["Customers"],
        "dncLists": {"name": "DNC CL Dec 4"}, "priority": "5", "dialingMode": mode,
        "campaignType": "voice", "dialingStrategy": VOICE_STRATEGY}
    if mode == "Agentless":
        out.update(experienceFlowName="Voice Survey Entry Flow", enableMachineDetect="detect")
    else:
        out["queue_name"] = "Default Queue"
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None}


def test_voice_campaigns_and_their_lists_round_trip(workspace: Workspace,
                                                    emulator: EmulatorProcess) -> None:
    emulator.add_contact_list("Voice Leads", "Leads # not a comment: ${var.x}",
                              allow_duplicates=True)
    emulator.add_contact_list("Unnamed By Any")
    ids = {"Renewal Outreach": seed(emulator, voice("Renewal Outreach", contactLists=[
               "voice leads", "VIPs"])),
           "Preview Calls": seed(emulator, voice("Preview Calls", "Preview", priority="2")),
           "SMS Beside": seed(emulator, body("SMS Beside", contactLists=["Voice Leads"]))}
    emulator.admin("DELETE", "requests")
    result = workspace.run("export")
    assert result.returncode == 0, result.stdout + result.stderr
    ops = Counter(entry["op"] for entry in emulator.requests_log())
    # both types' listings, a get per campaign, one listing of the lists, a get per list
    assert ops == {"list": 2, "get": 3, "list_list": 1, "list_get": 3}, ops
    assert result.stdout.endswith("Exported 3 of 3 campaign(s) to campaigns; 3 contact "
                                  "list(s) to campaigns/contact-lists.yaml; 0 problem(s).\n")
    folder = workspace.root / "campaigns"
    text = (folder / "renewal-outreach.yaml").read_text(encoding="utf-8")
    for line in ("campaignType: voice", "dialingMode: Progressive", "queue_name: Default Queue",
                 "  maxAttemptsPerRecord: 3", "  dialingOrder: LIFO"):
        assert f"\n{line}\n" in text, line
    for server in ("connection", "useSystemMappings", "_id", "lname", "status"):
        assert f"{server}:" not in text, server
    lists = (folder / "contact-lists.yaml").read_text(encoding="utf-8")
    assert lists.count("kind: ContactList") == 3 and "Unnamed By Any" not in lists
    assert 'description: "Leads # not a comment: $${var.x}"' in lists
    assert "name: Voice Leads\n" in lists and "allowDuplicates: true" in lists

    for command in (["validate"], ["plan", "--detailed-exitcode"],
                    ["plan", "--refresh", "--detailed-exitcode"]):
        result = workspace.run(*command)
        assert result.returncode == 0, (command, result.stdout + result.stderr)
    tenant = {doc["name"]: comparable(normalise_remote(doc)) for doc in emulator.campaigns()}
    assert {name: comparable(b) for name, b in rendered_bodies(workspace).items()} == tenant
    state = workspace.state()
    assert {e["name"]: e["id"] for e in state["campaigns"].values()} == ids
    by_name = {e["name"]: e for e in state["contactLists"].values()}
    assert sorted(by_name) == ["Customers", "VIPs", "Voice Leads"]
    assert by_name["Voice Leads"]["body"] == {"name": "Voice Leads", "allowDuplicates": True,
                                              "description": "Leads # not a comment: ${var.x}"}
    tenant_ids = {cl["name"]: cl["_id"] for cl in emulator.contact_lists()}
    assert {name: e["id"] for name, e in by_name.items()} == {
        name: tenant_ids[name] for name in by_name}


def test_an_agentless_campaign_says_what_the_api_cannot_tell(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    campaign_id = seed(emulator, voice("Survey Calls", "Agentless"))
    result = workspace.run("export")
    assert result.returncode == 1, result.stdout + result.stderr
    path = workspace.root / "campaigns" / "survey-calls.yaml"
    text = path.read_text(encoding="utf-8")
    assert "# experienceFlowName: the API gives only the flow id 'cf-" in text
    assert "# enableMachineDetect: the API does not say which mode" in text
    problems = [line for line in result.stdout.splitlines() if "written with a problem" in line]
    assert len(problems) == 1 and "experienceFlowName" in problems[0], result.stdout
    validate = workspace.run("validate")
    assert validate.returncode == 1 and "campaigns/survey-calls.yaml:" in validate.stdout
    # what the console shows, written in: the spec is valid, and plan sends it as an update
    path.write_text(text + "experienceFlowName: Voice Survey Entry Flow\n"
                    "enableMachineDetect: detect\n", encoding="utf-8")
    assert workspace.run("validate").returncode == 0
    plan = workspace.run("plan", "--format", "json")
    actions = {c["name"]: c["action"] for c in json.loads(plan.stdout)["changes"]}
    assert actions == {"Survey Calls": "update", "Customers": "noop"}, actions
    assert workspace.state()["campaigns"]["survey calls"]["id"] == campaign_id


def test_list_names_the_tenant_holds_twice_or_lacks_are_reported(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    first = emulator.add_contact_list("Twice")["_id"]
    second = emulator.add_contact_list("TWICE")["_id"]
    gone = emulator.add_contact_list("Gone Soon")["_id"]
    seed(emulator, body("Names Twice", contactLists=["Twice", "VIPs"]))
    seed(emulator, voice("Names Gone", contactLists=["Gone Soon"]))
    emulator.admin("DELETE", f"contact-lists/{gone}")
    result = workspace.run("export")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert (f"skipped contact list 'Twice': 2 contact lists have this name "
            f"({', '.join(sorted([first, second]))})") in out
    assert ("contact list 'Gone Soon', named by 'Names Gone', is not on the tenant") in out
    assert "Exported 2 of 2 campaign(s) to campaigns; 1 contact list(s)" in out
    lists = (workspace.root / "campaigns" / "contact-lists.yaml").read_text(encoding="utf-8")
    assert "name: VIPs" in lists and "Twice" not in lists and "TWICE" not in lists
    assert [e["name"] for e in workspace.state()["contactLists"].values()] == ["VIPs"]
    # plan --refresh says the same, at the campaigns' entries, and sends nothing
    emulator.admin("DELETE", "requests")
    plan = workspace.run("plan", "--refresh")
    assert plan.returncode == 1
    assert "names-twice.yaml" in plan.stderr and "names-gone.yaml" in plan.stderr
    assert {e["op"] for e in emulator.requests_log()} <= {"list", "get", "list_list"}


def test_all_lists_a_later_export_and_force(workspace: Workspace,
                                            emulator: EmulatorProcess) -> None:
    seed(emulator, body("First", contactLists=["VIPs"]))
    result = workspace.run("export")
    assert result.returncode == 0, result.stdout + result.stderr
    folder = workspace.root / "campaigns"
    assert (folder / "contact-lists.yaml").read_text().count("kind: ContactList") == 1
    # a later export: every other list goes to a new file, the first one is left as it is
    before = (folder / "contact-lists.yaml").read_bytes()
    result = workspace.run("export", "--all-lists")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (folder / "contact-lists.yaml").read_bytes() == before
    listed = len(emulator.contact_lists())
    assert (folder / "contact-lists.2.yaml").read_text().count("kind: ContactList") == listed - 1
    assert len(workspace.state()["contactLists"]) == listed
    assert "1 already managed" in result.stdout
    assert workspace.run("plan", "--detailed-exitcode").returncode == 0
    # a list described anew in the console: skipped, then --force rewrites its file whole
    vips = next(cl["_id"] for cl in emulator.contact_lists() if cl["name"] == "VIPs")
    emulator.admin("PATCH", f"contact-lists/{vips}", json={"description": "Big spenders"})
    again = workspace.run("export")
    assert again.returncode == 1
    assert ("skipped contact list 'VIPs': already declared in campaigns/contact-lists.yaml:2"
            in again.stdout)
    forced = workspace.run("export", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "description: Big spenders" in (folder / "contact-lists.yaml").read_text()
    assert sorted(p.name for p in folder.iterdir()) == ["contact-lists.2.yaml",
                                                         "contact-lists.yaml", "first.yaml"]
    assert workspace.run("plan", "--detailed-exitcode").returncode == 0
    # a file declaring a list besides those exported is never overwritten, even with --force
    (folder / "contact-lists.yaml").write_text(
        (folder / "contact-lists.yaml").read_text().replace("Big spenders", "Old")
        + "---\nkind: ContactList\nname: Mine Only\n")
    kept = workspace.run("export", "--force")
    assert kept.returncode == 1 and "already declared in campaigns/contact-lists.yaml" in (
        kept.stdout)
    assert "name: Mine Only" in (folder / "contact-lists.yaml").read_text()


def test_hostile_list_names(workspace: Workspace, emulator: EmulatorProcess) -> None:
    names = ["line\nbreak: # not a comment", "${var.secret}", "😀" * 48, "../../x", "- dash"]
    for name in names:
        emulator.add_contact_list(name, description="\x85 \u2028 '\"")
    long = emulator.add_contact_list("Renamed Later")["_id"]
    emulator.admin("PATCH", f"contact-lists/{long}", json={"name": "L" * 60})
    result = workspace.run("export", "--all-lists")
    assert result.returncode == 1, result.stdout + result.stderr   # what the rules refuse
    assert "Traceback" not in result.stderr
    folder = workspace.root / "campaigns"
    assert sorted(p.name for p in folder.iterdir()) == ["contact-lists.yaml"]
    problems = [line for line in result.stdout.splitlines() if "written with a problem" in line]
    assert len(problems) == 2, result.stdout
    assert "'line\\nbreak: # not a comment'" in problems[0] and "control" in problems[0]
    assert f"'{'L' * 60}'" in problems[1] and "too long" in problems[1]
    text = (folder / "contact-lists.yaml").read_text(encoding="utf-8")
    assert 'name: "line\\nbreak: # not a comment"  # error: ' in text
    assert "name: $${var.secret}" in text or 'name: "$${var.secret}"' in text
    recorded = {e["name"] for e in workspace.state()["contactLists"].values()}
    assert set(names) | {"L" * 60} <= recorded
    validate = workspace.run("validate")
    assert validate.returncode == 1 and "Traceback" not in validate.stderr
    shown = [line for line in validate.stdout.splitlines() if line.startswith("campaigns/")]
    assert len(shown) == 2 and all(line.startswith("campaigns/contact-lists.yaml:")
                                   for line in shown), validate.stdout
