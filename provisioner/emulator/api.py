"""The documented campaign operations, once a request has passed routing, the rate limit
and the credential checks. Each returns `(status, body)` or raises `Reject`.

`gate(op)` is called right before anything is committed (or read, for reads), so an
injected 5xx never leaves a trace in the store.

SMS shapes follow create-sms-campaign-advanced-format-v2.md ("Sample Response") and
koreai-campaign-apis.md sections 1.2-1.7; voice shapes are in voice.py. Choices the docs
leave open:
- `message.message` is stored and echoed as plain Base64 even when sent URL-encoded (the
  digest says the API may echo it in its own form), so clients must normalise;
- the response of an advanced campaign carries `experienceFlow` (a `cf-` id derived from
  the flow name), never `experienceFlowName`, exactly as the sample response;
- get by id answers `schedule` with `isRecurrenceEnabled` added (section 1.3), and with
  the startDateTime, endDateTime and recurrenceObject the schedule call stored (no sample
  shows a scheduled campaign; a client must be able to read back what it scheduled);
- a `schedule` object in a create or PUT body is stored (flags only) but schedules nothing;
  once the schedule call has set one, a PUT keeps it whatever its body says (only
  `enableSchedule=false` undoes it);
- a missing SMS `priority` defaults to "5", the UI's default (section 4);
- an Active campaign cannot be edited or deleted: 409 (UI docs, section 0.4);
- the `campaignType` query parameter (sms or voice) is required on create, PUT and delete,
  and on PUT and delete it must name the campaign's own type, else 400 (the update voice
  page's sample URL says `campaignType=sms` while its table says "voice": the lead's
  contract takes the table);
- a voice campaign is `Preparing` for `voice_preparing_seconds` after its create, then
  `Ready`; a PUT while Preparing is refused with 400 (a delete is not);
- every name in `contactLists` must be a contact list of the tenant, compared
  case-insensitively, else 400 `Contact list(s) not found: X, Y` (the pages: "Must exist in
  the system"); checked on create and PUT, after the body's own rules (412).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from provisioner.emulator import listing, voice
from provisioner.emulator.reply import Reject, not_found, validation
from provisioner.emulator.store import Store
from provisioner.emulator.validation import validate_campaign

if TYPE_CHECKING:
    from provisioner.emulator.faults import FaultConfig

# Body-derived fields of a stored SMS campaign: a full PUT replaces exactly these.
STORED_FIELDS = ("name", "description", "dncLists", "priority", "dialingStrategy",
                 "experienceFlow", "message", "schedule", "contactLists", "format")
# What a PUT of either type replaces (a PUT may also change a voice campaign's dialingMode).
BODY_FIELDS = tuple(dict.fromkeys(STORED_FIELDS + voice.STORED_FIELDS))
# Key order of the sample response's `data`.
RESPONSE_ORDER = ("_id", "name", "lname", "description", "status", "dncLists", "priority",
                  "dialingStrategy", "experienceFlow", "message", "isImported",
                  "isFiltersEnabled", "createdAt", "updatedAt", "schedule", "contactLists",
                  "format")
CAMPAIGN_TYPES = ("sms", "voice")

Query = dict[str, list[str]]
Gate = Callable[[str], None]


def ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` in its type's sample key order, any other keys after."""
    return voice.ordered(doc, voice.DOC_ORDER if voice.is_voice(doc) else RESPONSE_ORDER)


def success(message: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"status": "success", "message": message, "data": data}


def stored_fields(body: dict[str, Any]) -> dict[str, Any]:
    """What the server keeps of a validated SMS body."""
    fields = {key: body[key] for key in STORED_FIELDS if key in body}
    fields.setdefault("priority", "5")
    if "message" in body:
        message = dict(body["message"])
        # Plain Base64 from here on, whichever form was sent.
        plain = unquote(message["message"])
        message["message"] = base64.b64encode(base64.b64decode(plain)).decode("ascii")
        fields["message"] = message
    if body.get("format") == "advanced":
        fields["experienceFlow"] = voice.flow_id(body["experienceFlowName"])
    return fields


def new_campaign(body: dict[str, Any], campaign_type: str) -> dict[str, Any]:
    """Every field of a new campaign but its id, `lname` and timestamps."""
    if campaign_type == "voice":
        return voice.stored_fields(body) | {"status": "Preparing", "isFiltersEnabled": False}
    return stored_fields(body) | {"status": "Ready", "isImported": False,
                                  "isFiltersEnabled": False}


def body_problems(body: Any, campaign_type: str, *, full_put: bool) -> list[str]:
    if campaign_type == "voice":
        return voice.validate_voice(body)
    return validate_campaign(body, query_type=campaign_type, full_put=full_put)


def campaign_type(query: Query) -> str:
    """The `campaignType` query parameter: sms or voice (412 when missing or other)."""
    values = query.get("campaignType")
    if values is None or len(values) != 1 or values[0] not in CAMPAIGN_TYPES:
        raise validation(["campaignType query parameter is required: sms or voice"])
    return values[0]


def type_of(doc: dict[str, Any]) -> str:
    return "voice" if voice.is_voice(doc) else "sms"


def full_schedule(doc: dict[str, Any]) -> dict[str, Any]:
    """The `schedule` a get answers: both flags always (section 1.3), then whatever the
    schedule call stored (startDateTime, endDateTime, recurrenceObject)."""
    schedule: dict[str, Any] = doc.get("schedule", {})
    flags = {"isSchedulingEnabled": schedule.get("isSchedulingEnabled", False),
             "isRecurrenceEnabled": schedule.get("isRecurrenceEnabled", False)}
    return flags | schedule


def existing(store: Store, campaign_id: str) -> dict[str, Any]:
    """The campaign's document; 404 when there is none."""
    doc = store.get(campaign_id)
    if doc is None:
        raise not_found(f"Campaign {campaign_id} not found")
    return doc


def of_type(store: Store, campaign_id: str, kind: str) -> dict[str, Any]:
    """The campaign, when `kind` (the campaignType query parameter) is its type; else 400."""
    doc = existing(store, campaign_id)
    if type_of(doc) != kind:
        raise Reject(400, f"Campaign {doc['name']} is a {type_of(doc)} campaign: "
                          f"campaignType={kind} does not match")
    return doc


class CampaignApi:
    def __init__(self, store: Store, *, settings: Callable[[], FaultConfig]) -> None:
        self.store = store
        self._settings = settings

    def create(self, body: Any, query: Query, gate: Gate) -> tuple[int, dict[str, Any]]:
        kind = campaign_type(query)
        self._validate(body, kind, full_put=False)
        self._check_unique(body["name"], None)
        gate("create")
        settings = self._settings()
        if kind == "voice":
            due = ("Ready", time.time() + settings.voice_preparing_seconds)
            doc = self.store.create(new_campaign(body, kind), lag_seconds=settings.list_lag_seconds,
                                    due=due)
            return success(f"Campaign {doc['name']} creation in progress",
                           voice.create_answer(doc))
        doc = self.store.create(new_campaign(body, kind), lag_seconds=settings.list_lag_seconds)
        return success(f"Campaign {doc['name']} creation in progress", ordered(doc))

    def list(self, body: Any, gate: Gate) -> tuple[int, dict[str, Any]]:
        problems = listing.validate_list(body)
        if problems:
            raise validation(problems)
        gate("list")
        data = listing.list_page(self.store.visible(), body)
        return success("Campaigns retrieved successfully", data)

    def get(self, campaign_id: str, gate: Gate) -> tuple[int, dict[str, Any]]:
        gate("get")
        doc = existing(self.store, campaign_id)
        doc["schedule"] = full_schedule(doc)
        return success(f"Campaign {doc['name']} retrieved successfully", ordered(doc))

    def update(self, campaign_id: str, body: Any, query: Query,
               gate: Gate) -> tuple[int, dict[str, Any]]:
        kind = campaign_type(query)
        doc = of_type(self.store, campaign_id, kind)
        self._check_not_active(doc, "edited")
        if doc["status"] == "Preparing":
            raise Reject(400, f"Campaign {doc['name']} is Preparing and cannot be edited "
                              "until it is Ready")
        self._validate(body, kind, full_put=True)
        self._check_unique(body["name"], campaign_id)
        gate("update")
        fields = {key: value for key, value in new_campaign(body, kind).items()
                  if key in BODY_FIELDS}
        if "startDateTime" in doc.get("schedule", {}):   # set by the schedule call: kept
            fields["schedule"] = doc["schedule"]
        new = self.store.replace_body(doc["_id"], fields, BODY_FIELDS)
        if new is None:
            raise not_found(f"Campaign {campaign_id} not found")
        _, answer = success(f"Campaign {new['name']} details updated successfully", ordered(new))
        if kind == "voice":   # the update voice page's sample repeats the id at the top
            answer = {"status": "success", "message": answer["message"], "id": new["_id"],
                      "data": answer["data"]}
        return 200, answer

    def delete(self, campaign_id: str, query: Query, gate: Gate) -> tuple[int, dict[str, Any]]:
        doc = of_type(self.store, campaign_id, campaign_type(query))
        self._check_not_active(doc, "deleted")
        gate("delete")
        if self.store.delete(campaign_id) is None:
            raise not_found(f"Campaign {campaign_id} not found")
        return success(f"Campaign {doc['name']} deleted successfully", ordered(doc))

    # -- helpers -------------------------------------------------------------------------
    def _validate(self, body: Any, kind: str, *, full_put: bool) -> None:
        problems = body_problems(body, kind, full_put=full_put)
        if problems:
            raise validation(problems)
        known = self.store.list_names()
        missing = [name for name in body["contactLists"] if name.lower() not in known]
        if missing:
            raise Reject(400, f"Contact list(s) not found: {', '.join(missing)}")

    def _check_not_active(self, doc: dict[str, Any], verb: str) -> None:
        if doc["status"] == "Active":
            raise Reject(409, f"Campaign {doc['name']} is Active and cannot be {verb}; stop it first")

    def _check_unique(self, name: str, own_id: str | None) -> None:
        if not self._settings().reject_duplicate_names:
            return
        clash = [doc for doc in self.store.find_by_name(name) if doc["_id"] != own_id]
        if clash:
            raise Reject(409, f"Campaign with name {name} already exists")
