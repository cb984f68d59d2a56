"""Fault injection and the per-account rate limit.

Faults (all off by default), settable at start or at runtime (`PUT /_emulator/faults`):
- `latency_ms`: added before every documented call is handled;
- `fail_rate` / `fail_next`: answer `fail_status` (5xx) BEFORE anything is committed, with a
  probability, or for the next N eligible calls;
- `drop_after_commit_rate` / `drop_next`: commit a write (`WRITE_OPS`: create, update,
  delete, start and stop, schedule, and the contact-list create, update and delete), then
  close the connection with no response at all;
- `no_data_next`: commit the next N eligible writes, then answer `200 {"status":
  "success"}` with no `data` (an answer that lacks what the client needs: the outcome is
  unknown to it);
- `list_lag_seconds`: a newly created campaign shows in the list call only after S seconds
  ("creation in progress": section 0.3 of the digest); get by id sees it at once;
- `ops`: restrict fail/drop to these operations (`ALL_OPS`: create, list, get, update,
  delete, trigger (start and stop), status, schedule, list_create, list_list, list_get,
  list_update, list_delete); empty means every eligible operation;
- `seed`: seeds the random draws, so a fault sequence is reproducible.

Settings of the emulated tenant itself (not faults, but set the same way):
- `voice_preparing_seconds` (default 2.0): a voice campaign is `Preparing` this long after
  its create, then `Ready` (the voice create pages answer `Preparing`; the get page later
  shows `Ready`);
- `active_seconds` (default 30): a started campaign is `Active` this long, then `Completed`;
- `reject_duplicate_names`: refuse a second campaign of the same name (409; the docs do not
  say names are unique, so off by default);
- `contact_lists_as_array`: answer the contact-list listing with `data` as a bare array, as
  the get-all-contact-lists-v2 sample does, instead of `{results, hasMore, totalResults}`
  (the default, the lead's contract), so a client can be tested against both.

Rate limit (koreai-campaign-apis.md section 3: 60 per minute per account, 60-second window):
a sliding window per `accountId` header value. Decision: every documented-route call counts,
whatever its answer (401 and 412 too, as a gateway counts before it looks inside), EXCEPT the
429 answers themselves, so a client that waits out the window always gets through.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

WRITE_OPS = ("create", "update", "delete", "trigger", "schedule", "list_create", "list_update",
             "list_delete")
ALL_OPS = ("create", "list", "get", "update", "delete", "trigger", "status", "schedule",
           "list_create", "list_list", "list_get", "list_update", "list_delete")


@dataclass
class FaultConfig:
    latency_ms: int = 0
    fail_rate: float = 0.0
    fail_next: int = 0
    fail_status: int = 500
    drop_after_commit_rate: float = 0.0
    drop_next: int = 0
    no_data_next: int = 0
    list_lag_seconds: float = 0.0
    rate_limit_per_minute: int = 60
    ops: list[str] = field(default_factory=list)
    seed: int | None = None
    reject_duplicate_names: bool = False
    voice_preparing_seconds: float = 2.0
    active_seconds: float = 30.0
    contact_lists_as_array: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these settings; empty when they are usable."""
        out = [f"{name} must be between 0 and 1" for name in ("fail_rate", "drop_after_commit_rate")
               if not 0 <= getattr(self, name) <= 1]
        out += [f"{name} must be >= 0" for name in
                ("latency_ms", "fail_next", "drop_next", "no_data_next", "list_lag_seconds",
                 "rate_limit_per_minute", "voice_preparing_seconds", "active_seconds")
                if not getattr(self, name) >= 0 or not math.isfinite(getattr(self, name))]
        if not 500 <= self.fail_status <= 599:
            out.append("fail_status must be a 5xx status")
        out += [f"ops: unknown operation {op!r}" for op in self.ops if op not in ALL_OPS]
        return out

    def merged(self, changes: dict[str, Any]) -> FaultConfig:
        """A copy with `changes` applied; raises ValueError naming unknown or bad fields."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(unknown)}")
        try:
            result = FaultConfig(**{**asdict(self), **changes})
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        problems = result.problems()
        if problems:
            raise ValueError("; ".join(problems))
        return result


class Faults:
    """The live fault settings and the seeded random draws, under one lock."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.config = config or FaultConfig()
        self._random = random.Random(self.config.seed)

    def update(self, changes: dict[str, Any]) -> FaultConfig:
        with self._lock:
            self.config = self.config.merged(changes)
            if "seed" in changes:
                self._random = random.Random(self.config.seed)
            return self.config

    def restore(self, config: FaultConfig) -> None:
        """Go back to `config` (as at start), reseeding the random draws."""
        with self._lock:
            self.config = config
            self._random = random.Random(config.seed)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self.config)

    def latency(self) -> float:
        return self.config.latency_ms / 1000

    def should_fail(self, op: str) -> int | None:
        """The 5xx status to answer before committing `op`, or None to go on."""
        with self._lock:
            if not self._applies(op, ALL_OPS):
                return None
            if self.config.fail_next > 0:
                self.config.fail_next -= 1
                return self.config.fail_status
            hit = self.config.fail_rate and self._random.random() < self.config.fail_rate
            return self.config.fail_status if hit else None

    def should_drop(self, op: str) -> bool:
        """Whether to close the connection without answering after committing `op`."""
        with self._lock:
            if not self._applies(op, WRITE_OPS):
                return False
            if self.config.drop_next > 0:
                self.config.drop_next -= 1
                return True
            rate = self.config.drop_after_commit_rate
            return bool(rate) and self._random.random() < rate

    def should_strip(self, op: str) -> bool:
        """Whether to answer a committed `op` with a bare success, without `data`."""
        with self._lock:
            if not self._applies(op, WRITE_OPS) or self.config.no_data_next <= 0:
                return False
            self.config.no_data_next -= 1
            return True

    def _applies(self, op: str, eligible: tuple[str, ...]) -> bool:
        return op in eligible and (not self.config.ops or op in self.config.ops)


class RateLimiter:
    """Sliding 60-second window per key (the account id); `limit` 0 turns it off."""

    WINDOW = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str, limit: int, now: float | None = None) -> bool:
        """Record a call and return True, or return False (not recorded) when over."""
        if limit <= 0:
            return True
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.WINDOW:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
