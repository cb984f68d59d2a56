"""Issue 13's client-side speed work over loopback HTTP: one reused JWT (and the per-request
mode an "Enforce JTI" tenant needs) against the emulator, keep-alive connections shared by
worker threads, and the measured latency that sizes parallelism.

The emulator answers HTTP/1.0 (one request per connection, on purpose: see its handler), so
the keep-alive tests use a small HTTP/1.1 server of their own that records which client
connection each request came on.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, start_emulator
from provisioner.errors import AuthError
from provisioner.remote.auth import KoreJWTAuth
from provisioner.remote.client import ApiTarget, KoreClient
from provisioner.remote.ratelimit import RateLimiter, choose_parallelism

SECRET = "emu-secret-OKAPI-5e2a-never-printed-0123456789"
SAMPLE = json.loads((Path(__file__).parent / "fixtures" / "sample_request.json").read_text())


def body(name: str) -> dict[str, Any]:
    campaign = copy.deepcopy(SAMPLE)
    campaign["name"] = name
    return campaign


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with start_emulator(stream_id="st-emu", account_id="acc-emu", client_id="cs-emu",
                        client_secret=SECRET, rate_limit_per_minute=0,
                        contact_lists=SAMPLE["contactLists"]) as emulator:
        yield emulator


def make_client(emu: Emulator, *, reuse: bool = True, secret: str = SECRET,
                events: list[tuple[str, str]] | None = None) -> KoreClient:
    target = ApiTarget(emu.url, "st-emu", "acc-emu", "st-emu")
    on_event = None if events is None else (lambda kind, text: events.append((kind, text)))
    return KoreClient(target, KoreJWTAuth("cs-emu", secret, reuse=reuse),
                      limiter=RateLimiter(0), connections=4, on_event=on_event,
                      max_retries=0)


def create_all(client: KoreClient, names: list[str], workers: int = 4) -> None:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda name: client.create(body(name)), names))


def statuses(emu: Emulator) -> list[int | None]:
    return [entry["status"] for entry in emu.requests.entries()]


# -- one reused token, or one per request ----------------------------------------------------

def test_worker_threads_share_one_reused_token(emu: Emulator) -> None:
    names = [f"Shared {n}" for n in range(24)]
    create_all(make_client(emu), names)
    assert sorted(c["name"] for c in emu.store.all()) == sorted(names)
    claims = [entry["jwt_claims"] for entry in emu.requests.entries()]
    assert statuses(emu) == [200] * 24
    assert all("jti" not in c for c in claims)   # a reused jti would be a replay
    assert len({json.dumps(c, sort_keys=True) for c in claims}) == 1   # signed once


def test_enforce_jti_tenant_with_per_request_tokens(emu: Emulator) -> None:
    emu.verifier.require_jti = True
    create_all(make_client(emu, reuse=False), [f"Fresh {n}" for n in range(12)])
    assert len(emu.store) == 12 and statuses(emu) == [200] * 12
    jtis = [entry["jwt_claims"]["jti"] for entry in emu.requests.entries()]
    assert len(set(jtis)) == 12


def test_enforce_jti_tenant_refuses_a_reused_token_once_then_gets_fresh_ones(
        emu: Emulator) -> None:
    emu.verifier.require_jti = True
    events: list[tuple[str, str]] = []
    client = make_client(emu, events=events)
    for n in range(6):
        client.create(body(f"Switch {n}"))
    assert statuses(emu) == [401] + [200] * 6   # the refused create was resent, once
    assert len(emu.store) == 6                   # and the 401 created nothing
    assert [kind for kind, _ in events] == ["retry"]
    claims = [entry["jwt_claims"] for entry in emu.requests.entries()]
    assert "jti" not in claims[0] and len({c["jti"] for c in claims[1:]}) == 6


def test_enforce_jti_tenant_with_parallel_workers_creates_each_campaign_once(
        emu: Emulator) -> None:
    emu.verifier.require_jti = True
    names = [f"Parallel {n}" for n in range(16)]
    create_all(make_client(emu), names)
    assert sorted(c["name"] for c in emu.store.all()) == sorted(names)
    refused = statuses(emu).count(401)
    assert 1 <= refused <= 4   # at most one per worker that held the shared token
    assert statuses(emu).count(200) == 16


def test_refused_credentials_are_one_resend_not_a_loop(emu: Emulator) -> None:
    client = make_client(emu, secret="not-the-tenant-secret-0123456789abcdef")
    with pytest.raises(AuthError, match="refused the credentials"):
        client.create(body("Never"))
    assert statuses(emu) == [401, 401] and len(emu.store) == 0


def test_emulator_reset_restores_the_jti_setting(emu: Emulator) -> None:
    emu.verifier.require_jti = True
    emu.reset()
    make_client(emu).list_campaigns()
    assert statuses(emu) == [200]


# -- measured latency -> parallelism ---------------------------------------------------------

def test_latency_is_measured_from_real_round_trips(emu: Emulator) -> None:
    emu.set_faults(latency_ms=40)
    client = make_client(emu)
    assert client.latency() is None
    for n in range(3):
        client.create(body(f"Slow {n}"))
    latency = client.latency()
    assert latency is not None and latency >= 0.040   # the emulator waited that long
    assert choose_parallelism(60, latency, 64) >= 2


# -- keep-alive connections ------------------------------------------------------------------

class KeepAliveServer(ThreadingHTTPServer):
    """Answers every GET with a campaign over HTTP/1.1 keep-alive, and sets a cookie the
    client must ignore. Records the client port and Cookie header of each request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), KeepAliveHandler)
        self.lock = threading.Lock()
        self.ports: list[int] = []
        self.cookies: list[str | None] = []


class KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KeepAliveServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        with self.server.lock:
            self.server.ports.append(self.client_address[1])
            self.server.cookies.append(self.headers.get("Cookie"))
        data = json.dumps({"status": "success", "data": {"_id": "cd-1"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Set-Cookie", "AWSALB=sticky; Path=/")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture()
def keep_alive() -> Iterator[KeepAliveServer]:
    server = KeepAliveServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def loopback_client(server: KeepAliveServer, connections: int) -> KoreClient:
    target = ApiTarget(f"http://127.0.0.1:{server.server_address[1]}", "st", "acc", "st")
    return KoreClient(target, KoreJWTAuth("c", SECRET), limiter=RateLimiter(0),
                      connections=connections)


def test_worker_threads_share_the_kept_alive_connections(keep_alive: KeepAliveServer) -> None:
    """Two rounds of 4 new worker threads, 40 requests each, reuse the same <= 4
    connections: one pool in one Session, not one per thread or per request."""
    client = loopback_client(keep_alive, connections=4)
    for _ in range(2):
        with ThreadPoolExecutor(max_workers=4) as pool:
            assert all(pool.map(lambda _: client.get("cd-1"), range(40)))
    assert len(keep_alive.ports) == 80
    assert len(set(keep_alive.ports)) <= 4
    client.close()


def test_fewer_connections_than_workers_wait_for_one(keep_alive: KeepAliveServer) -> None:
    """`connections` caps what the tenant sees: extra workers queue for the one connection
    instead of opening (and dropping) their own."""
    client = loopback_client(keep_alive, connections=1)
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(lambda _: client.get("cd-1"), range(20)))
    assert len(keep_alive.ports) == 20 and len(set(keep_alive.ports)) == 1


def test_cookies_are_never_kept_or_sent_back(keep_alive: KeepAliveServer) -> None:
    client = loopback_client(keep_alive, connections=2)
    for _ in range(3):
        client.get("cd-1")
    assert keep_alive.cookies == [None, None, None]
