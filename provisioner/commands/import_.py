"""`provisioner import NAME [ID] [--kind ContactList]`: adopt an existing remote campaign (SMS
or voice) or contact list into state, by id or found by name through the documented list
calls (there is no get-by-name endpoint).

One remote campaign belongs to one state entry: an id already recorded under another name
is refused. Importing a name with a pending create intent settles that intent (the way out
when apply says "N campaigns named X ... resolve by hand")."""

from __future__ import annotations

import argparse
from typing import Any

from provisioner import body as bodies
from provisioner.apply.kinds import CampaignOps, ContactListOps, KindOps
from provisioner.commands._common import (
    add_target_options, make_client, open_state, read_state, stderr_event, target_of,
)
from provisioner.errors import ApiError, StateError
from provisioner.spec.printable import escape
from provisioner.state import State
from provisioner.state.model import CAMPAIGN, KINDS


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("import", help="adopt an existing remote campaign (or contact "
                                             "list) into state")
    add_target_options(p, campaigns=False)
    p.add_argument("name", help="its name (compared case-insensitively)")
    p.add_argument("id", nargs="?", help="its remote id (cd-..., cl-...); found by name if "
                                         "omitted")
    p.add_argument("--kind", choices=KINDS, default=CAMPAIGN,
                   help="what NAME is (default %(default)s; SMS and voice campaigns alike)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = target_of(args)
    backend = open_state(target, on_warning=lambda m: stderr_event("warning", m))
    client = make_client(target, stderr_event)
    ops: KindOps = CampaignOps(client) if args.kind == CAMPAIGN else ContactListOps(client)
    with backend.lock("import", timeout=args.lock_timeout):
        state = read_state(backend, target) or State.new(target.binding())
        recorded = state.entries(args.kind).get(args.name.lower())
        if recorded:
            raise StateError(f"{args.name!r} is already in state (id {recorded['id']})")
        if args.id:
            _check_unowned(state, args.id, ops)
        data = _find(ops, args.name, args.id)
        resource_id = bodies.campaign_id(data)
        _check_unowned(state, resource_id, ops)
        body = ops.normalise(data)
        state.record_campaign(data.get("name", args.name), resource_id, body,
                              bodies.digest(body), remote=data, kind=args.kind)
        backend.write(state)
    print(f"Imported {escape(repr(data.get('name', args.name)))} ({escape(resource_id)}), "
          f"status {escape(str(data.get('status', '?')))}.")
    return 0


def _check_unowned(state: State, resource_id: str, ops: KindOps) -> None:
    owner = state.owner_of(resource_id, ops.kind)
    if owner is not None:
        raise StateError(f"{ops.noun} {resource_id} is already in state as "
                         f"{state.entries(ops.kind)[owner]['name']!r}; one remote {ops.noun} "
                         "belongs to one entry (`provisioner state rm` that one first if it "
                         "is wrong)")


def _find(ops: KindOps, name: str, resource_id: str | None) -> dict[str, Any]:
    noun = ops.noun
    if resource_id:
        data = ops.get(resource_id)
        if data is None:
            raise ApiError(f"no {noun} with id {resource_id} on the tenant", status=404)
        if str(data.get("name", "")).lower() != name.lower():
            raise ApiError(f"{noun} {resource_id} is named {data.get('name')!r}, not {name!r}")
        return data
    found = [c for c in ops.list_all() if str(c.get("name", "")).lower() == name.lower()]
    if not found:
        raise ApiError(f"no {noun} named {name!r} on the tenant")
    if len(found) > 1:
        ids = ", ".join(bodies.campaign_id(c) for c in found)
        raise ApiError(f"{len(found)} {noun}s are named {name!r} ({ids}); pass the id")
    full = ops.get(bodies.campaign_id(found[0]))
    if full is None:
        raise ApiError(f"{noun} {name!r} disappeared while it was being imported")
    return full
