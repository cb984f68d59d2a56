"""KoreClient against the bundled emulator over loopback HTTP: real auth, paths, paging,
and the rate limit.

The rate-limit tests put the client's limiter and the emulator's sliding window on one
virtual clock (the client's sleep moves it), so a run of several "minutes" takes a moment
and no test waits for real. The client sends sequentially there, so each request reaches
the emulator at exactly the virtual time the limiter granted.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from provisioner.remote.auth import KoreJWTAuth
from provisioner.remote.client import ApiTarget, KoreClient
from provisioner.emulator import Emulator, start_emulator
from provisioner.errors import AuthError
from provisioner.remote.ratelimit import RateLimiter

SECRET = "emu-secret-PANGOLIN-4c1d-never-printed-0123456789"
SAMPLE = json.loads((Path(__file__).parent / "fixtures" / "sample_request.json").read_text())


class VirtualClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


def body(name: str) -> dict[str, Any]:
    campaign = copy.deepcopy(SAMPLE)
    campaign["name"] = name
    return campaign


def make_client(emu: Emulator, limiter: RateLimiter, secret: str = SECRET,
                **options: Any) -> KoreClient:
    target = ApiTarget(emu.url, "st-emu", "acc-emu", "st-emu")
    return KoreClient(target, KoreJWTAuth("cs-emu", secret), limiter=limiter, **options)


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with start_emulator(stream_id="st-emu", account_id="acc-emu", client_id="cs-emu",
                        client_secret=SECRET, rate_limit_per_minute=0,
                        contact_lists=SAMPLE["contactLists"]) as emulator:
        yield emulator


def test_create_get_list_update_delete(emu: Emulator) -> None:
    client = make_client(emu, RateLimiter(0))
    created = [client.create(body(f"Spring Sale {n}")) for n in range(5)]
    ids = [c["_id"] for c in created]
    assert len(set(ids)) == 5 and emu.store.get(ids[0])["name"] == "Spring Sale 0"

    assert client.get(ids[1])["name"] == "Spring Sale 1"
    listed = client.list_campaigns(page_size=2)  # three pages
    assert [item["id"] for item in listed] == ids

    changed = body("Spring Sale 1")
    changed["description"] = "edited by the test"
    client.update(ids[1], changed)
    assert emu.store.get(ids[1])["description"] == "edited by the test"

    client.delete(ids[2])
    assert client.get(ids[2]) is None
    assert len(emu.store) == 4
    assert set(emu.requests.counts()["by_status"]) <= {"200", "201", "404"}


def test_wrong_secret_is_refused_without_leaking(emu: Emulator) -> None:
    client = make_client(emu, RateLimiter(0), secret="wrong-secret-WOMBAT-0123456789abcdef")
    with pytest.raises(AuthError) as caught:
        client.get("cd-1")
    assert caught.value.status == 401
    assert "wrong-secret-WOMBAT" not in str(caught.value) and SECRET not in str(caught.value)


def share_clock(emu: Emulator, clock: VirtualClock) -> None:
    """Let the emulator's real sliding window read the virtual clock."""
    allow = emu.limiter.allow
    emu.limiter.allow = lambda key, limit, now=None: allow(key, limit, clock())


def budget_run(emu: Emulator, limiter: RateLimiter, events: list[tuple[str, str]],
               clock: VirtualClock) -> None:
    client = make_client(emu, limiter, sleep=clock.sleep,
                         on_event=lambda kind, text: events.append((kind, text)))
    ids = [client.create(body(f"Budget {n}"))["_id"] for n in range(8)]
    for campaign_id in ids:
        client.get(campaign_id)
    client.list_campaigns(page_size=3)
    for campaign_id in ids[:4]:
        client.update(campaign_id, body(emu.store.get(campaign_id)["name"]))


def test_paced_client_sees_no_429_under_a_small_budget(emu: Emulator) -> None:
    clock = VirtualClock()
    share_clock(emu, clock)
    emu.set_faults(rate_limit_per_minute=6)
    events: list[tuple[str, str]] = []
    start = clock.now
    budget_run(emu, RateLimiter(6, clock=clock, sleep=clock.sleep), events, clock)
    counts = emu.requests.counts()
    assert counts["total"] == 8 + 8 + 3 + 4
    assert "429" not in counts["by_status"] and events == []
    achieved = (counts["total"] - 1) / (clock.now - start) * 60
    assert achieved >= 0.9 * 6


def test_unpaced_client_hits_429_and_recovers(emu: Emulator) -> None:
    clock = VirtualClock()
    share_clock(emu, clock)
    emu.set_faults(rate_limit_per_minute=6)
    events: list[tuple[str, str]] = []
    budget_run(emu, RateLimiter(0, clock=clock, sleep=clock.sleep), events, clock)
    assert emu.requests.counts()["by_status"].get("429", 0) >= 1  # the window is real
    assert any(kind == "rate-limit" for kind, _ in events)
    assert len(emu.store) == 8  # every 429'd create was resent, none duplicated


def test_one_client_shared_by_worker_threads(emu: Emulator) -> None:
    client = make_client(emu, RateLimiter(0))
    names = [f"Worker {n}" for n in range(16)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        created = list(pool.map(lambda name: client.create(body(name)), names))
    assert sorted(c["name"] for c in created) == sorted(names)
    assert sorted(c["name"] for c in emu.store.all()) == sorted(names)
    claims = [entry["jwt_claims"] for entry in emu.requests.entries()]
    assert len(claims) == 16 and all("jti" not in c for c in claims)   # one reused token,
    assert len({(c["iat"], c["exp"]) for c in claims}) == 1              # shared by threads
