"""Contact lists (issue 16): the v2 contact-list calls of koreai-campaign-apis.md section
1.10, each on the path of its own page under `/campaign/api/v2/public/{streamId}/campaign/
contactList/...` (create-contact-list-v2, get-all-contact-lists-v2, update-contact-list-v2,
delete-contact-list-details-v2).

Retries as for campaigns: create is not resent once it may have arrived (names may repeat
on a tenant, so a second create would make a second list); get, the listing, update and
delete are.
"""

from __future__ import annotations

from typing import Any

from provisioner import body as bodies
from provisioner.errors import ApiError
from provisioner.remote.responses import MISSING, created, data_object, list_page
from provisioner.remote.transport import MAX_PAGES, Transport

# The only fields the update page documents ("anything else 400"); `allowDuplicates` can
# only be chosen on create.
UPDATABLE = ("name", "description")
# create-contact-list-v2: `source` "Must be passiveApi" (a list filled through the API).
SOURCE = "passiveApi"


class ContactListCalls(Transport):
    """The contact-list half of `KoreClient`."""

    def create_list(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a contact list from `body` ({name, description, allowDuplicates?}, sent
        with `source: passiveApi`); returns the answer's `data` (with `_id`).

        Raises AmbiguousError when the list may or may not exist (no answer after sending,
        a 5xx, or a success without an id): look it up by name before creating again.
        """
        path = self._path("contactList", "createContactList")
        sent = {**body, "source": SOURCE}
        return created(f"POST {path}", self._call("POST", path, self._query(), sent,
                                                  resend=False), "contact list")

    def update_list(self, list_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send the name and description of `body` (the only fields the update page takes);
        returns the answer's `data` ({contactListId, body}). Raises AmbiguousError when a
        success answer lacks it (read the list back)."""
        path = self._path("contactList", list_id)
        sent = {key: body[key] for key in UPDATABLE if key in body}
        return data_object(f"PUT {path}", self._call("PUT", path, self._query(), sent,
                                                     resend=True), ambiguous=True)

    def get_list(self, list_id: str) -> dict[str, Any] | None:
        """The contact list's `data`, or None when the API answers 404."""
        path = self._path("contactList", list_id)
        data = self._call("GET", path, self._query(), None, resend=True, missing_ok=True)
        return None if data is MISSING else data_object(f"GET {path}", data, ambiguous=False)

    def delete_list(self, list_id: str) -> dict[str, Any]:
        """Delete a contact list; returns the echoed list. A list a campaign uses is refused
        (400, ApiError carrying the API's message naming the campaigns). Resent like any
        delete, so a delete whose answer was lost may end in a 404 ApiError: the list is
        gone either way."""
        path = self._path("contactList", list_id)
        return data_object(f"DELETE {path}", self._call("DELETE", path, self._query(), None,
                                                        resend=True), ambiguous=True)

    def list_contact_lists(self, page_size: int = 100) -> list[dict[str, Any]]:
        """Every contact list of the tenant (`type=call`), each with its `_id`.

        GET, as the page's sample (its method row says POST). Its answer is `data` as a list
        (the page's sample) or `data.results` (as the campaign list); no paging is
        documented, so the first request is the page's own. Only an answer saying `hasMore`
        is followed, with `skip`/`limit`/`page` in the query; a page that brings no id not
        seen yet means the paging was ignored, and the listing ends there.
        """
        path = self._path("contactList", "getAllListDetails")
        label = f"GET {path}"
        found: dict[str, dict[str, Any]] = {}
        query = self._query(type="call")
        for page in range(2, MAX_PAGES + 2):
            data = self._call("GET", path, query, None, resend=True)
            items = list_page(data, label, "contact list")
            new = {bodies.campaign_id(i): i for i in items if bodies.campaign_id(i) not in found}
            found.update(new)
            if not new or not (isinstance(data, dict) and data.get("hasMore") is True):
                return list(found.values())
            query = self._query(type="call", skip=str(len(found)), limit=str(page_size),
                                page=str(page))
        raise ApiError(f"{label}: still more pages after {MAX_PAGES}; giving up")
