"""The emulator's voice campaigns over loopback: the documented rules per dialing mode, the
answer shapes, Preparing -> Ready, campaignType on PUT and delete, and listing by type."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import EmulatorProcess
from tests.test_emulator_helpers import Api, advanced, errors, running, simple, voice


@pytest.fixture
def api() -> Iterator[Api]:
    yield from running(faults={"voice_preparing_seconds": 0.3})


def wait_ready(api: Api, cid: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data: dict[str, Any] = api.get(cid).json()["data"]
        if data["status"] != "Preparing":
            return data
        time.sleep(0.05)
    raise AssertionError(f"{cid} still Preparing")


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`body` with the dotted `path` set to `value` (or removed when value is ...)."""
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return body


# -- create ----------------------------------------------------------------------------------
def test_agentless_create_answers_as_the_sample(api: Api) -> None:
    response = api.voice_create(voice("Agentless"))
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["message"] == "Campaign Product Feedback Voice creation in progress"
    data = reply["data"]
    assert "_id" not in data and data["id"].startswith("cd-")
    assert data["status"] == "Preparing"
    assert data["enableMachineDetect"] is False          # a boolean echo of "no"
    assert data["experienceFlow"].startswith("cf-") and "experienceFlowName" not in data
    assert data["dncLists"]["name"] == "DNC CL Dec 4" and data["dncLists"]["id"].startswith("cl-")
    strategy = data["dialingStrategy"]
    assert (strategy["useSystemMappings"], strategy["maxRingTime"], strategy["dialingOrder"]) == (
        False, 30, "FIFO")
    assert not {"schedule", "connection", "format", "message", "isImported"} & set(data)
    assert data["lname"] == "product feedback voice" and data["dialingMode"] == "Agentless"


@pytest.mark.parametrize("mode", ["Progressive", "Preview"])
def test_queue_modes_answer_the_queue_as_connection(api: Api, mode: str) -> None:
    data = api.voice_created(voice(mode))
    assert data["connection"] == "Default Queue" and "queue_name" not in data
    assert not {"enableMachineDetect", "experienceFlow"} & set(data)
    assert data.get("maxSkips") == (1 if mode == "Preview" else None)
    got = wait_ready(api, data["id"])
    assert got["connection"] == "Default Queue" and got["_id"] == data["id"]


@pytest.mark.parametrize(("mode", "path", "value", "expected"), [
    ("Agentless", "dncLists", ..., "$.dncLists is required"),
    ("Agentless", "description", ..., "$.description is required"),
    ("Agentless", "priority", ..., "$.priority is required"),
    ("Agentless", "dialingMode", "Predictive", "$.dialingMode must be Agentless, Progressive or Preview"),
    ("Agentless", "dialingStrategy.maxAttemptsPerRecord", 0, "$.dialingStrategy.maxAttemptsPerRecord must be a whole number from 1 to 100"),
    ("Agentless", "dialingStrategy.maxAttemptsPerRecord", 101, "$.dialingStrategy.maxAttemptsPerRecord must be a whole number from 1 to 100"),
    ("Agentless", "dialingStrategy.maxAttemptsPerRecord", 3.0, "$.dialingStrategy.maxAttemptsPerRecord must be a whole number from 1 to 100"),
    ("Agentless", "dialingStrategy.maxAttemptsPerRecord", "3", "$.dialingStrategy.maxAttemptsPerRecord must be a whole number from 1 to 100"),
    ("Agentless", "dialingStrategy.maxAttemptsPerRecord", True, "$.dialingStrategy.maxAttemptsPerRecord must be a whole number from 1 to 100"),
    ("Agentless", "dialingStrategy.defaultRetryPeriod", 1441, "$.dialingStrategy.defaultRetryPeriod must be a whole number from 1 to 1440"),
    ("Agentless", "dialingStrategy.maxRingTime", 4, "$.dialingStrategy.maxRingTime must be a whole number from 5 to 120"),
    ("Agentless", "dialingStrategy.maxRingTime", ..., "$.dialingStrategy.maxRingTime is required: a whole number from 5 to 120"),
    ("Agentless", "dialingStrategy.dialingOrder", "RANDOM", "$.dialingStrategy.dialingOrder is required: FIFO or LIFO"),
    ("Agentless", "experienceFlowName", ..., "$.experienceFlowName is required"),
    ("Agentless", "queue_name", "Default Queue", "$.queue_name is not allowed with dialingMode Agentless (only Progressive or Preview)"),
    ("Agentless", "maxSkips", 1, "$.maxSkips is not allowed with dialingMode Agentless (only Preview)"),
    ("Agentless", "enableMachineDetect", "yes", "$.enableMachineDetect must be no, detect or disconnect"),
    ("Agentless", "message", {"message": "SGk="}, "$.message is not allowed in a voice campaign"),
    ("Agentless", "format", "simple", "$.format is not allowed in a voice campaign"),
    ("Agentless", "campaignType", "sms", '$.campaignType must be "voice", as the campaignType query parameter'),
    ("Progressive", "queue_name", ..., "$.queue_name is required"),
    ("Progressive", "queue_name", " ", "$.queue_name must be a non-empty string"),
    ("Progressive", "experienceFlowName", "Flow", "$.experienceFlowName is not allowed with dialingMode Progressive (only Agentless)"),
    ("Progressive", "enableMachineDetect", "no", "$.enableMachineDetect is not allowed with dialingMode Progressive (only Agentless)"),
    ("Preview", "maxSkips", -1, "$.maxSkips must be a whole number >= 0"),
])
def test_invalid_voice_bodies_are_412_with_the_problem(api: Api, mode: str, path: str,
                                                       value: Any, expected: str) -> None:
    response = api.voice_create(_with(voice(mode), path, value))
    assert response.status_code == 412
    assert expected in errors(response)
    assert len(api.emulator.store) == 0


def test_optional_voice_fields_may_be_left_out(api: Api) -> None:
    agentless = _with(voice("Agentless"), "enableMachineDetect", ...)
    preview = _with(voice("Preview"), "maxSkips", ...)
    assert [api.voice_create(b).status_code for b in (agentless, preview)] == [200, 200]


@pytest.mark.parametrize(("path", "value"), [
    ("dialingMode", "Agentless"), ("queue_name", "Q"), ("enableMachineDetect", "no"),
    ("maxSkips", 1), ("dialingStrategy.maxRingTime", 30), ("dialingStrategy.dialingOrder", "FIFO"),
])
def test_an_sms_body_refuses_voice_fields(api: Api, path: str, value: Any) -> None:
    response = api.create(_with(simple(), path, value))
    assert response.status_code == 412
    assert f"$.{path} is not an allowed field" in errors(response)


def test_a_voice_campaign_naming_a_missing_list_is_refused(api: Api) -> None:
    response = api.voice_create(voice() | {"contactLists": ["Nobody Here"]})
    assert response.status_code == 400
    assert errors(response) == ["Contact list(s) not found: Nobody Here"]


# -- Preparing -> Ready, update ----------------------------------------------------------------
def test_preparing_turns_ready_and_refuses_updates_meanwhile() -> None:
    for api in running(faults={"voice_preparing_seconds": 60}):
        cid = api.voice_created(voice())["id"]
        assert api.emulator.store.due(cid)[0] == "Ready"
        refused = api.put(cid, voice(), query={"campaignType": "voice"})
        assert refused.status_code == 400
        assert errors(refused) == ["Campaign Product Feedback Voice is Preparing and cannot "
                                   "be edited until it is Ready"]
        assert api.get(cid).json()["data"]["status"] == "Preparing"
        # A delete is not refused while Preparing.
        assert api.delete(cid, query={"campaignType": "voice"}).status_code == 200


def test_ready_after_the_setting_then_a_put_answers_the_id_on_top(api: Api) -> None:
    created = api.voice_created(voice())
    ready = wait_ready(api, created["id"])
    assert ready["status"] == "Ready" and ready["updatedAt"] > created["updatedAt"]
    assert ready["schedule"] == {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}
    assert "enableMachineDetect" not in ready
    changed = voice("Progressive", name="Now Progressive")
    response = api.put(created["id"], changed, query={"campaignType": "voice"})
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["id"] == reply["data"]["_id"] == created["id"]
    assert reply["message"] == "Campaign Now Progressive details updated successfully"
    assert reply["data"]["connection"] == "Default Queue"
    assert "experienceFlow" not in reply["data"] and reply["data"]["status"] == "Ready"


def test_put_and_delete_need_the_campaigns_own_type(api: Api) -> None:
    vid = wait_ready(api, api.voice_created(voice())["id"])["_id"]
    sid = api.created(simple())["_id"]
    wrong_put = api.put(vid, voice())                       # campaignType=sms
    assert wrong_put.status_code == 400
    assert errors(wrong_put) == ["Campaign Product Feedback Voice is a voice campaign: "
                                 "campaignType=sms does not match"]
    assert api.delete(sid, query={"campaignType": "voice"}).status_code == 400
    assert api.delete(vid, query={}).status_code == 412
    assert api.delete(vid).status_code == 400
    deleted = api.delete(vid, query={"campaignType": "voice"})
    assert deleted.status_code == 200 and deleted.json()["data"]["_id"] == vid
    assert api.delete(sid).status_code == 200


# -- listing by type -------------------------------------------------------------------------
def test_listing_by_type_gives_each_its_own_items(api: Api) -> None:
    agentless = api.voice_created(voice("Agentless", name="V1"))["id"]
    progressive = api.voice_created(voice("Progressive", name="V2"))["id"]
    sms = api.created(advanced())["_id"]
    voice_items = api.list({"type": "voice"}).json()["data"]["results"]
    assert [i["_id"] for i in voice_items] == [agentless, progressive]
    assert all("id" not in i and "lname" not in i for i in voice_items)
    assert voice_items[1]["connection"] == "Default Queue"
    assert voice_items[0]["campaignInstanceUpdatedAt"] == voice_items[0]["updatedAt"]
    sms_items = api.list({"type": "sms"}).json()["data"]["results"]
    assert [i["id"] for i in sms_items] == [sms] and "_id" not in sms_items[0]
    only = api.list({"type": "voice", "filters": {"dialingMode": ["Progressive"]}})
    assert [i["_id"] for i in only.json()["data"]["results"]] == [progressive]
    assert api.list({"type": "sms", "filters": {"dialingMode": ["Preview"]}}).status_code == 412
    assert api.list({"type": "voice", "filters": {"dialingMode": ["Fast"]}}).status_code == 412


def test_admin_seeds_a_voice_campaign_ready_at_once(api: Api) -> None:
    seeded = api.admin("POST", "campaigns", voice())
    assert seeded.status_code == 201
    assert seeded.json()["status"] == "Ready" and seeded.json()["_id"].startswith("cd-")
    assert api.admin("POST", "campaigns", voice() | {"format": "simple"}).status_code == 412


def test_faults_apply_to_voice_creates(api: Api) -> None:
    api.emulator.set_faults(fail_next=1, ops=["create"])
    assert api.voice_create(voice()).status_code == 500
    assert len(api.emulator.store) == 0


def test_the_cli_sets_voice_preparing_seconds(tmp_path: Any) -> None:
    from tests.conftest import start_emulator_process, stop_process
    emu: EmulatorProcess = start_emulator_process(tmp_path, voice_preparing_seconds=0.25)
    try:
        assert emu.admin("GET", "faults")["voice_preparing_seconds"] == 0.25
    finally:
        stop_process(emu.proc)
