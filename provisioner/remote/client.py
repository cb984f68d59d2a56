"""`KoreClient`: the Kore.ai campaign API over HTTP, with the shared budget and retries.

Every call takes the path of its own page (koreai-campaign-apis.md section 1). The pages
disagree on the prefix (section 0.1), so both are settings (`ApiTarget`): the SMS create
page uses `/api/v2/public/{streamId}/campaign` (create-sms-campaign-advanced-format-v2,
"Endpoint"); the voice create page, and every other campaign call, uses
`/campaign/api/v2/public/...`. A campaign's type (`campaignType` of its body: "sms",
the default, or "voice") picks the create path and the `campaignType` of create, update
and delete.

The operations live in three parts, one class: campaigns here, contact lists in
`contactlists.py`, run state (start, stop, status, schedule) in `runstate.py`; sending,
retries and the Session in `transport.py`, which says what is resent and what is not.
"""

from __future__ import annotations

from typing import Any

from provisioner.config import check_host
from provisioner.errors import ApiError
from provisioner.remote.contactlists import ContactListCalls
from provisioner.remote.responses import MISSING, created, data_object, page_results
from provisioner.remote.runstate import RunStateCalls
from provisioner.remote.transport import (
    MAX_PAGES, ApiTarget, OnEvent, Transport, checked_type,
)

__all__ = ["ApiTarget", "KoreClient", "Transport", "check_host"]

PREPARING = "Preparing"   # a voice campaign's status after create, until it is Ready
READY_POLL = 1.0          # seconds between two looks while it is Preparing


class KoreClient(RunStateCalls, ContactListCalls):
    """Campaign CRUD, contact lists and run state against one target. Thread-safe: every
    thread shares one Session (see `Transport` for the constructor's settings)."""

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a campaign of `body["campaignType"]` ("sms" when absent); return the
        answer's `data`, with its id (`_id`, or `id` for voice: `bodies.campaign_id`).

        Raises AmbiguousError when the campaign may or may not exist (no response after
        sending, any 5xx, or a 2xx we cannot read an id from): look before retrying.
        """
        kind = checked_type(body.get("campaignType", "sms"))
        # each type on its own create page's path (the module's docstring)
        path = self._path(prefix=self.target.create_prefix if kind == "sms" else None)
        return created(f"POST {path}", self._call(
            "POST", path, self._query(campaignType=kind), body, resend=False), "campaign")

    def update(self, campaign_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace a campaign's body (full PUT, digest section 1.5); returns its `data`.

        Raises AmbiguousError when a success answer lacks the campaign: the update may or
        may not have been applied, so the caller reads the campaign back.
        """
        kind = checked_type(body.get("campaignType", "sms"))
        # Decision: update-voice-campaign-v2's endpoint and sample URL say campaignType=sms,
        # its query table says "Use voice" (as delete-voice-campaign-v2 does). We send
        # voice by default; `voiceUpdateType: sms` in provisioner.yaml follows the URL.
        query_type = checked_type(self.target.voice_update_type) if kind == "voice" else kind
        path = self._path(campaign_id)
        return data_object(f"PUT {path}", self._call(
            "PUT", path, self._query(campaignType=query_type), body, resend=True),
            ambiguous=True)

    def get(self, campaign_id: str) -> dict[str, Any] | None:
        """The campaign's `data` (either type), or None when the API answers 404 (only
        then: a success without a campaign is an ApiError, never taken for a deletion)."""
        path = self._path(campaign_id)
        data = self._call("GET", path, self._query(), None, resend=True, missing_ok=True)
        return None if data is MISSING else data_object(f"GET {path}", data, ambiguous=False)

    def delete(self, campaign_id: str, campaign_type: str = "sms") -> dict[str, Any]:
        """Delete a campaign of `campaign_type`; returns the echoed object (digest section
        1.6). Raises AmbiguousError when a success answer lacks it."""
        kind = checked_type(campaign_type)
        path = self._path(campaign_id)
        return data_object(f"DELETE {path}", self._call(
            "DELETE", path, self._query(campaignType=kind), None, resend=True),
            ambiguous=True)

    def list_campaigns(self, type: str = "sms", page_size: int = 100) -> list[dict[str, Any]]:
        """Every campaign of `type`, following `hasMore` page by page (digest section 1.2).

        Read-only, so each page is retried like a GET. SMS items carry `id`, voice `_id`.
        """
        path = self._path("getAllCampaignDetails")
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            body = {"type": type, "limit": page_size, "skip": len(items), "page": page}
            data = self._call("POST", path, self._query(), body, resend=True)
            results = page_results(data, f"POST {path}")
            items.extend(results)
            if not results or not data.get("hasMore"):
                return items
        raise ApiError(f"POST {path}: still more pages after {MAX_PAGES}; giving up")

    def list_all_campaigns(self, page_size: int = 100) -> list[dict[str, Any]]:
        """Every campaign of the tenant: the SMS ones, then the voice ones (the list call
        takes one type at a time)."""
        return [*self.list_campaigns("sms", page_size), *self.list_campaigns("voice", page_size)]

    def wait_ready(self, campaign_id: str, *, timeout: float | None = None,
                   on_event: OnEvent | None = None, poll: float = READY_POLL) -> dict[str, Any]:
        """The campaign once its status is no longer "Preparing" (a voice create answers
        Preparing, digest section 0.3), or as it is when `timeout` seconds (default: the
        target's `ready_timeout`) have passed: the caller decides what a campaign still
        Preparing means. Polls with GET, each paced by the shared budget like any request,
        at least `poll` seconds apart. A 404 counts as not ready yet (a create in progress);
        raises ApiError when the campaign is still not found at the end.
        """
        limit = self.target.ready_timeout if timeout is None else timeout
        deadline = self._clock() + limit
        told = False
        while True:
            data = self.get(campaign_id)
            left = deadline - self._clock()
            if data is not None and (data.get("status") != PREPARING or left <= 0):
                return data
            if left <= 0:
                raise ApiError(f"campaign {campaign_id} not found after waiting {limit:g}s "
                               "for it to be ready")
            if not told:
                (on_event or self._event)("wait", f"campaign {campaign_id} is preparing; "
                                                  f"waiting up to {limit:g}s for it")
                told = True
            self._sleep(min(poll, left))
