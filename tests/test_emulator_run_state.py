"""The emulator's run state over loopback: start and stop on every documented path, the
status call, Active -> Completed, and the schedule (enable daily or weekly, disable)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import start_emulator_process, stop_process
from tests.test_emulator_helpers import Api, errors, running, simple, voice

SMS_START = "{c}/{id}"
SMS_STOP = "{c}//trigger/{id}"
VOICE_PATH = "/api/v2/public/{sid}/campaign/trigger/{id}"
DAILY = {"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 1}}
WEEKLY = {"recurType": "Weekly", "weeklyDetails": {"onceEveryNweeks": 2, "whichDays": ["Mon", "Fri"]}}


def window(recurrence: dict[str, Any] = DAILY, start: str = "2030-01-27 18:29:00",
           end: str = "2030-02-27 18:29:00") -> dict[str, Any]:
    return {"startDateTime": start, "endDateTime": end, "recurrenceObject": recurrence}


@pytest.fixture
def api() -> Iterator[Api]:
    yield from running(faults={"voice_preparing_seconds": 0, "active_seconds": 3600})


def ready_voice(api: Api, **kw: Any) -> str:
    cid: str = api.voice_created(voice(**kw))["id"]
    assert api.status(cid).json()["data"]["status"] == "Ready"   # preparing 0 s
    return cid


# -- start and stop ----------------------------------------------------------------------------
def test_sms_start_and_stop_answer_as_their_samples(api: Api) -> None:
    cid = api.created(simple())["_id"]
    started = api.trigger(cid, "play", query={"campaignType": "sms", "trigger": "play",
                                              "accountId": None})
    assert started.status_code == 200, started.text
    assert list(started.json()) == ["status", "message", "updatedAt"]
    assert started.json()["status"] == "Active" and started.json()["message"] == "Campaign Started"
    doc = api.get(cid).json()["data"]
    assert doc["status"] == "Active" and doc["campaignInstanceId"].startswith("cid-")
    assert doc["campaignInstanceUpdatedAt"] == doc["updatedAt"] == started.json()["updatedAt"]
    stopped = api.trigger(cid, "stop", path=SMS_STOP)
    assert stopped.status_code == 200
    assert stopped.json() | {"updatedAt": None} == {
        "status": "Stopped", "message": "Campaign Stopped", "updatedAt": None,
        "campaignExecutionType": "NORMAL"}
    assert api.status(cid).json()["data"]["status"] == "Stopped"


def test_voice_start_and_stop_answer_as_their_samples(api: Api) -> None:
    cid = ready_voice(api)
    started = api.trigger(cid, "play", "voice", path=VOICE_PATH)
    assert started.status_code == 200, started.text
    reply = started.json()
    assert list(reply) == ["status", "message", "totalCallsCompleted", "updatedAt",
                           "campaignInstanceId"]
    assert (reply["status"], reply["totalCallsCompleted"]) == ("Active", 0)
    assert reply["campaignInstanceId"].startswith("cid-")
    stopped = api.trigger(cid, "stop", "voice", path=VOICE_PATH).json()
    assert stopped["status"] == "Stopped" and stopped["campaignExecutionType"] == "NORMAL"
    assert stopped["campaignInstanceId"] == reply["campaignInstanceId"]


@pytest.mark.parametrize("path", [SMS_START, SMS_STOP, "{c}/trigger/{id}",
                                  "/api/v2/public/{sid}/campaign/{id}",
                                  "/api/v2/public/{sid}/campaign//trigger/{id}", VOICE_PATH])
@pytest.mark.parametrize("kind", ["sms", "voice"])
def test_every_documented_path_starts_and_stops_either_type(api: Api, path: str,
                                                            kind: str) -> None:
    cid = ready_voice(api) if kind == "voice" else api.created(simple())["_id"]
    assert api.trigger(cid, "play", kind, path=path).json()["status"] == "Active"
    assert api.trigger(cid, "stop", kind, path=path).json()["status"] == "Stopped"


def test_a_new_start_makes_a_new_instance(api: Api) -> None:
    cid = api.created(simple())["_id"]
    api.trigger(cid, "play")
    first = api.get(cid).json()["data"]["campaignInstanceId"]
    api.trigger(cid, "stop")
    assert api.trigger(cid, "play").status_code == 200
    assert api.get(cid).json()["data"]["campaignInstanceId"] not in (first, None)


@pytest.mark.parametrize("status", ["Active", "Completed"])
def test_start_is_refused_while_active_or_completed(api: Api, status: str) -> None:
    cid = api.created(simple())["_id"]
    api.admin("POST", f"campaigns/{cid}/status", {"status": status})
    refused = api.trigger(cid, "play")
    assert refused.status_code == 400
    assert errors(refused) == [f"Campaign Spring Sale is {status}: it cannot start"]


def test_start_is_refused_while_preparing() -> None:
    for api in running(faults={"voice_preparing_seconds": 60}):
        cid = api.voice_created(voice())["id"]
        refused = api.trigger(cid, "play", "voice", path=VOICE_PATH)
        assert refused.status_code == 400 and "Preparing" in errors(refused)[0]


@pytest.mark.parametrize("status", ["Ready", "Stopped", "Completed", "Scheduled"])
def test_stop_is_refused_unless_active_or_paused(api: Api, status: str) -> None:
    cid = api.created(simple())["_id"]
    api.admin("POST", f"campaigns/{cid}/status", {"status": status})
    refused = api.trigger(cid, "stop", path=SMS_STOP)
    assert refused.status_code == 400 and errors(refused) == [
        f"Campaign Spring Sale is {status}: only an Active campaign can stop"]
    api.admin("POST", f"campaigns/{cid}/status", {"status": "Paused"})
    assert api.trigger(cid, "stop", path=SMS_STOP).status_code == 200


def test_a_trigger_needs_the_campaigns_type_and_play_or_stop(api: Api) -> None:
    cid = api.created(simple())["_id"]
    mismatch = api.trigger(cid, "play", "voice")
    assert mismatch.status_code == 400 and "is a sms campaign" in errors(mismatch)[0]
    assert api.trigger(cid, "play", query={"trigger": "play"}).status_code == 412
    assert api.trigger(cid, "pause").status_code == 412
    assert api.trigger(cid, "play", body={"now": True}).status_code == 412
    assert api.trigger("cd-none", "play").status_code == 404
    assert api.get(cid).json()["data"]["status"] == "Ready"


def test_active_turns_completed_after_the_setting() -> None:
    for api in running(faults={"active_seconds": 0.3}):
        cid = api.created(simple())["_id"]
        started = api.trigger(cid, "play").json()
        assert api.status(cid).json()["data"]["status"] == "Active"
        deadline = time.monotonic() + 5
        while api.status(cid).json()["data"]["status"] == "Active":
            assert time.monotonic() < deadline, "never Completed"
            time.sleep(0.05)
        doc = api.get(cid).json()["data"]
        assert doc["status"] == "Completed" and doc["updatedAt"] > started["updatedAt"]
        assert api.trigger(cid, "play").status_code == 400


def test_a_stop_cancels_the_completion(api: Api) -> None:
    cid = api.created(simple())["_id"]
    api.trigger(cid, "play")
    assert api.emulator.store.due(cid)[0] == "Completed"
    api.trigger(cid, "stop", path=SMS_STOP)
    assert api.emulator.store.due(cid) is None


# -- status -------------------------------------------------------------------------------------
def test_status_answers_id_status_and_name(api: Api) -> None:
    cid = api.created(simple())["_id"]
    assert api.status(cid).json() == {"status": "success", "data": {
        "id": cid, "status": "Ready", "name": "Spring Sale"}}
    assert api.status(cid, view=None).status_code == 200
    contacts = api.status(cid, view="contacts")
    assert contacts.status_code == 400 and errors(contacts) == ["view query parameter must be status"]
    assert api.status(cid, body={"page": 1}).status_code == 412
    missing = api.status("cd-none")
    assert missing.status_code == 404 and errors(missing) == ["Campaign cd-none not found"]


# -- schedule ------------------------------------------------------------------------------------
def test_enable_daily_then_disable(api: Api) -> None:
    cid = api.created(simple())["_id"]
    enabled = api.schedule("spring SALE", window(), query={
        "enableSchedule": "true", "campaignName": "spring SALE", "accountId": None})
    assert enabled.status_code == 200, enabled.text
    assert enabled.json() == {"status": "success", "id": cid,
                              "message": "Campaign Spring Sale scheduled successfully"}
    doc = api.get(cid).json()["data"]
    assert doc["status"] == "Scheduled"
    assert doc["schedule"] == {"isSchedulingEnabled": True, "isRecurrenceEnabled": True,
                               **window()}
    disabled = api.schedule("Spring Sale", {}, enable="false")
    assert disabled.json()["message"] == "Campaign Spring Sale schedule has been disabled successfully"
    doc = api.get(cid).json()["data"]
    assert doc["status"] == "Ready"
    assert doc["schedule"] == {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}


def test_enable_weekly_with_one_digit_parts_as_the_sample(api: Api) -> None:
    cid = ready_voice(api)
    body = window(WEEKLY, start="2030-01-1 9:05:00", end="2030-1-27 18:29:00")
    assert api.schedule("Product Feedback Voice", body).status_code == 200
    assert api.get(cid).json()["data"]["schedule"]["recurrenceObject"] == WEEKLY


def test_disabling_an_unscheduled_campaign_keeps_its_status(api: Api) -> None:
    cid = api.created(simple())["_id"]
    api.admin("POST", f"campaigns/{cid}/status", {"status": "Stopped"})
    assert api.schedule("Spring Sale", None, enable="false").status_code == 200
    assert api.get(cid).json()["data"]["status"] == "Stopped"


@pytest.mark.parametrize(("body", "expected"), [
    ({**window(), "recurrenceObject": ...}, "$.recurrenceObject is required"),
    ({**window(), "timezone": "UTC"}, "$.timezone is not an allowed field"),
    (window(start="2030-01-27T18:29:00"), "$.startDateTime must be a date-time YYYY-MM-DD HH:mm:ss"),
    (window(end="2030-02-30 10:00:00"), "$.endDateTime must be a date-time YYYY-MM-DD HH:mm:ss"),
    (window(end="2030-01-27 18:29:00"), "$.endDateTime must be after $.startDateTime"),
    (window({"recurType": "Monthly"}), "$.recurrenceObject.recurType is required: Daily or Weekly"),
    (window({"recurType": "Weekly", "dailyDetails": {"onceEveryNdays": 1}}),
     "$.recurrenceObject.dailyDetails is not an allowed field"),
    (window({"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 0}}),
     "$.recurrenceObject.dailyDetails.onceEveryNdays is required: a whole number >= 1"),
    (window({"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 1.0}}),
     "$.recurrenceObject.dailyDetails.onceEveryNdays is required: a whole number >= 1"),
    (window({"recurType": "Weekly", "weeklyDetails": {"onceEveryNweeks": 1, "whichDays": ["Monday"]}}),
     "$.recurrenceObject.weeklyDetails.whichDays is required: a non-empty array of Mon, Tue, Wed, Thu, Fri, Sat, Sun"),
    (window({"recurType": "Weekly", "weeklyDetails": {"onceEveryNweeks": 1, "whichDays": ["Mon", "Mon"]}}),
     "$.recurrenceObject.weeklyDetails.whichDays must not repeat a day"),
    (window(start="2020-01-01 00:00:00", end="2020-02-01 00:00:00"), "$.endDateTime must be after now"),
])
def test_a_bad_schedule_is_412_and_changes_nothing(api: Api, body: dict[str, Any],
                                                   expected: str) -> None:
    cid = api.created(simple())["_id"]
    body = {key: value for key, value in body.items() if value is not ...}
    response = api.schedule("Spring Sale", body)
    assert response.status_code == 412
    assert any(message.startswith(expected) for message in errors(response)), errors(response)
    assert api.get(cid).json()["data"]["status"] == "Ready"


def test_the_end_is_read_in_the_campaigns_timezone(api: Api) -> None:
    """Two hours from now in UTC is already past on Kiritimati (UTC+14), not in Honolulu."""
    end = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    for name, zone, status in (("East", "Pacific/Kiritimati", 412), ("West", "Pacific/Honolulu", 200)):
        body = simple(name=name)
        body["dialingStrategy"]["callingHours"]["timezone"] = zone
        api.created(body)
        assert api.schedule(name, window(start="2020-01-01 00:00:00", end=end)).status_code == status


def test_the_query_must_say_enable_and_name(api: Api) -> None:
    api.created(simple())
    assert api.schedule("x", window(), query={"campaignName": "Spring Sale"}).status_code == 412
    assert api.schedule("x", window(), query={"enableSchedule": "yes",
                                              "campaignName": "Spring Sale"}).status_code == 412
    assert api.schedule("x", window(), query={"enableSchedule": "true"}).status_code == 412
    assert api.schedule("Spring Sale", {"x": 1}, enable="false").status_code == 412


def test_the_campaign_is_found_by_one_name(api: Api) -> None:
    assert api.schedule("Nobody", window()).status_code == 404
    api.created(simple())
    api.created(simple(name="SPRING SALE"))
    twice = api.schedule("Spring Sale", window())
    assert twice.status_code == 400
    assert errors(twice) == ["Campaign name Spring Sale is not unique: 2 campaigns have it"]


def test_schedule_is_refused_while_active_or_preparing(api: Api) -> None:
    cid = api.created(simple())["_id"]
    api.trigger(cid, "play")
    for enable in ("true", "false"):
        refused = api.schedule("Spring Sale", window() if enable == "true" else {}, enable=enable)
        assert refused.status_code == 400 and "is Active" in errors(refused)[0]
    for other in running(faults={"voice_preparing_seconds": 60}):
        other.voice_created(voice())
        assert other.schedule("Product Feedback Voice", window()).status_code == 400


def test_a_put_keeps_the_schedule_the_call_set(api: Api) -> None:
    cid = api.created(simple())["_id"]
    api.schedule("Spring Sale", window())
    body = simple() | {"priority": "4", "schedule": {"isSchedulingEnabled": False}}
    assert api.put(cid, body).status_code == 200
    doc = api.get(cid).json()["data"]
    assert (doc["priority"], doc["status"]) == ("4", "Scheduled")
    assert doc["schedule"]["startDateTime"] == "2030-01-27 18:29:00"


# -- faults, persistence, CLI ------------------------------------------------------------------
def test_faults_apply_to_trigger_status_and_schedule(api: Api) -> None:
    cid = api.created(simple())["_id"]
    api.emulator.set_faults(fail_next=1, ops=["schedule"])
    assert api.schedule("Spring Sale", window()).status_code == 500
    assert api.get(cid).json()["data"]["status"] == "Ready"
    api.emulator.set_faults(no_data_next=1, ops=["schedule"])
    assert api.schedule("Spring Sale", window()).json() == {"status": "success", "message": "OK"}
    assert api.get(cid).json()["data"]["status"] == "Scheduled"
    api.emulator.set_faults(drop_next=1, ops=["trigger"])
    with pytest.raises(requests.ConnectionError):
        api.trigger(cid, "play")
    assert api.get(cid).json()["data"]["status"] == "Active"      # committed, then dropped
    api.emulator.set_faults(fail_next=1, ops=["status"])
    assert api.status(cid).status_code == 500


def test_a_pending_completion_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "store.json")
    for api in running(persist=path, faults={"active_seconds": 3600}):
        cid = api.created(simple())["_id"]
        api.trigger(cid, "play")
        due = api.emulator.store.due(cid)
    for api in running(persist=path):
        assert api.emulator.store.due(cid) == due
        assert api.status(cid).json()["data"]["status"] == "Active"


def test_the_cli_sets_active_seconds(tmp_path: Path) -> None:
    emu = start_emulator_process(tmp_path, "--active-seconds", "7.5")
    try:
        faults = emu.admin("GET", "faults")
        assert (faults["active_seconds"], faults["voice_preparing_seconds"]) == (7.5, 2.0)
    finally:
        stop_process(emu.proc)
