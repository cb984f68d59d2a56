"""Issue 16 end to end: contact lists as declared resources, voice campaigns, and every
list reference checked before anything is sent. The real CLI drives the real emulator over
loopback HTTP; what the tenant holds is read from the emulator's own store."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.conftest import EmulatorProcess, Workspace
from tests.test_state_postgres import url  # noqa: F401  (the fixture: a fresh schema)

LIST = """\
kind: ContactList
name: {name}
description: Customers who opted in to {name}.
"""

SMS = """\
name: {name}
description: An SMS campaign.
contactLists: [{lists}]
dncLists: {{name: Marketing DNC}}
priority: 3
format: simple
message: {{text: "Hello from {name}. Reply STOP to opt out."}}
dialingStrategy:
  callerId: {{phoneNumber: "+14155550123"}}
  callingHours:
    frequency: DAILY
    timezone: America/Chicago
    days: [{{day: MO, start: "9:00 AM", end: "5:00 PM"}}]
"""

VOICE = """\
name: {name}
description: A voice campaign.
campaignType: voice
dialingMode: Agentless
contactLists: [{lists}]
dncLists: {{name: Default Global DNC}}
priority: "5"
dialingStrategy:
  callerId: {{phoneNumber: "+14155550123"}}
  callingHours:
    frequency: WEEKLY
    timezone: Asia/Kolkata
    days: [{{day: MO, start: "9:00 AM", end: "6:00 PM"}}]
  dialingOrder: FIFO
  maxAttemptsPerRecord: 3
  defaultRetryPeriod: 10
  maxRingTime: 30
experienceFlowName: Voice Survey Entry Flow
enableMachineDetect: detect
"""


def write_set(ws: Workspace, list_name: str = "Spring Opt-ins", count: int = 2) -> list[str]:
    """One declared list, `count` SMS campaigns and one voice campaign naming it."""
    ws.write_spec("lists.yaml", LIST.format(name=list_name))
    names = [f"Spring SMS {i}" for i in range(count)]
    ws.write_spec("sms.yaml", "---\n".join(SMS.format(name=n, lists=list_name) for n in names))
    ws.write_spec("voice.yaml", VOICE.format(name="Spring Voice", lists=list_name))
    return [*names, "Spring Voice"]


def lists_of(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    data = emulator.admin("GET", "contact-lists")
    return data["contact_lists"] if isinstance(data, dict) else data


def writes(emulator: EmulatorProcess) -> list[tuple[str, str]]:
    """(op, name) of every write the emulator committed or refused, in order."""
    out = []
    for entry in emulator.requests_log():
        if entry.get("method") in ("POST", "PUT", "DELETE") and entry.get("op") not in (
                "list", "list_list", "status"):
            body = entry.get("body") if isinstance(entry.get("body"), dict) else {}
            out.append((str(entry.get("op")), str(body.get("name", ""))))
    return out


def assert_exactly_once(ws: Workspace, emulator: EmulatorProcess, names: list[str],
                        list_names: list[str]) -> None:
    emulator.set_faults(fail_rate=0, drop_after_commit_rate=0, latency_ms=0, fail_next=0,
                        drop_next=0)
    stored = Counter(c["name"].lower() for c in emulator.campaigns())
    for name in names:
        assert stored[name.lower()] == 1, (name, stored)
    held = Counter(item["name"].lower() for item in lists_of(emulator))
    for name in list_names:
        assert held[name.lower()] == 1, (name, held)
    state = ws.state()
    assert state["pending"] == {} and state["contactListsPending"] == {}
    assert set(state["contactLists"]) == {n.lower() for n in list_names}
    final = ws.run("plan", "--refresh", "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr


def test_a_list_and_the_sms_and_voice_campaigns_naming_it_are_created_in_order(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    names = write_set(workspace)
    plan = workspace.run("plan", "--format", "markdown")
    assert plan.returncode == 0, plan.stderr
    assert "create contact list <code>Spring Opt-ins</code>" in plan.stdout
    assert r"create voice campaign \(Agentless\) <code>Spring Voice</code>" in plan.stdout
    assert "create SMS campaign <code>Spring SMS 0</code>" in plan.stdout
    assert "voice: Agentless, flow Voice Survey Entry Flow, FIFO order" in plan.stdout.replace(
        "\\", "")
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    ops = writes(emulator)
    assert ops[0] == ("list_create", "Spring Opt-ins")   # before any campaign
    assert sorted(op for op, _ in ops[1:]) == ["create"] * len(names)
    state = workspace.state()
    voice = state["campaigns"]["spring voice"]
    assert voice["status"] == "Ready"   # the create answered Preparing; apply waited it out
    assert state["contactLists"]["spring opt-ins"]["id"].startswith("cl-")
    assert_exactly_once(workspace, emulator, names, ["Spring Opt-ins"])


def test_a_misspelt_list_is_refused_at_its_entry_with_nothing_sent(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    workspace.write_spec("sms.yaml", SMS.format(name="Typo", lists="Custmers"))
    for command in (("apply", "--auto-approve"), ("plan", "--refresh"), ("drift",)):
        result = workspace.run(*command)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert "campaigns/sms.yaml:3:16" in result.stderr, result.stderr
        assert "$.contactLists[0]" in result.stderr
        assert "did you mean 'Customers'" in result.stderr
    assert writes(emulator) == []
    assert not workspace.state_file.exists()


def test_validate_offline_checks_declared_lists_only_and_says_so(
        workspace: Workspace) -> None:
    workspace.write_spec("sms.yaml", SMS.format(name="Tenant List", lists="Customers"))
    result = workspace.run("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not checked" in (result.stdout + result.stderr)


def test_a_failed_list_create_skips_its_campaigns_and_the_rest_go_on(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    names = write_set(workspace, count=1)
    workspace.write_spec("other.yaml", SMS.format(name="Other", lists="Customers"))
    emulator.set_faults(fail_next=20, ops=["list_create"])
    result = workspace.run("apply", "--auto-approve", "--create-lag", "1")
    assert result.returncode == 1
    assert "skipped: contact list(s) Spring Opt-ins could not be created or updated" in result.stdout
    stored = {c["name"] for c in emulator.campaigns()}
    assert stored == {"Other"}
    emulator.set_faults(fail_next=0)
    again = workspace.run("apply", "--auto-approve", "--create-lag", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert_exactly_once(workspace, emulator, [*names, "Other"], ["Spring Opt-ins"])


@pytest.mark.parametrize("faults", [
    {"fail_rate": 0.3, "seed": 5},
    {"drop_after_commit_rate": 0.5, "ops": ["create", "list_create"], "seed": 7},
])
def test_faults_never_duplicate_a_list_or_a_campaign(
        workspace: Workspace, emulator: EmulatorProcess, faults: dict[str, Any]) -> None:
    names = write_set(workspace, "Fault List", count=3)
    emulator.set_faults(**faults)
    for _ in range(5):
        result = workspace.run("apply", "--auto-approve", "--create-lag", "2", timeout=300)
        assert "Traceback" not in result.stderr
        if result.returncode == 0:
            break
    assert result.returncode == 0, result.stdout + result.stderr
    assert any(e.get("dropped") or e.get("status") == 500 for e in emulator.requests_log())
    assert_exactly_once(workspace, emulator, names, ["Fault List"])


def wait_for(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _recorded(ws: Workspace) -> int:
    try:
        state = ws.state()
    except (FileNotFoundError, Exception):
        return 0
    return len(state["contactLists"]) + len(state["campaigns"])


def test_kill_9_mid_apply_then_rerun_creates_each_once(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    names = write_set(workspace, "Kill List", count=4)
    emulator.set_faults(latency_ms=300)
    proc = workspace.popen("apply", "--auto-approve", "--parallelism", "1")
    wait_for(lambda: _recorded(workspace) >= 2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    rerun = workspace.run("apply", "--auto-approve", "--create-lag", "2", timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert_exactly_once(workspace, emulator, names, ["Kill List"])


def test_deleting_a_list_comes_after_its_campaigns_and_never_while_named(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    write_set(workspace, "Doomed List", count=1)
    assert workspace.run("apply", "--auto-approve").returncode == 0
    # the list goes, the campaigns still name it: refused at plan time, located
    workspace.write_spec("lists.yaml", LIST.format(name="Doomed List") + "ensure: absent\n")
    refused = workspace.run("apply", "--auto-approve")
    assert refused.returncode == 1
    assert "Doomed List" in refused.stderr and "Traceback" not in refused.stderr
    assert len(lists_of(emulator)) == len([x for x in lists_of(emulator)])
    # campaigns and list all absent: campaigns are deleted first, then the list
    for path in ("sms.yaml", "voice.yaml"):
        text = (workspace.root / "campaigns" / path).read_text()
        docs = [doc + "ensure: absent\n" for doc in text.split("---\n")]
        workspace.write_spec(path, "---\n".join(docs))
    done = workspace.run("apply", "--auto-approve")
    assert done.returncode == 0, done.stdout + done.stderr
    ops = [op for op, _ in writes(emulator) if op in ("delete", "list_delete")]
    assert ops == ["delete", "delete", "list_delete"]
    assert workspace.state()["contactLists"] == {}
    assert not [x for x in lists_of(emulator) if x["name"] == "Doomed List"]


def test_an_existing_tenant_list_of_the_declared_name_is_adopted(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    emulator.admin("POST", "contact-lists", json={"name": "made in console",
                                                  "description": "by hand"})
    workspace.write_spec("lists.yaml", LIST.format(name="Made In Console"))
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [op for op, _ in writes(emulator)] == ["list_update"]   # adopted, then updated
    assert len([x for x in lists_of(emulator) if x["name"].lower() == "made in console"]) == 1


EARLIER = "f37cadc"   # the last commit before state format 2


def _earlier_provisioner(tmp: Path) -> Path | None:
    """The provisioner package as the last format-1 version shipped it (from git), or None
    when this checkout has no history."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    out = tmp / "earlier"
    out.mkdir()
    archive = subprocess.run(["git", "-C", str(root), "archive", EARLIER, "provisioner",
                              "schemas"],
                             capture_output=True)
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return out


def _format_version(ws: Workspace, location: str) -> tuple[int, dict[str, Any]]:
    """The stored document's format_version, and the document (local file or PostgreSQL)."""
    if not location.startswith("postgresql://"):
        document = json.loads(ws.state_file.read_text())
        return document["format_version"], document
    import psycopg

    dsn, _, schema = location.partition("?schema=")
    with psycopg.connect(dsn) as conn:
        [(document,)] = conn.execute(f'SELECT document FROM "{schema}".states').fetchall()
    return document["format_version"], document


def _migration(ws: Workspace, tmp_path: Path, location: str) -> None:
    earlier = _earlier_provisioner(tmp_path)
    if earlier is None:
        pytest.skip("no git history to take the earlier version from")
    ws.env["PROVISIONER_STATE"] = location
    ws.write_spec("sms.yaml", SMS.format(name="Old One", lists="Customers"))
    old_env = {**ws.env, "PYTHONPATH": str(earlier)}
    import subprocess
    import sys

    def old(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "provisioner", *args],
                              cwd=ws.root, env=old_env, text=True, capture_output=True,
                              timeout=120)

    first = old("apply", "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    version, document = _format_version(ws, location)
    assert version == 1 and "contactLists" not in document
    # the new version reads it, plans nothing, and writes format 2 at its first write
    assert ws.run("plan", "--detailed-exitcode").returncode == 0
    write_set(ws, "New List", count=1)
    result = ws.run("apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    version, document = _format_version(ws, location)
    assert version == 2
    assert "old one" in document["campaigns"] and "new list" in document["contactLists"]
    refused = old("state", "list")   # (its `plan` would refuse the new `kind:` first)
    assert refused.returncode == 1
    assert "format_version 2 is not supported" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_an_earlier_state_migrates_and_the_earlier_version_refuses_the_new_one(
        workspace: Workspace, emulator: EmulatorProcess, tmp_path: Path) -> None:
    _migration(workspace, tmp_path, "state/test.json")


@pytest.mark.postgres
def test_an_earlier_postgres_state_migrates_and_is_refused_by_the_earlier_version(
        workspace: Workspace, emulator: EmulatorProcess, tmp_path: Path, url: str) -> None:
    _migration(workspace, tmp_path, url)


def test_two_applies_started_together_create_each_list_and_campaign_once(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    names = write_set(workspace, "Together List", count=3)
    emulator.set_faults(latency_ms=100)
    procs = [workspace.popen("apply", "--auto-approve", "--lock-timeout", "120")
             for _ in range(2)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    assert [code for _out, _err, code in results] == [0, 0], results
    assert_exactly_once(workspace, emulator, names, ["Together List"])


def test_a_paced_apply_keeps_to_the_budget_with_lists_and_voice(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    """Every kind's requests share one budget: at 60 a minute nothing is refused."""
    emulator.set_faults(rate_limit_per_minute=60)
    names = write_set(workspace, "Paced List", count=2)
    workspace.env["KORE_RATE_LIMIT_PER_MINUTE"] = "60"
    result = workspace.run("apply", "--auto-approve", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [r for r in emulator.requests_log() if r.get("status") == 429]
    assert_exactly_once(workspace, emulator, names, ["Paced List"])


def test_refresh_only_records_contact_lists_too(workspace: Workspace,
                                                emulator: EmulatorProcess) -> None:
    write_set(workspace, "Refreshed List", count=1)
    assert workspace.run("apply", "--auto-approve").returncode == 0
    same = workspace.run("plan", "--refresh-only")
    assert same.returncode == 0 and "matches" in same.stdout, same.stdout + same.stderr
    [held] = [x for x in lists_of(emulator) if x["name"] == "Refreshed List"]
    emulator.admin("PATCH", f"contact-lists/{held['_id']}",
                   json={"description": "edited in the console"})
    edited = workspace.run("plan", "--refresh-only")
    assert "recorded contact list 'Refreshed List'" in edited.stdout, edited.stdout
    recorded = workspace.state()["contactLists"]["refreshed list"]
    assert recorded["body"]["description"] == "edited in the console"
    emulator.admin("DELETE", f"contact-lists/{held['_id']}")
    gone = workspace.run("plan", "--refresh-only")
    assert "forgot contact list 'Refreshed List'" in gone.stdout
    assert workspace.state()["contactLists"] == {}


def test_two_tenant_lists_of_one_name_are_reported_never_guessed(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    for _ in range(2):
        emulator.add_contact_list("Twice Named")
    # a campaign naming it: ambiguous, located at its entry, nothing sent
    workspace.write_spec("sms.yaml", SMS.format(name="Ambiguous", lists="twice named"))
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "campaigns/sms.yaml:3:16" in result.stderr
    assert "2 contact lists on the tenant are named 'twice named'" in result.stderr
    assert writes(emulator) == []
    # declaring it: adoption is blocked (which one?), never a third list
    workspace.write_spec("sms.yaml", LIST.format(name="Twice Named"))
    plan = workspace.run("plan", "--refresh")
    assert "adopt blocked contact list" in plan.stdout, plan.stdout + plan.stderr
    assert "provisioner import --kind ContactList NAME ID" in plan.stdout
    assert workspace.run("apply", "--auto-approve").returncode == 1
    assert writes(emulator) == []
    twins = [x for x in lists_of(emulator) if x["name"] == "Twice Named"]
    assert len(twins) == 2
    # the way out the plan names: import the one to keep (by id), then apply manages it
    by_name = workspace.run("import", "--kind", "ContactList", "Twice Named")
    assert by_name.returncode == 1 and "pass the id" in by_name.stderr
    kept = workspace.run("import", "--kind", "ContactList", "Twice Named", twins[0]["_id"])
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert workspace.state()["contactLists"]["twice named"]["id"] == twins[0]["_id"]


def test_import_adopts_a_voice_campaign_by_name(workspace: Workspace,
                                                emulator: EmulatorProcess) -> None:
    import yaml

    emulator.admin("POST", "campaigns", json=yaml.safe_load(
        VOICE.format(name="Console Voice", lists="Customers")))
    result = workspace.run("import", "console voice")
    assert result.returncode == 0, result.stdout + result.stderr
    entry = workspace.state()["campaigns"]["console voice"]
    assert entry["body"]["campaignType"] == "voice" and entry["body"]["dialingMode"] == "Agentless"


def test_a_tenant_campaign_of_the_other_type_is_never_adopted(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    import yaml

    voice = yaml.safe_load(VOICE.format(name="Same Name", lists="Customers"))
    emulator.admin("POST", "campaigns", json=voice)
    workspace.write_spec("sms.yaml", SMS.format(name="Same Name", lists="Customers"))
    plan = workspace.run("plan", "--refresh")
    assert "create blocked SMS campaign" in plan.stdout, plan.stdout + plan.stderr
    assert "the tenant holds a voice campaign named 'Same Name'" in plan.stdout
    result = workspace.run("apply", "--auto-approve")
    assert result.returncode == 1
    assert writes(emulator) == [] and len(emulator.campaigns()) == 1


def test_a_voice_campaign_is_updated_and_deleted_as_voice(
        workspace: Workspace, emulator: EmulatorProcess) -> None:
    write_set(workspace, "Voice List", count=1)
    (workspace.root / "campaigns" / "sms.yaml").unlink()
    assert workspace.run("apply", "--auto-approve").returncode == 0
    voice = workspace.root / "campaigns" / "voice.yaml"
    voice.write_text(voice.read_text().replace("maxRingTime: 30", "maxRingTime: 45"))
    plan = workspace.run("plan", "--refresh")
    assert "~ $.dialingStrategy.maxRingTime: 30 -> 45" in plan.stdout, plan.stdout
    assert workspace.run("apply", "--auto-approve").returncode == 0
    [put] = [r for r in emulator.requests_log() if r["op"] == "update"]
    assert put["query"]["campaignType"] == ["voice"]
    [stored] = [c for c in emulator.campaigns() if c["name"] == "Spring Voice"]
    assert stored["dialingStrategy"]["maxRingTime"] == 45
    assert workspace.run("plan", "--refresh", "--detailed-exitcode").returncode == 0
    voice.write_text(voice.read_text() + "ensure: absent\n")
    assert workspace.run("apply", "--auto-approve").returncode == 0
    [gone] = [r for r in emulator.requests_log() if r["op"] == "delete"]
    assert gone["query"]["campaignType"] == ["voice"]
    assert not [c for c in emulator.campaigns() if c["name"] == "Spring Voice"]
