"""Reading the campaign API's answers: the envelope, the API's own message, rate-limit
signs, Retry-After, and the mapping of statuses to the one exception family."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import requests

from provisioner.errors import AmbiguousError, ApiError, AuthError

# Upper bound on an honoured Retry-After, so a bogus header cannot park a run for hours.
MAX_RETRY_AFTER = 300.0
# The campaign envelope is {status, message, data}; a 2xx whose status is not "success" is
# a failure (digest section 3). Start and stop answer with the campaign's new state instead
# (section 1.7: start-sms-campaign-v2, stop-sms-campaign-v2, start-voice-campaign-v2).
OK_STATUSES = frozenset({"success"})
STARTED_STATUSES = frozenset({"success", "Active"})
STOPPED_STATUSES = frozenset({"success", "Stopped"})
# The documented and the older community wording of the rate-limit error (digest section 3).
RATE_LIMIT_MARKERS = ("exceeded the per-minute rate limit", "rate limit for this api has been")


class Missing:
    """What `result_of` answers for an allowed 404: distinct from a success without data."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (delta or HTTP date), capped; None if absent."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 1.0), MAX_RETRY_AFTER)


def payload_of(response: requests.Response) -> dict[str, Any] | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def api_message(response: requests.Response) -> str:
    """The API's own message (`errors[0].msg`, else `message`), one line, token removed."""
    payload = payload_of(response) or {}
    errors = payload.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else {}
    text = first.get("msg") if isinstance(first, dict) else None
    text = str(text or payload.get("message") or response.reason or "")
    token = response.request.headers.get("auth") if response.request is not None else None
    if token:
        text = text.replace(str(token), "<token>")
    return " ".join(text.split())[:300]


def is_rate_limited(response: requests.Response) -> bool:
    """A 429, or a failure carrying the documented rate-limit message (any status)."""
    if response.status_code == 429:
        return True
    payload = payload_of(response) or {}
    if 200 <= response.status_code < 300 and payload.get("status") in OK_STATUSES:
        return False  # a campaign description may quote the phrase; only failures count
    message = api_message(response).lower()
    return any(marker in message for marker in RATE_LIMIT_MARKERS)


def http_error(label: str, response: requests.Response) -> ApiError:
    status, message = response.status_code, api_message(response)
    if status in (401, 403):
        return AuthError(f"{label}: the API refused the credentials ({status}): {message}",
                         status=status, api_message=message)
    return ApiError(f"{label}: {status} {message}", status=status, api_message=message)


def result_of(label: str, response: requests.Response, *, resend: bool, missing_ok: bool,
              ok_statuses: frozenset[str], envelope: bool = False) -> Any:
    """The `data` of a final answer, or with `envelope` the whole answer object (start,
    stop and schedule answer without `data`); MISSING for a 404 with `missing_ok`; or raise
    the matching error. Whether it holds what the caller needs is the caller's check
    (`data_object`, `page_results`)."""
    status = response.status_code
    if status >= 500 and not resend:
        error = http_error(label, response)
        raise AmbiguousError(f"{error}; the request may or may not have taken effect",
                             status=status, api_message=error.api_message)
    if status == 404 and missing_ok:
        return MISSING
    if not 200 <= status < 300:
        raise http_error(label, response)
    payload = payload_of(response)
    if payload is None:
        if resend:
            raise ApiError(f"{label}: {status} with a body that is not a JSON object",
                           status=status)
        raise AmbiguousError(f"{label}: {status} with a body that is not a JSON object; the "
                             "request may or may not have taken effect", status=status)
    if payload.get("status") not in ok_statuses:
        message = api_message(response)
        raise ApiError(f"{label}: {status} status {payload.get('status')!r}: {message}",
                       status=status, api_message=message)
    return payload if envelope else payload.get("data")


def data_object(label: str, data: Any, *, ambiguous: bool) -> dict[str, Any]:
    """`data` when it is the object a success answer must carry. A success without it is
    not a success we can act on: for a write (`ambiguous`) the outcome is unknown and
    AmbiguousError says so (the caller reads the campaign back before anything else); for
    a read it is an ApiError, never mistaken for "absent"."""
    if isinstance(data, dict):
        return data
    what = "no data" if data is None else f"data that is a {type(data).__name__}"
    if ambiguous:
        raise AmbiguousError(f"{label}: the success answer carried {what}; the request may "
                             "or may not have taken effect")
    raise ApiError(f"{label}: the success answer carried {what}, not a campaign")


def created(label: str, data: Any, what: str) -> dict[str, Any]:
    """The `data` of a create's success answer, which must carry the new id: `_id`, or
    `id` as the voice create answers (create-voice-campaign-agentless-v2). Without one the
    outcome is unknown: AmbiguousError (look it up before creating again)."""
    obj = data_object(label, data, ambiguous=True)
    new_id = obj.get("_id") or obj.get("id")
    if not isinstance(new_id, str) or not new_id:
        raise AmbiguousError(f"{label}: the response carried no {what} id; the {what} may "
                             "or may not have been created")
    return obj


def page_results(data: Any, label: str, what: str = "campaign") -> list[dict[str, Any]]:
    """The items of one list page (`data.results`): each an object with a string id (and
    name). `what` names an item in the error."""
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise ApiError(f"{label}: the answer has no data.results list")
    return checked_items(results, f"{label}: data.results", what)


def list_page(data: Any, label: str, what: str) -> list[dict[str, Any]]:
    """The items of a list answer whose shape the docs and the service disagree on: `data`
    itself a list (the get-all-contact-lists-v2 sample), or `data.results` (as the campaign
    list pages)."""
    if isinstance(data, list):
        return checked_items(data, f"{label}: data", what)
    return page_results(data, label, what)


def checked_items(results: list[Any], where: str, what: str) -> list[dict[str, Any]]:
    """`results` when each is an object with a string id (`id` or `_id`) and a string
    name; else ApiError naming the first that is not (`where` is the label and path)."""
    for index, item in enumerate(results):
        if (not isinstance(item, dict)
                or not isinstance(item.get("id") or item.get("_id"), str)
                or not isinstance(item.get("name", ""), str)):
            raise ApiError(f"{where}[{index}] is not a {what} with an id")
    return results
