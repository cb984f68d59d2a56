"""The admin API under `/_emulator/`: no auth, never rate limited, never logged. It lets a
test in another process change the tenant behind the tool's back and read what happened.

    GET    /_emulator/health                  {"ok": true}
    GET    /_emulator/campaigns               {"campaigns": [every stored document]}
    POST   /_emulator/campaigns               seed a campaign (a valid create body; its
                                              campaignType says sms or voice) -> 201; a
                                              voice one is Ready at once, and its contact
                                              lists are not checked
    GET    /_emulator/campaigns/{id}          the stored document, or 404
    PATCH  /_emulator/campaigns/{id}          merge top-level fields (no validation, as a
                                              console edit); bumps updatedAt
    DELETE /_emulator/campaigns/{id}          remove it (whatever its status)
    POST   /_emulator/campaigns/{id}/status   {"status": "Active"} (any documented status;
                                              it stays: no timed change follows)
    GET    /_emulator/contact-lists           {"contact_lists": [every list, answer form]}
    POST   /_emulator/contact-lists           {"name", "description"?, "allowDuplicates"?}
                                              -> 201 the new list (out of band; names may
                                              repeat)
    GET    /_emulator/contact-lists/{id}      the list (answer form), or 404
    PATCH  /_emulator/contact-lists/{id}      merge top-level fields (no validation, as a
                                              console edit); bumps updatedAt
    DELETE /_emulator/contact-lists/{id}      remove it, even while campaigns name it
    GET    /_emulator/requests[?op=create]    {"counts": {...}, "requests": [...]}
    DELETE /_emulator/requests                clear the request log
    GET    /_emulator/faults                  the live fault settings
    PUT    /_emulator/faults                  change some of them (see faults.py)
    POST   /_emulator/reset                   empty store and log, reset the rate window,
                                              the jti cache and the faults to start values;
                                              the start-time contact lists come back
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any, Callable

from provisioner.emulator.api import CAMPAIGN_TYPES, body_problems, new_campaign, ordered
from provisioner.emulator.contactlists import validate_create
from provisioner.emulator.reply import Reject, not_found, validation
from provisioner.emulator.store import STATUSES

if TYPE_CHECKING:
    from provisioner.emulator.server import Emulator

PREFIX = "/_emulator/"
_ONE = re.compile(r"^/_emulator/campaigns/(?P<id>[^/]+)(?P<status>/status)?$")
_ONE_LIST = re.compile(r"^/_emulator/contact-lists/(?P<id>[^/]+)$")
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
        ("GET", "/_emulator/contact-lists"):
            lambda: (200, {"contact_lists": emulator.lists.all_answered()}),
        ("POST", "/_emulator/contact-lists"): lambda: _add_list(emulator, body),
    }
    if (method, path) in simple:
        return simple[(method, path)]()
    found = _ONE_LIST.match(path)
    if found:
        return _one_list(emulator, method, found["id"], body)
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
    return emulator.store.update(campaign_id, changes, due=None)


def _seed(emulator: Emulator, body: Any) -> Answer:
    kind = body.get("campaignType") if isinstance(body, dict) else None
    kind = kind if kind in CAMPAIGN_TYPES else "sms"
    problems = body_problems(body, kind, full_put=False)
    if problems:
        raise validation(problems)
    fields = new_campaign(body, kind) | {"status": "Ready"}
    return 201, ordered(emulator.store.create(fields))


def _add_list(emulator: Emulator, body: Any) -> Answer:
    if not isinstance(body, dict):
        raise validation(["contact list body must be a JSON object {name, description?}"])
    full = {"description": "", **body, "source": "passiveApi"}
    problems = validate_create(full)
    if problems:
        raise validation(problems)
    added = emulator.lists.add(full["name"], full["description"],
                               full.get("allowDuplicates", False))
    return 201, added


def _one_list(emulator: Emulator, method: str, list_id: str, body: Any) -> Answer:
    store = emulator.store
    doc = store.list_get(list_id)
    if doc is None:
        raise not_found(f"Contact list {list_id} not found")
    if method == "GET":
        return 200, emulator.lists.answered(doc)
    if method == "PATCH":
        if not isinstance(body, dict) or "_id" in body:
            raise validation(["PATCH body must be an object of fields other than _id"])
        return 200, emulator.lists.answered(store.list_update(list_id, body) or doc)
    if method == "DELETE":
        return 200, store.list_delete(list_id)
    raise not_found(f"unknown admin method {method}")


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
