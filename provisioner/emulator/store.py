"""The emulator's campaigns: in memory under one lock, optionally persisted to a JSON file.

Each record is the campaign document exactly as the API returns it from a get by id
(`_id`, `name`, `lname`, ..., `createdAt`, `updatedAt`) plus private bookkeeping kept beside
it (`visible_at`: when the list call may show it, for the "creation in progress" lag).
Every public method returns deep copies, so callers can never mutate the store by accident.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from provisioner.disk.atomic import write_atomic

FORMAT_VERSION = 1

# Campaign statuses the list filter documents (koreai-campaign-apis.md section 1.2).
STATUSES = ("Active", "Completed", "Ready", "Paused", "Preparing", "Stopped", "Scheduled",
            "Rescheduled")


def iso_ms(moment: datetime) -> str:
    """ISO 8601 with milliseconds and `Z`, as the create page's sample response shows."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Store:
    """Thread-safe campaign store. `persist` names a JSON file loaded now and rewritten
    atomically after every change."""

    def __init__(self, persist: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, Any]] = {}
        self._last_stamp = datetime.fromtimestamp(0, UTC)
        self.persist = Path(persist) if persist else None
        if self.persist and self.persist.exists():
            self._load(self.persist)

    # -- reading -------------------------------------------------------------------------
    def all(self) -> list[dict[str, Any]]:
        """Every campaign document, oldest first (lagging ones included)."""
        with self._lock:
            return [copy.deepcopy(r["doc"]) for r in self._ordered()]

    def visible(self, now: float | None = None) -> list[dict[str, Any]]:
        """Documents the list call may show at `now` (epoch seconds), oldest first."""
        now = time.time() if now is None else now
        with self._lock:
            return [copy.deepcopy(r["doc"]) for r in self._ordered() if r["visible_at"] <= now]

    def get(self, campaign_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._records.get(campaign_id)
            return copy.deepcopy(record["doc"]) if record else None

    def find_by_name(self, name: str) -> list[dict[str, Any]]:
        """Documents whose `lname` matches `name` case-insensitively."""
        return [doc for doc in self.all() if doc["lname"] == name.lower()]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    # -- writing -------------------------------------------------------------------------
    def create(self, fields: dict[str, Any], *, lag_seconds: float = 0.0) -> dict[str, Any]:
        """Store a new campaign built from server fields + `fields`; return its document."""
        with self._lock:
            stamp = self._stamp()
            doc = {"_id": f"cd-{uuid.uuid4()}", **copy.deepcopy(fields), "status": "Ready",
                   "isImported": False, "isFiltersEnabled": False,
                   "createdAt": stamp, "updatedAt": stamp}
            doc["lname"] = doc["name"].lower()
            self._records[doc["_id"]] = {"doc": doc, "visible_at": time.time() + lag_seconds}
            self._save()
            updated: dict[str, Any] = copy.deepcopy(doc)
            return updated

    def update(self, campaign_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Merge top-level `fields` into a campaign, refresh `lname`, bump `updatedAt`.
        Returns the new document, or None when the id is unknown."""
        with self._lock:
            record = self._records.get(campaign_id)
            if record is None:
                return None
            doc = record["doc"]
            doc.update(copy.deepcopy(fields))
            doc["lname"] = str(doc.get("name", "")).lower()
            doc["updatedAt"] = self._stamp()
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
            record = self._records.pop(campaign_id, None)
            if record is not None:
                self._save()
            return record["doc"] if record else None

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._save()

    # -- internals -----------------------------------------------------------------------
    def _ordered(self) -> list[dict[str, Any]]:
        return sorted(self._records.values(), key=lambda r: (r["doc"]["createdAt"], r["doc"]["_id"]))

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
            for record in data["campaigns"]:
                self._records[record["doc"]["_id"]] = record
                self._last_stamp = max(self._last_stamp, parse_iso(record["doc"]["updatedAt"]))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an emulator store ({type(exc).__name__}: {exc})") from None

    def _save(self) -> None:
        """Temp file + fsync + rename: a crash leaves the old file or the new, never half."""
        if self.persist is None:
            return
        payload = {"format_version": FORMAT_VERSION, "campaigns": self._ordered()}
        text = json.dumps(payload, indent=2, sort_keys=True) + "\n"
        write_atomic(self.persist, text.encode(), durable=True)
