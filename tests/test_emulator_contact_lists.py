"""The emulator's contact lists over loopback: the documented endpoints, the lists a campaign
must name, the in-use refusal, seeding (Python, CLI, admin), faults and persistence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from provisioner.emulator import start_emulator
from tests.conftest import DEFAULT_CONTACT_LISTS, EmulatorProcess
from tests.test_emulator_helpers import Api, errors, running, simple

SEEDED = "CL Only 2020 Dec 4"


@pytest.fixture
def api() -> Iterator[Api]:
    yield from running()


# -- create, get, list -------------------------------------------------------------------
def test_create_answers_the_documented_list(api: Api) -> None:
    response = api.list_create("Renewal Due July", "Expiring in July", allowDuplicates=True)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert (reply["status"], reply["message"]) == (
        "success", "Contact list Renewal Due July created successfully")
    data = reply["data"]
    assert data["_id"].startswith("cl-")
    assert {k: data[k] for k in ("name", "description", "allowDuplicates", "status", "listType",
                                 "isGlobalDNC", "campaignInUse", "isListInUse", "source",
                                 "totalRecordCount")} == {
        "name": "Renewal Due July", "description": "Expiring in July", "allowDuplicates": True,
        "status": "Ready", "listType": "call", "isGlobalDNC": False, "campaignInUse": [],
        "isListInUse": False, "source": "passiveApi", "totalRecordCount": 0}
    assert data["apiConfigurations"] == {"dataSyncMode": "allowDuplicates"}
    assert data["mapping"]["phoneNumber"] == "phoneNumber"
    assert data["createdAt"] == data["updatedAt"] and data["createdAt"].endswith("Z")
    got = api.list_get(data["_id"]).json()
    assert got == {"status": "success", "message": "", "data": data}


def test_allow_duplicates_defaults_to_false(api: Api) -> None:
    data = api.list_created("Plain")
    assert data["allowDuplicates"] is False and "apiConfigurations" not in data


def test_names_may_repeat(api: Api) -> None:
    first = api.list_created("Twice")
    second = api.list_created("twice")
    assert first["_id"] != second["_id"]
    assert len(api.emulator.store.lists_named("TWICE")) == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_listing_answers_every_list_and_ignores_paging(api: Api, method: str) -> None:
    for n in range(12):
        api.list_created(f"List {n:02d}")
    kw: dict[str, Any] = {"body": {"limit": 2, "skip": 4, "page": 3}} if method == "POST" else {}
    response = api.lists(method, **kw)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["hasMore"], data["totalResults"]) == (False, 13)
    assert [item["name"] for item in data["results"]] == [SEEDED] + [f"List {n:02d}" for n in range(12)]
    item = data["results"][1]
    assert item["_id"].startswith("cl-") and item["campaignInUse"] == []
    # The sample's items leave these out: a client must get a list to know them.
    assert not {"allowDuplicates", "isGlobalDNC", "createdAt"} & set(item)


def test_listing_without_type_and_a_wrong_type(api: Api) -> None:
    assert api.lists(query={}).status_code == 200
    wrong = api.lists(query={"type": "sms"})
    assert wrong.status_code == 400 and errors(wrong) == ["type query parameter must be call"]


def test_listing_as_the_samples_bare_array() -> None:
    for api in running(faults={"contact_lists_as_array": True}):
        data = api.lists().json()["data"]
        assert isinstance(data, list) and [item["name"] for item in data] == [SEEDED]


@pytest.mark.parametrize(("body", "expected"), [
    ({"name": "x" * 49, "description": "", "source": "passiveApi"}, "$.name must be at most 48 characters"),
    ({"name": " ", "description": "", "source": "passiveApi"}, "$.name must be a non-empty string"),
    ({"name": "N", "source": "passiveApi"}, "$.description is required"),
    ({"name": "N", "description": "d" * 257, "source": "passiveApi"}, "$.description must be at most 256 characters"),
    ({"name": "N", "description": ""}, "$.source is required"),
    ({"name": "N", "description": "", "source": "upload"}, '$.source must be "passiveApi"'),
    ({"name": "N", "description": "", "source": "passiveApi", "allowDuplicates": "yes"}, "$.allowDuplicates must be a boolean"),
    ({"name": "N", "description": "", "source": "passiveApi", "listType": "call"}, "$.listType is not an allowed field"),
    (["N"], "body must be a JSON object"),
])
def test_create_refuses_a_bad_body_with_400(api: Api, body: Any, expected: str) -> None:
    response = api.call("POST", "/campaign/api/v2/public/{sid}/campaign/contactList/createContactList",
                        body=body)
    assert response.status_code == 400
    assert expected in errors(response)
    assert [cl["name"] for cl in api.emulator.store.lists()] == [SEEDED]


def test_get_update_delete_of_an_unknown_list_are_404(api: Api) -> None:
    assert api.list_get("cl-nope").status_code == 404
    assert api.list_put("cl-nope", {"name": "X"}).status_code == 404
    response = api.list_delete("cl-nope")
    assert response.status_code == 404 and errors(response) == ["Contact list cl-nope not found"]


# -- update --------------------------------------------------------------------------------
def test_update_renames_and_echoes_what_was_sent(api: Api) -> None:
    made = api.list_created("Old Name", description="before")
    response = api.list_put(made["_id"], {"name": "New Name", "description": "after"})
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["message"] == "Contact list New Name updated successfully"
    assert reply["data"]["contactListId"] == made["_id"]
    assert {k: reply["data"]["body"][k] for k in ("name", "description", "listType")} == {
        "name": "New Name", "description": "after", "listType": "call"}
    stored = api.list_get(made["_id"]).json()["data"]
    assert (stored["name"], stored["description"]) == ("New Name", "after")
    assert stored["updatedAt"] > made["updatedAt"]


@pytest.mark.parametrize(("body", "expected"), [
    ({"allowDuplicates": True}, "$.allowDuplicates is not an allowed field"),
    ({"name": "N", "source": "passiveApi"}, "$.source is not an allowed field"),
    ({}, "body must change name or description"),
    ({"name": ""}, "$.name must be a non-empty string"),
    ({"description": 5}, "$.description must be a string"),
])
def test_update_takes_name_and_description_only(api: Api, body: dict[str, Any],
                                                expected: str) -> None:
    made = api.list_created("Kept")
    response = api.list_put(made["_id"], body)
    assert response.status_code == 400 and expected in errors(response)
    assert api.list_get(made["_id"]).json()["data"]["updatedAt"] == made["updatedAt"]


# -- campaigns name lists --------------------------------------------------------------------
def test_a_campaign_naming_lists_the_tenant_lacks_is_refused(api: Api) -> None:
    body = simple() | {"contactLists": [SEEDED, "Ghosts", "Nobody"]}
    response = api.create(body)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"msg": "Contact list(s) not found: Ghosts, Nobody",
                                           "code": 400}]}
    assert len(api.emulator.store) == 0
    cid = api.created(simple())["_id"]
    put = api.put(cid, simple() | {"priority": "5", "contactLists": ["Ghosts"]})
    assert put.status_code == 400 and errors(put) == ["Contact list(s) not found: Ghosts"]


def test_list_names_match_campaigns_case_insensitively(api: Api) -> None:
    assert api.create(simple() | {"contactLists": [SEEDED.upper()]}).status_code == 200


def test_campaign_in_use_names_each_campaign_and_blocks_the_delete(api: Api) -> None:
    made = api.list_created("Loyal")
    first = api.created(simple(name="A") | {"contactLists": ["loyal", SEEDED]})
    second = api.created(simple(name="B") | {"contactLists": ["Loyal"]})
    data = api.list_get(made["_id"]).json()["data"]
    assert data["campaignInUse"] == [{"id": first["_id"], "name": "A"},
                                     {"id": second["_id"], "name": "B"}]
    assert data["isListInUse"] is True
    refused = api.list_delete(made["_id"])
    assert refused.status_code == 400
    assert errors(refused) == ["Contact list Loyal is in use by campaign(s): A, B"]
    api.delete(first["_id"])
    api.delete(second["_id"])
    deleted = api.list_delete(made["_id"])
    assert deleted.status_code == 200
    assert deleted.json()["message"] == "Contact list Loyal deleted successfully"
    assert deleted.json()["data"]["_id"] == made["_id"]
    assert api.list_get(made["_id"]).status_code == 404


def test_a_renamed_list_leaves_campaigns_naming_the_old_name(api: Api) -> None:
    made = api.list_created("Before")
    cid = api.created(simple() | {"contactLists": ["Before"]})["_id"]
    assert api.list_put(made["_id"], {"name": "After"}).status_code == 200
    assert api.get(cid).json()["data"]["contactLists"] == ["Before"]
    assert api.list_get(made["_id"]).json()["data"]["campaignInUse"] == []
    stale = api.put(cid, simple() | {"priority": "5", "contactLists": ["Before"]})
    assert errors(stale) == ["Contact list(s) not found: Before"]
    assert api.put(cid, simple() | {"priority": "5", "contactLists": ["After"]}).status_code == 200


# -- faults and the request log ----------------------------------------------------------------
def test_faults_apply_to_contact_list_ops(api: Api) -> None:
    api.emulator.set_faults(fail_next=1, ops=["list_create"])
    assert api.list_create("Failed").status_code == 500
    assert api.emulator.store.lists_named("Failed") == []
    made = api.list_created("Dropped")
    api.emulator.set_faults(drop_next=1, ops=["list_delete"])
    with pytest.raises(requests.ConnectionError):
        api.list_delete(made["_id"])
    assert api.emulator.store.list_get(made["_id"]) is None       # committed, then dropped
    api.emulator.set_faults(no_data_next=1, ops=["list_update"])
    other = api.list_created("Bare")
    assert api.list_put(other["_id"], {"name": "Bare 2"}).json() == {"status": "success",
                                                                    "message": "OK"}
    api.emulator.set_faults(fail_next=2, ops=["list_get", "list_list"])
    assert [api.list_get(other["_id"]).status_code, api.lists().status_code] == [500, 500]
    ops = [e["op"] for e in api.emulator.requests.entries()]
    assert set(ops) == {"list_create", "list_delete", "list_update", "list_get", "list_list"}


# -- seeding ---------------------------------------------------------------------------------
def test_admin_adds_reads_edits_and_removes_lists(api: Api) -> None:
    added = api.admin("POST", "contact-lists", {"name": "Console List"})
    assert added.status_code == 201
    lid = added.json()["_id"]
    assert added.json()["description"] == "" and added.json()["allowDuplicates"] is False
    assert api.admin("POST", "contact-lists", {"name": ""}).status_code == 412
    names = [cl["name"] for cl in api.admin("GET", "contact-lists").json()["contact_lists"]]
    assert names == [SEEDED, "Console List"]
    patched = api.admin("PATCH", f"contact-lists/{lid}", {"description": "console edit"})
    assert patched.json()["description"] == "console edit"
    assert patched.json()["updatedAt"] > added.json()["updatedAt"]
    api.created(simple() | {"contactLists": ["Console List"]})
    # Out of band, a list goes even while a campaign names it.
    assert api.admin("GET", f"contact-lists/{lid}").json()["isListInUse"] is True
    assert api.admin("DELETE", f"contact-lists/{lid}").status_code == 200
    assert api.admin("GET", f"contact-lists/{lid}").status_code == 404
    assert api.list_get(lid).status_code == 404


def test_reset_brings_back_the_start_lists_only(api: Api) -> None:
    api.list_created("Made Later")
    assert api.admin("POST", "reset").status_code == 200
    assert [cl["name"] for cl in api.emulator.store.lists()] == [SEEDED]


def test_a_bad_start_list_name_is_refused() -> None:
    with pytest.raises(ValueError, match="contact list ' ': must be a non-empty string"):
        start_emulator(contact_lists=[" "])
    with pytest.raises(ValueError, match="at most 48"):
        start_emulator(contact_lists=["x" * 49])


def test_the_cli_seeds_each_contact_list_option(emulator: EmulatorProcess) -> None:
    names = [cl["name"] for cl in emulator.contact_lists()]
    assert names == list(DEFAULT_CONTACT_LISTS)
    added = emulator.add_contact_list("Added By Test", "why")
    assert added["_id"] in {cl["_id"] for cl in emulator.contact_lists()}


def test_the_cli_refuses_a_blank_contact_list(tmp_path: Path) -> None:
    from tests.conftest import start_emulator_process
    with pytest.raises(RuntimeError, match="--contact-list must be a non-empty string"):
        start_emulator_process(tmp_path, contact_lists=("  ",))
