"""`provisioner import NAME [ID]`: adopt an existing remote campaign into state, by id or found
by name through the documented paged list call (there is no get-by-name endpoint).

One remote campaign belongs to one state entry: an id already recorded under another name
is refused. Importing a name with a pending create intent settles that intent (the way out
when apply says "N campaigns named X ... resolve by hand")."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from provisioner import body as bodies
from provisioner.commands._common import (
    add_target_options, make_client, open_state, read_state, stderr_event, target_of,
)
from provisioner.errors import ApiError, StateError
from provisioner.spec.printable import escape
from provisioner.state import State

if TYPE_CHECKING:
    from provisioner.remote.client import KoreClient


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("import", help="adopt an existing remote campaign into state")
    add_target_options(p, campaigns=False)
    p.add_argument("name", help="campaign name (compared case-insensitively)")
    p.add_argument("id", nargs="?", help="remote campaign id (cd-...); found by name if omitted")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = target_of(args)
    backend = open_state(target, on_warning=lambda m: stderr_event("warning", m))
    client = make_client(target, stderr_event)
    with backend.lock("import", timeout=args.lock_timeout):
        state = read_state(backend, target) or State.new(target.binding())
        recorded = state.campaign(args.name.lower())
        if recorded:
            raise StateError(f"{args.name!r} is already in state (id {recorded['id']})")
        if args.id:
            _check_unowned(state, args.id)
        data = _find(client, args.name, args.id)
        campaign_id = bodies.campaign_id(data)
        _check_unowned(state, campaign_id)
        body = bodies.normalise_remote(data)
        state.record_campaign(data.get("name", args.name), campaign_id, body,
                              bodies.digest(body), remote=data)
        backend.write(state)
    print(f"Imported {escape(repr(data.get('name', args.name)))} ({escape(campaign_id)}), "
          f"status {escape(str(data.get('status', '?')))}.")
    return 0


def _check_unowned(state: State, campaign_id: str) -> None:
    owner = state.owner_of(campaign_id)
    if owner is not None:
        raise StateError(f"campaign {campaign_id} is already in state as "
                         f"{state.campaigns[owner]['name']!r}; one remote campaign belongs "
                         "to one entry (`provisioner state rm` that one first if it is wrong)")


def _find(client: KoreClient, name: str, campaign_id: str | None) -> dict[str, Any]:
    if campaign_id:
        data = client.get(campaign_id)
        if data is None:
            raise ApiError(f"no campaign with id {campaign_id} on the tenant", status=404)
        if str(data.get("name", "")).lower() != name.lower():
            raise ApiError(f"campaign {campaign_id} is named {data.get('name')!r}, not {name!r}")
        return data
    found = [c for c in client.list_campaigns() if str(c.get("name", "")).lower() == name.lower()]
    if not found:
        raise ApiError(f"no campaign named {name!r} on the tenant")
    if len(found) > 1:
        ids = ", ".join(bodies.campaign_id(c) for c in found)
        raise ApiError(f"{len(found)} campaigns are named {name!r} ({ids}); pass the id")
    full = client.get(bodies.campaign_id(found[0]))
    if full is None:
        raise ApiError(f"campaign {name!r} disappeared while it was being imported")
    return full
