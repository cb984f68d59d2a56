"""The decision for one resource (a campaign or a contact list): its spec, its record, an
intent an earlier run left, and (refreshed) what the tenant holds, in; one plan entry out.
Pure: no I/O (provisioner/plan/build.py assembles the plan from these).
"""

from __future__ import annotations

from typing import Any, Callable

from provisioner import body as bodies
from provisioner.errors import SpecError
from provisioner.plan.diff import diff_bodies
from provisioner.plan.model import ACTIVE, Action, Remote, kind_flag

BodyOf = Callable[[str], dict[str, Any]]   # the body recorded for a lname
Normalise = Callable[..., dict[str, Any]]   # (answer, known body) -> normal form


class Tenant:
    """What a refresh saw. Recorded campaigns are found by id, wherever their name went
    (a rename in the console is drift, never a deletion); adoption by name considers only
    campaigns no state entry already owns."""

    def __init__(self, remote: dict[str, list[Remote]], recorded: dict[str, dict[str, Any]],
                 normalise: Normalise = bodies.normalise_remote) -> None:
        self.normalise = normalise   # the kind's: an answer in the body's normal form
        self.by_id = {r.id: r for group in remote.values() for r in group}
        owned = {rec.get("id") for rec in recorded.values()}
        self.unowned = {lname: [r for r in group if r.id not in owned]
                        for lname, group in remote.items()}

    def live(self, rec: dict[str, Any]) -> Remote | None:
        return self.by_id.get(rec.get("id", ""))

    def named(self, lname: str) -> list[Remote]:
        return self.unowned.get(lname, [])


def decide(spec: Any, rec: dict[str, Any] | None, pending: dict[str, Any] | None,
            tenant: Tenant | None, lname: str, prune: bool, body_of: BodyOf) -> Action:
    if spec is not None and spec.ensure == "absent":
        return _absent(spec, rec, tenant, body_of)
    if spec is None:
        return _orphan(rec, pending, tenant, prune, body_of)
    if rec is None:
        return _new(spec, pending, None if tenant is None else tenant.named(lname))
    return _existing(spec, rec, tenant, body_of)


def _new(spec: Any, pending: dict[str, Any] | None, remote: list[Remote] | None) -> Action:
    act = _spec_action("create", spec)
    if pending:
        act.reason = (f"an earlier create (since {pending.get('since', '?')}) has an unknown "
                      "outcome; apply looks it up by name before sending anything")
    if remote:
        _claim(act, remote, "a campaign of this name exists on the tenant; it is adopted, "
                            "not created")
    return act


def _claim(act: Action, remote: list[Remote], why: str) -> None:
    """A create whose name the tenant already holds (campaigns no state entry owns) is
    never sent: one such campaign is adopted, several block it until resolved by hand, and
    one of another type (a voice campaign for an SMS spec) blocks it: it cannot be
    adopted, and a second campaign of that name is not made beside it."""
    wanted = str((act.after or {}).get("campaignType") or "sms")
    same = [r for r in remote if not r.type or r.type == wanted]
    if not same:
        act.action, act.blocked_action, act.recreate = "blocked", "create", False
        act.candidates = [r.id for r in remote]
        act.reason = (f"the tenant holds a {remote[0].type} campaign named {act.name!r} "
                      f"({', '.join(act.candidates)}) and the spec is {wanted}: it cannot "
                      "be adopted; rename one of them")
        return
    remote = same
    if len(remote) > 1:
        act.action, act.blocked_action, act.recreate = "blocked", "adopt", False
        act.candidates = [r.id for r in remote]
        act.reason = (f"{len(remote)} campaigns on the tenant are named {act.name!r} "
                      f"({', '.join(act.candidates)}); resolve by hand: delete the extra ones "
                      f"in the console, or `provisioner import {kind_flag(act.kind)}NAME ID` "
                      "the one to keep")
    else:
        act.action, act.id, act.recreate, act.reason = "adopt", remote[0].id, False, why


def _unknown_note(act: Action, others: list[Remote]) -> None:
    """The tenant holds campaigns of this name that state does not know: made in the
    console, or a duplicate. Nothing is sent for them; the plan (and drift) says so."""
    act.reason = "; ".join(filter(None, (act.reason, (
        f"{len(others)} other campaign(s) named {act.name!r} on the tenant are not in state "
        f"({', '.join(r.id for r in others)}): made outside the tool? delete or rename "
        "them in the console"))))


def _existing(spec: Any, rec: dict[str, Any], tenant: Tenant | None,
              body_of: BodyOf) -> Action:
    if tenant is None and rec.get("digest") == spec.digest:  # the common case: cheap noop
        return noop(spec, rec)
    act = _spec_action("update", spec)
    act.id, act.before, act.digest_before = rec.get("id"), body_of(rec["lname"]), rec.get("digest")
    status = rec.get("status", "")
    if tenant is not None:
        live = tenant.live(rec)
        others = tenant.named(rec["lname"])
        if live is None:
            act.action, act.recreate, act.id, act.before, act.digest_before = (
                "create", True, None, None, None)
            act.reason = "deleted outside the tool; it will be created again"
            if others:   # deleted, then made again in the console: never a second one
                _claim(act, others, "deleted outside the tool, and a campaign of this name "
                                    "was made on the tenant since: it is adopted, not created")
            return act
        if others:
            _unknown_note(act, others)
            act.drift = act.digest_before == act.digest_after   # a noop must still show it
        status = live.status or status
        if live.body is not None:
            remote_body = tenant.normalise(live.body, act.before)
            if _drifted(remote_body, act.before, rec, spec.ignore):
                act.drift, act.drift_changes = True, diff_bodies(act.before, remote_body)
            if bodies.digest(remote_body) != rec.get("digest"):
                act.before, act.digest_before = remote_body, bodies.digest(remote_body)
    if spec.ignore:
        _console_owns(act, spec.ignore)
    if act.digest_before == act.digest_after and not act.drift:
        return noop(spec, rec)
    if act.digest_before == act.digest_after:
        act.action = "noop"
        return act
    if status == ACTIVE and spec.run != "stopped":
        act.action, act.blocked_action = "blocked", "update"
        act.reason = ("the campaign is Active; the docs say an Active campaign cannot be "
                      "edited (`run: stopped` stops it first, in the same apply)")
    return act


def _drifted(remote: dict[str, Any], recorded: dict[str, Any] | None, rec: dict[str, Any],
             ignore: tuple[str, ...]) -> bool:
    """Whether the tenant's body differs from the recorded one, fields the console owns
    left out of the comparison."""
    if not ignore or recorded is None:
        return bodies.digest(remote) != rec.get("digest")
    return bodies.digest(bodies.without(remote, ignore)) != bodies.digest(
        bodies.without(recorded, ignore))


def _console_owns(act: Action, ignore: tuple[str, ...]) -> None:
    """The update sends the tenant's values for the fields the console owns (here, the
    last known ones; apply reads them again just before the PUT)."""
    assert act.after is not None and act.before is not None
    act.after = bodies.take(act.after, act.before, ignore)
    act.digest_after, act.ignored = bodies.digest(act.after), list(ignore)


def _absent(spec: Any, rec: dict[str, Any] | None, tenant: Tenant | None,
            body_of: BodyOf) -> Action:
    if spec.protect:
        raise SpecError(f"{spec.file}:{spec.line}:{spec.column}: campaign {spec.name!r} says "
                        "both `protect: true` and `ensure: absent`; a protected campaign is "
                        "never deleted")
    if rec is None:
        return Action("noop", spec.name, spec.lname, source=_source(spec),
                      reason="ensure: absent, and it is not recorded")
    return _delete(rec, tenant, body_of, source=_source(spec),
                   why="the spec says `ensure: absent`")


def _orphan(rec: dict[str, Any] | None, pending: dict[str, Any] | None,
            tenant: Tenant | None, prune: bool, body_of: BodyOf) -> Action:
    if rec is None:  # only a pending intent whose spec is gone
        assert pending is not None
        return Action("orphan", pending["name"], pending["name"].lower(),
                      reason="spec removed while an earlier create had an unknown outcome; "
                             "apply resolves it and records what it finds")
    if prune and not rec.get("protect"):
        return _delete(rec, tenant, body_of, source="",
                       why="its spec was removed and prune is on")
    act = Action("orphan", rec["name"], rec["lname"], id=rec.get("id"),
                 before=body_of(rec["lname"]), digest_before=rec.get("digest"))
    act.reason = ("protected: never deleted" if rec.get("protect") and prune
                  else "in state but no spec; kept (set prune: true or ensure: absent to delete)")
    live = tenant.live(rec) if tenant is not None else None
    if tenant is not None and live is None:
        act.drift = True
        act.reason += ("; deleted outside the tool as well (`provisioner state rm` forgets "
                       "it)")
    elif live is not None and live.body is not None:
        assert tenant is not None   # live was read from it
        remote_body = tenant.normalise(live.body, act.before)
        if bodies.digest(remote_body) != rec.get("digest"):
            act.drift, act.drift_changes = True, diff_bodies(act.before, remote_body)
    others = tenant.named(rec["lname"]) if tenant is not None else []
    if others:
        _unknown_note(act, others)
        act.drift = True
    return act


def _delete(rec: dict[str, Any], tenant: Tenant | None, body_of: BodyOf, *, source: str,
            why: str) -> Action:
    act = Action("delete", rec["name"], rec["lname"], id=rec.get("id"), source=source,
                 before=body_of(rec["lname"]), digest_before=rec.get("digest"), reason=why)
    status = rec.get("status", "")
    if tenant is not None:
        live = tenant.live(rec)
        if live is None:  # apply treats the 404 as done and forgets it
            act.reason += "; already gone from the tenant"
        else:
            status = live.status or status
    if status == ACTIVE:
        act.action, act.blocked_action = "blocked", "delete"
        act.reason = "the campaign is Active; an Active campaign is never deleted"
    return act


def noop(spec: Any, rec: dict[str, Any]) -> Action:
    """Unchanged: no bodies are carried (the digests say they are equal), so a plan of
    10,000 unchanged campaigns neither loads nor saves 10,000 bodies."""
    return Action("noop", spec.name, spec.lname, rec.get("id"),
                  f"{spec.file}:{spec.line}:{spec.column}", None, None, rec.get("digest"),
                  spec.digest)


def _spec_action(kind: str, spec: Any) -> Action:
    return Action(kind, spec.name, spec.lname, source=_source(spec), after=spec.body,
                  digest_after=spec.digest, kind=spec.kind)


def _source(spec: Any) -> str:
    return f"{spec.file}:{spec.line}:{spec.column}"
