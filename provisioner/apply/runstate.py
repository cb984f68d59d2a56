"""Starting and stopping campaigns, exactly once (issue 17), applying their schedules, and
waiting out a voice campaign's `Preparing` (issue 16).

A start reaches customers, so it is sent only with the second approval (`allow_start`),
only after the campaign's own create or update succeeded, and never twice for one declared
change:
- the campaign's status is read first (the status endpoint, koreai-campaign-apis.md §1.4):
  one that is already Active is recorded, not started again;
- a write-ahead intent (`op: start`) is recorded before the request;
- an answer that leaves the outcome unknown is settled by reading the status before
  anything else: Active (or Completed) means it started; anything else keeps the intent
  and fails, and the next run reads the status again before it sends anything.
A stop follows the same steps without the approval. Schedules (§1.8) are applied through
the schedule endpoint after a create or update whose schedule changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from provisioner import body as bodies
from provisioner.errors import AmbiguousError, ApiError
from provisioner.plan.model import Action

if TYPE_CHECKING:
    from provisioner.apply.executor import Outcome, Settings
    from provisioner.remote.client import KoreClient
    from provisioner.state import State

PREPARING = "Preparing"   # a voice campaign after its create (koreai-campaign-apis.md §1.9)
STARTED = ("Active", "Completed")   # what a start that arrived leaves
STOPPED = ("Stopped", "Completed")
APPROVAL = ("not started: a start sends to every contact on the campaign's lists, so it "
            "needs a second approval: apply --allow-start, or `allowStart: true` for this "
            "environment in provisioner.yaml")


class RunState:
    """The executor's readiness, start, stop and schedule steps (a part of `Applier`)."""

    client: KoreClient
    state: State
    settings: Settings
    on_event: Callable[[str, str], None]

    _save: Callable[[Callable[[], object]], None]   # Applier's

    def _ready(self, action: Action, cid: str, data: dict[str, Any]) -> str:
        """A voice create answers `Preparing` (koreai-campaign-apis.md §1.9): its id is
        recorded already; wait (bounded, paced like every request) until it leaves
        Preparing and record its status. Returns what to add to the outcome's message."""
        if data.get("status") != PREPARING:
            return ""
        status = self._wait_ready(action, cid)
        if status == PREPARING:
            return "; still Preparing when the wait ended (the next plan --refresh shows it)"
        return f"; {status} after Preparing"

    def _wait_ready(self, action: Action, cid: str) -> str:
        self.on_event("wait", f"{action.name}: Preparing; waiting until it is ready")
        data = self.client.wait_ready(cid, timeout=self.settings.ready_timeout,
                                      on_event=self.on_event)
        status = str(data.get("status", ""))

        def change() -> None:
            entry = self.state.entries(action.kind).get(action.lname)
            if entry is not None:
                self.state.record_campaign(entry["name"], entry["id"], entry["body"],
                                           entry["digest"], remote={
                                               "status": status,
                                               "createdAt": entry.get("createdAt"),
                                               "updatedAt": data.get("updatedAt")})
        self._save(change)
        return status

    def _do_start(self, action: Action) -> Outcome:
        from provisioner.apply.executor import Outcome

        if not self.settings.allow_start:
            return Outcome(action.name, "start", False, APPROVAL, action.id)
        return Outcome(action.name, "start", True, self._switch(action, "start"),
                       self._id(action))

    def _do_stop(self, action: Action) -> Outcome:
        from provisioner.apply.executor import Outcome

        return Outcome(action.name, "stop", True, self._switch(action, "stop"),
                       self._id(action))

    def _id(self, action: Action) -> str:
        """The campaign's id: the plan's, or the one this run's create recorded."""
        entry = self.state.campaigns.get(action.lname)
        if entry is None or not entry.get("id"):
            raise ApiError(f"campaign {action.name!r} is not recorded in state; nothing was "
                           f"sent (run apply again)")
        return str(entry["id"])

    def _switch(self, action: Action, op: str) -> str:
        """Start or stop one campaign, exactly once; returns what was done."""
        cid, entry = self._id(action), self.state.campaigns[action.lname]
        ctype = str(entry["body"].get("campaignType") or "sms")
        done, run = (STARTED, "active") if op == "start" else (STOPPED, "stopped")
        rerun = action.rerun or None
        status = self.client.status(cid) or ""
        if status == "Preparing" and op == "start":
            status = self._wait_ready(action, cid)
        if status in done and not (op == "start" and status == "Completed" and rerun):
            self._save(lambda: self.state.record_run(action.lname, status, run, rerun))
            return f"already {status}; recorded"
        self._save(lambda: self.state.record_intent(action.name, entry["body"],
                                                    entry["digest"], op=op))
        try:
            answer = (self.client.start if op == "start" else self.client.stop)(cid, ctype)
        except AmbiguousError as exc:
            self.on_event("retry", f"{action.name}: {op} outcome unknown ({exc}); reading "
                                   "its status before anything else")
            status = self.client.status(cid) or ""
            if status not in done:
                raise ApiError(f"{op} outcome unknown and the campaign is {status or '?'}; "
                               "the intent is kept and the next run reads the status again "
                               "before anything is sent") from None
            self._save(lambda: self.state.record_run(action.lname, status, run, rerun))
            return (f"{'started' if op == 'start' else 'stopped'} (confirmed by its status "
                    "after an unknown outcome)")
        except ApiError:
            self._save(lambda: self.state.clear_intent(action.lname))
            raise
        status = str(answer.get("status") or ("Active" if op == "start" else "Stopped"))
        self._save(lambda: self.state.record_run(action.lname, status, run, rerun))
        return "started: sending to its contact lists" if op == "start" else "stopped"

    def settle_run(self, lname: str, intent: dict[str, Any]) -> tuple[bool, str]:
        """An earlier run's start or stop intent: its outcome read from the status. (ok,
        message); the intent is cleared either way (a start that never arrived is planned
        again, and sent only with the approval)."""
        entry = self.state.campaigns.get(lname)
        op = intent.get("op")
        if entry is None:
            self._save(lambda: self.state.clear_intent(lname))
            return True, f"earlier {op} of a campaign no longer recorded; forgotten"
        status = self.client.status(str(entry["id"])) or ""
        done, run = (STARTED, "active") if op == "start" else (STOPPED, "stopped")
        if status in done:
            self._save(lambda: self.state.record_run(lname, status, run))
            return True, f"earlier {op} had arrived (status {status}); recorded"
        self._save(lambda: self.state.clear_intent(lname))
        return True, f"earlier {op} never arrived (status {status or '?'})"

    def _schedule(self, action: Action, body: dict[str, Any],
                  before: dict[str, Any] | None) -> str:
        """Apply the schedule of `body` through the schedule endpoint after a create or
        update: enable it whenever the body has one (a PUT may reset what the tenant
        scheduled; only this endpoint schedules), disable it when `before` had one and
        `body` has none. Returns what to add to the outcome's message."""
        call = bodies.schedule_call(body)
        previous = bodies.schedule_call(before) if before else None
        if call is None and previous is None:
            return ""
        if call is not None:
            answer = self.client.enable_schedule(action.name, call)
            status = str(answer.get("status") or "Scheduled")
            status = status if status not in ("success", "") else "Scheduled"
            self._save(lambda: self.state.record_run(action.lname, status))
            return "; schedule enabled"
        self.client.disable_schedule(action.name)
        self._save(lambda: self.state.record_run(action.lname, "Ready"))
        return "; schedule disabled"
