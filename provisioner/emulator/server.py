"""The HTTP side of the emulator: a ThreadingHTTPServer on loopback, request parsing, the
order of checks, fault injection and the request log.

Order for a documented call: route (404 when undocumented) -> added latency -> rate limit
(429) -> credentials (401) -> query and body (412) -> injected 5xx -> commit -> maybe drop
the connection -> answer. Admin calls (`/_emulator/`) skip all of it.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from dataclasses import replace
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from provisioner.emulator.api import CampaignApi
from provisioner.emulator.auth import Verifier
from provisioner.emulator.contactlists import ContactListApi
from provisioner.emulator.faults import FaultConfig, Faults, RateLimiter
from provisioner.emulator.handler import Handler
from provisioner.emulator.reply import RATE_LIMITED, Reject, errors_body, not_found
from provisioner.emulator.reqlog import RequestLog
from provisioner.emulator.routes import Route
from provisioner.emulator.runstate import RunStateApi
from provisioner.emulator.store import Store
from provisioner.errors import ConfigError


# The start and schedule pages leave `accountId` out of the query (sections 1.7, 1.8).
ACCOUNT_OPTIONAL = ("trigger", "schedule")
BODY_IGNORED = ("get", "delete", "list_get", "list_delete")
BODY_OPTIONAL = ("trigger", "status", "schedule", "list_list")


class InjectedFailure(Exception):
    """Raised by the commit gate when a 5xx fault fires."""

    def __init__(self, status: int) -> None:
        super().__init__(f"injected {status}")
        self.status = status


def check_loopback(host: str) -> None:
    """Raise ConfigError unless `host` is a loopback name or address."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ConfigError(f"emulator: refusing to listen on non-loopback host {host!r}")


class Emulator:
    """One emulated tenant (stream + account + JWT app) served on loopback."""

    def __init__(self, *, stream_id: str, account_id: str, client_id: str, client_secret: str,
                 host: str = "127.0.0.1", port: int = 0, persist: str | None = None,
                 faults: FaultConfig | None = None, contact_lists: tuple[str, ...] = ()) -> None:
        check_loopback(host)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigError(f"emulator: port must be 0 to 65535, not {port!r}")
        self.stream_id, self.account_id = stream_id, account_id
        self._initial_faults = faults or FaultConfig()
        self.faults = Faults(replace(self._initial_faults))
        self.store = Store(persist)
        self.requests = RequestLog()
        self.limiter = RateLimiter()
        self.verifier = Verifier(stream_id=stream_id, account_id=account_id,
                                 client_id=client_id, client_secret=client_secret)
        self.api = CampaignApi(self.store, settings=lambda: self.faults.config)
        self.run = RunStateApi(self.store, settings=lambda: self.faults.config)
        self.lists = ContactListApi(self.store, settings=lambda: self.faults.config,
                                    account_id=account_id, stream_id=stream_id)
        self._seed_lists = tuple(contact_lists)
        self.seed_contact_lists()
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.host, self.port = host, self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"emulator:{self.port}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `stop()` is called from another one."""
        self._server.serve_forever(0.05)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_faults(self, **changes: Any) -> FaultConfig:
        """Change fault settings at runtime; raises ValueError for unknown or bad ones."""
        return self.faults.update(changes)

    def reset(self) -> None:
        """Empty store and log, rate window, jti cache, faults as at start; the contact
        lists given at start are seeded again."""
        self.store.clear()
        self.requests.clear()
        self.limiter.reset()
        self.verifier.reset()
        self.faults.restore(replace(self._initial_faults))
        self.seed_contact_lists()

    def seed_contact_lists(self) -> None:
        """Create each start-time contact list the tenant lacks (by name, ignoring case, so
        a persisted store is not seeded twice), with an empty description."""
        for name in self._seed_lists:
            if name.lower() not in self.store.list_names():
                self.lists.add(name, "", False)

    # -- one documented call -------------------------------------------------------------
    def answer(self, method: str, route: Route | None, query: dict[str, list[str]],
               headers: Any, raw: bytes) -> tuple[int, Any, bool]:
        """(status, JSON body, drop?) for one documented-API call."""
        try:
            status, payload = self._dispatch(method, route, query, headers, raw)
        except Reject as reject:
            return reject.status, reject.body(), False
        except InjectedFailure as failure:
            return failure.status, errors_body(["Internal Server Error"], failure.status), False
        assert route is not None
        if 200 <= status < 300 and self.faults.should_strip(route.op):
            payload = {"status": "success", "message": "OK"}   # committed; no `data`
        return status, payload, self.faults.should_drop(route.op)

    def _dispatch(self, method: str, route: Route | None, query: dict[str, list[str]],
                  headers: Any, raw: bytes) -> tuple[int, Any]:
        if route is None:
            raise not_found(f"Cannot {method} this path")
        if self.faults.latency():
            time.sleep(self.faults.latency())
        account = headers.get("accountId") or ""
        if not self.limiter.allow(account, self.faults.config.rate_limit_per_minute):
            raise Reject(429, RATE_LIMITED, 429)
        self.verifier.check(headers, route.stream_id, query,
                            account_query_required=route.op not in ACCOUNT_OPTIONAL)
        return self._operate(route, query, _json_body(raw, route.op))

    def _operate(self, route: Route, query: dict[str, list[str]],
                 body: Any) -> tuple[int, Any]:
        api, run, lists = self.api, self.run, self.lists
        cid, gate = route.campaign_id or "", self._gate
        table: dict[str, Callable[[], tuple[int, Any]]] = {
            "create": lambda: api.create(body, query, gate),
            "list": lambda: api.list(body, gate),
            "get": lambda: api.get(cid, gate),
            "update": lambda: api.update(cid, body, query, gate),
            "delete": lambda: api.delete(cid, query, gate),
            "trigger": lambda: run.trigger(cid, query, body, gate),
            "status": lambda: run.status(cid, query, body, gate),
            "schedule": lambda: run.schedule(query, body, gate),
            "list_create": lambda: lists.create(body, gate),
            "list_list": lambda: lists.list_all(query, gate),
            "list_get": lambda: lists.get(cid, gate),
            "list_update": lambda: lists.update(cid, body, gate),
            "list_delete": lambda: lists.delete(cid, gate),
        }
        return table[route.op]()

    def _gate(self, op: str) -> None:
        status = self.faults.should_fail(op)
        if status is not None:
            raise InjectedFailure(status)


def _json_body(raw: bytes, op: str) -> Any:
    """The parsed body; gets and deletes ignore theirs, the listing of contact lists, start,
    stop, status and schedule may send none (`{}`), the rest must send JSON."""
    if op in BODY_IGNORED:
        return None
    if not raw.strip():
        if op in BODY_OPTIONAL:
            return {}
        raise Reject(400, "Request body is required", 400)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Reject(400, "Request body is not valid JSON", 400) from None


def _make_handler(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    return type("EmulatorHandler", (Handler,), {"emulator": emulator})
