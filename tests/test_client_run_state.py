"""KoreClient's run state (issue 17) against the bundled emulator over loopback HTTP: start
and stop on each type's documented path, status, the schedule by name, the emulator's
refusals, and the faults that leave a trigger's outcome unknown (never resent)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from provisioner import body as bodies
from provisioner.emulator import Emulator, start_emulator
from provisioner.errors import AmbiguousError, ApiError
from provisioner.remote.auth import KoreJWTAuth
from provisioner.remote.client import ApiTarget, KoreClient
from provisioner.remote.ratelimit import RateLimiter

SECRET = "emu-secret-QUOKKA-19ad-never-printed-0123456789"
SMS = json.loads((Path(__file__).parent / "fixtures" / "sample_request.json").read_text())
VOICE: dict[str, Any] = {
    "name": "Voice", "description": "Quick feedback on recent purchases.",
    "contactLists": ["CL Only 2020 Dec 4"], "dncLists": {"name": "DNC CL Dec 4"},
    "priority": "5", "dialingMode": "Agentless",
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+14846512345"},
        "callingHours": {"frequency": "WEEKLY", "timezone": "Asia/Kolkata",
                         "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}]},
        "dialingOrder": "FIFO", "maxAttemptsPerRecord": 3, "defaultRetryPeriod": 10,
        "maxRingTime": 30},
    "experienceFlowName": "Voice Survey Entry Flow", "campaignType": "voice",
}


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with start_emulator(stream_id="st-emu", account_id="acc-emu", client_id="cs-emu",
                        client_secret=SECRET, rate_limit_per_minute=0,
                        contact_lists=["CL Only 2020 Dec 4"],
                        faults={"voice_preparing_seconds": 0.2}) as emulator:
        yield emulator


def make_client(emu: Emulator) -> KoreClient:
    target = ApiTarget(emu.url, "st-emu", "acc-emu", "st-emu")
    return KoreClient(target, KoreJWTAuth("cs-emu", SECRET), limiter=RateLimiter(0),
                      max_retries=3, backoff_base=0.01)


def sms(client: KoreClient, name: str = "Text") -> str:
    return str(client.create({**copy.deepcopy(SMS), "name": name})["_id"])


def voice(client: KoreClient, name: str = "Call", ready: bool = True) -> str:
    cid = bodies.campaign_id(client.create({**copy.deepcopy(VOICE), "name": name}))
    if ready:
        assert client.wait_ready(cid, poll=0.05)["status"] == "Ready"
    return cid


def sent(emu: Emulator, op: str) -> list[dict[str, Any]]:
    return [e for e in emu.requests.entries() if e["op"] == op]


def test_sms_start_and_stop_on_the_documented_paths(emu: Emulator) -> None:
    client = make_client(emu)
    cid = sms(client)
    assert client.status(cid) == "Ready"
    started = client.start(cid)
    assert (started["status"], started["message"]) == ("Active", "Campaign Started")
    assert client.status(cid) == "Active"
    stopped = client.stop(cid, "sms")
    assert (stopped["status"], stopped["campaignExecutionType"]) == ("Stopped", "NORMAL")
    assert client.status(cid) == "Stopped"
    assert [e["path"] for e in sent(emu, "trigger")] == [
        f"/campaign/api/v2/public/st-emu/campaign/{cid}",
        f"/campaign/api/v2/public/st-emu/campaign//trigger/{cid}"]


def test_voice_start_and_stop_on_the_trigger_path(emu: Emulator) -> None:
    client = make_client(emu)
    cid = voice(client)
    started = client.start(cid, "voice")
    assert started["status"] == "Active" and started["campaignInstanceId"].startswith("cid-")
    assert client.stop(cid, "voice")["status"] == "Stopped"
    assert [(e["path"], e["query"]["trigger"]) for e in sent(emu, "trigger")] == [
        (f"/api/v2/public/st-emu/campaign/trigger/{cid}", ["play"]),
        (f"/api/v2/public/st-emu/campaign/trigger/{cid}", ["stop"])]


@pytest.mark.parametrize("setup, call", [
    ("active", "start"),      # already running
    ("ready", "stop"),        # not running
    ("preparing", "start"),   # a voice campaign not ready yet
    ("wrong-type", "start"),  # an SMS trigger for a voice campaign
])
def test_refused_triggers_are_api_errors_that_change_nothing(emu: Emulator, setup: str,
                                                             call: str) -> None:
    client = make_client(emu)
    kind = "sms"
    if setup in ("preparing", "wrong-type"):
        emu.set_faults(voice_preparing_seconds=0.2 if setup == "wrong-type" else 30)
        cid = voice(client, ready=setup == "wrong-type")
        kind = "voice" if setup == "preparing" else "sms"
    else:
        cid = sms(client)
        if setup == "active":
            client.start(cid)
    before = client.status(cid)
    with pytest.raises(ApiError) as caught:
        getattr(client, call)(cid, kind)
    assert caught.value.status == 400 and not isinstance(caught.value, AmbiguousError)
    assert client.status(cid) == before


def test_an_active_campaign_completes(emu: Emulator) -> None:
    emu.set_faults(active_seconds=0.2)
    client = make_client(emu)
    cid = sms(client)
    client.start(cid)
    time.sleep(0.4)
    assert client.status(cid) == "Completed"


def test_status_of_an_unknown_campaign_is_none_and_rides_out_5xx(emu: Emulator) -> None:
    client = make_client(emu)
    assert client.status("cd-unknown") is None
    cid = sms(client)
    emu.set_faults(fail_next=2, ops=["status"])
    assert client.status(cid) == "Ready"
    assert [e["status"] for e in sent(emu, "status")][-3:] == [500, 500, 200]


@pytest.mark.parametrize("fault, effect", [
    ({"fail_next": 1}, "Ready"),       # refused by a 5xx before anything happened
    ({"drop_next": 1}, "Active"),      # started, then the answer was lost
], ids=["5xx", "commit-then-drop"])
@pytest.mark.parametrize("kind", ["sms", "voice"])
def test_a_start_whose_answer_is_lost_is_ambiguous_and_sent_once(
        emu: Emulator, kind: str, fault: dict[str, Any], effect: str) -> None:
    client = make_client(emu)
    cid = sms(client) if kind == "sms" else voice(client)
    emu.set_faults(ops=["trigger"], **fault)
    with pytest.raises(AmbiguousError, match="may or may not"):
        client.start(cid, kind)
    assert len(sent(emu, "trigger")) == 1
    assert client.status(cid) == effect   # what the caller reads before anything else


def test_a_stop_whose_answer_is_lost_is_ambiguous_and_the_campaign_stopped(
        emu: Emulator) -> None:
    client = make_client(emu)
    cid = sms(client)
    client.start(cid)
    emu.set_faults(drop_next=1, ops=["trigger"])
    with pytest.raises(AmbiguousError):
        client.stop(cid)
    assert client.status(cid) == "Stopped" and len(sent(emu, "trigger")) == 2


def schedule(days: int = 7) -> dict[str, Any]:
    now = datetime.now(ZoneInfo("Asia/Kolkata"))
    start, end = now + timedelta(hours=1), now + timedelta(days=days)
    return {"startDateTime": start.strftime("%Y-%m-%d %H:%M:%S"),
            "endDateTime": end.strftime("%Y-%m-%d %H:%M:%S"),
            "recurrenceObject": {"recurType": "Weekly",
                                 "weeklyDetails": {"onceEveryNweeks": 1,
                                                   "whichDays": ["Mon", "Wed"]}}}


def test_schedule_by_name_then_disable(emu: Emulator) -> None:
    client = make_client(emu)
    cid = sms(client, "Spring & Co/1")
    plan = schedule()
    answer = client.enable_schedule("spring & co/1", plan)   # found case-insensitively
    assert answer["status"] == "success" and answer["id"] == cid
    assert client.status(cid) == "Scheduled"
    stored = client.get(cid)
    assert stored is not None and stored["schedule"]["isSchedulingEnabled"] is True
    assert stored["schedule"]["recurrenceObject"] == plan["recurrenceObject"]
    client.disable_schedule("Spring & Co/1")
    assert client.status(cid) == "Ready"
    assert [e["query"]["enableSchedule"] for e in sent(emu, "schedule")] == [["true"], ["false"]]


def test_schedule_refusals_are_api_errors(emu: Emulator) -> None:
    client = make_client(emu)
    with pytest.raises(ApiError) as missing:
        client.enable_schedule("No Such Campaign", schedule())
    assert missing.value.status == 404
    cid = sms(client, "Running")
    client.start(cid)
    with pytest.raises(ApiError) as active:
        client.enable_schedule("Running", schedule())
    assert active.value.status == 400 and client.status(cid) == "Active"
    cid = sms(client, "Backwards")
    with pytest.raises(ApiError) as backwards:   # an end before the start
        client.enable_schedule("Backwards", schedule(days=-1))
    assert backwards.value.status in (400, 412) and "endDateTime" in backwards.value.api_message
    assert not isinstance(backwards.value, AmbiguousError) and client.status(cid) == "Ready"


def test_a_schedule_whose_answer_is_lost_is_ambiguous_and_applied(emu: Emulator) -> None:
    client = make_client(emu)
    cid = sms(client, "Lost")
    emu.set_faults(drop_next=1, ops=["schedule"])
    with pytest.raises(AmbiguousError):
        client.enable_schedule("Lost", schedule())
    assert len(sent(emu, "schedule")) == 1 and client.status(cid) == "Scheduled"
