"""What differs for voice campaigns (`campaignType=voice`): the body rules, what is stored,
and the answer shapes (koreai-campaign-apis.md section 1.9; create-voice-campaign-agentless,
-progressive and -preview-v2, get-, update- and delete-voice-campaign-v2, get-all-campaigns-v2).

Body rules: every field the pages mark required is required on create and on PUT alike
(name, description, contactLists, dncLists, priority, dialingMode, dialingStrategy with
dialingOrder, maxAttemptsPerRecord, defaultRetryPeriod and maxRingTime). Choices where the
pages are silent or contradict themselves, all strict:
- the three dialingStrategy numbers must be JSON integers (3, never 3.0, "3" or true) within
  the documented ranges;
- `experienceFlowName` is required for Agentless and refused for Progressive and Preview;
  `queue_name` the other way round (the update page marks both required, but its own
  Agentless sample sends no queue_name);
- `enableMachineDetect` (no|detect|disconnect) is Agentless only and optional (the
  Agentless table says required; the lead's contract makes it optional; the Progressive and
  Preview v2 pages dropped it);
- `maxSkips` (a JSON integer >= 0) is Preview only and optional: the Preview pages mark it
  required, the lead's contract does not list it, and the update page's Agentless sample
  omits it;
- `message` and `format` are SMS fields, refused in a voice body (and an SMS body refuses
  dialingMode, queue_name, enableMachineDetect, maxSkips and the four voice
  dialingStrategy fields: validation.py);
- DNC lists are checked for shape only: no documented API lists them (section 1.11), so the
  emulator cannot know which exist.

Answers, as the samples show them:
- create answers `data` with `id` (not `_id`), `status: "Preparing"`, no `schedule`, and
  for Agentless `enableMachineDetect: false` whatever was sent (a boolean echo of a string
  field); get, PUT and delete answer `_id`; the PUT answer repeats the id as a top-level `id`;
- `dncLists` comes back as `{id, name}` (the id a `cl-` id derived from the name);
  `dialingStrategy` gains `useSystemMappings: false`; Agentless answers `experienceFlow`
  (a `cf-` id derived from the flow name), never `experienceFlowName`;
- `queue_name` is never echoed: it comes back as `connection` (the list sample's field; the
  lead's contract adds it to create and get too); `maxSkips` is echoed as sent;
- `enableMachineDetect` is not kept: no get or list sample shows it;
- list items carry `_id` (SMS items carry `id`), `dialingMode`, `connection` and
  `campaignInstanceUpdatedAt` (the last update when the campaign never ran), no `lname`.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from provisioner.emulator.validation import (
    DIALING_FIELDS, FIELD_CHECKS, check_campaign_type, check_dialing, check_text, is_integer,
)

VOICE_FIELDS = ("name", "description", "contactLists", "dncLists", "priority", "dialingMode",
                "campaignType", "dialingStrategy", "schedule", "experienceFlowName",
                "queue_name", "enableMachineDetect", "maxSkips")
REQUIRED = ("name", "description", "contactLists", "dncLists", "priority", "dialingMode",
            "campaignType", "dialingStrategy")
DIALING_MODES = ("Agentless", "Progressive", "Preview")
QUEUE_MODES = ("Progressive", "Preview")
MACHINE_DETECT = ("no", "detect", "disconnect")
DIALING_ORDERS = ("FIFO", "LIFO")
# The voice pages' ranges: attempts per record, minutes between retries, seconds of ringing.
VOICE_NUMBERS = {"maxAttemptsPerRecord": (1, 100), "defaultRetryPeriod": (1, 1440),
                 "maxRingTime": (5, 120)}
VOICE_DIALING_FIELDS = (*DIALING_FIELDS, "dialingOrder", *VOICE_NUMBERS)
# Which dialing modes a mode-specific field belongs to.
MODE_FIELDS = {"experienceFlowName": ("Agentless",), "enableMachineDetect": ("Agentless",),
               "queue_name": QUEUE_MODES, "maxSkips": ("Preview",)}

# Body-derived fields of a stored voice campaign (a full PUT replaces exactly these).
STORED_FIELDS = ("name", "description", "contactLists", "dncLists", "priority", "dialingMode",
                 "dialingStrategy", "experienceFlow", "connection", "maxSkips", "schedule")
# Key orders of the samples' `data`.
DOC_ORDER = ("_id", "name", "lname", "description", "dncLists", "priority", "dialingMode",
             "dialingStrategy", "experienceFlow", "status", "maxSkips", "isFiltersEnabled",
             "createdAt", "updatedAt", "schedule", "connection", "contactLists")
CREATE_ORDER = ("name", "lname", "description", "dncLists", "priority", "dialingMode",
                "dialingStrategy", "experienceFlow", "status", "maxSkips", "isFiltersEnabled",
                "createdAt", "updatedAt", "id", "connection", "contactLists",
                "enableMachineDetect")
ITEM_ORDER = ("_id", "name", "description", "dncLists", "priority", "dialingMode", "status",
              "isFiltersEnabled", "createdAt", "updatedAt", "campaignInstanceUpdatedAt",
              "schedule", "connection", "contactLists")

FLOW_NAMESPACE = uuid.UUID("0b6d3c1e-5f41-4a51-9d38-8a1f2f1f6c11")
DNC_NAMESPACE = uuid.UUID("6f1c2a4e-93b7-4d0c-8e55-2b7c4f0d9a31")


def flow_id(flow_name: str) -> str:
    """The `cf-` id an experience flow name resolves to (stable, as on a tenant)."""
    return f"cf-{uuid.uuid5(FLOW_NAMESPACE, flow_name)}"


def is_voice(doc: dict[str, Any]) -> bool:
    """Whether a stored campaign is a voice one (only voice campaigns have a dialingMode)."""
    return "dialingMode" in doc


# -- body rules ----------------------------------------------------------------------------
def validate_voice(body: Any) -> list[str]:
    """Problems with a voice create or PUT body; empty when it is acceptable."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    problems = [f"$.{key} is not allowed in a voice campaign" if key in ("message", "format")
                else f"$.{key} is not an allowed field"
                for key in body if key not in VOICE_FIELDS]
    mode = body.get("dialingMode")
    required = list(REQUIRED)
    if mode == "Agentless":
        required.append("experienceFlowName")
    elif mode in QUEUE_MODES:
        required.append("queue_name")
    problems += [f"$.{key} is required" for key in required if key not in body]
    if mode in DIALING_MODES:
        problems += [f"$.{key} is not allowed with dialingMode {mode} (only {' or '.join(modes)})"
                     for key, modes in MODE_FIELDS.items() if key in body and mode not in modes]
    for key, check in _CHECKS.items():
        if key in body:
            problems += check(body[key], f"$.{key}")
    return problems + check_campaign_type(body.get("campaignType"), "voice")


def _check_dialing_mode(value: Any, path: str) -> list[str]:
    return [] if value in DIALING_MODES else [f"{path} must be Agentless, Progressive or Preview"]


def _check_machine_detect(value: Any, path: str) -> list[str]:
    return [] if value in MACHINE_DETECT else [f"{path} must be no, detect or disconnect"]


def _check_max_skips(value: Any, path: str) -> list[str]:
    return [] if is_integer(value) and value >= 0 else [f"{path} must be a whole number >= 0"]


def _check_strategy(value: Any, path: str) -> list[str]:
    problems = check_dialing(value, path, VOICE_DIALING_FIELDS)
    if not isinstance(value, dict):
        return problems
    if value.get("dialingOrder") not in DIALING_ORDERS:
        problems.append(f"{path}.dialingOrder is required: FIFO or LIFO")
    for key, (low, high) in VOICE_NUMBERS.items():
        number: Any = value.get(key)
        if key not in value:
            problems.append(f"{path}.{key} is required: a whole number from {low} to {high}")
        elif not (is_integer(number) and low <= number <= high):
            problems.append(f"{path}.{key} must be a whole number from {low} to {high}")
    return problems


_CHECKS = {
    **{key: check for key, check in FIELD_CHECKS.items() if key not in ("format", "message")},
    "dialingMode": _check_dialing_mode, "dialingStrategy": _check_strategy,
    "queue_name": check_text, "enableMachineDetect": _check_machine_detect,
    "maxSkips": _check_max_skips,
}


# -- what is stored and answered -------------------------------------------------------------
def stored_fields(body: dict[str, Any]) -> dict[str, Any]:
    """What the server keeps of a validated voice body (status and flags excluded)."""
    fields = {key: copy.deepcopy(body[key]) for key in STORED_FIELDS if key in body}
    name = body["dncLists"]["name"]
    fields["dncLists"] = {"id": f"cl-{uuid.uuid5(DNC_NAMESPACE, name.lower())}", "name": name}
    fields["dialingStrategy"]["useSystemMappings"] = False
    if "experienceFlowName" in body:
        fields["experienceFlow"] = flow_id(body["experienceFlowName"])
    if "queue_name" in body:
        fields["connection"] = body["queue_name"]
    return fields


def ordered(doc: dict[str, Any], order: tuple[str, ...] = DOC_ORDER) -> dict[str, Any]:
    """`doc` with a sample's key order first, any other keys after."""
    head = {key: doc[key] for key in order if key in doc}
    return head | {key: value for key, value in doc.items() if key not in head}


def create_answer(doc: dict[str, Any]) -> dict[str, Any]:
    """The `data` of a voice create answer (the create pages' sample responses)."""
    data = {key: value for key, value in doc.items() if key not in ("_id", "schedule")}
    data["id"] = doc["_id"]
    if doc["dialingMode"] == "Agentless":
        data["enableMachineDetect"] = False
    return ordered(data, CREATE_ORDER)


def list_item(doc: dict[str, Any]) -> dict[str, Any]:
    """One voice item of the list call (get-all-campaigns-v2's voice sample)."""
    schedule = doc.get("schedule", {})
    item = {key: copy.deepcopy(doc[key]) for key in ITEM_ORDER if key in doc}
    item["campaignInstanceUpdatedAt"] = doc.get("campaignInstanceUpdatedAt", doc["updatedAt"])
    item["schedule"] = {"isSchedulingEnabled": schedule.get("isSchedulingEnabled", False),
                        "isRecurrenceEnabled": schedule.get("isRecurrenceEnabled", False)}
    return ordered(item, ITEM_ORDER)
