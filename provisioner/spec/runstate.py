"""A campaign's run state as a spec declares it (issue 17): the tool's own keys `run` and
`rerun` (never sent), and the rules of an enabled `schedule` (koreai-campaign-apis.md §1.8).

Two kinds of rule, kept apart because the spec cache records an analysis by the file's
bytes:
- `check`: rules of the values alone (a real date, the end after the start, run and rerun
  together), cached with the rest of the analysis;
- `clock_problems`: the rules that read the current time (an end in the past is an error,
  a start in the past a warning, both in the campaign's callingHours time zone, UTC when it
  has none). The analysis records only what they read (`clock`: the zone, the two dates and
  where they were written); the loader judges that against the clock on every load, so a
  cached file never keeps an old verdict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from provisioner.body.schedule import (
    CALL_FIELDS, ENABLED, MOMENT, RECURRING, is_enabled, parse_moment,
)
from provisioner.spec.printable import hidden
from provisioner.spec.schema import Finding

WARNING = "warning"
ACTIVE = "active"
# A problem tuple of provisioner/spec/record.py with an empty message: where a date was
# written, (line, column, path, suffix, severity[, file]); the suffix names the campaign
# or the variable when the date was written elsewhere.
Place = tuple[Any, ...]


def check(doc: dict[str, Any]) -> list[Finding]:
    """The run-state and schedule rules of one campaign document that do not read the
    clock (each skips values of another type: the schema reports those)."""
    return _run(doc) + (_schedule(doc.get("schedule")) if doc.get("ensure") != "absent" else [])


def _run(doc: dict[str, Any]) -> list[Finding]:
    findings = []
    run, rerun = doc.get("run"), doc.get("rerun")
    if isinstance(rerun, str) and rerun and all(c.isspace() or hidden(c) for c in rerun):
        findings.append(Finding(("rerun",), f"{rerun!r} is blank: a rerun token needs a "
                                            "visible character"))
    if "rerun" in doc and run != ACTIVE:
        findings.append(Finding(("rerun",), "rerun has an effect only with run: active (a "
                                            "Completed campaign is started again once per new "
                                            "token)", WARNING, on_key=True))
    if isinstance(run, str) and doc.get("ensure") == "absent":
        findings.append(Finding(("run",), "run has no effect on a campaign to be deleted "
                                          "(ensure: absent)", WARNING, on_key=True))
    return findings


def _schedule(schedule: Any) -> list[Finding]:
    if not isinstance(schedule, dict):
        return []
    if not is_enabled(schedule):
        return [Finding(("schedule", key), f"'{key}' is not sent while {ENABLED} is not true "
                                           "(the schedule is off)", WARNING, on_key=True)
                for key in (*CALL_FIELDS, RECURRING) if key in schedule
                and (key != RECURRING or schedule[key] is True)]
    findings = []
    if schedule.get(RECURRING) is False:
        findings.append(Finding(("schedule", RECURRING), "a scheduled campaign always recurs "
                                "(the schedule API requires recurrenceObject): write true or "
                                f"leave {RECURRING} out"))
    start, end = (_moment(schedule, key, findings) for key in ("startDateTime", "endDateTime"))
    if start is not None and end is not None and end <= start:
        findings.append(Finding(("schedule", "endDateTime"), f"endDateTime "
                                f"{schedule['endDateTime']!r} is not after startDateTime "
                                f"{schedule['startDateTime']!r}"))
    return findings


def _moment(schedule: dict[str, Any], key: str, findings: list[Finding]) -> datetime | None:
    """The date-time at `key`; a string of the right form that names no such moment
    (2026-02-30, 24:00:00) is reported (the schema reports any other form)."""
    value = schedule.get(key)
    moment = parse_moment(value)
    if moment is None and isinstance(value, str) and MOMENT.fullmatch(value):
        findings.append(Finding(("schedule", key), f"{value!r} is not a real date and time"))
    return moment


# -- the clock ---------------------------------------------------------------------------

def clock_values(doc: dict[str, Any]) -> tuple[str, str, str] | None:
    """(time zone, start, end) of a present campaign whose schedule is enabled and whose
    two dates are real: what `clock_problems` judges. None otherwise."""
    schedule = doc.get("schedule")
    if doc.get("ensure") == "absent" or not is_enabled(schedule):
        return None
    start, end = schedule.get("startDateTime"), schedule.get("endDateTime")
    if not (isinstance(start, str) and isinstance(end, str) and parse_moment(start)
            and parse_moment(end)):
        return None
    zone = _get(doc, "dialingStrategy", "callingHours", "timezone")
    return (zone if isinstance(zone, str) else "", start, end)


def clock_problems(clock: Any, now: float) -> list[tuple[Any, ...]]:
    """The problems (record.py tuples) of a recorded `clock` ([zone, start, end, where the
    start was written, where the end was]) at the time `now` (seconds since the epoch)."""
    zone_name, start_text, end_text, start_at, end_at = clock
    zone_name, local = _local_now(zone_name, now)
    start, end = parse_moment(start_text), parse_moment(end_text)
    shown = f"now {local:%Y-%m-%d %H:%M:%S} {zone_name}"
    out = []
    if end is not None and end <= local:
        out.append(_at(end_at, f"endDateTime {end_text!r} is in the past ({shown}): a "
                               "schedule that has ended cannot be enabled (move it later, "
                               f"or turn {ENABLED} off)", "error"))
    if start is not None and start < local:
        out.append(_at(start_at, f"startDateTime {start_text!r} is in the past ({shown})",
                       WARNING))
    return out


def _local_now(zone_name: str, now: float) -> tuple[str, datetime]:
    """(the zone's name, the wall-clock time there at `now`); UTC when it has no valid zone
    (a bad one is reported by the rules)."""
    import zoneinfo   # only for a campaign with an enabled schedule (5 ms of a warm plan)

    try:
        zone = zoneinfo.ZoneInfo(zone_name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        zone_name, zone = "UTC", zoneinfo.ZoneInfo("UTC")
    return zone_name or "UTC", datetime.fromtimestamp(now, zone).replace(tzinfo=None)


def _at(place: Place, message: str, severity: str) -> tuple[Any, ...]:
    line, column, path, suffix, _, *file = place
    return (line, column, path, message + suffix, severity, *file)


def _get(doc: Any, *keys: str) -> Any:
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc
