"""Body validation by the documented rules, written independently of the project's own
schema and spec modules so that one can catch the other's mistakes.

Rules come from create-sms-campaign-advanced-format-v2.md and koreai-campaign-apis.md
(sections 1.1, 1.2, 1.5, 1.9 and 4). Each check returns a list of one-line problems with the
JSON path they concern; an empty list means the body is acceptable. The campaign type comes
from the `campaignType` query parameter; the body's `campaignType` must say the same.

Voice bodies: see voice.py.
"""

from __future__ import annotations

import base64
import binascii
import re
import zoneinfo
from typing import Any
from urllib.parse import unquote

MAX_NAME = 48           # create/update v2 pages: "Max 48 characters"
MAX_DESCRIPTION = 256   # same pages
PRIORITIES = ("1", "2", "3", "4", "5")  # a string, "1" lowest ... "5" highest
FORMATS = ("simple", "advanced")
FREQUENCIES = ("WEEKLY", "DAILY", "CUSTOM")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Both are matched in full (`fullmatch`): with `match`, `$` also matched before a final
# newline, so "9:00 AM\n" passed as a time and slipped past the start-before-end check.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# Samples show "9:00 AM"; the tables say "HH:MM AM/PM", so a leading zero is accepted too.
CLOCK = re.compile(r"(0?[1-9]|1[0-2]):([0-5][0-9]) (AM|PM)")

TOP_FIELDS = ("name", "description", "contactLists", "dncLists", "priority", "format",
              "campaignType", "message", "dialingStrategy", "schedule", "experienceFlowName")
DIALING_FIELDS = ("callerId", "callingHours")
MESSAGE_FIELDS = ("message", "templateId", "template_name")
# `isRecurrenceEnabled` is echoed by the get-by-id response (section 1.3), so a client that
# sends back what it read is not refused for it.
SCHEDULE_FIELDS = ("isSchedulingEnabled", "isRecurrenceEnabled")
_TIMEZONES: frozenset[str] | None = None


def _timezones() -> frozenset[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = frozenset(zoneinfo.available_timezones())
    return _TIMEZONES


def unknown_keys(value: dict[str, Any], allowed: tuple[str, ...], path: str) -> list[str]:
    return [f"{path}.{key} is not an allowed field" for key in value if key not in allowed]


def is_text(value: Any) -> bool:
    """A string with something other than whitespace (a blank name is refused)."""
    return isinstance(value, str) and value.strip() != ""


def decode_base64_text(value: str) -> str | None:
    """The text inside plain or URL-encoded Base64 of UTF-8, or None when it is not that."""
    raw = unquote(value)
    if not raw or raw != raw.strip():
        return None
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def minutes(clock: str) -> int:
    """Minutes after midnight of an `h:mm AM|PM` time (12:xx AM is just after midnight)."""
    match = CLOCK.fullmatch(clock)
    assert match is not None
    hour, minute, half = int(match[1]) % 12, int(match[2]), match[3]
    return (hour + (12 if half == "PM" else 0)) * 60 + minute


def validate_campaign(body: Any, *, query_type: str, full_put: bool) -> list[str]:
    """Problems with a create (`full_put=False`) or update (`full_put=True`) body of an SMS
    campaign; `query_type` is the campaignType query parameter the body must agree with.

    The update page marks name, description, contactLists, priority, format,
    dialingStrategy and experienceFlowName (advanced) required; the simple and template
    create pages make description required; the advanced create page makes it optional.
    """
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    problems = unknown_keys(body, TOP_FIELDS, "$")
    required = ["name", "contactLists", "format", "campaignType", "dialingStrategy"]
    if full_put:
        required += ["description", "priority"]
    elif body.get("format") == "simple":
        required.append("description")
    required.append("experienceFlowName" if body.get("format") == "advanced" else "message")
    problems += [f"$.{key} is required" for key in required if key not in body]
    for key, check in FIELD_CHECKS.items():
        if key in body:
            problems += check(body[key], f"$.{key}")
    return problems + check_campaign_type(body.get("campaignType"), query_type)


def is_integer(value: Any) -> bool:
    """A JSON integer: 3, never 3.0, "3" or true."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_name(value: Any, path: str) -> list[str]:
    if not is_text(value):
        return [f"{path} must be a non-empty string"]
    return [f"{path} must be at most {MAX_NAME} characters"] if len(value) > MAX_NAME else []


def check_description(value: Any, path: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{path} must be a string"]
    return [f"{path} must be at most {MAX_DESCRIPTION} characters"] if len(value) > MAX_DESCRIPTION else []


def _check_contact_lists(value: Any, path: str) -> list[str]:
    if not isinstance(value, list) or not value:
        return [f"{path} must be a non-empty array of contact list names"]
    problems = [f"{path}[{i}] must be a non-empty string" for i, item in enumerate(value)
                if not is_text(item)]
    if not problems and len(set(value)) != len(value):
        problems.append(f"{path} must not repeat a contact list")
    return problems


def _check_dnc(value: Any, path: str) -> list[str]:
    # One DNC list per campaign, referenced by name (UI doc; section 1.11).
    if not isinstance(value, dict):
        return [f"{path} must be an object {{name}}"]
    problems = unknown_keys(value, ("name",), path)
    return problems + ([] if is_text(value.get("name")) else [f"{path}.name must be a non-empty string"])


def _check_priority(value: Any, path: str) -> list[str]:
    # The docs say a string "1".."5"; a number is refused, not coerced.
    return [] if isinstance(value, str) and value in PRIORITIES else [
        f'{path} must be one of the strings "1" to "5"']


def _check_format(value: Any, path: str) -> list[str]:
    return [] if value in FORMATS else [f"{path} must be simple or advanced"]


def _check_message(value: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path} must be an object"]
    problems = unknown_keys(value, MESSAGE_FIELDS, path)
    for key in ("templateId", "template_name"):
        if key in value and not isinstance(value[key], str):
            problems.append(f"{path}.{key} must be a string")
    text = value.get("message")
    if not isinstance(text, str):
        return problems + [f"{path}.message is required: Base64 of the SMS text"]
    decoded = decode_base64_text(text)
    if decoded is None:
        problems.append(f"{path}.message must be Base64 (plain or URL-encoded) of UTF-8 text")
    elif not decoded.strip():
        problems.append(f"{path}.message must not encode an empty text")
    return problems


def _check_schedule(value: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path} must be an object"]
    problems = unknown_keys(value, SCHEDULE_FIELDS, path)
    return problems + [f"{path}.{key} must be a boolean" for key in SCHEDULE_FIELDS
                       if key in value and not isinstance(value[key], bool)]


def check_text(value: Any, path: str) -> list[str]:
    return [] if is_text(value) else [f"{path} must be a non-empty string"]


def check_dialing(value: Any, path: str,
                  allowed: tuple[str, ...] = DIALING_FIELDS) -> list[str]:
    """The callerId and callingHours of a dialingStrategy; keys beyond `allowed` refused."""
    if not isinstance(value, dict):
        return [f"{path} must be an object"]
    problems = unknown_keys(value, allowed, path)
    caller = value.get("callerId")
    if not isinstance(caller, dict):
        problems.append(f"{path}.callerId is required: an object {{phoneNumber}}")
    else:
        problems += unknown_keys(caller, ("phoneNumber",), f"{path}.callerId")
        number = caller.get("phoneNumber")
        if not (isinstance(number, str) and E164.fullmatch(number)):
            problems.append(f"{path}.callerId.phoneNumber must be an E.164 number")
    return problems + _check_hours(value.get("callingHours"), f"{path}.callingHours")


def _check_hours(value: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path} is required: an object {{frequency, timezone, days}}"]
    problems = unknown_keys(value, ("frequency", "timezone", "days"), path)
    if value.get("frequency") not in FREQUENCIES:
        problems.append(f"{path}.frequency must be WEEKLY, DAILY or CUSTOM")
    zone = value.get("timezone")
    if not (isinstance(zone, str) and zone in _timezones()):
        problems.append(f"{path}.timezone must be an IANA time zone such as Asia/Kolkata")
    return problems + _check_days(value.get("days"), f"{path}.days")


def _check_days(value: Any, path: str) -> list[str]:
    if not isinstance(value, list) or not value:
        return [f"{path} must be a non-empty array of {{day, start, end}}"]
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be an object {{day, start, end}}")
            continue
        problems += unknown_keys(item, ("day", "start", "end"), where)
        day = item.get("day")
        if day not in DAYS:
            problems.append(f"{where}.day must be one of {' '.join(DAYS)}")
        elif day in seen:
            problems.append(f"{where}.day {day} is repeated")
        seen.add(str(day))
        problems += _check_window(item, where)
    return problems


def _check_window(item: dict[str, Any], where: str) -> list[str]:
    bad = [key for key in ("start", "end")
           if not (isinstance(item.get(key), str) and CLOCK.fullmatch(item[key]))]
    if bad:
        return [f"{where}.{key} must be a time h:mm AM|PM" for key in bad]
    if minutes(item["start"]) >= minutes(item["end"]):
        return [f"{where}.start must be before {where}.end"]
    return []


def check_campaign_type(value: Any, query_type: str) -> list[str]:
    if value is not None and value != query_type:
        return [f'$.campaignType must be "{query_type}", as the campaignType query parameter']
    return []


FIELD_CHECKS = {
    "name": check_name, "description": check_description,
    "contactLists": _check_contact_lists, "dncLists": _check_dnc,
    "priority": _check_priority, "format": _check_format, "message": _check_message,
    "dialingStrategy": check_dialing, "schedule": _check_schedule,
    "experienceFlowName": check_text,
}
