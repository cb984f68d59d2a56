"""A campaign's `schedule` in normal form, and the schedule endpoint's call that applies it
(koreai-campaign-apis.md §1.8: enable-voice-or-sms-campaign-schedule-daily and -weekly).

The create and update pages document only the flag `schedule.isSchedulingEnabled`; the
dates and the recurrence are set by the schedule endpoint alone. So a body's schedule is the
whole wish, and its digest covers the dates and the recurrence (changing them is an update);
create and update send the flags only (`sent_body`), and the schedule endpoint the rest
(`schedule_call`).

Normal form of a schedule:
- enabled (`isSchedulingEnabled: true`): the flags, `isRecurrenceEnabled` true unless
  written (the endpoint always recurs: it requires recurrenceObject), the two dates with
  two-digit month, day and hour ("2026-1-1 9:05:00" is "2026-01-01 09:05:00": the
  documented form, so one moment has one digest), and recurrenceObject with whole numbers;
- otherwise only `isSchedulingEnabled` as written: a schedule that is off has no dates, as
  the disable endpoint leaves it (a schedule without other keys is returned as it is, so the
  bodies of earlier versions keep their digests).
Pure functions; no I/O.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any, TypeGuard

ENABLED = "isSchedulingEnabled"
RECURRING = "isRecurrenceEnabled"
CALL_FIELDS = ("startDateTime", "endDateTime", "recurrenceObject")
FLAGS = (ENABLED, RECURRING)
MOMENTS = CALL_FIELDS[:2]
COUNTS = (("dailyDetails", "onceEveryNdays"), ("weeklyDetails", "onceEveryNweeks"))
WEEK_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# YYYY-MM-DD HH:mm:ss; the weekly page's own sample writes "2026-01-1 18:29:00"
MOMENT = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}) ([0-9]{1,2}):([0-9]{2}):([0-9]{2})\Z")
_FORMAT = "%Y-%m-%d %H:%M:%S"


def is_enabled(schedule: Any) -> TypeGuard[dict[str, Any]]:
    """Whether `schedule` (a body's) turns scheduling on."""
    return isinstance(schedule, dict) and schedule.get(ENABLED) is True


def parse_moment(value: Any) -> datetime | None:
    """A schedule date-time as a naive datetime (in the campaign's time zone), or None when
    it is not one (not the format, or no such day or hour: 2026-02-30, 24:00:00)."""
    found = MOMENT.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in found.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def canonical_moment(value: Any) -> Any:
    """`value` in the documented two-digit form when it is a date-time, else as it is."""
    moment = parse_moment(value)
    return value if moment is None else moment.strftime(_FORMAT)


def normal_schedule(schedule: dict[str, Any], *, remote: bool = False) -> dict[str, Any]:
    """`schedule` in normal form (the module docstring). `remote`: one read back from the
    API, whose flags are kept as echoed (no default is filled in; a schedule that is off
    keeps its flags) and whose dates and recurrence are read as a spec's."""
    if not is_enabled(schedule):
        keep = FLAGS if remote else (ENABLED,)
        kept = {key: value for key, value in schedule.items() if key in keep}
        return kept if len(kept) != len(schedule) else schedule
    out = dict(schedule)
    if not remote:
        out = {ENABLED: True, RECURRING: schedule.get(RECURRING, True), **out}
    for key in MOMENTS:
        if key in out:
            out[key] = canonical_moment(out[key])
    if isinstance(out.get("recurrenceObject"), dict):
        out["recurrenceObject"] = _whole_counts(out["recurrenceObject"])
    return out


def _whole_counts(recurrence: dict[str, Any]) -> dict[str, Any]:
    """recurrenceObject with onceEveryNdays / onceEveryNweeks written as whole floats (1.0)
    as integers, so 1 and 1.0 have one digest."""
    out = dict(recurrence)
    for details, count in COUNTS:
        section = out.get(details)
        if not isinstance(section, dict):
            continue
        value = section.get(count)
        if isinstance(value, float) and value.is_integer():
            out[details] = {**section, count: int(value)}
    return out


def schedule_call(body: dict[str, Any]) -> dict[str, Any] | None:
    """The body of the schedule endpoint's enable call ({startDateTime, endDateTime,
    recurrenceObject}, a copy) when `body`'s schedule is enabled, else None (then, when the
    tenant's schedule is on, the disable call turns it off)."""
    schedule = body.get("schedule")
    if not is_enabled(schedule):
        return None
    return {key: copy.deepcopy(schedule[key]) for key in CALL_FIELDS if key in schedule}


def sent_body(body: dict[str, Any]) -> dict[str, Any]:
    """What create and update send of `body`: its schedule reduced to the flags those pages
    document (the dates and recurrence go through `schedule_call`); `body` itself when there
    is nothing to leave out."""
    schedule = body.get("schedule")
    if not isinstance(schedule, dict) or all(key in FLAGS for key in schedule):
        return body
    return {**body, "schedule": {key: schedule[key] for key in FLAGS if key in schedule}}
