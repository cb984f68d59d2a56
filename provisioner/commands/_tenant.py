"""Reading the tenant for an online command (plan --refresh, drift, apply): its contact
lists first, so that every list a campaign names is checked before anything else is read
or sent (issue 16), then its campaigns.

A reference is good when the list is declared (`kind: ContactList`, present) or the tenant
holds exactly one list of that name (compared case-insensitively). A name the tenant holds
twice is an ambiguity reported at the campaign's entry, never guessed: the tenant binds
lists by name, so the campaign could reach either list.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from provisioner.errors import SpecError
from provisioner.plan.model import Remote
from provisioner.remote.refresh import read_contact_lists, read_remote
from provisioner.spec.load import ERROR, Problem
from provisioner.spec.references import OWNED_LISTS, check_references

if TYPE_CHECKING:
    from provisioner.remote.client import KoreClient
    from provisioner.spec.load import SpecSet


@dataclass(frozen=True)
class Tenant:
    """What one reading of the tenant saw, by lname: campaigns (both types) and lists."""

    campaigns: dict[str, list[Remote]]
    lists: dict[str, list[Remote]]


def read_tenant(client: KoreClient, state: Any, specs: SpecSet,
                err: TextIO = sys.stderr) -> Tenant:
    """The tenant's contact lists (one listing), every reference checked against them (a
    SpecError, with each problem printed located, before anything else is read), then its
    campaigns (provisioner/remote/refresh.py)."""
    lists = read_contact_lists(client)
    check_lists(specs, lists, err)
    return Tenant(read_remote(client, state, fetch_changed=True), lists)


def check_lists(specs: SpecSet, lists: dict[str, list[Remote]],
                err: TextIO = sys.stderr) -> None:
    """Print every unresolved or ambiguous contact-list reference; SpecError if any."""
    from provisioner.render.problems import format_problem

    names = {lname: group[0].name for lname, group in lists.items() if group}
    problems = check_references(specs.campaigns, specs.contact_lists, tenant=names)
    problems += _ambiguous(specs, lists)
    for problem in problems:
        print(format_problem(problem), file=err)
    errors = sum(1 for p in problems if p.severity == ERROR)
    if errors:
        raise SpecError(f"{errors} contact list reference(s) cannot be resolved on the "
                        "tenant; nothing was sent")


def _ambiguous(specs: SpecSet, lists: dict[str, list[Remote]]) -> list[Problem]:
    """A reference to a name the tenant holds more than once."""
    out = []
    for campaign in specs.campaigns:
        if campaign.ensure != "present" or OWNED_LISTS in campaign.ignore:
            continue
        for ref in campaign.lists:
            held = lists.get(ref.name.lower(), [])
            if len(held) > 1:
                out.append(Problem(ref.file or campaign.file, ref.line, ref.column, ref.path,
                                   f"{len(held)} contact lists on the tenant are named "
                                   f"{ref.name!r} ({', '.join(r.id for r in held)}): the "
                                   "campaign could reach either; rename or delete the extra "
                                   "one in the console", ERROR))
    return out
