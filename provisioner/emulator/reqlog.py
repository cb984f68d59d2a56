"""A thread-safe log of every documented-API request the emulator received.

Each entry: `method`, `path`, `query` (name -> list of values), `headers` (every header but
`auth`, whose JWT is never kept), `jwt_claims` (the token's claims read without checking
them: claims hold no secret, and tests check them), `body` (parsed JSON, or the raw text
when it was not JSON), `op` (the operation the route names, or None for an unknown route),
`status` (the HTTP status answered; None when the connection was dropped), `dropped`,
and `time` (epoch seconds). Admin calls under `/_emulator/` are never logged.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(copy.deepcopy(entry))

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.entries())

    def counts(self) -> dict[str, Any]:
        """Totals: all, per operation, per status (as strings, JSON-friendly)."""
        entries = self.entries()
        return {
            "total": len(entries),
            "by_op": dict(Counter(str(e["op"]) for e in entries)),
            "by_status": dict(Counter(str(e["status"]) for e in entries)),
        }

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
