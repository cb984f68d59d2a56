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

    def admin(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.base}/_emulator/{path}", json=body, timeout=10)


def errors(response: requests.Response) -> list[str]:
    """The `msg` of every documented error entry (asserting the shape on the way)."""
    data = response.json()
    assert set(data) == {"errors"}, data
    assert all(set(e) == {"msg", "code"} for e in data["errors"]), data
    return [e["msg"] for e in data["errors"]]


def running(**kwargs: Any) -> Iterator[Api]:
    settings = {"stream_id": STREAM, "account_id": ACCOUNT, "client_id": CLIENT,
                "client_secret": SECRET, "rate_limit_per_minute": 0} | kwargs
    with start_emulator(**settings) as emulator:
        yield Api(emulator)
