"""What the executor calls for each resource kind (issue 16), and the order kinds go in.

A campaign and a contact list are created, updated, read, deleted and listed by different
endpoints (koreai-campaign-apis.md §1.1-1.6 and §1.10); the executor's exactly-once logic
(write-ahead intents, lookup by name after an unknown outcome, read back after an unclear
update) is the same for both, so it calls them through one `KindOps`.

Order: contact lists are created (and updated, adopted) before the campaigns that name
them, and deleted after them; a list whose create failed skips the campaigns naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from provisioner import body as bodies
from provisioner.plan.model import CAMPAIGN, CONTACT_LIST, Action

if TYPE_CHECKING:
    from provisioner.remote.client import KoreClient

SENT = ("create", "update", "delete", "adopt", "blocked", "start", "stop")   # acted on


class KindOps(Protocol):
    """One kind's calls: what the executor needs of the API for it."""

    kind: str
    noun: str   # "campaign", "contact list": how messages name one

    def create(self, body: dict[str, Any]) -> dict[str, Any]: ...
    def update(self, id: str, body: dict[str, Any]) -> dict[str, Any]: ...
    def get(self, id: str) -> dict[str, Any] | None: ...
    def delete(self, id: str, before: dict[str, Any] | None) -> dict[str, Any]: ...
    def list_all(self) -> list[dict[str, Any]]: ...
    def normalise(self, data: dict[str, Any],
                  known: dict[str, Any] | None = None) -> dict[str, Any]: ...


class CampaignOps:
    """Campaigns of either type: the body's `campaignType` picks sms or voice."""

    kind, noun = CAMPAIGN, "campaign"

    def __init__(self, client: KoreClient) -> None:
        self.client = client

    # A body's schedule goes to the schedule endpoint (runstate.py); create and PUT carry
    # only its flags (`sent_body`), as a schedule inside them schedules nothing.
    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.create(bodies.sent_body(body))

    def update(self, id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.update(id, bodies.sent_body(body))

    def get(self, id: str) -> dict[str, Any] | None:
        return self.client.get(id)

    def delete(self, id: str, before: dict[str, Any] | None) -> dict[str, Any]:
        return self.client.delete(id, str((before or {}).get("campaignType") or "sms"))

    def list_all(self) -> list[dict[str, Any]]:
        return self.client.list_all_campaigns()

    def normalise(self, data: dict[str, Any],
                  known: dict[str, Any] | None = None) -> dict[str, Any]:
        return bodies.normalise_remote(data, known)


class ContactListOps:
    """Contact lists (createContactList, getAllListDetails, and the list's own path)."""

    kind, noun = CONTACT_LIST, "contact list"

    def __init__(self, client: KoreClient) -> None:
        self.client = client

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.create_list(body)

    def update(self, id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.update_list(id, body)

    def get(self, id: str) -> dict[str, Any] | None:
        return self.client.get_list(id)

    def delete(self, id: str, before: dict[str, Any] | None) -> dict[str, Any]:
        return self.client.delete_list(id)

    def list_all(self) -> list[dict[str, Any]]:
        return self.client.list_contact_lists()

    def normalise(self, data: dict[str, Any],
                  known: dict[str, Any] | None = None) -> dict[str, Any]:
        return bodies.normalise_remote_list(data, known)


def phases(actions: list[Action]) -> list[list[Action]]:
    """The plan's actions in the order apply runs them: contact lists (all but deletes),
    campaign stops (so an update of an Active campaign follows its stop), the campaigns'
    creates, updates and deletes, campaign starts (once everything they send is in
    place), then contact-list deletes. Within a phase, in plan order (and in parallel)."""
    todo = [a for a in actions if a.action in SENT]
    lists = [a for a in todo if a.kind == CONTACT_LIST]
    campaigns = [a for a in todo if a.kind != CONTACT_LIST]
    return [[a for a in lists if a.action != "delete"],
            [a for a in campaigns if a.action == "stop"],
            [a for a in campaigns if a.action not in ("start", "stop")],
            [a for a in campaigns if a.action == "start"],
            [a for a in lists if a.action == "delete"]]


def unmet(action: Action, failed: set[tuple[str, str]]) -> str:
    """Why `action` must not be sent because of what failed earlier this run: a campaign
    naming a contact list whose create failed, or a start whose campaign's create or
    update failed. "" when nothing stands in its way. `failed` holds (kind, lname)."""
    if action.kind == CONTACT_LIST:
        return ""
    missing = [name for name in action.lists if (CONTACT_LIST, name.lower()) in failed]
    if missing:
        return (f"skipped: contact list(s) {', '.join(missing)} could not be created or "
                "updated (see above); nothing was sent for this campaign")
    if action.action == "start" and (CAMPAIGN, action.lname) in failed:
        return "not started: its create or update failed this run (see above)"
    return ""
