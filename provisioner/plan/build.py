"""Diff desired campaigns against recorded state (and, after a refresh, the tenant).

Identity first, by set algebra on lowercased names (the API keeps a lowercased `lname`);
then a digest of the normalised body decides whether a campaign changed; deepdiff only
explains an update. Building a plan never calls the API or writes state.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from provisioner import body as bodies
from provisioner.errors import SpecError
from provisioner.plan.decide import BodyOf, Tenant, decide, noop
from provisioner.plan.diff import diff_bodies, message_info
from provisioner.plan.model import CONTACT_LIST, Action, Desired, Plan, Remote
from provisioner.plan.lists import check_list_deletes, list_rules
from provisioner.plan.run import run_action, run_pending
from provisioner.plan.selection import Scope, Selection
from provisioner.state.model import RecordedState, check_unique_ids


class Unchanged:
    """Campaigns (and contact lists) whose spec digest equals the recorded one (offline):
    their lnames, and where to find their spec and record when the noop actions are
    wanted."""

    def __init__(self, lnames: set[str], desired: dict[str, Any],
                 recorded: dict[str, dict[str, Any]],
                 lists: tuple[set[str], dict[str, Any], dict[str, dict[str, Any]]] | None = None
                 ) -> None:
        self.lnames, self._desired, self._recorded = lnames, desired, recorded
        self._lists = lists or (set(), {}, {})

    def __len__(self) -> int:
        return len(self.lnames) + len(self._lists[0])

    def actions(self) -> list[Action]:
        same, desired, recorded = self._lists
        listed = [noop(desired[lname], recorded[lname]) for lname in same]
        for act in listed:
            act.kind = CONTACT_LIST
        return listed + [noop(self._desired[lname], self._recorded[lname])
                         for lname in self.lnames]


def build_plan(campaigns: Iterable[Desired], state: RecordedState | None, *, env: str, specs: dict[str, str],
               remote: dict[str, list[Remote]] | None = None, prune: bool = False,
               warnings: list[dict[str, Any]] | None = None,
               explain: Explain | None = None, target: dict[str, str] | None = None,
               allow_empty_prune: bool = False, selection: Selection | None = None,
               contact_lists: Iterable[Desired] = (),
               remote_lists: dict[str, list[Remote]] | None = None) -> Plan:
    """Compare desired campaigns and contact lists with the recorded state (and the
    tenant, when refreshed).

    `campaigns` are spec.Campaign objects, `contact_lists` spec.ContactList objects; `state`
    a State or None; `remote` maps lname to the tenant's campaigns of that name and
    `remote_lists` to its contact lists (None: offline plan). `explain` turns (before,
    after) pairs into field changes, all at once (default: diff_bodies here). `target`
    (host, streamId, accountId) is recorded in the plan so a saved plan is refused
    elsewhere. A `selection` (a targeted run) leaves every campaign it does not match out
    of the plan: neither created, updated nor deleted (provisioner/plan/selection.py).
    Raises SpecError when a spec asks to delete a protected campaign, when a contact list
    would be deleted while a campaign still names it, or when prune would delete from an
    empty desired set without `allow_empty_prune`; StateError when two state entries
    record one remote id; ConfigError when a pattern of `selection` matches no campaign in
    the specs or the state.
    """
    campaigns, contact_lists = list(campaigns), list(contact_lists)
    recorded: dict[str, dict[str, Any]] = state.campaigns if state else {}
    check_unique_ids(recorded, state.location if state else "")
    lists = _Kind(contact_lists, state.contact_lists if state else {},
                  state.list_pending if state else {}, remote_lists)
    check_unique_ids(lists.recorded, state.location if state else "")
    pending: dict[str, dict[str, Any]] = state.pending if state else {}
    tenant = None if remote is None else Tenant(remote, recorded)   # before narrowing
    loaded_none, scope = not campaigns and not contact_lists, None
    if selection:
        selection.check(_known(campaigns, recorded, pending)
                        | _known(lists.specs, lists.recorded, lists.pending))
        scope, campaigns, recorded, pending = _narrow(selection, campaigns, recorded, pending,
                                                      check=False)
        lists = lists.narrowed(selection)
    if prune and loaded_none and not allow_empty_prune:
        _refuse_empty_prune({**recorded, **lists.recorded})
    body_of = state.body_of if state else _no_body
    kind = _Kind(campaigns, recorded, pending, None)
    kind.tenant = tenant
    listed = _decide_kind(lists, prune, lists.body_of)
    changes, unexplained, same = _decide_kind(kind, prune, body_of)
    check_list_deletes(listed[0], changes, campaigns, recorded, body_of)
    pairs = [(act.before, act.after) for act in listed[1] + unexplained]
    for act, found in zip(listed[1] + unexplained,
                          (explain or explain_here)(pairs) if pairs else []):
        act.changes = found
    for act in listed[0]:
        act.kind = CONTACT_LIST   # (an entry made from a record alone has no spec to say)
        list_rules(act)
    return Plan(env=env, lineage=state.lineage if state else None,
                serial=state.serial if state else None, specs=specs,
                changes=listed[0] + changes, refreshed=remote is not None,
                warnings=warnings or [],
                unchanged=_Unchanged(same, listed[2], kind, lists),
                target=dict(target) if target is not None else None, scope=scope)


class _Kind:
    """One resource kind's inputs to a plan: specs, records, intents, the tenant's."""

    def __init__(self, specs: list[Desired], recorded: dict[str, dict[str, Any]],
                 pending: dict[str, dict[str, Any]],
                 remote: dict[str, list[Remote]] | None) -> None:
        self.specs, self.recorded, self.pending, self.remote = specs, recorded, pending, remote
        # The tenant is read against every record: an id owned by a resource outside the
        # target is still owned, never adopted under another name.
        self.tenant = None if remote is None else Tenant(remote, recorded,
                                                          bodies.normalise_remote_list)
        self.desired = {c.lname: c for c in specs}

    def narrowed(self, selection: Selection) -> _Kind:
        _, specs, recorded, pending = _narrow(selection, self.specs, self.recorded,
                                              self.pending, check=False)
        narrowed = _Kind(specs, recorded, pending, None)
        narrowed.tenant = self.tenant
        return narrowed

    def body_of(self, lname: str) -> dict[str, Any]:
        body: dict[str, Any] = self.recorded[lname]["body"]
        return body


def _decide_kind(kind: _Kind, prune: bool, body_of: BodyOf
                 ) -> tuple[list[Action], list[Action], set[str]]:
    """The actions of one kind (in lname order), the updates among them still to be
    explained, and the lnames left unchanged (offline, equal digests)."""
    specs, desired, recorded, pending = kind.specs, kind.desired, kind.recorded, kind.pending
    renames = _renames(specs, desired, recorded, pending)
    changes: list[Action] = []
    unexplained: list[Action] = []   # updates, explained together at the end
    same = _unchanged(specs, recorded) if kind.tenant is None else set()
    moved = set(renames.values())
    for lname in sorted((desired.keys() | recorded.keys() | pending.keys()) - same - moved):
        spec, rec = desired.get(lname), recorded.get(lname)
        old = renames.get(lname)
        if old is not None:   # recorded under a previous name: one update of that id
            rec = {**recorded[old], "lname": old}
        act = decide(spec, rec, pending.get(lname), kind.tenant, lname, prune, body_of)
        if old is not None and act.action in ("update", "blocked"):
            act.previous_name = recorded[old]["name"]
        if act.before is not None and act.after is not None and act.action in (
                "update", "blocked") and act.blocked_action in ("", "update"):
            unexplained.append(act)
        if act.action != "noop" and act.after is not None:
            act.message = message_info(act.after)   # only what a reviewer will read
        if act.after is not None and isinstance(act.after.get("contactLists"), list):
            act.lists = [str(name) for name in act.after["contactLists"]]
        if rec is not None and not act.status:   # what the tenant last said (or says now)
            live = kind.tenant.live(rec) if kind.tenant is not None else None
            act.status = (live.status if live is not None else "") or str(
                rec.get("status") or "")
        changes.append(act)
        run = run_action(spec, rec, act, kind.tenant)
        if run is not None:
            changes.append(run)
    return changes, unexplained, same


def _Unchanged(same: set[str], same_lists: set[str], campaigns: _Kind,
               lists: _Kind) -> Unchanged | None:
    """The offline noops of both kinds, or None when there are none."""
    if not same and not same_lists:
        return None
    return Unchanged(same, campaigns.desired, campaigns.recorded,
                     lists=(same_lists, lists.desired, lists.recorded))


def _renames(campaigns: list[Desired], desired: dict[str, Desired],
             recorded: dict[str, dict[str, Any]], pending: dict[str, dict[str, Any]]
             ) -> dict[str, str]:
    """new lname -> the previous lname state records it under, for each spec that state
    does not record under its own name. SpecError (located) when state records it under
    both names, or under more than one previous name."""
    out: dict[str, str] = {}
    for spec in campaigns:
        held = [old.lower() for old in spec.previous
                if old.lower() in recorded and old.lower() not in desired]
        if not held or spec.ensure != "present":
            continue
        where = f"{spec.file}:{spec.line}:{spec.column}: campaign {spec.name!r}"
        if spec.lname in recorded or spec.lname in pending:
            raise SpecError(f"{where}: state records it under its name and under its previous "
                            f"name {recorded[held[0]]['name']!r}; `provisioner state rm` the "
                            "wrong one")
        if len(held) > 1:
            raise SpecError(f"{where}: state records {len(held)} of its previous names "
                            f"({', '.join(recorded[h]['name'] for h in held)}); keep one "
                            "with `provisioner state rm`")
        out[spec.lname] = held[0]
    return out


def check_selection(selection: Selection, campaigns: Iterable[Desired],
                    state: RecordedState | None, contact_lists: Iterable[Desired] = ()
                    ) -> None:
    """ConfigError when a pattern of `selection` matches no campaign or contact list in the
    specs or the state (its records and pending intents): apply checks this before it
    sends anything."""
    if selection:
        selection.check(_known(campaigns, state.campaigns if state else {},
                               state.pending if state else {})
                        | _known(contact_lists, state.contact_lists if state else {},
                                 state.list_pending if state else {}))


def _known(campaigns: Iterable[Desired], recorded: dict[str, Any],
           pending: dict[str, Any]) -> set[str]:
    return {c.lname for c in campaigns} | recorded.keys() | pending.keys()


def _narrow(selection: Selection, campaigns: list[Desired], recorded: dict[str, dict[str, Any]],
            pending: dict[str, dict[str, Any]], check: bool = True
            ) -> tuple[Scope, list[Desired], dict[str, dict[str, Any]],
                       dict[str, dict[str, Any]]]:
    """Only what `selection` matches, and the scope that says how much that was."""
    known = _known(campaigns, recorded, pending)
    if check:
        selection.check(known)
    chosen = {lname for lname in known if selection.matches(lname)}
    return (Scope(selection, len(chosen), len(known)),
            [c for c in campaigns if c.lname in chosen],
            {k: v for k, v in recorded.items() if k in chosen},
            {k: v for k, v in pending.items() if k in chosen})


def _refuse_empty_prune(recorded: dict[str, dict[str, Any]]) -> None:
    """An empty desired set (an empty or mistyped folder) is far likelier a mistake than
    a wish to delete everything: prune never acts on it unless asked (issue 18)."""
    doomed = sum(1 for rec in recorded.values() if not rec.get("protect"))
    if doomed:
        raise SpecError(f"no campaign spec was loaded and prune is on: this would delete all "
                        f"{doomed} campaign(s) recorded in state; refusing (check the "
                        "campaigns folder, or pass --allow-empty-prune if that is meant)")


def _unchanged(campaigns: Iterable[Any], recorded: dict[str, dict[str, Any]]) -> set[str]:
    """lnames whose spec (present) and record have equal digests: set algebra on
    (lname, digest) pairs, so the common case costs no Python step per campaign beyond
    collecting the pairs."""
    wanted = {c.lname: c.digest for c in campaigns if c.ensure == "present"}
    held = {lname: rec.get("digest") for lname, rec in recorded.items()}
    same = {lname for lname, _ in wanted.items() & held.items()}
    return same - run_pending(campaigns, recorded)


Explain = Callable[[list[tuple[Any, Any]]], list[list[dict[str, Any]]]]


def explain_here(pairs: list[tuple[Any, Any]]) -> list[list[dict[str, Any]]]:
    """The field changes of each (before, after) pair, computed in this process."""
    return [diff_bodies(before, after) for before, after in pairs]


def _no_body(lname: str) -> dict[str, Any]:
    raise KeyError(lname)
