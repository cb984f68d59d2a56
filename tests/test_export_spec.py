"""The pure half of `provisioner export` (provisioner/spec/export.py): any tenant text is
written so that the spec resolves to exactly the tenant's body, and any name gives a safe,
unique file name."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from provisioner.spec.export import export_campaign, file_name
from provisioner.spec.export_lists import export_contact_lists, list_spec
from provisioner.spec.record import Context

CONTEXT = Context("test", ("test",), {"x": "VALUE"}, {}, {}, ())
NASTY = ["plain", "yes", "No", "null", "~", "123", "1e3", "0x1F", "2026-01-01", "- dash",
         "key: value", "a # b", "#hash", "${var.x}", "$${var.x}", "$$${x}", "${", "'quoted'",
         '"double"', "back\\slash", "tab\there", "line\nbreak", "cr\rlf", "nel\x85", "ls\u2028",
         "bom\ufeff", "del\x7f", "nul\x00", "emoji 😀", "日本語", "é", " lead", "trail ",
         "&anchor", "*alias", "!tag", "%percent", "@at", "`tick", "|pipe", ">fold", "[x]",
         "{y}", "?", ":", "-", ",", "a,b", "zero\u200bwidth", "rtl\u202eoverride"]


def campaign(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "_id": "cd-1", "name": "Name", "lname": "name", "status": "Ready",
        "description": "d", "contactLists": ["A"], "dncLists": {"name": "D"},
        "priority": "3", "format": "simple", "message": {"message": "SGk="},
        "dialingStrategy": {"callerId": {"phoneNumber": "+14155550123"}, "callingHours": {
            "frequency": "DAILY", "timezone": "America/Chicago",
            "days": [{"day": "MO", "start": "9:00 AM", "end": "5:00 PM"}]}},
        "schedule": {"isSchedulingEnabled": False, "isRecurrenceEnabled": False},
        "createdAt": "2026-01-01T00:00:00.000Z"}
    data.update(extra)
    return data


def export(data: dict[str, Any]) -> Any:
    return export_campaign(data, campaign_id="cd-1", when="2026-12-01T00:00:00Z",
                           context=CONTEXT)


@pytest.mark.parametrize("text", NASTY)
def test_any_text_resolves_to_the_tenants_body(text: str) -> None:
    encoded = base64.b64encode(f"SMS {text}".encode()).decode()
    exported = export(campaign(description=text, message={"message": encoded}))
    assert exported.problems == [], exported.text   # the analysed spec gave the same body
    assert exported.body["description"] == text
    assert len(exported.text.splitlines()) == len(export(campaign()).text.splitlines())


def test_a_message_becomes_text_only_when_it_is_base64_of_text() -> None:
    assert '  text: "Hi ${x} 😀"'.replace("${", "$${") in export(campaign(message={
        "message": "SGkgJHt4fSDwn5iA"})).text
    odd = export(campaign(message={"message": "not base64!"}))
    assert '  message: "not base64!"  # error: ' in odd.text and odd.problems
    assert odd.body["message"] == {"message": "not base64!"}


def test_server_fields_are_left_out() -> None:
    text = export(campaign(experienceFlow="cf-9", totalMessagesSent=4)).text
    for field in ("_id", "lname", "status", "createdAt", "experienceFlow", "totalMessages",
                  "isRecurrenceEnabled", "campaignType"):
        assert f"{field}:" not in text, field


def test_an_advanced_campaign_without_its_flow_name_says_so() -> None:
    data = campaign(format="advanced", experienceFlow="cf-9")
    del data["message"]
    exported = export(data)
    assert "# experienceFlowName: the API gives only the flow id 'cf-9'" in exported.text
    assert any("experienceFlowName" in p for p in exported.problems)
    known = export_campaign(data, campaign_id="cd-1", when="now", context=CONTEXT,
                            known={"experienceFlowName": "Flow"})
    assert known.problems == [] and "experienceFlowName: Flow" in known.text


def test_an_id_cannot_end_the_comment_line() -> None:
    text = export_campaign(campaign(), campaign_id="cd-1\nname: Forged", when="now",
                           context=CONTEXT).text
    assert text.splitlines()[0].startswith('# Exported from campaign "cd-1\\nname: Forged"')
    assert [line for line in text.splitlines() if line.startswith("name:")] == ["name: Name"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "..", ".", "a/b", "a\\b", "nul\x00",
                                  "😀" * 48, "   ", "", "CON", "_defaults", "x" * 500,
                                  "Ünïcode Café", "-.-"])
def test_file_names_are_safe(name: str) -> None:
    result = file_name(name, set())
    stem = result.removesuffix(".yaml")
    assert result.endswith(".yaml") and stem and len(stem) <= 60
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in stem), result
    assert stem[0] != "-" and stem not in ("con", "nul", "defaults_") and not stem.startswith("_")


def test_file_names_are_unique_case_insensitively() -> None:
    taken: set[str] = set()
    names = [file_name(n, taken) for n in ("A B", "a/b", "A-B", "😀", "🙂")]
    assert names == ["a-b.yaml", "a-b-2.yaml", "a-b-3.yaml", "campaign.yaml", "campaign-2.yaml"]


# -- voice campaigns and contact lists (issue 16) -------------------------------------------

def voice(**extra: Any) -> dict[str, Any]:
    """A voice campaign as a get answers it (create-voice-campaign-progressive-v2's fields,
    the queue echoed as `connection`)."""
    data = campaign(dialingMode="Progressive", connection="Default Queue",
                    dncLists={"id": "cl-9", "name": "D"}, isFiltersEnabled=False)
    del data["message"], data["format"]
    data["dialingStrategy"] = {**data["dialingStrategy"], "dialingOrder": "LIFO",
                               "maxAttemptsPerRecord": 3, "defaultRetryPeriod": 10.0,
                               "maxRingTime": 30, "useSystemMappings": False}
    data.update(extra)
    return data


def test_a_voice_campaign_resolves_to_the_tenants_body() -> None:
    exported = export(voice())
    assert exported.problems == [], exported.text
    lines = exported.text.splitlines()
    for line in ("campaignType: voice", "dialingMode: Progressive", "queue_name: Default Queue",
                 "  defaultRetryPeriod: 10", "  maxRingTime: 30"):
        assert line in lines, line
    for field in ("connection", "useSystemMappings", "isFiltersEnabled", "id"):
        assert not any(line.strip().startswith(f"{field}:") for line in lines), field
    assert exported.body["dialingStrategy"]["defaultRetryPeriod"] == 10
    assert "enableMachineDetect" not in exported.text   # Progressive: none to tell


def test_an_agentless_campaign_says_what_the_api_does_not() -> None:
    data = voice(dialingMode="Agentless", experienceFlow="cf-7", enableMachineDetect=False)
    del data["connection"]
    exported = export(data)
    assert "# experienceFlowName: the API gives only the flow id 'cf-7'" in exported.text
    assert "# enableMachineDetect: the API does not say which mode" in exported.text
    assert [p.split(":")[0] for p in exported.problems] == ["$"]
    assert "experienceFlowName" in exported.problems[0]
    known = export_campaign(data, campaign_id="cd-1", when="now", context=CONTEXT, known={
        "experienceFlowName": "Flow", "enableMachineDetect": "detect"})
    assert known.problems == [] and "enableMachineDetect: detect" in known.text
    assert "# enableMachineDetect" not in known.text


def test_a_preview_campaigns_max_skips_is_exported() -> None:
    exported = export(voice(dialingMode="Preview", maxSkips=2))
    assert exported.problems == [] and "maxSkips: 2" in exported.text


def lists(*names: str, **body: Any) -> Any:
    return export_contact_lists(
        [(f"cl-{i}", {"name": n, "description": "", "allowDuplicates": False, **body})
         for i, n in enumerate(names)], when="2026-12-01T00:00:00Z", context=CONTEXT)


@pytest.mark.parametrize("text", NASTY)
def test_any_list_text_resolves_to_the_tenants_list(text: str) -> None:
    exported = lists("Plain", description=text, allowDuplicates=True)
    assert exported.problems == [], exported.text
    assert len(exported.text.splitlines()) == 5


def test_each_list_is_a_document_and_its_errors_name_it() -> None:
    exported = lists("First", "x" * 49, "Third")
    documents = exported.text.split("\n---\n")
    assert len(documents) == 3
    assert documents[0].startswith("# Exported from contact list cl-0 at 2026-12-01")
    assert all(doc.count("kind: ContactList") == 1 for doc in documents)
    assert exported.problems == [(1, "$.name: too long: 49 characters, at most 48")]
    assert f"name: {'x' * 49}  # error: too long" in documents[1]


def test_a_list_spec_leaves_out_an_empty_description_only() -> None:
    assert list_spec({"name": "A", "description": "", "allowDuplicates": False}) == {
        "kind": "ContactList", "name": "A", "allowDuplicates": False}
    assert list_spec({"name": "A", "description": "d", "allowDuplicates": True}) == {
        "kind": "ContactList", "name": "A", "description": "d", "allowDuplicates": True}
