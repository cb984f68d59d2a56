"""The paged list call `getAllCampaignDetails` (koreai-campaign-apis.md section 1.2).

Decisions the docs leave open, made strict so a client cannot lean on leniency:
- page size: default `DEFAULT_PAGE_SIZE`; a `limit` above `MAX_PAGE_SIZE` (or below 1) is
  refused with 412, never clamped, so a client learns the real bound instead of silently
  getting fewer items than it asked for;
- `skip` wins over `page` (1-based) when both are given;
- default order is `createdAt` ascending, ties broken by id, so paging is stable;
- `type` picks SMS or voice campaigns (voice items have their own shape: voice.py);
  `filters.dialingMode` (Agentless, Progressive or Preview) is refused unless `type` is voice
  (the page: "applies only to voice campaigns").
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Callable

from provisioner.emulator import voice
from provisioner.emulator.store import STATUSES, parse_iso
from provisioner.emulator.validation import unknown_keys

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10
LIST_FIELDS = ("type", "limit", "skip", "page", "startDate", "endDate", "sortBy", "filters")
SORT_KEYS = ("name", "createdAt", "updatedAt")
# SMS list items carry `id`, not `_id`, plus instance fields (section 1.2, DOC-SAMPLE).
ITEM_FIELDS = ("name", "lname", "description", "status", "priority", "format", "contactLists",
               "isImported", "createdAt", "updatedAt")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_list(body: Any) -> list[str]:
    """Problems with a list request body; empty when it is acceptable."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    problems = unknown_keys(body, LIST_FIELDS, "$")
    if body.get("type") not in ("sms", "voice"):
        problems.append("$.type is required: sms or voice")
    limit = body.get("limit", DEFAULT_PAGE_SIZE)
    if not (_is_int(limit) and 1 <= limit <= MAX_PAGE_SIZE):
        problems.append(f"$.limit must be an integer from 1 to {MAX_PAGE_SIZE}")
    if "skip" in body and not (_is_int(body["skip"]) and body["skip"] >= 0):
        problems.append("$.skip must be an integer >= 0")
    if "page" in body and not (_is_int(body["page"]) and body["page"] >= 1):
        problems.append("$.page must be an integer >= 1")
    for key in ("startDate", "endDate"):
        if key in body and not _is_iso(body[key]):
            problems.append(f"$.{key} must be an ISO 8601 date-time")
    return (problems + _check_sort(body.get("sortBy"))
            + _check_filters(body.get("filters"), voice_type=body.get("type") == "voice"))


def _is_iso(value: Any) -> bool:
    try:
        parse_iso(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _check_sort(value: Any) -> list[str]:
    if value is None:
        return []
    ok = (isinstance(value, dict) and len(value) == 1
          and all(k in SORT_KEYS and v in ("asc", "desc") for k, v in value.items()))
    return [] if ok else ['$.sortBy must be one of {"name"|"createdAt"|"updatedAt": "asc"|"desc"}']


def _check_filters(value: Any, *, voice_type: bool) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, dict):
        return ["$.filters must be an object"]
    problems = unknown_keys(value, ("status", "priority", "dialingMode"), "$.filters")
    status = value.get("status", [])
    if not (isinstance(status, list) and all(s in STATUSES for s in status)):
        problems.append(f"$.filters.status must be an array of {', '.join(STATUSES)}")
    priority = value.get("priority", [])
    if not (isinstance(priority, list) and all(_is_int(p) and 1 <= p <= 5 for p in priority)):
        problems.append("$.filters.priority must be an array of numbers 1 to 5")
    modes = value.get("dialingMode", [])
    if not (isinstance(modes, list) and all(m in voice.DIALING_MODES for m in modes)):
        problems.append("$.filters.dialingMode must be an array of Agentless, Progressive, Preview")
    elif "dialingMode" in value and not voice_type:
        problems.append("$.filters.dialingMode applies to voice campaigns only")
    return problems


def list_page(docs: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """The `data` of a list response for a validated body over `docs` (oldest first)."""
    want_voice = body["type"] == "voice"
    chosen = _filtered([doc for doc in docs if voice.is_voice(doc) == want_voice], body)
    chosen = _sorted(chosen, body.get("sortBy"))
    limit = body.get("limit", DEFAULT_PAGE_SIZE)
    skip = body["skip"] if "skip" in body else (body.get("page", 1) - 1) * limit
    item = voice.list_item if want_voice else list_item
    results = [item(doc) for doc in chosen[skip:skip + limit]]
    return {"results": results, "skip": skip, "limit": limit,
            "hasMore": skip + len(results) < len(chosen),
            "totalPages": math.ceil(len(chosen) / limit), "totalResults": len(chosen)}


def list_item(doc: dict[str, Any]) -> dict[str, Any]:
    """One SMS item of the list call."""
    item: dict[str, Any] = {"id": doc["_id"]}
    item.update({key: doc[key] for key in ITEM_FIELDS if key in doc})
    item["totalMessagesSent"] = doc.get("totalMessagesSent", 0)
    item["campaignInstanceId"] = doc.get("campaignInstanceId")
    item["campaignInstanceUpdatedAt"] = doc.get("campaignInstanceUpdatedAt")
    item["campaignExecutionType"] = "NORMAL"
    return item


def _filtered(docs: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    filters = body.get("filters") or {}
    statuses = set(filters.get("status") or STATUSES)
    priorities = {str(p) for p in filters.get("priority") or range(1, 6)}
    modes = set(filters.get("dialingMode") or voice.DIALING_MODES)
    start = _bound(body.get("startDate"))
    end = _bound(body.get("endDate"))
    return [doc for doc in docs
            if doc.get("status") in statuses and str(doc.get("priority", "5")) in priorities
            and doc.get("dialingMode", "Agentless") in modes
            and (start is None or parse_iso(doc["createdAt"]) >= start)
            and (end is None or parse_iso(doc["createdAt"]) <= end)]


def _bound(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = parse_iso(value)
    # A date without a zone is read as UTC so it compares with the stored stamps.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sorted(docs: list[dict[str, Any]], sort_by: dict[str, str] | None) -> list[dict[str, Any]]:
    if not sort_by:
        return docs
    ((key, order),) = sort_by.items()
    field = "lname" if key == "name" else key
    pick: Callable[[dict[str, Any]], Any] = lambda d: d[field]
    return sorted(docs, key=lambda d: (pick(d), d["_id"]), reverse=order == "desc")
