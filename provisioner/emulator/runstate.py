"""A campaign's run state: start and stop (trigger), status, and the schedule
(koreai-campaign-apis.md sections 1.4, 1.7 and 1.8; start-/stop-sms-campaign-v2,
start-/stop-voice-campaign-v2, get-campaign-status-v2, enable-voice-or-sms-campaign-
schedule-daily and -weekly, disable-voice-or-sms-campaign-schedule). Each returns
`(status, body)` or raises `Reject`; `gate(op)` runs right before the commit or the read.

Start and stop answer on every documented path, for either type: `campaign/{id}`,
`campaign//trigger/{id}` and `campaign/trigger/{id}`, under both prefixes, with
`trigger=play|stop` and `campaignType` (required, and it must be the campaign's type:
400); `accountId` may be left out of their query, as the start page does. Choices the docs
leave open, strict:
- a start is refused (400) while the campaign is Active, Completed or Preparing; from any
  other status (Ready, Stopped, Scheduled, ...) it makes a new instance (`cid-...`), and
  the campaign is Active for `active_seconds`, then Completed; a stop is refused (400)
  unless the campaign is Active or Paused; another trigger value (pause, resume: no page
  documents them) is 412;
- the answers are the samples': start `{status: "Active", message: "Campaign Started",
  updatedAt}`, for voice with `totalCallsCompleted: 0` and `campaignInstanceId`; stop
  `{status: "Stopped", message: "Campaign Stopped", updatedAt, campaignExecutionType:
  "NORMAL"}`, for voice with `campaignInstanceId` (the voice stop sample);
- start, stop and status take the body `{}` (or none); any key in it is refused (412);
- status: `view`, when given, must be `status` (400: the per-contact view is not
  emulated); an unknown id is 404.
Schedule (`campaign/schedule?enableSchedule=true|false&campaignName=NAME`):
- the campaign is found by name, ignoring case: none is 404, several are 400;
- refused (400) while the campaign is Active or Preparing, enabling and disabling alike;
- enabling takes exactly startDateTime, endDateTime ("YYYY-MM-DD HH:mm:ss"; a one-digit
  month, day or hour is accepted, as the weekly sample's "2026-01-1") and recurrenceObject
  {recurType Daily with dailyDetails {onceEveryNdays}, or Weekly with weeklyDetails
  {onceEveryNweeks, whichDays}} (the weekly table's "dailyDetails" is taken as the typo its
  sample shows); N is a whole number >= 1, whichDays a non-empty array of distinct Mon..Sun;
  the other type's details object is refused; the end must be after the start and after
  now in the campaign's callingHours timezone (412 otherwise);
- it sets the status Scheduled and stores `schedule` {isSchedulingEnabled: true,
  isRecurrenceEnabled: true, startDateTime, endDateTime (as sent), recurrenceObject};
  the emulator never runs a schedule: the campaign stays Scheduled until started or the
  schedule is disabled;
- disabling takes the body `{}` (or none), turns both flags off, drops the dates, and moves
  a Scheduled campaign back to Ready (any other status stays).
"""

from __future__ import annotations

import re
import time
import uuid
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from provisioner.emulator.api import campaign_type, existing, of_type, type_of
from provisioner.emulator.reply import Reject, not_found, validation
from provisioner.emulator.store import Due, Store
from provisioner.emulator.validation import is_integer, unknown_keys

if TYPE_CHECKING:
    from provisioner.emulator.faults import FaultConfig

START_REFUSED = ("Active", "Completed", "Preparing")
STOPPABLE = ("Active", "Paused")
SCHEDULE_LOCKED = ("Active", "Preparing")
SCHEDULE_FIELDS = ("startDateTime", "endDateTime", "recurrenceObject")
DATE_TIME = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}) ([0-9]{1,2}):([0-9]{2}):([0-9]{2})")
DETAILS = {"Daily": ("dailyDetails", ("onceEveryNdays",)),
           "Weekly": ("weeklyDetails", ("onceEveryNweeks", "whichDays"))}
WEEK_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Query = dict[str, list[str]]
Gate = Callable[[str], None]


class RunStateApi:
    def __init__(self, store: Store, *, settings: Callable[[], FaultConfig]) -> None:
        self.store = store
        self._settings = settings

    def trigger(self, campaign_id: str, query: Query, body: Any,
                gate: Gate) -> tuple[int, dict[str, Any]]:
        """Start (`trigger=play`) or stop (`trigger=stop`) a campaign."""
        kind = campaign_type(query)
        action = query.get("trigger", [""])
        if action not in (["play"], ["stop"]):
            raise validation(["trigger query parameter is required: play or stop"])
        _check_empty(body)
        doc = of_type(self.store, campaign_id, kind)
        if action == ["play"] and doc["status"] in START_REFUSED:
            raise Reject(400, f"Campaign {doc['name']} is {doc['status']}: it cannot start")
        if action == ["stop"] and doc["status"] not in STOPPABLE:
            raise Reject(400, f"Campaign {doc['name']} is {doc['status']}: only an Active "
                              "campaign can stop")
        gate("trigger")
        return 200, self._start(doc) if action == ["play"] else self._stop(doc)

    def status(self, campaign_id: str, query: Query, body: Any,
               gate: Gate) -> tuple[int, dict[str, Any]]:
        if query.get("view", ["status"]) != ["status"]:
            raise Reject(400, "view query parameter must be status")
        _check_empty(body)
        gate("status")
        doc = existing(self.store, campaign_id)
        return 200, {"status": "success",
                     "data": {"id": doc["_id"], "status": doc["status"], "name": doc["name"]}}

    def schedule(self, query: Query, body: Any, gate: Gate) -> tuple[int, dict[str, Any]]:
        enable = query.get("enableSchedule")
        if enable not in (["true"], ["false"]):
            raise validation(["enableSchedule query parameter is required: true or false"])
        names = query.get("campaignName", [])
        if len(names) != 1 or not names[0].strip():
            raise validation(["campaignName query parameter is required"])
        if enable == ["true"]:
            problems = schedule_problems(body)
            if problems:
                raise validation(problems)
        else:
            _check_empty(body)
        doc = self._by_name(names[0])
        if doc["status"] in SCHEDULE_LOCKED:
            raise Reject(400, f"Campaign {doc['name']} is {doc['status']}: its schedule "
                              "cannot change")
        if enable == ["true"]:
            _check_end_after_now(doc, body["endDateTime"])
        gate("schedule")
        return 200, self._enable(doc, body) if enable == ["true"] else self._disable(doc)

    # -- the changes -----------------------------------------------------------------------
    def _start(self, doc: dict[str, Any]) -> dict[str, Any]:
        due = ("Completed", time.time() + self._settings().active_seconds)
        instance = f"cid-{uuid.uuid4()}"
        new = self._changed(doc, {"status": "Active", "campaignInstanceId": instance}, due,
                            stamped=("campaignInstanceUpdatedAt",))
        if type_of(doc) == "sms":
            return {"status": "Active", "message": "Campaign Started", "updatedAt": new["updatedAt"]}
        return {"status": "Active", "message": "Campaign Started", "totalCallsCompleted": 0,
                "updatedAt": new["updatedAt"], "campaignInstanceId": instance}

    def _stop(self, doc: dict[str, Any]) -> dict[str, Any]:
        new = self._changed(doc, {"status": "Stopped"}, None,
                            stamped=("campaignInstanceUpdatedAt",))
        answer = {"status": "Stopped", "message": "Campaign Stopped",
                  "updatedAt": new["updatedAt"], "campaignExecutionType": "NORMAL"}
        if type_of(doc) == "voice" and "campaignInstanceId" in new:
            answer["campaignInstanceId"] = new["campaignInstanceId"]
        return answer

    def _enable(self, doc: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        schedule = {"isSchedulingEnabled": True, "isRecurrenceEnabled": True,
                    **{key: body[key] for key in SCHEDULE_FIELDS}}
        self._changed(doc, {"status": "Scheduled", "schedule": schedule}, None)
        return {"status": "success", "message": f"Campaign {doc['name']} scheduled successfully",
                "id": doc["_id"]}

    def _disable(self, doc: dict[str, Any]) -> dict[str, Any]:
        status = "Ready" if doc["status"] == "Scheduled" else doc["status"]
        schedule = {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}
        self._changed(doc, {"status": status, "schedule": schedule}, None)
        return {"status": "success",
                "message": f"Campaign {doc['name']} schedule has been disabled successfully",
                "id": doc["_id"]}

    def _changed(self, doc: dict[str, Any], fields: dict[str, Any], due: Due | None,
                 stamped: tuple[str, ...] = ()) -> dict[str, Any]:
        """Commit `fields`; `due` becomes the campaign's pending status change."""
        new = self.store.update(doc["_id"], fields, due=due, stamped=stamped)
        if new is None:   # deleted between the check and the change
            raise not_found(f"Campaign {doc['_id']} not found")
        return new

    def _by_name(self, name: str) -> dict[str, Any]:
        found = self.store.find_by_name(name)
        if not found:
            raise not_found(f"Campaign {name} not found")
        if len(found) > 1:
            raise Reject(400, f"Campaign name {name} is not unique: {len(found)} campaigns "
                              "have it")
        return found[0]


def _check_empty(body: Any) -> None:
    """A start, stop, status or schedule-disable body: `{}` (none is read as `{}`)."""
    if not isinstance(body, dict):
        raise validation(["body must be a JSON object {}"])
    if body:
        raise validation(unknown_keys(body, (), "$"))


def schedule_problems(body: Any) -> list[str]:
    """Problems with an enable-schedule body, without the clock (see `_check_end_after_now`)."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    problems = unknown_keys(body, SCHEDULE_FIELDS, "$")
    problems += [f"$.{key} is required" for key in SCHEDULE_FIELDS if key not in body]
    moments = {key: parse_moment(body[key]) for key in SCHEDULE_FIELDS[:2] if key in body}
    problems += [f"$.{key} must be a date-time YYYY-MM-DD HH:mm:ss"
                 for key, moment in moments.items() if moment is None]
    start, end = moments.get("startDateTime"), moments.get("endDateTime")
    if start is not None and end is not None and end <= start:
        problems.append("$.endDateTime must be after $.startDateTime")
    if "recurrenceObject" in body:
        problems += _recurrence_problems(body["recurrenceObject"], "$.recurrenceObject")
    return problems


def parse_moment(value: Any) -> datetime | None:
    """A schedule date-time ("2026-01-27 18:29:00", or "2026-1-1 9:05:00"), or None."""
    found = DATE_TIME.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in found.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:   # 2026-02-30, 25:00:00
        return None


def _recurrence_problems(value: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path} must be an object {{recurType, dailyDetails | weeklyDetails}}"]
    kind = value.get("recurType")
    if kind not in DETAILS:
        return [f"{path}.recurType is required: Daily or Weekly"]
    key, fields = DETAILS[kind]
    problems = unknown_keys(value, ("recurType", key), path)
    details = value.get(key)
    if not isinstance(details, dict):
        return problems + [f"{path}.{key} is required: an object {{{', '.join(fields)}}}"]
    where = f"{path}.{key}"
    problems += unknown_keys(details, fields, where)
    count: Any = details.get(fields[0])
    if not (is_integer(count) and count >= 1):
        problems.append(f"{where}.{fields[0]} is required: a whole number >= 1")
    if kind == "Weekly":
        problems += _days_problems(details.get("whichDays"), f"{where}.whichDays")
    return problems


def _days_problems(value: Any, path: str) -> list[str]:
    if not (isinstance(value, list) and value and all(day in WEEK_DAYS for day in value)):
        return [f"{path} is required: a non-empty array of {', '.join(WEEK_DAYS)}"]
    return [f"{path} must not repeat a day"] if len(set(value)) != len(value) else []


def _check_end_after_now(doc: dict[str, Any], end_text: str) -> None:
    """The end must be after now, read in the campaign's callingHours timezone."""
    zone_name = doc.get("dialingStrategy", {}).get("callingHours", {}).get("timezone", "UTC")
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        zone = zoneinfo.ZoneInfo("UTC")
    now = datetime.now(zone).replace(tzinfo=None)
    end = parse_moment(end_text)
    if end is None or end <= now:
        raise validation([f"$.endDateTime must be after now ({now:%Y-%m-%d %H:%M:%S} "
                          f"{zone_name})"])
