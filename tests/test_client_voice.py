"""KoreClient's voice campaigns (issue 16) against the bundled emulator over loopback HTTP:
each type on its own create path, the `id` a voice create answers, Preparing until Ready
(`wait_ready`), the campaign type in the PUT and DELETE query, both types in the listing
and in the refresh, and the faults that leave a create's outcome unknown."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner import body as bodies
from provisioner.emulator import Emulator, start_emulator
from provisioner.errors import AmbiguousError, ApiError
from provisioner.remote.auth import KoreJWTAuth
from provisioner.remote.client import ApiTarget, KoreClient
from provisioner.remote.ratelimit import RateLimiter
from provisioner.remote.refresh import read_remote

SECRET = "emu-secret-NARWHAL-77e1-never-printed-0123456789"
SMS = json.loads((Path(__file__).parent / "fixtures" / "sample_request.json").read_text())
# create-voice-campaign-agentless-v2's sample request (dialing numbers as JSON integers)
VOICE: dict[str, Any] = {
    "name": "Product Feedback Voice", "description": "Quick feedback on recent purchases.",
    "contactLists": ["CL Only 2020 Dec 4"], "dncLists": {"name": "DNC CL Dec 4"},
    "priority": "5", "dialingMode": "Agentless",
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+14846512345"},
        "callingHours": {"frequency": "WEEKLY", "timezone": "Asia/Kolkata",
                         "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}]},
        "dialingOrder": "FIFO", "maxAttemptsPerRecord": 3, "defaultRetryPeriod": 10,
        "maxRingTime": 30},
    "schedule": {"isSchedulingEnabled": False},
    "experienceFlowName": "Voice Survey Entry Flow", "enableMachineDetect": "no",
    "campaignType": "voice",
}
PREPARING = 0.4   # the emulator's voice_preparing_seconds in these tests


def voice(name: str, **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(VOICE), "name": name, **changes}


def sms(name: str) -> dict[str, Any]:
    return {**copy.deepcopy(SMS), "name": name}


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with start_emulator(stream_id="st-emu", account_id="acc-emu", client_id="cs-emu",
                        client_secret=SECRET, rate_limit_per_minute=0,
                        contact_lists=["CL Only 2020 Dec 4"],
                        faults={"voice_preparing_seconds": PREPARING}) as emulator:
        yield emulator


def make_client(emu: Emulator, **target: Any) -> KoreClient:
    api = ApiTarget(emu.url, "st-emu", "acc-emu", "st-emu", **target)
    return KoreClient(api, KoreJWTAuth("cs-emu", SECRET), limiter=RateLimiter(0),
                      max_retries=3, backoff_base=0.01)


def sent(emu: Emulator, op: str) -> list[dict[str, Any]]:
    return [e for e in emu.requests.entries() if e["op"] == op]


def test_voice_create_answers_id_and_is_ready_after_preparing(emu: Emulator) -> None:
    client = make_client(emu)
    data = client.create(voice("Feedback"))
    assert "_id" not in data and data["status"] == "Preparing"
    cid = bodies.campaign_id(data)
    assert cid.startswith("cd-") and emu.store.get(cid)["name"] == "Feedback"
    (create,) = sent(emu, "create")
    assert create["path"] == "/campaign/api/v2/public/st-emu/campaign"   # its page's path
    assert create["query"]["campaignType"] == ["voice"]
    events: list[tuple[str, str]] = []
    started = time.monotonic()
    ready = client.wait_ready(cid, poll=0.1, on_event=lambda *e: events.append(e))
    assert ready["status"] == "Ready" and ready["_id"] == cid
    assert time.monotonic() - started < PREPARING + 2
    assert 2 <= len(sent(emu, "get")) <= 12 and [k for k, _ in events] == ["wait"]


def test_sms_create_keeps_the_sms_create_path(emu: Emulator) -> None:
    data = make_client(emu).create(sms("Text"))
    assert data["status"] == "Ready" and data["_id"]
    (create,) = sent(emu, "create")
    assert create["path"] == "/api/v2/public/st-emu/campaign"
    assert create["query"]["campaignType"] == ["sms"]


def test_wait_ready_returns_a_campaign_still_preparing_when_the_bound_is_reached(
        emu: Emulator) -> None:
    emu.set_faults(voice_preparing_seconds=30)
    client = make_client(emu, ready_timeout=0.5)
    cid = bodies.campaign_id(client.create(voice("Slow")))
    started = time.monotonic()
    assert client.wait_ready(cid, poll=0.1)["status"] == "Preparing"
    assert 0.5 <= time.monotonic() - started < 2


def test_wait_ready_polls_through_server_errors(emu: Emulator) -> None:
    client = make_client(emu)
    cid = bodies.campaign_id(client.create(voice("Flaky")))
    emu.set_faults(fail_next=2, ops=["get"])
    assert client.wait_ready(cid, poll=0.1)["status"] == "Ready"


def test_voice_update_and_delete_carry_campaign_type_voice(emu: Emulator) -> None:
    client = make_client(emu)
    cid = bodies.campaign_id(client.create(voice("Edit Me")))
    with pytest.raises(ApiError) as caught:   # the emulator refuses a PUT while Preparing
        client.update(cid, voice("Edit Me", description="too early"))
    assert caught.value.status == 400
    client.wait_ready(cid, poll=0.1)
    client.update(cid, voice("Edit Me", description="edited"))
    assert emu.store.get(cid)["description"] == "edited"
    assert [e["query"]["campaignType"] for e in sent(emu, "update")] == [["voice"]] * 2
    with pytest.raises(ApiError) as wrong:   # an SMS delete of a voice campaign: refused
        client.delete(cid)
    assert wrong.value.status == 400 and emu.store.get(cid) is not None
    assert client.delete(cid, "voice")["name"] == "Edit Me"
    assert client.get(cid) is None


def test_voice_update_type_setting_is_what_the_put_carries(emu: Emulator) -> None:
    """`voiceUpdateType: sms` follows the update page's URL; this emulator holds to the
    page's table (voice), so it refuses: the setting is really what is sent."""
    client = make_client(emu, voice_update_type="sms")
    cid = bodies.campaign_id(client.create(voice("Typed")))
    client.wait_ready(cid, poll=0.1)
    with pytest.raises(ApiError) as caught:
        client.update(cid, voice("Typed", description="x"))
    assert caught.value.status == 400
    assert [e["query"]["campaignType"] for e in sent(emu, "update")] == [["sms"]]


def test_both_types_are_listed_and_refreshed(emu: Emulator) -> None:
    client = make_client(emu)
    text = client.create(sms("Both Text"))["_id"]
    call = bodies.campaign_id(client.create(voice("Both Call")))
    listed = client.list_all_campaigns(page_size=1)
    assert [bodies.campaign_id(i) for i in listed] == [text, call]
    assert "id" in listed[0] and "_id" in listed[1]   # SMS items id, voice items _id
    remote = read_remote(client, None, fetch_changed=True)
    assert {lname: [r.id for r in group] for lname, group in remote.items()} == {
        "both text": [text], "both call": [call]}


@pytest.mark.parametrize("fault, exists", [
    ({"fail_next": 1}, False),        # a 5xx before anything was committed
    ({"drop_next": 1}, True),         # committed, then the answer was lost
    ({"no_data_next": 1}, True),      # committed, answered without the campaign
], ids=["5xx", "commit-then-drop", "no-data"])
def test_voice_create_outcome_unknown_is_ambiguous_and_never_resent(
        emu: Emulator, fault: dict[str, Any], exists: bool) -> None:
    client = make_client(emu)
    emu.set_faults(ops=["create"], **fault)
    with pytest.raises(AmbiguousError):
        client.create(voice("Maybe"))
    assert len(sent(emu, "create")) == 1
    found = [i for i in client.list_all_campaigns() if i["name"] == "Maybe"]
    assert len(found) == (1 if exists else 0) == len(emu.store)
