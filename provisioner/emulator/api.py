"""The documented campaign operations, once a request has passed routing, the rate limit
and the credential checks. Each returns `(status, body)` or raises `Reject`.

`gate(op)` is called right before anything is committed (or read, for reads), so an
injected 5xx never leaves a trace in the store.

Shapes follow create-sms-campaign-advanced-format-v2.md ("Sample Response") and
koreai-campaign-apis.md sections 1.2-1.7. Choices the docs leave open:
- `message.message` is stored and echoed as plain Base64 even when sent URL-encoded (the
  digest says the API may echo it in its own form), so clients must normalise;
- the response of an advanced campaign carries `experienceFlow` (a `cf-` id derived from
  the flow name), never `experienceFlowName`, exactly as the sample response;
- get by id answers `schedule` with `isRecurrenceEnabled` added (section 1.3);
- a missing `priority` defaults to "5", the UI's default (section 4);
- an Active campaign cannot be edited or deleted: 409 (UI docs, section 0.4).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from provisioner.emulator import listing
from provisioner.emulator.reply import Reject, not_found, validation
from provisioner.emulator.store import Store
from provisioner.emulator.validation import validate_campaign

# Body-derived fields of a stored campaign: a full PUT replaces exactly these.
STORED_FIELDS = ("name", "description", "dncLists", "priority", "dialingStrategy",
                 "experienceFlow", "message", "schedule", "contactLists", "format")
# Key order of the sample response's `data`.
RESPONSE_ORDER = ("_id", "name", "lname", "description", "status", "dncLists", "priority",
                  "dialingStrategy", "experienceFlow", "message", "isImported",
                  "isFiltersEnabled", "createdAt", "updatedAt", "schedule", "contactLists",
                  "format")
FLOW_NAMESPACE = uuid.UUID("0b6d3c1e-5f41-4a51-9d38-8a1f2f1f6c11")

Query = dict[str, list[str]]
Gate = Callable[[str], None]


def ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` with the sample response's key order first, any other keys after."""
    head = {key: doc[key] for key in RESPONSE_ORDER if key in doc}
    return head | {key: value for key, value in doc.items() if key not in head}


def success(message: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"status": "success", "message": message, "data": data}


def stored_fields(body: dict[str, Any]) -> dict[str, Any]:
    """What the server keeps of a validated body."""
    fields = {key: body[key] for key in STORED_FIELDS if key in body}
    fields.setdefault("priority", "5")
    if "message" in body:
        message = dict(body["message"])
        # Plain Base64 from here on, whichever form was sent.
        plain = unquote(message["message"])
        message["message"] = base64.b64encode(base64.b64decode(plain)).decode("ascii")
        fields["message"] = message
    if body.get("format") == "advanced":
        fields["experienceFlow"] = f"cf-{uuid.uuid5(FLOW_NAMESPACE, body['experienceFlowName'])}"
    return fields


def require_sms_type(query: Query) -> str:
    values = query.get("campaignType")
    if values != ["sms"]:
        raise validation(['campaignType query parameter is required and must be "sms"'])
    return "sms"


class CampaignApi:
    def __init__(self, store: Store, *, reject_duplicates: Callable[[], bool],
                 list_lag: Callable[[], float]) -> None:
        self.store = store
        self._reject_duplicates = reject_duplicates
        self._list_lag = list_lag

    def create(self, body: Any, query: Query, gate: Gate) -> tuple[int, dict[str, Any]]:
        self._validate(body, query, full_put=False)
        self._check_unique(body["name"], None)
        gate("create")
        doc = self.store.create(stored_fields(body), lag_seconds=self._list_lag())
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
        doc = self._existing(campaign_id)
        schedule = doc.get("schedule", {})
        doc["schedule"] = {"isSchedulingEnabled": schedule.get("isSchedulingEnabled", False),
                           "isRecurrenceEnabled": schedule.get("isRecurrenceEnabled", False)}
        return success(f"Campaign {doc['name']} retrieved successfully", ordered(doc))

    def update(self, campaign_id: str, body: Any, query: Query,
               gate: Gate) -> tuple[int, dict[str, Any]]:
        doc = self._editable(campaign_id, "edited")
        self._validate(body, query, full_put=True)
        self._check_unique(body["name"], campaign_id)
        gate("update")
        new = self.store.replace_body(doc["_id"], stored_fields(body), STORED_FIELDS)
        if new is None:
            raise not_found(f"Campaign {campaign_id} not found")
        return success(f"Campaign {new['name']} details updated successfully", ordered(new))

    def delete(self, campaign_id: str, query: Query, gate: Gate) -> tuple[int, dict[str, Any]]:
        require_sms_type(query)
        doc = self._editable(campaign_id, "deleted")
        gate("delete")
        if self.store.delete(campaign_id) is None:
            raise not_found(f"Campaign {campaign_id} not found")
        return success(f"Campaign {doc['name']} deleted successfully", ordered(doc))

    def trigger(self, campaign_id: str, query: Query, gate: Gate) -> tuple[int, dict[str, Any]]:
        """Start (`trigger=play`) or stop (`trigger=stop`) an SMS campaign (section 1.7)."""
        require_sms_type(query)
        action = query.get("trigger", [""])[0]
        if action not in ("play", "stop"):
            raise validation(["trigger query parameter must be play or stop"])
        doc = self._existing(campaign_id)
        if (action == "play") == (doc["status"] == "Active"):
            raise Reject(409, f"Campaign {doc['name']} is {doc['status']}: cannot {action}")
        gate("trigger")
        return self._apply_trigger(doc, action)

    def status(self, campaign_id: str, gate: Gate) -> tuple[int, dict[str, Any]]:
        gate("status")
        doc = self._existing(campaign_id)
        return 200, {"status": "success",
                     "data": {"id": doc["_id"], "status": doc["status"], "name": doc["name"]}}

    # -- helpers -------------------------------------------------------------------------
    def _apply_trigger(self, doc: dict[str, Any], action: str) -> tuple[int, dict[str, Any]]:
        if action == "play":
            new = self.store.update(doc["_id"], {
                "status": "Active", "campaignInstanceId": f"cid-{uuid.uuid4()}"})
            assert new is not None
            self.store.update(doc["_id"], {"campaignInstanceUpdatedAt": new["updatedAt"]})
            return 200, {"status": "Active", "message": "Campaign Started",
                         "updatedAt": new["updatedAt"]}
        new = self.store.update(doc["_id"], {"status": "Stopped"})
        assert new is not None
        return 200, {"status": "Stopped", "message": "Campaign Stopped",
                     "updatedAt": new["updatedAt"], "campaignExecutionType": "NORMAL"}

    def _validate(self, body: Any, query: Query, *, full_put: bool) -> None:
        query_type = require_sms_type(query)
        problems = validate_campaign(body, query_type=query_type, full_put=full_put)
        if problems:
            raise validation(problems)

    def _existing(self, campaign_id: str) -> dict[str, Any]:
        doc = self.store.get(campaign_id)
        if doc is None:
            raise not_found(f"Campaign {campaign_id} not found")
        return doc

    def _editable(self, campaign_id: str, verb: str) -> dict[str, Any]:
        doc = self._existing(campaign_id)
        if doc["status"] == "Active":
            raise Reject(409, f"Campaign {doc['name']} is Active and cannot be {verb}; stop it first")
        return doc

    def _check_unique(self, name: str, own_id: str | None) -> None:
        if not self._reject_duplicates():
            return
        clash = [doc for doc in self.store.find_by_name(name) if doc["_id"] != own_id]
        if clash:
            raise Reject(409, f"Campaign with name {name} already exists")
