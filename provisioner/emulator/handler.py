"""The request handler: reads one HTTP request, hands it to the emulator (or to the admin
API), logs it, and writes the JSON answer, or closes the connection without one when a
commit-then-drop fault fires."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from provisioner.emulator import admin, routes
from provisioner.emulator.auth import unverified_claims
from provisioner.emulator.reply import Reject

if TYPE_CHECKING:
    from provisioner.emulator.server import Emulator


class Handler(BaseHTTPRequestHandler):
    emulator: Emulator
    server_version = "KoreEmulator/1"
    # HTTP/1.0: one request per connection, so a dropped answer never poisons a pooled
    # keep-alive connection that the client would then silently retry on.
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silent: the request log is the record, and stderr belongs to the CLI."""

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        raw = self._read_body()
        if parts.path.startswith(admin.PREFIX):
            self._send(*self._admin(method, parts.path, query, raw))
            return
        route = routes.match(method, parts.path)
        status, payload, drop = self.emulator.answer(method, route, query, self.headers, raw)
        self._log(method, parts.path, query, raw, route, None if drop else status)
        if drop:
            self.close_connection = True
            return
        self._send(status, payload)

    def _admin(self, method: str, path: str, query: dict[str, list[str]],
               raw: bytes) -> tuple[int, Any]:
        try:
            body = json.loads(raw) if raw.strip() else None
            return admin.handle(self.emulator, method, path, query, body)
        except json.JSONDecodeError:
            return 400, {"errors": [{"msg": "admin body is not valid JSON", "code": 400}]}
        except Reject as reject:
            return reject.status, reject.body()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _log(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
             route: routes.Route | None, status: int | None) -> None:
        try:
            body: Any = json.loads(raw) if raw.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = raw.decode("utf-8", "replace")
        self.emulator.requests.append({
            "method": method, "path": path, "query": query,
            "headers": {k: v for k, v in self.headers.items() if k.lower() != "auth"},
            "jwt_claims": unverified_claims(self.headers.get("auth")),
            "body": body, "op": route.op if route else None,
            "status": status, "dropped": status is None, "time": time.time(),
        })

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
