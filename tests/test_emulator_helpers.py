"""Helpers shared by the emulator tests (no tests here): bodies, tokens and a tiny client
that speaks the documented API over loopback with a fresh JWT per request."""

from __future__ import annotations

import base64
import copy
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import jwt
import requests

from provisioner.emulator import Emulator, start_emulator

SECRET = "emulator-test-secret-0123456789abcdef-0123456789abcdef-0123456789"
STREAM, ACCOUNT, CLIENT = "st-emu-test", "acc-emu-test", "cs-emu-test"
CAMPAIGN = "/campaign/api/v2/public/{sid}/campaign"
CREATE = "/api/v2/public/{sid}/campaign"

DAYS = [{"day": d, "start": "9:00 AM", "end": "6:00 PM"} for d in ("MO", "TU", "WE")]
ADVANCED: dict[str, Any] = {
    "name": "Interactive Support SMS", "description": "Chat-enabled SMS support.",
    "contactLists": ["CL Only 2020 Dec 4"], "dncLists": {"name": "testdnc"},
    "priority": "5", "format": "advanced", "campaignType": "sms",
    "dialingStrategy": {"callerId": {"phoneNumber": "+919860712345"},
                        "callingHours": {"frequency": "WEEKLY", "timezone": "Asia/Kolkata",
                                         "days": DAYS}},
    "schedule": {"isSchedulingEnabled": False}, "experienceFlowName": "SMS Support Flow",
}


LISTS_PATH = CAMPAIGN + "/contactList"


def voice(mode: str = "Agentless", name: str = "Product Feedback Voice") -> dict[str, Any]:
    """A valid voice body of `mode`, as the create-voice-campaign-*-v2 samples."""
    body = copy.deepcopy(ADVANCED)
    del body["format"], body["experienceFlowName"]
    body.update(name=name, campaignType="voice", dialingMode=mode, dncLists={"name": "DNC CL Dec 4"})
    body["dialingStrategy"].update(dialingOrder="FIFO", maxAttemptsPerRecord=3,
                                   defaultRetryPeriod=10, maxRingTime=30)
    if mode == "Agentless":
        body.update(experienceFlowName="Voice Survey Entry Flow", enableMachineDetect="no")
    else:
        body["queue_name"] = "Default Queue"
    if mode == "Preview":
        body["maxSkips"] = 1
    return body


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def simple(name: str = "Spring Sale", text: str = "Sale starts Monday!") -> dict[str, Any]:
    body = copy.deepcopy(ADVANCED)
    del body["experienceFlowName"]
    body.update(name=name, format="simple", message={"templateId": "", "message": quote(b64(text), safe="")})
    return body


def advanced(name: str = "Interactive Support SMS") -> dict[str, Any]:
    return copy.deepcopy(ADVANCED) | {"name": name}


def token(claims: dict[str, Any] | None = None, *, secret: str = SECRET, alg: str = "HS256",
          drop: tuple[str, ...] = ()) -> str:
    now = int(time.time())
    payload = {"appId": CLIENT, "sub": "tests", "iat": now, "exp": now + 300,
               "jti": uuid.uuid4().hex} | (claims or {})
    for key in drop:
        payload.pop(key, None)
    return jwt.encode(payload, secret, algorithm=alg)


class Api:
    """The documented calls, each with fresh credentials unless `headers` overrides them."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.base = emulator.url

    def headers(self, **override: str | None) -> dict[str, str]:
        out = {"auth": token(), "iid": STREAM, "accountId": ACCOUNT} | override
        return {k: v for k, v in out.items() if v is not None}

    def call(self, method: str, path: str, *, query: dict[str, str | None] | None = None,
             body: Any = None, headers: dict[str, str] | None = None,
             sid: str = STREAM) -> requests.Response:
        params = {"accountId": ACCOUNT} | (query or {})
        return requests.request(method, self.base + path.format(sid=sid), params=params,
                                json=body, headers=headers or self.headers(), timeout=10)

    def create(self, body: Any, *, prefix: str = CREATE, **kw: Any) -> requests.Response:
        kw.setdefault("query", {"campaignType": "sms"})
        return self.call("POST", prefix, body=body, **kw)

    def created(self, body: Any) -> dict[str, Any]:
        response = self.create(body)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def list(self, body: Any, **kw: Any) -> requests.Response:
        return self.call("POST", CAMPAIGN + "/getAllCampaignDetails", body=body, **kw)

    def get(self, cid: str, **kw: Any) -> requests.Response:
        return self.call("GET", f"{CAMPAIGN}/{cid}", **kw)

    def put(self, cid: str, body: Any, **kw: Any) -> requests.Response:
        kw.setdefault("query", {"campaignType": "sms"})
        return self.call("PUT", f"{CAMPAIGN}/{cid}", body=body, **kw)

    def delete(self, cid: str, **kw: Any) -> requests.Response:
        kw.setdefault("query", {"campaignType": "sms"})
        return self.call("DELETE", f"{CAMPAIGN}/{cid}", **kw)

    def start(self, cid: str) -> requests.Response:
        return self.call("POST", f"{CAMPAIGN}/{cid}", body={},
                         query={"campaignType": "sms", "trigger": "play"})

    def stop(self, cid: str) -> requests.Response:
        return self.call("POST", f"{CAMPAIGN}//trigger/{cid}", body={},
                         query={"campaignType": "sms", "trigger": "stop"})

    def voice_create(self, body: Any, **kw: Any) -> requests.Response:
        return self.create(body, query={"campaignType": "voice"}, **kw)

    def voice_created(self, body: Any) -> dict[str, Any]:
        response = self.voice_create(body)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def list_create(self, name: str, description: str = "", **extra: Any) -> requests.Response:
        body = {"name": name, "description": description, "source": "passiveApi"} | extra
        return self.call("POST", LISTS_PATH + "/createContactList", body=body)

    def list_created(self, name: str, **extra: Any) -> dict[str, Any]:
        response = self.list_create(name, **extra)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def lists(self, method: str = "GET", **kw: Any) -> requests.Response:
        kw.setdefault("query", {"type": "call"})
        return self.call(method, LISTS_PATH + "/getAllListDetails", **kw)

    def list_get(self, list_id: str) -> requests.Response:
        return self.call("GET", f"{LISTS_PATH}/{list_id}")

    def list_put(self, list_id: str, body: Any) -> requests.Response:
        return self.call("PUT", f"{LISTS_PATH}/{list_id}", body=body)

    def list_delete(self, list_id: str) -> requests.Response:
        return self.call("DELETE", f"{LISTS_PATH}/{list_id}")

    def trigger(self, cid: str, action: str, kind: str = "sms", *, path: str = "{c}/{id}",
                body: Any = None, **kw: Any) -> requests.Response:
        """A start or stop on `path` ({c}: the campaign prefix, {id}: the campaign id)."""
        kw.setdefault("query", {"campaignType": kind, "trigger": action})
        return self.call("POST", path.format(c=CAMPAIGN, id=cid, sid="{sid}"),
                         body={} if body is None else body, **kw)

    def status(self, cid: str, view: str | None = "status", body: Any = None) -> requests.Response:
        return self.call("POST", f"{CAMPAIGN}/{cid}/status", query={"view": view},
                         body={} if body is None else body)

    def schedule(self, name: str, body: Any, enable: str = "true",
                 **kw: Any) -> requests.Response:
        kw.setdefault("query", {"enableSchedule": enable, "campaignName": name})
        return self.call("POST", CAMPAIGN + "/schedule", body=body, **kw)

    def admin(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.base}/_emulator/{path}", json=body, timeout=10)


def errors(response: requests.Response) -> list[str]:
    """The `msg` of every documented error entry (asserting the shape on the way)."""
    data = response.json()
    assert set(data) == {"errors"}, data
    assert all(set(e) == {"msg", "code"} for e in data["errors"]), data
    return [e["msg"] for e in data["errors"]]


# The contact list the sample bodies name (the tenant must have it).
LISTS = ("CL Only 2020 Dec 4",)


def running(**kwargs: Any) -> Iterator[Api]:
    settings = {"stream_id": STREAM, "account_id": ACCOUNT, "client_id": CLIENT,
                "client_secret": SECRET, "rate_limit_per_minute": 0,
                "contact_lists": LISTS} | kwargs
    with start_emulator(**settings) as emulator:
        yield Api(emulator)
