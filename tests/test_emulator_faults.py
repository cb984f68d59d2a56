"""The emulator's rate limit, injected faults, admin API and persistence."""

from __future__ import annotations

from collections.abc import Iterator
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from provisioner.emulator.faults import FaultConfig, RateLimiter
from tests.test_emulator_helpers import Api, errors, running, simple

@pytest.fixture
def api() -> Iterator[Api]:
    yield from running()


RATE_MESSAGE = "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."


# -- rate limit ------------------------------------------------------------------------
def test_over_the_limit_is_429_with_the_documented_message_and_no_retry_after() -> None:
    for api in running(rate_limit_per_minute=5):
        statuses = [api.list({"type": "sms"}).status_code for _ in range(5)]
        over = api.list({"type": "sms"})
        assert statuses == [200] * 5
        assert over.status_code == 429
        assert over.json() == {"errors": [{"msg": RATE_MESSAGE, "code": 429}]}
        assert "Retry-After" not in over.headers
        # Admin calls are neither limited nor logged.
        assert api.admin("GET", "campaigns").status_code == 200
        assert api.emulator.requests.counts()["by_status"] == {"200": 5, "429": 1}


def test_failed_auth_counts_toward_the_window() -> None:
    for api in running(rate_limit_per_minute=2):
        assert api.list({"type": "sms"}, headers=api.headers(auth="bad")).status_code == 401
        assert api.list({"type": "sms"}).status_code == 200
        assert api.list({"type": "sms"}).status_code == 429


def test_window_slides_and_429s_do_not_count() -> None:
    limiter = RateLimiter()
    assert [limiter.allow("acc", 2, now=t) for t in (0.0, 1.0, 2.0, 3.0)] == [True, True, False, False]
    assert limiter.allow("acc", 2, now=60.0)        # the call at 0.0 has left the window
    assert not limiter.allow("acc", 2, now=60.5)    # the one at 1.0 has not
    assert limiter.allow("other", 2, now=60.5)      # per account
    assert limiter.allow("acc", 0, now=60.5)        # 0 = off


# -- faults ----------------------------------------------------------------------------
def test_5xx_before_commit_stores_nothing(api: Api) -> None:
    api.emulator.set_faults(fail_next=1, ops=["create"])
    failed = api.create(simple())
    assert failed.status_code == 500 and errors(failed)
    assert len(api.emulator.store) == 0
    assert api.create(simple()).status_code == 200
    assert len(api.emulator.store) == 1


def test_fail_rate_one_fails_every_call_and_status_is_configurable(api: Api) -> None:
    api.emulator.set_faults(fail_rate=1.0, fail_status=503)
    assert [api.list({"type": "sms"}).status_code for _ in range(3)] == [503] * 3


def test_seeded_fault_draws_are_reproducible() -> None:
    runs = []
    for _ in range(2):
        for api in running(faults={"fail_rate": 0.5, "seed": 7}):
            runs.append([api.list({"type": "sms"}).status_code for _ in range(12)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}


def test_drop_after_commit_stores_the_campaign_and_sends_no_answer(api: Api) -> None:
    api.emulator.set_faults(drop_next=1)
    with pytest.raises(requests.ConnectionError):
        api.create(simple())
    (stored,) = api.emulator.store.all()
    assert stored["name"] == "Spring Sale"
    (entry,) = api.emulator.requests.entries()
    assert (entry["status"], entry["dropped"]) == (None, True)


def test_drop_rate_applies_to_writes_only(api: Api) -> None:
    cid = api.created(simple())["_id"]
    api.emulator.set_faults(drop_after_commit_rate=1.0)
    assert api.get(cid).status_code == 200
    assert api.list({"type": "sms"}).status_code == 200
    with pytest.raises(requests.ConnectionError):
        api.put(cid, simple(name="Renamed"))
    assert api.emulator.store.get(cid)["name"] == "Renamed"


def test_list_lag_hides_a_new_campaign_from_the_list_only(api: Api) -> None:
    api.emulator.set_faults(list_lag_seconds=3600)
    cid = api.created(simple())["_id"]
    assert api.list({"type": "sms"}).json()["data"]["totalResults"] == 0
    assert api.get(cid).status_code == 200
    store = api.emulator.store
    assert [d["_id"] for d in store.visible(now=time.time() + 3601)] == [cid]


def test_latency_delays_every_call(api: Api) -> None:
    api.emulator.set_faults(latency_ms=100)
    began = time.monotonic()
    api.list({"type": "sms"})
    assert time.monotonic() - began >= 0.1


@pytest.mark.parametrize("changes", [{"fail_rate": 2}, {"nonsense": 1}, {"ops": ["fly"]},
                                     {"fail_status": 404}])
def test_bad_fault_settings_are_refused(api: Api, changes: dict[str, Any]) -> None:
    before = api.admin("GET", "faults").json()
    response = api.admin("PUT", "faults", changes)
    assert response.status_code == 412
    assert api.admin("GET", "faults").json() == before


def test_fault_config_rejects_wrong_types() -> None:
    with pytest.raises(ValueError):
        FaultConfig().merged({"latency_ms": -1})


# -- admin API -------------------------------------------------------------------------
def test_admin_edits_behind_the_tools_back(api: Api) -> None:
    created = api.created(simple())
    cid = created["_id"]
    patched = api.admin("PATCH", f"campaigns/{cid}", {"name": "Console Name", "priority": "1"})
    assert patched.status_code == 200
    doc = api.get(cid).json()["data"]
    assert (doc["name"], doc["lname"], doc["priority"]) == ("Console Name", "console name", "1")
    assert doc["updatedAt"] > created["updatedAt"]
    assert api.admin("POST", f"campaigns/{cid}/status", {"status": "Active"}).status_code == 200
    assert api.put(cid, simple()).status_code == 409
    assert api.admin("POST", f"campaigns/{cid}/status", {"status": "Running"}).status_code == 412
    assert api.admin("DELETE", f"campaigns/{cid}").status_code == 200
    assert api.get(cid).status_code == 404
    assert api.admin("DELETE", f"campaigns/{cid}").status_code == 404


def test_admin_reads_seeds_counts_and_resets(api: Api) -> None:
    seeded = api.admin("POST", "campaigns", simple(name="Seeded"))
    assert seeded.status_code == 201
    assert api.admin("POST", "campaigns", {"name": "no"}).status_code == 412
    api.get("cd-none")
    listed = api.admin("GET", "campaigns").json()["campaigns"]
    assert [c["name"] for c in listed] == ["Seeded"]
    log = api.admin("GET", "requests").json()
    assert log["counts"] == {"total": 1, "by_op": {"get": 1}, "by_status": {"404": 1}}
    assert [r["path"] for r in log["requests"]] == ["/campaign/api/v2/public/st-emu-test/campaign/cd-none"]
    assert api.admin("GET", "requests?op=create").json()["requests"] == []
    api.admin("PUT", "faults", {"fail_next": 3})
    assert api.admin("POST", "reset").status_code == 200
    assert api.admin("GET", "campaigns").json() == {"campaigns": []}
    assert api.admin("GET", "requests").json()["counts"]["total"] == 0
    assert api.admin("GET", "faults").json()["fail_next"] == 0
    assert api.admin("GET", "nowhere").status_code == 404


# -- persistence -----------------------------------------------------------------------
def test_persistence_round_trips_through_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    for api in running(persist=str(path)):
        first = api.created(simple())
        api.admin("PATCH", f"campaigns/{first['_id']}", {"description": "edited"})
    saved = json.loads(path.read_text())
    assert saved["format_version"] == 2
    assert [r["doc"]["name"] for r in saved["contact_lists"]] == ["CL Only 2020 Dec 4"]
    assert [p.name for p in tmp_path.iterdir()] == ["store.json"]   # no temp file left
    for api in running(persist=str(path)):
        # The start-time list is in the file already: not seeded a second time.
        assert [cl["name"] for cl in api.emulator.store.lists()] == ["CL Only 2020 Dec 4"]
        doc = api.get(first["_id"]).json()["data"]
        assert (doc["name"], doc["description"]) == ("Spring Sale", "edited")
        second = api.created(simple(name="Second"))
        assert second["createdAt"] > doc["updatedAt"]
        assert [i["name"] for i in api.list({"type": "sms"}).json()["data"]["results"]] == [
            "Spring Sale", "Second"]


def test_a_format_1_file_loads_as_a_tenant_without_lists(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    for api in running(persist=str(path)):
        cid = api.created(simple())["_id"]
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({"format_version": 1, "campaigns": saved["campaigns"]}))
    for api in running(persist=str(path), contact_lists=()):
        assert api.get(cid).status_code == 200 and api.emulator.store.lists() == []
    assert json.loads(path.read_text())["format_version"] == 1   # nothing changed yet
    path.write_text(json.dumps({"format_version": 3, "campaigns": []}))
    with pytest.raises(ValueError, match="format_version 3"):
        next(running(persist=str(path)))


def test_corrupt_persist_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    path.write_text('{"campaigns": [{"nope": 1}]}')
    with pytest.raises(ValueError):
        next(running(persist=str(path)))
    assert path.read_text() == '{"campaigns": [{"nope": 1}]}'


@pytest.mark.parametrize("name", ["latency_ms", "list_lag_seconds", "fail_rate",
                                  "rate_limit_per_minute"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1])
def test_fault_settings_refuse_nan_infinite_and_negative(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        FaultConfig().merged({name: value})
