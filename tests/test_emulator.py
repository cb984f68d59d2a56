"""The emulator's documented API over loopback: credentials, validation, CRUD."""

from __future__ import annotations

from collections.abc import Iterator
import base64
from typing import Any

import jwt
import pytest

from provisioner.emulator import start_emulator
from provisioner.errors import ConfigError
from tests.test_emulator_helpers import (
    ACCOUNT, ADVANCED, CAMPAIGN, CLIENT, CREATE, STREAM, Api, advanced, b64, errors, running,
    simple, token,
)

@pytest.fixture
def api() -> Iterator[Api]:
    yield from running()



# -- credentials -----------------------------------------------------------------------
@pytest.mark.parametrize("auth", [
    None,                                               # no token at all
    "not-a-jwt",
    token(secret="wrong-secret-0123456789abcdef0123"),  # signed with another secret
    token({"appId": "cs-other"}),                       # another app
    token({"appid": CLIENT}, drop=("appId",)),          # claim spelled otherwise
    token(alg="HS512"),                                 # not HS256
    jwt.encode({"appId": CLIENT}, None, algorithm="none"),
    token({"exp": 1}),                                  # expired
])
def test_bad_tokens_are_401_invalid_jwt(api: Api, auth: str | None) -> None:
    response = api.create(simple(), headers=api.headers(auth=auth))
    assert response.status_code == 401
    assert response.json() == {"errors": [{"msg": "Invalid JWT token", "code": 4002}]}
    assert len(api.emulator.store) == 0


def test_bearer_prefix_is_refused(api: Api) -> None:
    response = api.get("cd-x", headers=api.headers(auth="Bearer " + token()))
    assert response.status_code == 401


def test_exp_more_than_an_hour_ahead_is_refused(api: Api) -> None:
    response = api.create(simple(), headers=api.headers(auth=token({"exp": 10**10})))
    assert response.status_code == 401
    assert "exp" in errors(response)[0]


def test_reused_jti_is_a_replay(api: Api) -> None:
    same = token()
    assert api.list({"type": "sms"}, headers=api.headers(auth=same)).status_code == 200
    again = api.list({"type": "sms"}, headers=api.headers(auth=same))
    assert again.status_code == 401
    assert errors(again) == ["error verifying the jwt: possibly a replay"]


def test_token_without_exp_or_jti_is_accepted(api: Api) -> None:
    bare = token(drop=("exp", "jti", "iat"))
    assert api.list({"type": "sms"}, headers=api.headers(auth=bare)).status_code == 200
    assert api.list({"type": "sms"}, headers=api.headers(auth=bare)).status_code == 200


@pytest.mark.parametrize("override", [
    {"iid": "st-other"}, {"iid": None}, {"accountId": "acc-other"}, {"accountId": None},
])
def test_header_mismatch_is_401(api: Api, override: dict[str, Any]) -> None:
    response = api.create(simple(), headers=api.headers(**override))
    assert response.status_code == 401
    assert errors(response) == ["Invalid SDK credentials"]


def test_account_header_name_is_case_insensitive(api: Api) -> None:
    headers = api.headers(accountId=None) | {"accountid": ACCOUNT}
    assert api.create(simple(), headers=headers).status_code == 200


def test_query_account_and_path_stream_must_match(api: Api) -> None:
    wrong_query = api.create(simple(), query={"campaignType": "sms", "accountId": "acc-x"})
    assert wrong_query.status_code == 401
    wrong_path = api.create(simple(), sid="st-other")
    assert wrong_path.status_code == 401
    missing = api.call("POST", CREATE, body=simple(), query={"accountId": None,
                                                             "campaignType": "sms"})
    assert missing.status_code == 412
    assert len(api.emulator.store) == 0


# -- validation ------------------------------------------------------------------------
def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`body` with the dotted `path` set to `value` (or removed when value is ...)."""
    node = body
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is ...:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return body


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("name", "x" * 49, "$.name must be at most 48 characters"),
    ("name", "", "$.name must be a non-empty string"),
    ("description", "d" * 257, "$.description must be at most 256 characters"),
    ("contactLists", [], "$.contactLists must be a non-empty array of contact list names"),
    ("contactLists", ["a", "a"], "$.contactLists must not repeat a contact list"),
    ("contactLists", ["a", ""], "$.contactLists[1] must be a non-empty string"),
    ("dncLists", {"name": "d", "extra": 1}, "$.dncLists.extra is not an allowed field"),
    ("priority", 5, '$.priority must be one of the strings "1" to "5"'),
    ("priority", "6", '$.priority must be one of the strings "1" to "5"'),
    ("format", "fancy", "$.format must be simple or advanced"),
    ("message.message", "not base64!", "$.message.message must be Base64 (plain or URL-encoded) of UTF-8 text"),
    ("message", ..., "$.message is required"),
    ("campaignType", "voice", '$.campaignType must be "sms", as the campaignType query parameter'),
    ("dialingStrategy.callerId.phoneNumber", "98607", "$.dialingStrategy.callerId.phoneNumber must be an E.164 number"),
    ("dialingStrategy.callingHours.frequency", "HOURLY", "$.dialingStrategy.callingHours.frequency must be WEEKLY, DAILY or CUSTOM"),
    ("dialingStrategy.callingHours.timezone", "Mars/Olympus", "$.dialingStrategy.callingHours.timezone must be an IANA time zone such as Asia/Kolkata"),
    ("dialingStrategy.callingHours.days.1.day", "MO", "$.dialingStrategy.callingHours.days[1].day MO is repeated"),
    ("dialingStrategy.callingHours.days.0.day", "MON", "$.dialingStrategy.callingHours.days[0].day must be one of MO TU WE TH FR SA SU"),
    ("dialingStrategy.callingHours.days.0.start", "09:00", "$.dialingStrategy.callingHours.days[0].start must be a time h:mm AM|PM"),
    ("dialingStrategy.callingHours.days.0.end", "8:00 AM", "$.dialingStrategy.callingHours.days[0].start must be before $.dialingStrategy.callingHours.days[0].end"),
    ("schedule.isSchedulingEnabled", "false", "$.schedule.isSchedulingEnabled must be a boolean"),
    ("schedule.when", "now", "$.schedule.when is not an allowed field"),
    ("surprise", True, "$.surprise is not an allowed field"),
    ("dialingStrategy.callingHours.days.0.note", "x", "$.dialingStrategy.callingHours.days[0].note is not an allowed field"),
])
def test_invalid_simple_bodies_are_412_with_the_problem(api: Api, path: str, value: Any,
                                                        expected: str) -> None:
    response = api.create(_with(simple(), path, value))
    assert response.status_code == 412
    assert expected in errors(response)
    assert response.json()["errors"][0]["code"] == 412
    assert len(api.emulator.store) == 0


def test_advanced_needs_an_experience_flow_name(api: Api) -> None:
    response = api.create(_with(advanced(), "experienceFlowName", ...))
    assert response.status_code == 412
    assert "$.experienceFlowName is required" in errors(response)


def test_every_problem_is_reported_at_once(api: Api) -> None:
    body = _with(_with(simple(), "priority", 1), "name", "")
    assert len(errors(api.create(body))) == 2


def test_campaign_type_query_must_be_sms_and_match(api: Api) -> None:
    assert api.create(simple(), query={"campaignType": "voice"}).status_code == 412
    assert api.create(simple(), query={}).status_code == 412
    assert len(api.emulator.store) == 0


def test_non_json_body_is_400(api: Api) -> None:
    response = api.call("POST", CREATE, query={"campaignType": "sms"}, body=None)
    assert response.status_code == 400


# -- create, get, update, delete --------------------------------------------------------
@pytest.mark.parametrize("prefix", [CREATE, "/campaign" + CREATE])
def test_create_at_both_prefixes_answers_the_documented_envelope(api: Api, prefix: str) -> None:
    response = api.create(advanced(), prefix=prefix)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["status"] == "success"
    assert reply["message"] == f"Campaign {ADVANCED['name']} creation in progress"
    data = reply["data"]
    assert list(data) == ["_id", "name", "lname", "description", "status", "dncLists",
                          "priority", "dialingStrategy", "experienceFlow", "isImported",
                          "isFiltersEnabled", "createdAt", "updatedAt", "schedule",
                          "contactLists", "format"]
    assert data["_id"].startswith("cd-") and data["experienceFlow"].startswith("cf-")
    assert (data["lname"], data["status"]) == (ADVANCED["name"].lower(), "Ready")
    assert data["createdAt"] == data["updatedAt"]
    assert len(data["createdAt"]) == 24 and data["createdAt"].endswith("Z")
    assert api.emulator.store.get(data["_id"])["name"] == ADVANCED["name"]


def test_get_echoes_plain_base64_and_the_documented_schedule(api: Api) -> None:
    created = api.created(simple(text="Olá: 20% off"))
    response = api.get(created["_id"])
    assert response.status_code == 200
    reply = response.json()
    assert reply["message"] == "Campaign Spring Sale retrieved successfully"
    echoed = reply["data"]["message"]["message"]
    assert "%" not in echoed and base64.b64decode(echoed).decode() == "Olá: 20% off"
    assert reply["data"]["schedule"] == {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}


def test_get_unknown_is_404_with_errors_shape(api: Api) -> None:
    response = api.get("cd-does-not-exist")
    assert response.status_code == 404
    assert errors(response)


def test_put_replaces_the_body_and_bumps_updated_at(api: Api) -> None:
    created = api.created(simple())
    body = simple(name="Spring Sale Renamed", text="New text") | {"priority": "2"}
    del body["dncLists"]
    response = api.put(created["_id"], body)
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Campaign Spring Sale Renamed details updated successfully"
    stored = api.emulator.store.get(created["_id"])
    assert (stored["priority"], stored["lname"]) == ("2", "spring sale renamed")
    assert "dncLists" not in stored
    assert stored["message"]["message"] == b64("New text")
    assert stored["updatedAt"] > created["updatedAt"]


def test_put_needs_the_full_body(api: Api) -> None:
    created = api.created(simple())
    partial = _with(simple(), "priority", ...)
    response = api.put(created["_id"], partial)
    assert response.status_code == 412
    assert "$.priority is required" in errors(response)
    assert api.put("cd-unknown", simple()).status_code == 404


def test_active_campaign_cannot_be_edited_or_deleted_until_stopped(api: Api) -> None:
    cid = api.created(simple())["_id"]
    started = api.start(cid)
    assert started.status_code == 200 and started.json()["status"] == "Active"
    refused = [api.put(cid, simple(name="Other")), api.delete(cid)]
    assert [r.status_code for r in refused] == [409, 409]
    assert all("Active" in errors(r)[0] for r in refused)
    stopped = api.stop(cid)
    assert stopped.json() | {"updatedAt": None} == {
        "status": "Stopped", "message": "Campaign Stopped", "updatedAt": None,
        "campaignExecutionType": "NORMAL"}
    assert api.put(cid, simple(name="Other")).status_code == 200


def test_delete_echoes_the_object_and_removes_it(api: Api) -> None:
    cid = api.created(simple())["_id"]
    response = api.delete(cid)
    assert response.status_code == 200
    assert response.json()["message"] == "Campaign Spring Sale deleted successfully"
    assert response.json()["data"]["_id"] == cid
    assert api.get(cid).status_code == 404
    assert api.delete(cid).status_code == 404


def test_duplicate_names_are_allowed_unless_the_flag_is_set(api: Api) -> None:
    api.created(simple())
    assert api.create(simple()).status_code == 200
    assert len(api.emulator.store.find_by_name("SPRING SALE")) == 2
    api.emulator.set_faults(reject_duplicate_names=True)
    assert api.create(simple(name="spring sale")).status_code == 409


def test_unknown_route_is_404(api: Api) -> None:
    assert api.call("GET", "/campaign/api/v2/public/{sid}/nothing").status_code == 404
    assert api.call("PATCH", CAMPAIGN + "/cd-x").status_code == 404
    assert api.call("POST", "/api/v3/public/{sid}/campaign").status_code == 404


# -- python API ------------------------------------------------------------------------
def test_non_loopback_host_is_refused() -> None:
    with pytest.raises(ConfigError):
        start_emulator(host="0.0.0.0")


def test_request_log_keeps_everything_but_the_token(api: Api) -> None:
    api.created(simple())
    api.get("cd-missing")
    entries = api.emulator.requests.entries()
    assert [(e["method"], e["op"], e["status"]) for e in entries] == [
        ("POST", "create", 200), ("GET", "get", 404)]
    create = entries[0]
    assert create["body"] == simple() and create["query"]["campaignType"] == ["sms"]
    assert "auth" not in {k.lower() for k in create["headers"]}
    assert create["headers"]["iid"] == STREAM
    assert create["jwt_claims"]["appId"] == CLIENT
    assert api.emulator.requests.counts()["by_op"] == {"create": 1, "get": 1}
