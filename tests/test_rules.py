"""Semantic checks and domain warnings on plain documents."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from provisioner.body import encode_message
from provisioner.spec import rules
from provisioner.spec.rules import check, minutes

BASE: dict[str, Any] = {
    "name": "N", "contactLists": ["C"], "dncLists": {"name": "D"}, "format": "simple",
    "message": {"text": "Hi"},
    "dialingStrategy": {"callerId": {"phoneNumber": "+14155550123"}, "callingHours": {
        "frequency": "WEEKLY", "timezone": "America/New_York",
        "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}]}},
}
DAYS = ("dialingStrategy", "callingHours", "days")


def doc(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out.update(changes)
    return out


def with_days(*windows: tuple[str, str, str]) -> dict[str, Any]:
    out = doc()
    out["dialingStrategy"]["callingHours"]["days"] = [
        {"day": d, "start": s, "end": e} for d, s, e in windows]
    return out


@pytest.mark.parametrize("text,expected", [
    ("9:00 AM", 540), ("12:00 AM", 0), ("12:30 PM", 750), ("09:05 PM", 1265),
    ("13:00 PM", None), ("9:00", None), ("9:00AM", None), (540, None),
])
def test_minutes(text: Any, expected: int | None) -> None:
    assert minutes(text) == expected


def test_clean_document_has_no_finding() -> None:
    assert check(doc()) == []


def test_day_twice_and_start_not_before_end() -> None:
    findings = check(with_days(("MO", "9:00 AM", "6:00 PM"), ("MO", "6:00 PM", "6:00 PM")))
    assert [(f.path, f.severity) for f in findings] == [
        ((*DAYS, 1, "day"), "error"), ((*DAYS, 1, "end"), "error")]
    assert "first at days[0]" in findings[0].message


@pytest.mark.parametrize("start,end,paths", [
    ("8:00 AM", "9:00 PM", []),
    ("7:59 AM", "9:00 PM", [(*DAYS, 0, "start")]),
    ("8:00 AM", "9:01 PM", [(*DAYS, 0, "end")]),
])
def test_quiet_hours_are_warnings_at_the_boundaries(start: str, end: str, paths: list) -> None:
    findings = check(with_days(("MO", start, end)))
    assert [f.path for f in findings] == paths
    assert all(f.severity == "warning" and "America/New_York" in f.message for f in findings)


def test_timezone_must_be_iana() -> None:
    [finding] = check(doc(dialingStrategy={"callingHours": {"timezone": "Asia/Kolkatta"}}))
    assert finding.message.endswith("did you mean 'Asia/Kolkata'?")


def test_message_rules() -> None:
    assert check(doc(message={"message": encode_message("Hi")})) == []
    [both] = check(doc(message={"message": "SGk=", "text": "Hi"}))
    assert both.path == ("message", "text") and both.on_key
    [bad] = check(doc(message={"message": "%%%"}))
    assert "not Base64" in bad.message
    [none] = check(doc(message={"templateId": ""}))
    assert none.path == ("message",)


def test_long_message_warning_names_count_and_encoding() -> None:
    [finding] = check(doc(message={"message": encode_message("x" * 460)}))
    assert finding.severity == "warning" and finding.path == ("message", "message")
    assert "4 SMS segments (GSM-7, 460 characters)" in finding.message
    assert check(doc(message={"text": "x" * 459})) == []


def test_missing_dnc_list_warns_unless_campaign_is_absent() -> None:
    plain = doc()
    del plain["dncLists"]
    [finding] = check(plain)
    assert finding.path == () and finding.severity == "warning"
    assert check({"name": "N", "ensure": "absent"}) == []


def test_rules_skip_values_of_the_wrong_type() -> None:
    odd = doc(message="Hi", dialingStrategy={"callingHours": {"days": ["MO", {"day": 3}]}})
    assert [f.severity for f in check(odd)] == []


def test_one_zone_is_looked_up_as_the_full_list_would_find_it() -> None:
    """is_time_zone avoids listing the database; it must agree with the list everywhere."""
    listed = rules.time_zones()
    assert len(listed) > 300
    assert all(rules.is_time_zone(zone) for zone in listed)
    tricky = ["posixrules", "right/UTC", "posix/UTC", "../zoneinfo/UTC", "America//New_York",
              "./UTC", "America/New_York/", "America", "zone.tab", "iso3166.tab", "Foo/Bar",
              "/usr/share/zoneinfo/UTC", "america/new_york", "UTC\x00"]
    for key in tricky:
        rules.is_time_zone.cache_clear()
        assert rules.is_time_zone(key) == (key in listed), key
