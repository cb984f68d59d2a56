"""The admin API under `/_emulator/`: no auth, never rate limited, never logged. It lets a
test in another process change the tenant behind the tool's back and read what happened.

    GET    /_emulator/health                  {"ok": true}
    GET    /_emulator/campaigns               {"campaigns": [every stored document]}
    POST   /_emulator/campaigns               seed a campaign (a valid create body) -> 201
    GET    /_emulator/campaigns/{id}          the stored document, or 404
    PATCH  /_emulator/campaigns/{id}          merge top-level fields (no validation, as a
                                              console edit); bumps updatedAt
    DELETE /_emulator/campaigns/{id}          remove it (whatever its status)
    POST   /_emulator/campaigns/{id}/status   {"status": "Active"} (any documented status)
    GET    /_emulator/requests[?op=create]    {"counts": {...}, "requests": [...]}
    DELETE /_emulator/requests                clear the request log
    GET    /_emulator/faults                  the live fault settings
    PUT    /_emulator/faults                  change some of them (see faults.py)
    POST   /_emulator/reset                   empty store and log, reset the rate window,
                                              the jti cache and the faults to start values
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any, Callable

from provisioner.emulator.api import ordered, stored_fields
from provisioner.emulator.reply import Reject, not_found, validation
from provisioner.emulator.store import STATUSES
from provisioner.emulator.validation import validate_campaign

if TYPE_CHECKING:
    from provisioner.emulator.server import Emulator

PREFIX = "/_emulator/"
_ONE = re.compile(r"^/_emulator/campaigns/(?P<id>[^/]+)(?P<status>/status)?$")
Answer = tuple[int, Any]


def handle(emulator: Emulator, method: str, path: str, query: dict[str, list[str]],
           body: Any) -> Answer:
    """Answer one admin call; raises `Reject` for bad input or unknown paths."""
    simple: dict[tuple[str, str], Callable[[], Answer]] = {
        ("GET", "/_emulator/health"): lambda: (200, {"ok": True}),
        ("GET", "/_emulator/campaigns"): lambda: (200, {"campaigns": emulator.store.all()}),
        ("POST", "/_emulator/campaigns"): lambda: _seed(emulator, body),
        ("GET", "/_emulator/requests"): lambda: _requests(emulator, query),
        ("DELETE", "/_emulator/requests"): lambda: _clear_requests(emulator),
        ("GET", "/_emulator/faults"): lambda: (200, emulator.faults.snapshot()),
        ("PUT", "/_emulator/faults"): lambda: _set_faults(emulator, body),
        ("POST", "/_emulator/reset"): lambda: _reset(emulator),
    }
    if (method, path) in simple:
        return simple[(method, path)]()
    found = _ONE.match(path)
    if found is None:
        raise not_found(f"unknown admin path {method} {path}")
    return _one(emulator, method, found["id"], bool(found["status"]), body)


def _one(emulator: Emulator, method: str, campaign_id: str, status: bool, body: Any) -> Answer:
    store = emulator.store
    if store.get(campaign_id) is None:
        raise not_found(f"Campaign {campaign_id} not found")
    if status and method == "POST":
        return 200, _set_status(emulator, campaign_id, body)
    if status:
        raise not_found(f"unknown admin path {method} .../status")
    if method == "GET":
        return 200, store.get(campaign_id)
    if method == "PATCH":
        if not isinstance(body, dict) or "_id" in body:
            raise validation(["PATCH body must be an object of fields other than _id"])
        return 200, store.update(campaign_id, body)
    if method == "DELETE":
        return 200, store.delete(campaign_id)
    raise not_found(f"unknown admin method {method}")


def _set_status(emulator: Emulator, campaign_id: str, body: Any) -> dict[str, Any] | None:
    status = body.get("status") if isinstance(body, dict) else None
    if status not in STATUSES:
        raise validation([f"status must be one of {', '.join(STATUSES)}"])
    changes: dict[str, Any] = {"status": status}
    if status == "Active":
        changes["campaignInstanceId"] = f"cid-{uuid.uuid4()}"
    return emulator.store.update(campaign_id, changes)


def _seed(emulator: Emulator, body: Any) -> Answer:
    problems = validate_campaign(body, query_type="sms", full_put=False)
    if problems:
        raise validation(problems)
    return 201, ordered(emulator.store.create(stored_fields(body)))


def _requests(emulator: Emulator, query: dict[str, list[str]]) -> Answer:
    entries = emulator.requests.entries()
    if "op" in query:
        entries = [e for e in entries if e["op"] in query["op"]]
    return 200, {"counts": emulator.requests.counts(), "requests": entries}


def _clear_requests(emulator: Emulator) -> Answer:
    emulator.requests.clear()
    return 200, {"ok": True}


def _set_faults(emulator: Emulator, body: Any) -> Answer:
    if not isinstance(body, dict):
        raise validation(["faults body must be a JSON object"])
    try:
        emulator.faults.update(body)
    except ValueError as exc:
        raise Reject(412, str(exc)) from None
    return 200, emulator.faults.snapshot()


def _reset(emulator: Emulator) -> Answer:
    emulator.reset()
    return 200, {"ok": True}
