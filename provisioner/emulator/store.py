"""The emulator's tenant: campaigns and contact lists in memory under one lock, optionally
persisted to a JSON file.

Each campaign record is the campaign document exactly as the API returns it from a get by
id (`_id`, `name`, `lname`, ..., `createdAt`, `updatedAt`) plus private bookkeeping kept
beside it: `visible_at` (when the list call may show it, for the "creation in progress"
lag) and `due` (a status the campaign moves to by itself at a given time: a voice campaign
`Preparing -> Ready`, a started one `Active -> Completed`). A due change is applied lazily,
by the first read at or after its time, and bumps `updatedAt` as any server-side change
does (the voice get page's sample shows `updatedAt` later than `createdAt` once Ready).
Contact lists are kept as their stored document (`_id` `cl-...`); what depends on the
campaigns (`campaignInUse`, `isListInUse`) is computed by the API when it answers.
Every public method returns deep copies, so callers can never mutate the store by accident.
"""

from __future__ import annotations

import copy
import heapq
import json
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import EllipsisType
from typing import Any

from provisioner.disk.atomic import write_atomic

# 1: campaigns only; 2: contact lists beside them, and a campaign's pending status change.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)

# Campaign statuses the list filter documents (koreai-campaign-apis.md section 1.2).
STATUSES = ("Active", "Completed", "Ready", "Paused", "Preparing", "Stopped", "Scheduled",
            "Rescheduled")

# A status a campaign moves to by itself, and when (epoch seconds).
Due = tuple[str, float]


def iso_ms(moment: datetime) -> str:
    """ISO 8601 with milliseconds and `Z`, as the create page's sample response shows."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Store:
    """Thread-safe tenant store. `persist` names a JSON file loaded now and rewritten
    atomically after every change."""

    def __init__(self, persist: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, Any]] = {}
        self._lists: dict[str, dict[str, Any]] = {}
        self._due: list[tuple[float, str]] = []   # heap of (when, campaign id)
        self._last_stamp = datetime.fromtimestamp(0, UTC)
        self.persist = Path(persist) if persist else None
        if self.persist and self.persist.exists():
            self._load(self.persist)

    # -- reading campaigns ---------------------------------------------------------------
    def all(self) -> list[dict[str, Any]]:
        """Every campaign document, oldest first (lagging ones included)."""
        with self._lock:
            self._settle()
            return [copy.deepcopy(r["doc"]) for r in _oldest_first(self._records)]

    def visible(self, now: float | None = None) -> list[dict[str, Any]]:
        """Documents the list call may show at `now` (epoch seconds), oldest first."""
        now = time.time() if now is None else now
        with self._lock:
            self._settle()
            return [copy.deepcopy(r["doc"]) for r in _oldest_first(self._records)
                    if r["visible_at"] <= now]

    def get(self, campaign_id: str) -> dict[str, Any] | None:
        with self._lock:
            self._settle()
            record = self._records.get(campaign_id)
            return copy.deepcopy(record["doc"]) if record else None

    def find_by_name(self, name: str) -> list[dict[str, Any]]:
        """Documents whose `lname` matches `name` case-insensitively."""
        return [doc for doc in self.all() if doc["lname"] == name.lower()]

    def due(self, campaign_id: str) -> Due | None:
        """The status the campaign will move to by itself, and when; None if none."""
        with self._lock:
            record = self._records.get(campaign_id)
            due = record.get("due") if record else None
            return (due["status"], due["at"]) if due else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    # -- writing campaigns ---------------------------------------------------------------
    def create(self, fields: dict[str, Any], *, lag_seconds: float = 0.0,
               due: Due | None = None) -> dict[str, Any]:
        """Store a new campaign of `fields` (status included) with a fresh `_id`, `lname`
        and timestamps; `due` is a status it moves to by itself. Returns its document."""
        with self._lock:
            stamp = self._stamp()
            doc = {"_id": f"cd-{uuid.uuid4()}", **copy.deepcopy(fields),
                   "createdAt": stamp, "updatedAt": stamp}
            doc["lname"] = doc["name"].lower()
            self._records[doc["_id"]] = {"doc": doc, "visible_at": time.time() + lag_seconds}
            self._set_due(doc["_id"], due)
            self._save()
            created: dict[str, Any] = copy.deepcopy(doc)
            return created

    def update(self, campaign_id: str, fields: dict[str, Any], *,
               due: Due | None | EllipsisType = ..., stamped: tuple[str, ...] = ()
               ) -> dict[str, Any] | None:
        """Merge top-level `fields` into a campaign, refresh `lname`, bump `updatedAt` (and
        set the `stamped` fields to the same time); `due` replaces its pending status change
        (None drops it; `...` keeps it). Returns the new document, or None when the id is
        unknown."""
        with self._lock:
            self._settle()
            record = self._records.get(campaign_id)
            if record is None:
                return None
            doc = record["doc"]
            doc.update(copy.deepcopy(fields))
            doc["lname"] = str(doc.get("name", "")).lower()
            doc["updatedAt"] = self._stamp()
            doc.update(dict.fromkeys(stamped, doc["updatedAt"]))
            if not isinstance(due, EllipsisType):
                self._set_due(campaign_id, due)
            self._save()
            updated: dict[str, Any] = copy.deepcopy(doc)
            return updated

    def replace_body(self, campaign_id: str, body: dict[str, Any],
                     body_fields: tuple[str, ...]) -> dict[str, Any] | None:
        """A full PUT: drop every `body_fields` key the new body lacks, then merge it."""
        with self._lock:
            record = self._records.get(campaign_id)
            if record is None:
                return None
            for key in body_fields:
                if key not in body:
                    record["doc"].pop(key, None)
            return self.update(campaign_id, body)

    def delete(self, campaign_id: str) -> dict[str, Any] | None:
        with self._lock:
            self._settle()
            record = self._records.pop(campaign_id, None)
            if record is not None:
                self._save()
            return record["doc"] if record else None

    def clear(self) -> None:
        """Forget every campaign and contact list."""
        with self._lock:
            self._records.clear()
            self._lists.clear()
            self._due.clear()
            self._save()

    # -- contact lists -------------------------------------------------------------------
    def lists(self) -> list[dict[str, Any]]:
        """Every contact list document, oldest first."""
        with self._lock:
            return [copy.deepcopy(r["doc"]) for r in _oldest_first(self._lists)]

    def list_get(self, list_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._lists.get(list_id)
            return copy.deepcopy(record["doc"]) if record else None

    def lists_named(self, name: str) -> list[dict[str, Any]]:
        """Contact lists whose name matches `name` case-insensitively (names may repeat)."""
        return [doc for doc in self.lists() if doc["name"].lower() == name.lower()]

    def list_names(self) -> set[str]:
        """The lowercased name of every contact list (one pass, for existence checks)."""
        with self._lock:
            return {str(r["doc"]["name"]).lower() for r in self._lists.values()}

    def list_create(self, fields: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            stamp = self._stamp()
            doc = {"_id": f"cl-{uuid.uuid4()}", **copy.deepcopy(fields),
                   "createdAt": stamp, "updatedAt": stamp}
            self._lists[doc["_id"]] = {"doc": doc}
            self._save()
            created: dict[str, Any] = copy.deepcopy(doc)
            return created

    def list_update(self, list_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Merge top-level `fields` into a contact list and bump `updatedAt`."""
        with self._lock:
            record = self._lists.get(list_id)
            if record is None:
                return None
            record["doc"].update(copy.deepcopy(fields))
            record["doc"]["updatedAt"] = self._stamp()
            self._save()
            updated: dict[str, Any] = copy.deepcopy(record["doc"])
            return updated

    def list_delete(self, list_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._lists.pop(list_id, None)
            if record is not None:
                self._save()
            return record["doc"] if record else None

    # -- internals -----------------------------------------------------------------------
    def _set_due(self, campaign_id: str, due: Due | None) -> None:
        record = self._records[campaign_id]
        record["due"] = {"status": due[0], "at": due[1]} if due else None
        if due:
            heapq.heappush(self._due, (due[1], campaign_id))

    def _settle(self, now: float | None = None) -> None:
        """Apply every status change that is due: a heap, so a read costs the same however
        many campaigns there are. Stale heap entries (changed or deleted) are skipped."""
        now = time.time() if now is None else now
        changed = False
        while self._due and self._due[0][0] <= now:
            at, campaign_id = heapq.heappop(self._due)
            record = self._records.get(campaign_id)
            due = record.get("due") if record else None
            if record is None or not due or due["at"] != at:
                continue
            record["doc"]["status"] = due["status"]
            record["doc"]["updatedAt"] = self._stamp()
            record["due"] = None
            changed = True
        if changed:
            self._save()

    def _stamp(self) -> str:
        """A timestamp strictly after the previous one, so `updatedAt` always moves on a
        change even within one millisecond (refresh compares it to spot edits)."""
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return iso_ms(now)

    def _load(self, path: Path) -> None:
        """Raises ValueError when the file is not a store this module wrote."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            version = data.get("format_version", 1)
            if version not in READABLE_VERSIONS:
                raise ValueError(f"unsupported format_version {version!r}")
            for record in data["campaigns"]:
                self._add_loaded(self._records, record)
                due = record.get("due")
                if due:
                    heapq.heappush(self._due, (float(due["at"]), record["doc"]["_id"]))
            for record in data.get("contact_lists", []):
                self._add_loaded(self._lists, record)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an emulator store ({type(exc).__name__}: {exc})") from None

    def _add_loaded(self, table: dict[str, dict[str, Any]], record: dict[str, Any]) -> None:
        table[record["doc"]["_id"]] = record
        self._last_stamp = max(self._last_stamp, parse_iso(record["doc"]["updatedAt"]))

    def _save(self) -> None:
        """Temp file + fsync + rename: a crash leaves the old file or the new, never half."""
        if self.persist is None:
            return
        payload = {"format_version": FORMAT_VERSION,
                   "campaigns": _oldest_first(self._records),
                   "contact_lists": _oldest_first(self._lists)}
        text = json.dumps(payload, indent=2, sort_keys=True) + "\n"
        write_atomic(self.persist, text.encode(), durable=True)


def _oldest_first(table: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(table.values(), key=lambda r: (r["doc"]["createdAt"], r["doc"]["_id"]))
