"""Voice campaigns (issue 16, `campaignType: voice`): the contract's rules located as every
other problem, through the library and through the real CLI, and their normalised body.
The example files (tests/examples/*/voice-*.yaml, sms-with-voice-fields.yaml) are checked
line by line by tests/test_spec.py and tests/test_validate_cli.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.body import BODY_FIELDS, digest
from provisioner.spec.load import load_specs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "examples"

VOICE = """\
name: {name}
description: Reminds customers of their renewal.
contactLists: [Customers]
dncLists: {{name: Voice DNC}}
priority: 4
campaignType: voice
dialingMode: {mode}
{extra}dialingStrategy:
  callerId: {{phoneNumber: "+14155550123"}}
  callingHours:
    frequency: WEEKLY
    timezone: America/New_York
    days: [{{day: MO, start: "9:00 AM", end: "6:00 PM"}}]
  dialingOrder: {order}
  maxAttemptsPerRecord: {attempts}
  defaultRetryPeriod: 10
  maxRingTime: 30
"""


def voice(name: str = "Renewal Calls", mode: str = "Agentless", order: str = "FIFO",
          attempts: str = "3", extra: str = "experienceFlowName: Renewal Flow\n") -> str:
    return VOICE.format(name=name, mode=mode, order=order, attempts=attempts, extra=extra)


def validate(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The CLI with no config (no environment's policy applies) and no cache."""
    return subprocess.run([sys.executable, "-m", "provisioner", "validate", "--no-cache",
                           *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PROVISIONER_CONFIG": "no-such-config.yaml"})


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_the_agentless_page_sample_normalises_to_the_page_body() -> None:
    [campaign] = load_specs([EXAMPLES / "valid" / "voice-agentless.yaml"]).campaigns
    body = campaign.body
    assert campaign.kind == "Campaign" and body["campaignType"] == "voice"
    assert body["dialingStrategy"] == {
        "callerId": {"phoneNumber": "+14846550123"},
        "callingHours": {"frequency": "WEEKLY", "timezone": "Asia/Kolkata", "days": [
            {"day": d, "start": "9:00 AM", "end": "6:00 PM"} for d in ("MO", "TU", "WE", "TH",
                                                                       "FR")]},
        "dialingOrder": "FIFO", "maxAttemptsPerRecord": 3, "defaultRetryPeriod": 10,
        "maxRingTime": 30}
    assert (body["dialingMode"], body["experienceFlowName"], body["enableMachineDetect"]) == (
        "Agentless", "Voice Survey Entry Flow", "no")
    assert "message" not in body and "format" not in body
    assert list(body) == [k for k in BODY_FIELDS if k in body]
    assert [(ref.name, ref.line, ref.column, ref.path) for ref in campaign.lists] == [
        ("CL Only 2020 Dec 4", 8, 5, "$.contactLists[0]")]


def test_progressive_sends_its_queue_and_an_integer_priority_as_a_string() -> None:
    [campaign] = load_specs([EXAMPLES / "valid" / "voice-progressive.yaml"]).campaigns
    assert campaign.body["queue_name"] == "Default Queue" and campaign.body["priority"] == "5"
    assert "experienceFlowName" not in campaign.body


def test_whole_numbers_written_as_floats_are_integers_with_one_digest(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(voice(name="Floats", attempts="3.0"))
    (tmp_path / "b.yaml").write_text(voice(name="Ints", attempts="3"))
    floats, ints = load_specs([tmp_path]).campaigns
    attempts = floats.body["dialingStrategy"]["maxAttemptsPerRecord"]
    assert attempts == 3 and type(attempts) is int
    assert digest({**floats.body, "name": "Ints"}) == ints.digest


def test_sms_digests_are_the_ones_state_files_recorded() -> None:
    """A digest is recorded in every state file: the voice fields must not move an SMS
    campaign's (this one was computed before issue 16)."""
    [campaign] = load_specs([EXAMPLES / "valid" / "create-page-sample.yaml"]).campaigns
    assert campaign.digest == ("sha256:bd2f68b3a74ad13cc2fd120a2610e30d2697dd32c8e5bcd0c8b79ee9f"
                               "a1ec968")


def test_enum_typos_are_located_with_did_you_mean_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "calls.yaml").write_text(voice(
        mode="progresive", order="fifo",
        extra="queue_name: Default Queue\n") + "---\n" + voice(
        name="Machine Calls", extra="experienceFlowName: Flow\nenableMachineDetect: detct\n"))
    result = validate(str(tmp_path / "calls.yaml"))
    assert result.returncode == 1 and result.stderr == ""
    shown = str(tmp_path / "calls.yaml")
    assert result.stdout.splitlines() == [
        f"{shown}:7:14: $.dialingMode: 'progresive' is not one of Agentless, Progressive, "
        "Preview; did you mean 'Progressive'?",
        f"{shown}:15:17: $.dialingStrategy.dialingOrder: 'fifo' is not one of FIFO, LIFO; did "
        "you mean 'FIFO'?",
        f"{shown}:28:22: $.enableMachineDetect: 'detct' is not one of no, detect, disconnect; "
        "did you mean 'detect'?",
        "0 valid campaign(s) in 1 file(s); 3 error(s), 0 warning(s)"]


def test_a_valid_voice_campaign_passes_the_cli_strictly(tmp_path: Path) -> None:
    (tmp_path / "calls.yaml").write_text(voice())
    result = validate("--strict", str(tmp_path))
    assert result.returncode == 0, result.stdout
    assert result.stdout.endswith("1 valid campaign(s) in 1 file(s); 0 error(s), 0 warning(s)\n")


@pytest.mark.parametrize("mode,extra,where,message", [
    ("Agentless", "", "$", "missing required key 'experienceFlowName' (needed when "
                           "dialingMode is 'Agentless')"),
    ("Preview", "", "$", "missing required key 'queue_name' (needed when dialingMode is "
                         "'Progressive' or 'Preview')"),
    ("Agentless", "experienceFlowName: F\nqueue_name: Q\n", "$.queue_name",
     "'queue_name' is only for Progressive and Preview dialing"),
    ("Progressive", "queue_name: Q\nexperienceFlowName: F\n", "$.experienceFlowName",
     "'experienceFlowName' is only for Agentless dialing"),
    ("Preview", "queue_name: Q\nenableMachineDetect: detect\n", "$.enableMachineDetect",
     "'enableMachineDetect' is only for Agentless dialing"),
    ("Agentless", "experienceFlowName: F\nformat: advanced\n", "$.format",
     "'format' is only for SMS campaigns"),
    ("Agentless", "experienceFlowName: F\nenableMachineDetect: no\n", "$.enableMachineDetect",
     "expected a string, got false (quote it: unquoted YAML reads it as a boolean)"),
    ("Progressive", "queue_name: \" \"\n", "$.queue_name", "is blank"),
], ids=["agentless-needs-flow", "preview-needs-queue", "agentless-refuses-queue",
        "progressive-refuses-flow", "preview-refuses-amd", "voice-refuses-format",
        "amd-unquoted-no", "blank-queue"])
def test_each_dialing_mode_rule_is_one_located_error(tmp_path: Path, mode: str, extra: str,
                                                     where: str, message: str) -> None:
    (tmp_path / "c.yaml").write_text(voice(mode=mode, extra=extra))
    problems = [p for p in load_specs([tmp_path]).problems if p.severity == "error"]
    assert [(p.path, message in p.message) for p in problems] == [(where, True)], problems
    line = next(i for i, text in enumerate((tmp_path / "c.yaml").read_text().splitlines(), 1)
                if where == "$" or text.startswith(where[2:] + ":"))
    assert problems[0].line == line


@pytest.mark.parametrize("missing", ["dncLists", "dialingMode"])
def test_voice_requires_a_dnc_list_and_a_dialing_mode(tmp_path: Path, missing: str) -> None:
    text = "".join(line + "\n" for line in voice().splitlines()
                   if not line.startswith(f"{missing}:"))
    (tmp_path / "c.yaml").write_text(text)
    [problem] = load_specs([tmp_path]).problems
    assert (problem.line, problem.column, problem.path) == (1, 1, "$")
    assert problem.message == (f"missing required key '{missing}' (needed when campaignType is "
                               "'voice')")


def test_sms_refuses_each_voice_number_on_its_key(tmp_path: Path) -> None:
    sms = (EXAMPLES / "valid" / "simple-base64.yaml").read_text()
    assert "  callingHours:" in sms
    extra = "".join(f"  {key}: {value}\n" for key, value in (
        ("dialingOrder", "FIFO"), ("maxAttemptsPerRecord", 3), ("defaultRetryPeriod", 10),
        ("maxRingTime", 30)))
    (tmp_path / "c.yaml").write_text(sms.replace("  callingHours:", extra + "  callingHours:"))
    problems = load_specs([tmp_path]).problems
    assert sorted((p.path, p.message) for p in problems if p.severity == "error") == sorted(
        (f"$.dialingStrategy.{key}", f"'{key}' is only for voice campaigns (campaignType: "
                                     "voice)")
        for key in ("dialingOrder", "maxAttemptsPerRecord", "defaultRetryPeriod",
                    "maxRingTime"))


def test_max_skips_is_preview_only_and_a_whole_number(tmp_path: Path) -> None:
    """create-voice-campaign-preview-v2 documents maxSkips; the other modes take none."""
    (tmp_path / "preview.yaml").write_text(voice(
        name="Preview Calls", mode="Preview", extra="queue_name: Sales\nmaxSkips: 2\n"))
    (tmp_path / "agentless.yaml").write_text(voice(
        name="Agentless Calls", extra="experienceFlowName: F\nmaxSkips: 2\n"))
    (tmp_path / "negative.yaml").write_text(voice(
        name="Negative Skips", mode="Preview", extra="queue_name: Sales\nmaxSkips: -1\n"))
    specs = load_specs([tmp_path])
    assert [c.name for c in specs.campaigns] == ["Preview Calls"]
    assert specs.campaigns[0].body["maxSkips"] == 2
    found = sorted((Path(p.file).name, p.path, p.message) for p in specs.problems
                   if p.severity == "error")
    assert found == [
        ("agentless.yaml", "$.maxSkips", "'maxSkips' is only for Preview dialing (the "
                                          "Agentless and Progressive APIs take no maxSkips)"),
        ("negative.yaml", "$.maxSkips", "too low: -1, at least 0")]
