"""The emulator's paged list call `getAllCampaignDetails` over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from provisioner.emulator import MAX_PAGE_SIZE
from tests.test_emulator_helpers import Api, errors, running, simple

@pytest.fixture
def api() -> Iterator[Api]:
    yield from running()



# -- list ------------------------------------------------------------------------------
def test_list_pages_with_has_more_in_creation_order(api: Api) -> None:
    names = [f"Campaign {i:02d}" for i in range(7)]
    for name in names:
        api.created(simple(name=name))
    seen, skip = [], 0
    while True:
        data = api.list({"type": "sms", "limit": 3, "skip": skip}).json()["data"]
        assert (data["totalResults"], data["totalPages"], data["limit"]) == (7, 3, 3)
        seen += data["results"]
        skip += 3
        if not data["hasMore"]:
            break
    assert [item["name"] for item in seen] == names
    assert all("id" in item and "_id" not in item for item in seen)
    assert {item["campaignExecutionType"] for item in seen} == {"NORMAL"}
    page3 = api.list({"type": "sms", "limit": 3, "page": 3}).json()["data"]
    assert [i["name"] for i in page3["results"]] == names[6:]


def test_list_limit_above_max_is_refused_and_max_is_accepted(api: Api) -> None:
    assert api.list({"type": "sms", "limit": MAX_PAGE_SIZE}).status_code == 200
    too_big = api.list({"type": "sms", "limit": MAX_PAGE_SIZE + 1})
    assert too_big.status_code == 412
    assert str(MAX_PAGE_SIZE) in errors(too_big)[0]


@pytest.mark.parametrize("body", [{}, {"type": "email"}, {"type": "sms", "limit": "10"},
                                  {"type": "sms", "filters": {"status": ["Running"]}},
                                  {"type": "sms", "sortBy": {"priority": "asc"}},
                                  {"type": "sms", "name": "x"}])
def test_list_body_is_validated(api: Api, body: dict[str, Any]) -> None:
    assert api.list(body).status_code == 412


def test_list_filters_status_and_sorts(api: Api) -> None:
    first = api.created(simple(name="B first"))["_id"]
    api.created(simple(name="A second"))
    api.start(first)
    active = api.list({"type": "sms", "filters": {"status": ["Active"]}}).json()["data"]
    assert [i["id"] for i in active["results"]] == [first]
    assert active["results"][0]["campaignInstanceId"].startswith("cid-")
    by_name = api.list({"type": "sms", "sortBy": {"name": "asc"}}).json()["data"]["results"]
    assert [i["name"] for i in by_name] == ["A second", "B first"]
    assert api.list({"type": "voice"}).json()["data"]["results"] == []
