"""Checks JSON Schema cannot express, and domain warnings.

Each rule reads only values of the type it expects and skips the rest, so a document with a
schema error still gets every other problem reported, without the same one twice.
Pure functions of a document; the rules follow koreai-campaign-apis.md (sections 1.1, 1.9
and 4).
"""

from __future__ import annotations

import functools
import os
import re
import zoneinfo
from typing import Any

from provisioner.body import CAMPAIGN, decode_message
from provisioner.spec import runstate
from provisioner.spec.printable import escape, hidden, hidden_chars
from provisioner.spec.schema import Finding, suggest
from provisioner.body.sms import sms_info

WARNING = "warning"
MAX_SEGMENTS = 3
TCPA_START = 8 * 60     # 8:00 AM: US TCPA quiet hours end
TCPA_END = 21 * 60      # 9:00 PM: US TCPA quiet hours begin
_TIME = re.compile(r"(0?[1-9]|1[0-2]):([0-5][0-9]) (AM|PM)\Z")
_HOURS = ("dialingStrategy", "callingHours")
_NAMED = (("name",), ("dncLists", "name"), ("experienceFlowName",), ("queue_name",))


@functools.cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def is_time_zone(key: str) -> bool:
    """`key in time_zones()`, without listing them all: available_timezones() opens every
    file of the time zone database (50 ms, more than a whole warm plan may take), so one
    key is looked up the way it would have found it. tests/test_rules.py checks the two
    agree on every zone and on the keys it skips."""
    from zoneinfo import TZPATH

    parts = key.split("/")
    if key == "posixrules" or parts[0] in ("right", "posix") or any(
            part in ("", ".", "..") for part in parts):
        return key in time_zones() if _tzdata_installed() else False
    for root in TZPATH:
        if _tzif_below(root, parts):
            return True
    return _tzdata_installed() and key in time_zones()


def _tzif_below(root: str, parts: list[str]) -> bool:
    """A regular file (or a link to one) at root/parts, reached through real folders only
    (os.walk does not enter linked folders), that starts with the TZif magic."""
    folder = root
    for part in parts[:-1]:
        folder = os.path.join(folder, part)
        if os.path.islink(folder) or not os.path.isdir(folder):   # both False on a NUL
            return False
    path = os.path.join(folder, parts[-1])
    try:
        with open(path, "rb") as handle:
            return os.path.isfile(path) and handle.read(4) == b"TZif"
    except (OSError, ValueError):   # ValueError: a NUL in the key
        return False


@functools.cache
def _tzdata_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("tzdata") is not None


def minutes(text: Any) -> int | None:
    """Minutes after midnight of a time like `9:00 AM`, or None when it is not one."""
    return _minutes(text) if isinstance(text, str) else None


@functools.lru_cache(maxsize=4096)   # a few dozen distinct times recur thousands of times
def _minutes(text: str) -> int | None:
    match = _TIME.fullmatch(text)   # exact: "9:00 AM\n" is not a time
    if match is None:
        return None
    hour, minute, half = int(match[1]) % 12, int(match[2]), match[3]
    return (hour + (12 if half == "PM" else 0)) * 60 + minute


def check(doc: dict[str, Any]) -> list[Finding]:
    """Semantic errors and domain warnings of one campaign document (its run state and
    schedule: provisioner/spec/runstate.py, whose rules that read the clock run on every
    load instead); of any other kind (a contact list), its name's."""
    if doc.get("kind", CAMPAIGN) != CAMPAIGN:
        return _names(doc)
    findings = (_names(doc) + _message(doc) + _timezone(doc) + _days(doc)
                + runstate.check(doc))
    if doc.get("ensure") != "absent":
        findings += _dnc(doc) + _segments(doc) + quiet_hours(doc)
    return findings


def get(doc: Any, *keys: str) -> Any:
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _names(doc: dict[str, Any]) -> list[Finding]:
    """Names the API looks up or shows must be visible text: not blank (the API refuses
    a blank name, contact list, DNC list or flow), no control or invisible character and no
    surrounding space (names that differ only by these look alike in a review)."""
    found: list[tuple[tuple[str | int, ...], Any]] = [
        (path, get(doc, *path)) for path in _NAMED]
    lists = doc.get("contactLists")
    if isinstance(lists, list):
        found += [(("contactLists", index), item) for index, item in enumerate(lists)]
    return [finding for path, value in found if isinstance(value, str) and value
            for finding in _name_problem(path, value)]


def _name_problem(path: tuple[str | int, ...], value: str) -> list[Finding]:
    shown = f"'{escape(value)}'"
    if _blank(value):
        return [Finding(path, f"{shown} is blank: a name needs a visible character")]
    unseen = hidden_chars(value)
    if unseen:
        return [Finding(path, f"{shown} contains invisible or control characters "
                              f"({', '.join(unseen)}); remove them")]
    if value != value.strip():
        return [Finding(path, f"{shown} starts or ends with a space; remove it")]
    return []


def _blank(text: str) -> bool:
    """True when no character of `text` can be seen."""
    return all(char.isspace() or hidden(char) for char in text)


def _message(doc: dict[str, Any]) -> list[Finding]:
    message = doc.get("message")
    if not isinstance(message, dict):
        return []
    if "message" in message and "text" in message:
        return [Finding(("message", "text"), "give message.message or message.text, not both",
                        on_key=True)]
    encoded, text = message.get("message"), message.get("text")
    if isinstance(encoded, str) and encoded:
        try:
            text = decode_message(encoded)
        except ValueError:
            return [Finding(("message", "message"), f"{encoded[:20]!r} is not Base64 of UTF-8 "
                            "text; write plain text as message.text instead")]
    if isinstance(text, str) and text and _blank(text):
        where = ("message", "message" if "message" in message else "text")
        return [Finding(where, "the message text is blank: the API refuses a message "
                               "without a visible character")]
    if doc.get("format") == "simple" and "message" not in message and "text" not in message:
        return [Finding(("message",), "simple format needs message.text (plain) or "
                                      "message.message (Base64)")]
    return []


def _timezone(doc: dict[str, Any]) -> list[Finding]:
    zone = get(doc, *_HOURS, "timezone")
    if not isinstance(zone, str) or not zone or is_time_zone(zone):
        return []
    hint = suggest(zone, sorted(time_zones()))
    return [Finding((*_HOURS, "timezone"), f"{zone!r} is not an IANA time zone like "
                                           f"Asia/Kolkata{hint}")]


def _windows(doc: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    days = get(doc, *_HOURS, "days")
    if not isinstance(days, list):
        return []
    return [(index, day) for index, day in enumerate(days) if isinstance(day, dict)]


def _days(doc: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    first: dict[str, int] = {}
    for index, window in _windows(doc):
        base = (*_HOURS, "days", index)
        day = window.get("day")
        if isinstance(day, str) and day in first:
            findings.append(Finding((*base, "day"), f"day '{day}' is listed twice "
                                                    f"(first at days[{first[day]}])"))
        elif isinstance(day, str):
            first[day] = index
        start, end = minutes(window.get("start")), minutes(window.get("end"))
        if start is not None and end is not None and start >= end:
            findings.append(Finding((*base, "end"), f"end {window['end']!r} is not after "
                                                    f"start {window['start']!r}"))
    return findings


def quiet_hours(doc: dict[str, Any]) -> list[Finding]:
    zone = get(doc, *_HOURS, "timezone") or "local"
    findings = []
    for index, window in _windows(doc):
        base = (*_HOURS, "days", index)
        start, end = minutes(window.get("start")), minutes(window.get("end"))
        if start is not None and start < TCPA_START:
            findings.append(Finding((*base, "start"), f"starts at {window['start']}, before "
                                    f"8:00 AM {zone} time (US TCPA quiet hours)", WARNING))
        if end is not None and end > TCPA_END:
            findings.append(Finding((*base, "end"), f"ends at {window['end']}, after "
                                    f"9:00 PM {zone} time (US TCPA quiet hours)", WARNING))
    return findings


def is_quiet_hours(finding: Finding) -> bool:
    """Whether `finding` is a quiet-hours warning (a policy may make it an error)."""
    return finding.severity == WARNING and finding.message.endswith("(US TCPA quiet hours)")


def _dnc(doc: dict[str, Any]) -> list[Finding]:
    if doc.get("campaignType", "sms") != "sms" or "dncLists" in doc:
        return []
    return [Finding((), "SMS campaign without dncLists: SMS is scrubbed only against a DNC "
                        "list linked to the campaign", WARNING)]


def _segments(doc: dict[str, Any]) -> list[Finding]:
    message = doc.get("message")
    if doc.get("format") != "simple" or not isinstance(message, dict):
        return []
    text, path = message.get("text"), ("message", "text")
    if not isinstance(text, str):
        path = ("message", "message")
        try:
            text = decode_message(message["message"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return []
    encoding, count = sms_info(text)
    if count <= MAX_SEGMENTS:
        return []
    return [Finding(path, f"message is {count} SMS segments ({encoding}, {len(text)} "
                          f"characters); more than {MAX_SEGMENTS} costs more per contact",
                    WARNING)]
