"""Read the tenant at a bounded request cost: the paged list call for existence, status and
`updatedAt`, and a get by id only where the list says something changed.

For S SMS and V voice campaigns with K changed this sends at most ceil(S / page size) +
ceil(V / page size) + 2 + K requests: the list pages of each type (the list call takes one
type at a time), plus one GET per campaign whose list entry moved (or that the list no
longer shows: the list may lag a create "in progress", koreai-campaign-apis.md §0.3, so
absence is confirmed by id before anything is recreated).

Contact lists (`read_contact_lists`) are one listing: their list call answers every list.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

from provisioner import body as bodies
from provisioner.plan.model import Remote


class Lister(Protocol):
    def list_all_campaigns(self) -> list[dict[str, Any]]: ...
    def get(self, campaign_id: str) -> dict[str, Any] | None: ...


class ContactListLister(Protocol):
    def list_contact_lists(self) -> list[dict[str, Any]]: ...


def read_remote(client: Lister, state: Any, *, fetch_changed: bool) -> dict[str, list[Remote]]:
    """Map lname to the tenant's campaigns of that name, SMS and voice.

    With `fetch_changed`, campaigns recorded in state whose list entry changed since it was
    recorded carry their full body (for drift); otherwise only existence and status.
    """
    by_id: dict[str, Remote] = {}
    for item in client.list_all_campaigns():
        remote = _from_item(item)
        by_id[remote.id] = remote
    recorded = state.campaigns.values() if state else []
    for rec in recorded:
        live = by_id.get(rec.get("id", ""))
        if live is None:
            _confirm_absent(client, rec, by_id)
        elif fetch_changed and _moved(live, rec):
            data = client.get(live.id)
            if data is not None:
                by_id[live.id] = _with_body(live, data)
    grouped: dict[str, list[Remote]] = defaultdict(list)
    for remote in by_id.values():
        grouped[remote.name.lower()].append(remote)
    return dict(grouped)


def read_contact_lists(client: ContactListLister) -> dict[str, list[Remote]]:
    """Map lname to the tenant's contact lists of that name (names may repeat), each with
    its listed data as `body`, from one listing."""
    grouped: dict[str, list[Remote]] = defaultdict(list)
    for item in client.list_contact_lists():
        remote = _with_body(_from_item(item), item)
        grouped[remote.name.lower()].append(remote)
    return dict(grouped)


def _confirm_absent(client: Lister, rec: dict[str, Any], by_id: dict[str, Remote]) -> None:
    if not rec.get("id"):
        return
    data = client.get(rec["id"])
    if data is not None:  # the list lags, or pages shifted under us: it is there
        by_id[rec["id"]] = _with_body(_from_item({**data, "id": rec["id"]}), data)


def _moved(live: Remote, rec: dict[str, Any]) -> bool:
    return bool(live.updated_at != rec.get("updatedAt", "")
                or live.status != rec.get("status", ""))


def _from_item(item: dict[str, Any]) -> Remote:
    # SMS list items carry `id`, single gets carry `_id` (koreai-campaign-apis.md §1.2)
    return Remote(id=bodies.campaign_id(item), name=str(item.get("name", "")),
                  status=str(item.get("status", "")), updated_at=str(item.get("updatedAt", "")),
                  type=bodies.campaign_type(item))


def _with_body(live: Remote, data: dict[str, Any]) -> Remote:
    return Remote(id=live.id, name=str(data.get("name", live.name)), type=live.type,
                  status=str(data.get("status", live.status)),
                  updated_at=str(data.get("updatedAt", live.updated_at)), body=data)


def record_refresh(state: Any, remote: dict[str, list[Remote]],
                   lists: dict[str, list[Remote]] | None = None) -> list[str]:
    """What `plan --refresh-only` records: for each managed campaign (and, given `lists`,
    each managed contact list), what the tenant holds (status, updatedAt and, where
    fetched, the body). Deleted ones are forgotten. Returns one line per change recorded."""
    notes = _record_kind(state, remote, "Campaign", bodies.normalise_remote)
    if lists is not None:
        notes += _record_kind(state, lists, "ContactList", bodies.normalise_remote_list)
    return notes


def _record_kind(state: Any, remote: dict[str, list[Remote]], kind: str,
                 normalise: Any) -> list[str]:
    seen = {r.id: r for group in remote.values() for r in group}
    noun = "contact list " if kind == "ContactList" else ""
    notes = []
    for lname, rec in list(state.entries(kind).items()):
        live = seen.get(rec.get("id", ""))
        if live is None:
            state.forget(lname, kind=kind)
            notes.append(f"forgot {noun}{rec['name']!r}: deleted outside the tool")
            continue
        body = normalise(live.body, rec["body"]) if live.body is not None else rec["body"]
        if (live.status, live.updated_at, bodies.digest(body)) != (
                rec.get("status"), rec.get("updatedAt"), rec.get("digest")):
            state.record_campaign(rec["name"], rec["id"], body, bodies.digest(body),
                                  remote={"status": live.status, "updatedAt": live.updated_at,
                                          "createdAt": rec.get("createdAt")}, kind=kind)
            notes.append(f"recorded {noun}{rec['name']!r}: status {live.status}, "
                         f"updated {live.updated_at}")
    return notes
