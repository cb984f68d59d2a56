"""Message encoding: the translate-based URL encoding is exactly urllib's quote of the
Base64 text (the form the docs' samples show), and decoding undoes it."""

from __future__ import annotations

import base64
import random
from urllib.parse import quote

from provisioner.body import decode_message, encode_message


def texts() -> list[str]:
    rng = random.Random(7)
    found = ["", "Hi", "a" * 161, "日本語 🎉", "+/=", "€[]{}~|^\\"]
    for _ in range(500):
        top = rng.choice((0x7F, 0xFF, 0xFFFF, 0x10FFFF))
        chars = (chr(rng.randint(1, top)) for _ in range(rng.randint(0, 40)))
        found.append("".join(c for c in chars if not 0xD800 <= ord(c) <= 0xDFFF))
    return found


def test_encoding_is_urllib_quote_of_base64() -> None:
    for text in texts():
        expected = quote(base64.b64encode(text.encode("utf-8")).decode("ascii"), safe="")
        assert encode_message(text) == expected, text


def test_decoding_undoes_encoding_plain_or_url_encoded() -> None:
    for text in texts():
        encoded = encode_message(text)
        assert decode_message(encoded) == text
        assert decode_message(base64.b64encode(text.encode("utf-8")).decode("ascii")) == text


# -- voice campaigns and contact lists (issue 16) -------------------------------------------

from provisioner.body import (BODY_FIELDS, contact_list_body, digest,  # noqa: E402
                              normalise_remote, normalise_remote_list)

VOICE = {  # create-voice-campaign-agentless-v2, "Sample request" (real caller digits)
    "name": "Product Feedback Voice Campaign-3.41", "description": "Collects feedback.",
    "contactLists": ["CL Only 2020 Dec 4"], "dncLists": {"name": "DNC CL Dec 4"},
    "priority": "5", "dialingMode": "Agentless", "campaignType": "voice",
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+14846550123"},
        "callingHours": {"frequency": "WEEKLY", "timezone": "Asia/Kolkata",
                         "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}]},
        "dialingOrder": "FIFO", "maxAttemptsPerRecord": 3, "defaultRetryPeriod": 10,
        "maxRingTime": 30},
    "schedule": {"isSchedulingEnabled": False},
    "experienceFlowName": "Voice Survey Entry Flow", "enableMachineDetect": "no",
}


def created(sent: dict, **extra: object) -> dict:
    """The create answer's `data` for a body sent (the same page's "Sample Response"):
    server fields added, the flow by id, AMD as a boolean, useSystemMappings, no
    campaignType."""
    data = {k: v for k, v in sent.items() if k not in ("experienceFlowName",
                                                        "enableMachineDetect", "campaignType")}
    data["dialingStrategy"] = {**sent["dialingStrategy"], "useSystemMappings": False}
    data["dncLists"] = {**sent["dncLists"], "id": "cl-68b802a"}
    return {**data, "lname": sent["name"].lower(), "experienceFlow": "cf-ecfa3927",
            "status": "Preparing", "isFiltersEnabled": False, "createdAt": "2025-12-08T05:29",
            "updatedAt": "2025-12-08T05:29", "id": "cd-9e14b72", "enableMachineDetect": False,
            **extra}


def test_the_voice_create_answer_reads_back_as_the_body_sent() -> None:
    """The boolean AMD echo and the flow id say nothing of what was sent: the body last
    applied is kept for them; useSystemMappings: false is the server's default, and the DNC
    list's id the server's own."""
    back = normalise_remote(created(VOICE), VOICE)
    assert back == VOICE and digest(back) == digest(VOICE)
    assert list(back) == [k for k in BODY_FIELDS if k in back]


def test_a_mode_changed_in_the_console_is_drift_and_a_boolean_echo_is_not() -> None:
    assert normalise_remote(created(VOICE, enableMachineDetect="detect"), VOICE)[
        "enableMachineDetect"] == "detect"
    assert "enableMachineDetect" not in normalise_remote(created(VOICE))   # nothing known
    mapped = created(VOICE)
    mapped["dialingStrategy"] = {**mapped["dialingStrategy"], "useSystemMappings": True}
    assert normalise_remote(mapped, VOICE)["dialingStrategy"]["useSystemMappings"] is True


def test_a_queue_answered_as_connection_is_the_queue_name() -> None:
    sent = {**VOICE, "dialingMode": "Progressive", "queue_name": "Default Queue"}
    del sent["experienceFlowName"], sent["enableMachineDetect"]
    answer = {k: v for k, v in created(sent).items() if k != "queue_name"}
    back = normalise_remote({**answer, "connection": "Default Queue"}, sent)
    assert back["queue_name"] == "Default Queue" and "connection" not in back
    assert back["campaignType"] == "voice"   # the answer has none: its dialingMode says
    assert normalise_remote({**answer, "queue_name": "Q2", "connection": "Q1"})[
        "queue_name"] == "Q2"


def test_dialing_numbers_stay_integers() -> None:
    answer = created(VOICE)
    answer["dialingStrategy"] = {**answer["dialingStrategy"], "maxRingTime": 30.0,
                                 "maxAttemptsPerRecord": 3}
    strategy = normalise_remote(answer, VOICE)["dialingStrategy"]
    assert strategy["maxRingTime"] == 30 and type(strategy["maxRingTime"]) is int
    assert digest(normalise_remote(answer, VOICE)) == digest(normalise_remote(created(VOICE),
                                                                              VOICE))


def test_an_sms_answer_reads_back_as_before() -> None:
    """SMS answers carry enableMachineDetect: false too (v1); it is no SMS field."""
    sms = {"name": "S", "description": "D", "contactLists": ["C"], "priority": "5",
           "format": "simple", "campaignType": "sms", "message": {"message": "SGk%3D"},
           "dialingStrategy": VOICE["dialingStrategy"] | {}, "schedule": {
               "isSchedulingEnabled": False}}
    sms["dialingStrategy"] = {k: sms["dialingStrategy"][k] for k in ("callerId",
                                                                     "callingHours")}
    answer = {**sms, "_id": "cd-1", "enableMachineDetect": False, "status": "Ready"}
    del answer["campaignType"]
    assert normalise_remote(answer, sms) == sms


def test_contact_list_normal_form_fills_its_defaults() -> None:
    assert contact_list_body({"name": "L"}) == {"name": "L", "description": "",
                                                "allowDuplicates": False}
    assert contact_list_body({"name": "L", "description": "D", "allowDuplicates": True,
                              "kind": "ContactList", "protect": True}) == {
        "name": "L", "description": "D", "allowDuplicates": True}


def test_contact_list_answers_read_back_in_normal_form() -> None:
    created_list = {"_id": "cl-1", "name": "L", "description": "D", "allowDuplicates": True,
                    "status": "Ready", "listType": "call", "isGlobalDNC": False,
                    "campaignInUse": [], "mapping": {}}
    known = {"name": "L", "description": "D", "allowDuplicates": True}
    assert normalise_remote_list(created_list) == known
    # the update echo carries what was sent: allowDuplicates is the value last applied
    assert normalise_remote_list({"name": "M", "description": "E"}, known) == {
        "name": "M", "description": "E", "allowDuplicates": True}
    assert normalise_remote_list({"name": "M", "description": None}) == {
        "name": "M", "description": "", "allowDuplicates": False}


# -- schedules (issue 17) -------------------------------------------------------------------

from provisioner.body import normal_schedule, schedule_call, sent_body  # noqa: E402

ENABLED = {"isSchedulingEnabled": True, "isRecurrenceEnabled": True,
           "startDateTime": "2098-01-05 09:00:00", "endDateTime": "2099-12-31 18:00:00",
           "recurrenceObject": {"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 2}}}


def test_a_schedule_read_back_is_in_the_specs_normal_form() -> None:
    """One-digit dates and whole floats echoed by a tenant compare equal to the spec's; a
    schedule that is off has no dates, and at its defaults it is no field at all."""
    echo = {**ENABLED, "startDateTime": "2098-1-5 9:00:00",
            "recurrenceObject": {"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 2.0}}}
    assert normalise_remote({"name": "N", "schedule": echo})["schedule"] == ENABLED
    off = {"isSchedulingEnabled": False, "isRecurrenceEnabled": False,
           "startDateTime": "2098-01-05 09:00:00"}
    assert normalise_remote({"name": "N", "schedule": off})["schedule"] == {
        "isSchedulingEnabled": False}
    plain = {"name": "N", "campaignType": "sms"}
    assert digest(normalise_remote({"name": "N", "schedule": off})) == digest(plain)


def test_the_specs_normal_form_fills_recurrence_and_keeps_earlier_digests() -> None:
    spec = {key: value for key, value in ENABLED.items() if key != "isRecurrenceEnabled"}
    assert normal_schedule(spec) == ENABLED
    for earlier in ({}, {"isSchedulingEnabled": False}):   # what earlier versions allowed
        assert normal_schedule(earlier) is earlier
    assert normal_schedule({"isSchedulingEnabled": False, "endDateTime": "x"}) == {
        "isSchedulingEnabled": False}


def test_create_and_update_send_the_flags_and_the_endpoint_the_rest() -> None:
    body = {"name": "N", "schedule": ENABLED}
    assert sent_body(body) == {"name": "N", "schedule": {"isSchedulingEnabled": True,
                                                         "isRecurrenceEnabled": True}}
    assert schedule_call(body) == {key: ENABLED[key] for key in
                                   ("startDateTime", "endDateTime", "recurrenceObject")}
    assert schedule_call({"name": "N", "schedule": {"isSchedulingEnabled": False}}) is None
