"""The campaign and contact list bodies as the API expects them: message encoding, canonical
digest, and the normalisation that makes a body read back from the API comparable with one
we sent. A campaign's schedule: `body.schedule` (its normal form, `schedule_call` for the
schedule endpoint, `sent_body` for create and update).

Pure functions only; no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from provisioner.body.schedule import normal_schedule as normal_schedule
from provisioner.body.schedule import schedule_call as schedule_call
from provisioner.body.schedule import sent_body as sent_body

# The resource kinds a spec document declares (its `kind:`, the tool's own key, never sent).
CAMPAIGN, CONTACT_LIST = "Campaign", "ContactList"
KINDS = (CAMPAIGN, CONTACT_LIST)

# Fields the API adds to a campaign on its own; they are never drift and never sent.
# (create-sms-campaign-advanced-format-v2.md, "Sample Response"; digest section 1.2.)
# `connection` is a voice campaign's queue as the create answer names it (read back as
# queue_name by normalise_remote).
SERVER_FIELDS = frozenset({
    "_id", "id", "lname", "status", "createdAt", "updatedAt", "experienceFlow",
    "isImported", "isFiltersEnabled", "totalMessagesSent", "direction",
    "campaignInstanceId", "campaignInstanceUpdatedAt", "campaignExecutionType", "connection",
})

# Nested fields a get echoes with a server default although the create body never carries
# them: get-sms-campaign-by-id-v2 shows `schedule: {isSchedulingEnabled, isRecurrenceEnabled}`
# (koreai-campaign-apis.md §1.3); the voice create answers carry
# `dialingStrategy.useSystemMappings: false` (create-voice-campaign-agentless-v2, "Sample
# Response"). At their default they are not drift.
SERVER_DEFAULTS = {("schedule", "isRecurrenceEnabled"): False,
                   ("dialingStrategy", "useSystemMappings"): False}

# Nested fields an answer adds whatever their value: the voice create answers carry the DNC
# list's id beside the name sent (create-voice-campaign-agentless-v2, "Sample Response").
SERVER_SUBFIELDS = (("dncLists", "id"),)

# The numbers of a voice campaign's dialingStrategy (create-voice-campaign-agentless-v2,
# "Request Parameters"): integers, sent and compared as integers.
DIALING_NUMBERS = ("maxAttemptsPerRecord", "defaultRetryPeriod", "maxRingTime")

# Fields of the create body, in the order of the page's sample request. Anything else in a
# body read back from the API is ignored when comparing.
# Decisions where the docs contradict themselves (koreai-campaign-apis.md §0, §1.1):
# - `dncLists` is sent at the top level, as both the sample request and the sample response
#   carry it; the parameter tables' `data.dncLists` reads as the response envelope's `data`.
# - `format` may be `simple` or `advanced`: the advanced page's table says "Use simple" but
#   its own sample sends "advanced", and the simple pages send "simple".
# The voice fields (dialingMode, queue_name, enableMachineDetect; create-voice-campaign-*-v2)
# come where an SMS body has none, so an SMS body keeps its order and its digest.
BODY_FIELDS = (
    "name", "description", "contactLists", "dncLists", "priority", "dialingMode", "format",
    "campaignType", "message", "dialingStrategy", "schedule", "experienceFlowName",
    "queue_name", "enableMachineDetect", "maxSkips",
)

# A contact list's body in normal form (create-contact-list-v2): every field always there,
# description "" and allowDuplicates false when the spec leaves them out. The client adds
# `source` on create; an update sends name and description only (update-contact-list-v2).
LIST_FIELDS = ("name", "description", "allowDuplicates")


def encode_message(text: str) -> str:
    """Encode SMS text the way the docs' samples carry `message.message`.

    Decision: Base64 of the UTF-8 text, then URL-encoded (`=` becomes `%3D`), because every
    sample on the create pages shows that form (koreai-campaign-apis.md, "Message encoding"),
    and a server that URL-decodes first accepts it whichever reading is right.
    """
    return base64.b64encode(text.encode("utf-8")).decode("ascii").translate(_URL_ENCODED)


# quote(..., safe="") of Base64 text, without urllib's per-character Python loop: of the
# Base64 alphabet only these three are not URL-safe.
_URL_ENCODED = str.maketrans({"+": "%2B", "/": "%2F", "=": "%3D"})


def decode_message(value: str) -> str:
    """Return the text of a `message.message`, plain or URL-encoded Base64.

    Raises ValueError when it is not Base64 of UTF-8 text.
    """
    raw = (unquote(value) if "%" in value else value).strip()
    try:
        data = base64.b64decode(raw, validate=True)
        return data.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(f"not Base64 of UTF-8 text ({exc})") from None


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: the bytes a digest is taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Top-level fields the API fills in with a default when a create leaves them out: the create
# page says `isSchedulingEnabled: false` triggers the campaign manually/immediately, which is
# what a body without `schedule` gets. Absent and default compare equal.
# Likewise a missing `priority` is stored as "5", the documented UI default
# (koreai-campaign-apis.md §4).
TOP_DEFAULTS: dict[str, Any] = {"schedule": {"isSchedulingEnabled": False}, "priority": "5"}
_ABSENT = object()


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """The body with fields at their server default removed, so that a spec that leaves a
    field out and a tenant that echoes its default compare equal."""
    for key, value in TOP_DEFAULTS.items():   # a plain loop: this runs per campaign
        if body.get(key) == value:
            return {k: v for k, v in body.items() if TOP_DEFAULTS.get(k, _ABSENT) != v}
    return body


def digest(body: dict[str, Any]) -> str:
    """`sha256:<hex>` of the canonical JSON of a normalised body (defaults folded away)."""
    data = canonical_json(comparable(body)).encode("utf-8")
    return "sha256:" + hashlib.sha256(data).hexdigest()


# Sent but never echoed: the create response carries `experienceFlow: "cf-..."` (an id) in
# place of `experienceFlowName` (create page, "Sample Response"), and no call maps one to
# the other. A refresh therefore cannot see a flow changed in the console; it keeps the
# name last applied. Likewise a voice campaign's `enableMachineDetect` is sent as
# no|detect|disconnect but echoed as a boolean (the same page): only a string echo is read.
WRITE_ONLY = ("experienceFlowName", "enableMachineDetect")


def normalise_remote(data: dict[str, Any],
                     known: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reduce a campaign read back from the API to the body fields we send.

    Drops server fields, and re-encodes the message in our canonical form, since the API
    may echo it plain or URL-encoded (koreai-campaign-apis.md, "Message encoding"). Fields
    the API never echoes (WRITE_ONLY) are taken from `known`, the body last applied. A
    voice campaign's queue echoed as `connection` is its queue_name.
    """
    body = {key: data[key] for key in BODY_FIELDS if key in data}
    if "queue_name" not in body and isinstance(data.get("connection"), str):
        body["queue_name"] = data["connection"]
    if "enableMachineDetect" in body and not isinstance(body["enableMachineDetect"], str):
        del body["enableMachineDetect"]   # the boolean echo says nothing of the mode sent
    for key in WRITE_ONLY:
        if key not in body and known and key in known:
            body[key] = known[key]
    # a voice answer may leave campaignType out (create-voice-campaign-agentless-v2 does)
    body.setdefault("campaignType", "voice" if "dialingMode" in body else "sms")
    body = {key: body[key] for key in BODY_FIELDS if key in body}
    if isinstance(body.get("dialingStrategy"), dict):
        body["dialingStrategy"] = whole_numbers(body["dialingStrategy"])
    if isinstance(body.get("schedule"), dict):
        body["schedule"] = normal_schedule(body["schedule"], remote=True)
    message = body.get("message")
    if isinstance(message, dict) and isinstance(message.get("message"), str):
        try:
            text = decode_message(message["message"])
        except ValueError:
            pass
        else:
            body["message"] = {**message, "message": encode_message(text)}
    for (outer, inner), default in SERVER_DEFAULTS.items():
        section = body.get(outer)
        if isinstance(section, dict) and section.get(inner, default) == default and inner in section:
            body[outer] = {k: v for k, v in section.items() if k != inner}
    for outer, inner in SERVER_SUBFIELDS:
        section = body.get(outer)
        if isinstance(section, dict) and inner in section:
            body[outer] = {k: v for k, v in section.items() if k != inner}
    return body


def whole_numbers(strategy: dict[str, Any]) -> dict[str, Any]:
    """A dialingStrategy whose DIALING_NUMBERS written as whole floats (3.0) are integers,
    so that 3 and 3.0 have one digest; the same object when there are none."""
    floats = [key for key in DIALING_NUMBERS if isinstance(strategy.get(key), float)
              and strategy[key].is_integer()]
    if not floats:
        return strategy
    return {key: int(value) if key in floats else value for key, value in strategy.items()}


def contact_list_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The normal form of a contact list (LIST_FIELDS, defaults filled in) from a valid spec
    document or anything shaped like one."""
    description = spec.get("description")
    return {"name": spec["name"],
            "description": description if isinstance(description, str) else "",
            "allowDuplicates": spec.get("allowDuplicates") is True}


def normalise_remote_list(data: Mapping[str, Any],
                          known: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A contact list read back from the API (a list item, a get or create answer, or the
    `body` an update echoes) in normal form. An answer without allowDuplicates (the update
    echo carries only what was sent) keeps the value last applied, `known`'s."""
    if "allowDuplicates" not in data and known is not None:
        data = {**data, "allowDuplicates": known.get("allowDuplicates")}
    return contact_list_body(data)


def campaign_type(data: Mapping[str, Any]) -> str:
    """A campaign's type in an answer: its `campaignType`, else "voice" when it has a
    `dialingMode` (voice answers may leave the type out), else "sms"; "" for a contact
    list (an answer with `listType`)."""
    if "listType" in data:
        return ""
    declared = data.get("campaignType")
    if declared in ("sms", "voice"):
        return str(declared)
    return "voice" if "dialingMode" in data else "sms"


def campaign_id(data: Mapping[str, Any]) -> str:
    """A campaign's id in an answer: create and get answer `_id`, list items carry `id`
    (koreai-campaign-apis.md §0.2, §1.5); "" when there is neither."""
    return str(data.get("_id") or data.get("id") or "")


# -- fields the console owns (`ignoreChanges`, issue 15) -----------------------------------
# A path is `$.field` or `$.field.sub...`: mapping keys only (a list is owned whole).

def _keys(path: str) -> list[str]:
    return path.removeprefix("$.").split(".")


def without(body: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """A copy of `body` without the values at `paths` (what is compared when the console
    owns them)."""
    return take(body, {}, paths)


def take(body: dict[str, Any], source: Mapping[str, Any], paths: Sequence[str]
         ) -> dict[str, Any]:
    """A copy of `body` whose values at `paths` are `source`'s (left out where `source`
    has none): what an update sends for fields the console owns."""
    import copy   # here: only campaigns with ignoreChanges come this way

    out = copy.deepcopy(body)
    for path in paths:
        *parents, last = _keys(path)
        there: Any = source
        for key in parents:
            there = there.get(key) if isinstance(there, Mapping) else None
        has = isinstance(there, Mapping) and last in there
        here: Any = out
        for key in parents:   # made only where a value is put in
            if not isinstance(here, dict):
                break
            here = here.setdefault(key, {}) if has else here.get(key)
        if isinstance(here, dict):
            if has:
                here[last] = copy.deepcopy(there[last])
            else:
                here.pop(last, None)
    return out
