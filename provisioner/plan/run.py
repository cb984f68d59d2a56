"""A campaign's declared run state (`run: active | stopped`, issue 17) as plan entries.

Starting a campaign sends SMS (or places calls) to every contact on its lists: the step
that reaches customers. So a start is its own plan entry beside the campaign's create or
update, shown first by every renderer, and apply performs it only with a second approval
(`--allow-start`, or `allowStart: true` for the environment). Pure: no I/O.

The rules (statuses: koreai-campaign-apis.md §4):
- `run: active`: a new campaign, or one `Ready`, `Stopped` or `Scheduled`, is started
  (unless its spec enables a schedule: the schedule starts it)
  (after its create or update); an `Active` one is left alone; a `Completed` one is never
  re-run by accident: only a `rerun:` token that differs from the one recorded at its last
  start runs it again (otherwise a note says so).
- `run: stopped`: an `Active` (or `Paused`) campaign is stopped, before any update of it.
- No `run:`: the tool never starts or stops the campaign.
- After a refresh, a status that differs from the one recorded (the console started or
  stopped it) is drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from provisioner import body as bodies
from provisioner.plan.model import ACTIVE, Action, Remote

STARTABLE = ("", "Ready", "Stopped", "Scheduled", "Preparing")   # "": created by this plan
STOPPABLE = (ACTIVE, "Paused")
COMPLETED = "Completed"
# Changes of status the tenant makes on its own: never drift (a run ends, a voice campaign
# finishes preparing, a schedule fires).
NATURAL = {(ACTIVE, COMPLETED), ("Preparing", "Ready"), ("Scheduled", ACTIVE),
           ("Scheduled", COMPLETED)}


def run_pending(campaigns: Iterable[Any], recorded: dict[str, dict[str, Any]]) -> set[str]:
    """lnames whose declared run state (or rerun token) differs from what state recorded
    as last made so: an offline plan must decide them even when their body is unchanged.
    One Python step per campaign that declares `run:` only."""
    out = set()
    for spec in [spec for spec in campaigns if spec.run is not None]:
        run = spec.run
        rec = recorded.get(spec.lname) or {}
        if rec.get("run") != run or (run == "active" and spec.rerun
                                     and spec.rerun != rec.get("rerun")):
            out.add(spec.lname)
    return out


def run_action(spec: Any, rec: dict[str, Any] | None, act: Action,
               tenant: Any) -> Action | None:
    """The start or stop `spec`'s `run:` asks for, given the campaign's entry `act` in
    the same plan, its record and (refreshed) the tenant; a noop entry carrying a note
    for a Completed campaign; None when there is nothing to do."""
    run = spec.run if spec is not None else None
    if spec is None or run is None or spec.ensure != "present" or act.action in (
            "delete", "orphan") or (act.action == "blocked" and act.blocked_action != "update"):
        return None
    live: Remote | None = tenant.live(rec) if tenant is not None and rec else None
    status = _status(act, rec, live)
    if run == "stopped":
        return _entry("stop", spec, act, rec, live, "run: stopped") if status in STOPPABLE \
            else None
    token = spec.rerun or ""
    if bodies.schedule_call(spec.body) is not None:   # its schedule starts it, not apply
        return _note(spec, act, rec, live, "scheduled: the tenant starts it at the "
                                           "schedule's startDateTime; apply never starts a "
                                           "scheduled campaign itself")
    if status == ACTIVE and token and token != (rec or {}).get("rerun") and live is None:
        return _note(spec, act, rec, live, "a new rerun token, and the campaign is recorded "
                                           "Active (this plan did not read the tenant): "
                                           "apply reads it first, and starts it again if it "
                                           "has Completed")
    if status == COMPLETED:
        if token and token != (rec or {}).get("rerun"):
            return _entry("start", spec, act, rec, live, f"rerun: {token} (a new token: run "
                                                         "the Completed campaign again)")
        return _note(spec, act, rec, live, "Completed: a completed campaign is never re-run "
                                           "by accident; set a new `rerun: <token>` to run "
                                           "it again")
    if status in STARTABLE:
        why = "run: active" + (" (after its create)" if act.action in ("create", "adopt")
                               else "")
        return _entry("start", spec, act, rec, live, why)
    return None


def _note(spec: Any, act: Action, rec: dict[str, Any] | None, live: Remote | None,
          why: str) -> Action:
    """A noop entry that says why nothing is started (every renderer shows it)."""
    note = _entry("noop", spec, act, rec, live, "")
    note.blocked_action, note.reason = "start", why
    return note


def _status(act: Action, rec: dict[str, Any] | None, live: Remote | None) -> str:
    """The campaign's status when the plan is applied: "" for one this plan creates."""
    if act.action == "create":
        return ""
    if live is not None:
        return live.status
    if act.action == "adopt":
        return ""   # read again by apply before it starts anything
    return str((rec or {}).get("status") or "")


def _entry(kind: str, spec: Any, act: Action, rec: dict[str, Any] | None,
           live: Remote | None, why: str) -> Action:
    out = Action(kind, spec.name, spec.lname, id=act.id or (rec or {}).get("id"),
                 source=f"{spec.file}:{spec.line}:{spec.column}", reason=why,
                 digest_after=spec.digest, status=act.status)
    if kind == "start":
        out.after = spec.body   # what it will send: the renderers show lists and window
        out.lists = [str(name) for name in out.after.get("contactLists") or ()]
        out.rerun = spec.rerun or ""
    if rec is not None and live is not None and live.status != rec.get("status") and (
            rec.get("status"), live.status) not in NATURAL:
        out.drift = True
        out.reason += (f"; status {live.status or '?'} on the tenant, {rec.get('status')} "
                       "recorded: started or stopped outside the tool")
    if live is not None:
        out.status = live.status
    elif rec is not None:
        out.status = str(rec.get("status") or "")
    return out
