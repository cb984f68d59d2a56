"""What a plan must respect of contact lists (issue 16), beyond what every kind shares
(provisioner/plan/build.py): the update API's limits, and that a list is never deleted
while a campaign still names it. Pure: no I/O."""

from __future__ import annotations

from typing import Any, Callable

from provisioner.errors import SpecError
from provisioner.plan.model import Action, Desired

BodyOf = Callable[[str], dict[str, Any]]   # the body recorded for a lname


def list_rules(act: Action) -> None:
    """What the contact-list API cannot do: its update takes name and description only
    (update-contact-list-v2), so a change of `allowDuplicates` is blocked, never sent."""
    if act.action != "update" or act.before is None or act.after is None:
        return
    if act.before.get("allowDuplicates") != act.after.get("allowDuplicates"):
        act.action, act.blocked_action = "blocked", "update"
        act.reason = ("allowDuplicates cannot be changed once a contact list exists (the "
                      "update API takes name and description only); recreate it by hand")


def check_list_deletes(lists: list[Action], campaigns: list[Action],
                        specs: list[Desired], recorded: dict[str, dict[str, Any]],
                        body_of: BodyOf) -> None:
    """SpecError, located at the first campaign entry that names it, when a contact list
    would be deleted while a campaign that stays still names it (the tenant refuses that
    delete, and the campaign would lose its list)."""
    doomed = {act.lname: act for act in lists if act.action == "delete"}
    if not doomed:
        return
    leaving = {act.lname for act in campaigns if act.action == "delete"}
    for spec in specs:
        if spec.ensure != "present":
            continue
        for ref in getattr(spec, "lists", ()):
            act = doomed.get(str(ref.name).lower())
            if act is not None:
                raise SpecError(f"{ref.file or spec.file}:{ref.line}:{ref.column}: contact list "
                                f"{act.name!r} would be deleted ({act.reason}) but campaign "
                                f"{spec.name!r} still names it; remove it from the "
                                "campaign's contactLists first")
    desired = {spec.lname for spec in specs}
    for lname, rec in recorded.items():
        if lname in leaving or lname in desired:
            continue
        named = {str(n).lower() for n in body_of(lname).get("contactLists") or ()}
        for list_name in sorted(named & doomed.keys()):
            raise SpecError(f"contact list {doomed[list_name].name!r} would be deleted "
                            f"({doomed[list_name].reason}) but campaign {rec['name']!r} "
                            "(recorded in state, kept) still names it")
