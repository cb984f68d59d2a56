"""A campaign's run state (issue 17): start, stop, status and the schedule, on the paths of
their own pages (koreai-campaign-apis.md sections 1.4, 1.7 and 1.8).

| call | path after `{prefix}/{streamId}/campaign` | page |
| --- | --- | --- |
| SMS start | `/{id}?campaignType=sms&trigger=play` | start-sms-campaign-v2 |
| SMS stop | `//trigger/{id}?campaignType=sms&trigger=stop` (the page's double slash) | stop-sms-campaign-v2 |
| voice start, stop | `/trigger/{id}?campaignType=voice&trigger=play|stop`, under `create_prefix` (`/api/v2/public`, as those pages) | start-/stop-voice-campaign-v2 |
| status | `/{id}/status?view=status`, body {} | get-campaign-status-v2 |
| schedule | `/schedule?enableSchedule=true|false&campaignName=NAME` | enable-voice-or-sms-campaign-schedule-daily, disable-voice-or-sms-campaign-schedule |

`accountId` rides in every query, as on the other v2 calls (some of these pages omit it).
Start, stop and the schedule change what the campaign does, and a repeat may meet the
state the first one made (a second start of an Active campaign is refused), so none is
resent once it may have arrived: a lost answer is an AmbiguousError, and the caller reads
the campaign back (`status`, or `get` for the schedule) before anything else. Status only
reads, so it is resent like a GET.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from provisioner.errors import ApiError
from provisioner.remote.responses import (
    MISSING, OK_STATUSES, STARTED_STATUSES, STOPPED_STATUSES, data_object,
)
from provisioner.remote.transport import Transport, checked_type


class RunStateCalls(Transport):
    """The run-state half of `KoreClient`."""

    def start(self, campaign_id: str, campaign_type: str = "sms") -> dict[str, Any]:
        """Start (play) a campaign; returns the answer ({status: "Active", message,
        updatedAt, ...}). AmbiguousError when the answer is lost or a 5xx: look first."""
        return self._trigger(campaign_id, checked_type(campaign_type), "play",
                             STARTED_STATUSES)

    def stop(self, campaign_id: str, campaign_type: str = "sms") -> dict[str, Any]:
        """Stop a running campaign; returns the answer ({status: "Stopped", message,
        updatedAt, campaignExecutionType}). AmbiguousError as for `start`."""
        return self._trigger(campaign_id, checked_type(campaign_type), "stop",
                             STOPPED_STATUSES)

    def status(self, campaign_id: str) -> str | None:
        """The campaign's status ("Ready", "Active", ...), or None when the API answers 404."""
        path = self._path(campaign_id, "status")
        data = self._call("POST", path, self._query(view="status"), {}, resend=True,
                          missing_ok=True)
        if data is MISSING:
            return None
        state = data_object(f"POST {path}", data, ambiguous=False).get("status")
        if not isinstance(state, str) or not state:
            raise ApiError(f"POST {path}: the success answer carried no data.status")
        return state

    def enable_schedule(self, name: str, schedule: dict[str, Any]) -> dict[str, Any]:
        """Schedule the campaign named `name` (the API finds it by name) with `schedule`
        ({startDateTime, endDateTime, recurrenceObject}); returns the answer ({status,
        message, id}). AmbiguousError when the answer is lost: read the campaign back."""
        return self._schedule(name, "true", schedule)

    def disable_schedule(self, name: str) -> dict[str, Any]:
        """Turn the schedule of the campaign named `name` off; returns the answer."""
        return self._schedule(name, "false", {})

    def _trigger(self, campaign_id: str, campaign_type: str, trigger: str,
                 ok_statuses: frozenset[str]) -> dict[str, Any]:
        if campaign_type == "voice":
            path = self._path("trigger", campaign_id, prefix=self.target.create_prefix)
        elif trigger == "play":
            path = self._path(campaign_id)
        else:   # the stop page's own path, double slash included
            path = f"{self._path()}//trigger/{quote(campaign_id, safe='')}"
        answer: dict[str, Any] = self._call(
            "POST", path, self._query(campaignType=campaign_type, trigger=trigger), {},
            resend=False, ok_statuses=ok_statuses, envelope=True)
        return answer

    def _schedule(self, name: str, enable: str, body: dict[str, Any]) -> dict[str, Any]:
        path = self._path("schedule")
        answer: dict[str, Any] = self._call(
            "POST", path, self._query(enableSchedule=enable, campaignName=name), body,
            resend=False, ok_statuses=OK_STATUSES, envelope=True)
        return answer
