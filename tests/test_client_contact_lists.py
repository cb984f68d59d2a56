"""KoreClient's contact lists (issue 16) against the bundled emulator over loopback HTTP:
create, get, update, delete and the listing (in both answer shapes), a list a campaign uses,
the refresh's `read_contact_lists`, and the faults: 5xx, lost answers, commit-then-drop."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, start_emulator
from provisioner.errors import AmbiguousError, ApiError
from provisioner.remote.auth import KoreJWTAuth
from provisioner.remote.client import ApiTarget, KoreClient
from provisioner.remote.ratelimit import RateLimiter
from provisioner.remote.refresh import read_contact_lists

SECRET = "emu-secret-AXOLOTL-3b9f-never-printed-0123456789"
SAMPLE = json.loads((Path(__file__).parent / "fixtures" / "sample_request.json").read_text())
SEEDED = "CL Only 2020 Dec 4"   # the list the sample campaign names


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with start_emulator(stream_id="st-emu", account_id="acc-emu", client_id="cs-emu",
                        client_secret=SECRET, rate_limit_per_minute=0,
                        contact_lists=[SEEDED]) as emulator:
        yield emulator


def make_client(emu: Emulator) -> KoreClient:
    target = ApiTarget(emu.url, "st-emu", "acc-emu", "st-emu")
    return KoreClient(target, KoreJWTAuth("cs-emu", SECRET), limiter=RateLimiter(0),
                      max_retries=3, backoff_base=0.01)


def body(name: str, **changes: Any) -> dict[str, Any]:
    return {"name": name, "description": "", "allowDuplicates": False, **changes}


def names(client: KoreClient) -> list[str]:
    return sorted(item["name"] for item in client.list_contact_lists())


def sent(emu: Emulator, op: str) -> list[dict[str, Any]]:
    return [e for e in emu.requests.entries() if e["op"] == op]


def test_create_get_update_list_delete(emu: Emulator) -> None:
    client = make_client(emu)
    created = client.create_list(body("VIPs", description="Best customers",
                                      allowDuplicates=True))
    lid = created["_id"]
    assert lid.startswith("cl-") and created["status"] == "Ready"
    (create,) = sent(emu, "list_create")
    assert create["body"] == {"name": "VIPs", "description": "Best customers",
                              "allowDuplicates": True, "source": "passiveApi"}
    got = client.get_list(lid)
    assert got is not None and (got["name"], got["allowDuplicates"]) == ("VIPs", True)
    assert names(client) == [SEEDED, "VIPs"]

    answer = client.update_list(lid, body("VIP Customers", description="renamed",
                                          allowDuplicates=False))
    assert answer["contactListId"] == lid
    (update,) = sent(emu, "list_update")
    assert update["body"] == {"name": "VIP Customers", "description": "renamed"}
    got = client.get_list(lid)
    assert got is not None and (got["name"], got["allowDuplicates"]) == ("VIP Customers", True)

    assert client.delete_list(lid)["_id"] == lid
    assert client.get_list(lid) is None and names(client) == [SEEDED]


def test_the_listing_reads_the_docs_bare_array_too(emu: Emulator) -> None:
    client = make_client(emu)
    client.create_list(body("Array"))
    emu.set_faults(contact_lists_as_array=True)
    assert names(client) == ["Array", SEEDED]
    assert len(sent(emu, "list_list")) == 1
    (listing,) = sent(emu, "list_list")
    assert (listing["method"], listing["query"]["type"]) == ("GET", ["call"])


def test_a_list_a_campaign_uses_is_refused_with_the_apis_message(emu: Emulator) -> None:
    client = make_client(emu)
    lid = client.create_list(body("In Use"))["_id"]
    campaign = {**copy.deepcopy(SAMPLE), "name": "Uses It", "contactLists": ["in use"]}
    client.create(campaign)
    with pytest.raises(ApiError) as caught:
        client.delete_list(lid)
    assert caught.value.status == 400 and not isinstance(caught.value, AmbiguousError)
    assert "In Use is in use by campaign(s): Uses It" in caught.value.api_message
    assert client.get_list(lid) is not None and len(sent(emu, "list_delete")) == 1


def test_a_campaign_naming_a_missing_list_is_refused(emu: Emulator) -> None:
    campaign = {**copy.deepcopy(SAMPLE), "name": "Orphan", "contactLists": ["Nope"]}
    with pytest.raises(ApiError, match="Contact list\\(s\\) not found: Nope"):
        make_client(emu).create(campaign)


def test_read_contact_lists_groups_by_lname_with_the_listed_data(emu: Emulator) -> None:
    client = make_client(emu)
    first = client.create_list(body("Twins"))["_id"]
    second = client.create_list(body("twins", description="names may repeat"))["_id"]
    before = len(emu.requests.entries())
    remote = read_contact_lists(client)
    assert len(emu.requests.entries()) - before == 1   # one listing
    assert sorted(remote) == [SEEDED.lower(), "twins"]
    twins = sorted(remote["twins"], key=lambda r: r.name)
    assert [(r.id, r.name, r.status) for r in twins] == [
        (first, "Twins", "Ready"), (second, "twins", "Ready")]
    assert twins[1].body is not None and twins[1].body["description"] == "names may repeat"


@pytest.mark.parametrize("fault, exists", [
    ({"fail_next": 1}, False),
    ({"drop_next": 1}, True),
    ({"no_data_next": 1}, True),
], ids=["5xx", "commit-then-drop", "no-data"])
def test_create_list_outcome_unknown_is_ambiguous_and_never_resent(
        emu: Emulator, fault: dict[str, Any], exists: bool) -> None:
    client = make_client(emu)
    emu.set_faults(ops=["list_create"], **fault)
    with pytest.raises(AmbiguousError, match="may or may not"):
        client.create_list(body("Maybe"))
    assert len(sent(emu, "list_create")) == 1
    assert names(client).count("Maybe") == (1 if exists else 0)


@pytest.mark.parametrize("op", ["list_get", "list_list", "list_update", "list_delete"])
def test_reads_and_idempotent_writes_ride_out_server_errors(emu: Emulator, op: str) -> None:
    client = make_client(emu)
    lid = client.create_list(body("Sturdy"))["_id"]
    emu.set_faults(fail_next=2, ops=[op])
    {"list_get": lambda: client.get_list(lid),
     "list_list": lambda: client.list_contact_lists(),
     "list_update": lambda: client.update_list(lid, body("Sturdy 2")),
     "list_delete": lambda: client.delete_list(lid)}[op]()
    assert [e["status"] for e in sent(emu, op)] == [500, 500, 200]


def test_a_lost_update_answer_is_resent_and_lands_once(emu: Emulator) -> None:
    client = make_client(emu)
    lid = client.create_list(body("Before"))["_id"]
    emu.set_faults(drop_next=1, ops=["list_update"])
    client.update_list(lid, body("After"))
    assert [e["status"] for e in sent(emu, "list_update")] == [None, 200]
    assert names(client) == ["After", SEEDED]


def test_a_lost_delete_answer_ends_in_404_with_the_list_gone(emu: Emulator) -> None:
    client = make_client(emu)
    lid = client.create_list(body("Gone"))["_id"]
    emu.set_faults(drop_next=1, ops=["list_delete"])
    with pytest.raises(ApiError) as caught:
        client.delete_list(lid)
    assert caught.value.status == 404 and not isinstance(caught.value, AmbiguousError)
    assert client.get_list(lid) is None
