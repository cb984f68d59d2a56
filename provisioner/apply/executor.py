"""Execute a plan against the API, exactly once per campaign, recording every result.

Campaign create is a non-idempotent POST: before each create the state records a pending
intent (atomically); the remote id replaces it the moment the response arrives. A create
whose outcome is unknown is never simply sent again: the campaign is first looked up by
name through the paged list call (which may lag a create "in progress", so absence is
checked a few times). Every state change is durable before the next step depends on it:
one small journal record each (provisioner/state/journal.py), whatever the state's size.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from provisioner import body as bodies
from provisioner.apply.kinds import CampaignOps, ContactListOps, KindOps, phases, unmet
from provisioner.apply.runstate import PREPARING, RunState
from provisioner.errors import AmbiguousError, ApiError, ProvisionerError
from provisioner.plan.model import CAMPAIGN, CONTACT_LIST, Action, Plan, kind_flag

Event = Callable[[str, str], None]  # (kind, one-line message)

if TYPE_CHECKING:
    from provisioner.remote.client import KoreClient
    from provisioner.state import Backend, State


@dataclass
class Outcome:
    name: str
    action: str
    ok: bool
    message: str
    id: str | None = None
    kind: str = CAMPAIGN


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


@dataclass
class Settings:
    parallelism: int = 1
    # How long the paged list may lag a create "in progress" (koreai-campaign-apis.md §0.3;
    # no figure is documented). A create with an unknown outcome is looked for, at growing
    # intervals, for this long before it is concluded absent and sent again.
    lag_window: float = 30.0
    first_look_delay: float = 1.0
    create_attempts: int = 3     # sends of one create, each after a confirmed absence
    backoff: float = 1.0
    # How long a voice campaign's create is waited out while it is `Preparing` (issue 16;
    # no figure is documented): None takes the client's `ready_timeout`.
    ready_timeout: float | None = None
    allow_start: bool = False   # the second approval a start needs (issue 17)


class Applier(RunState):
    """Holds the client, the state and its backend; every state change is written at once,
    under one lock, so parallel workers never interleave writes."""

    def __init__(self, client: KoreClient, backend: Backend, state: State, *, settings: Settings,
                 on_event: Event, stop: threading.Event) -> None:
        self.client, self.backend, self.state = client, backend, state
        self.settings, self.on_event, self.stop = settings, on_event, stop
        self._lock = threading.Lock()
        self._ops: dict[str, KindOps] = {CAMPAIGN: CampaignOps(client),
                                         CONTACT_LIST: ContactListOps(client)}

    # -- state ---------------------------------------------------------------------------
    def _save(self, change: Callable[[], object]) -> None:
        """Make `change` and return once it is durable. The change and its journal record
        are made under the lock (records keep the order of changes); the wait for the disk
        is not, so parallel workers share one sync (state/journal.py, GroupCommit)."""
        with self._lock:
            change()
            commit = self.backend.append(self.state)
        commit.wait()

    def _record(self, name: str, data: dict[str, Any], body: dict[str, Any],
                previous: str = "", kind: str = CAMPAIGN) -> str:
        """Record what the tenant answered; a rename first moves the entry recorded under
        `previous` (one id, one entry), in the same durable write. A remote field the
        answer lacks (a contact list's update echoes only what was sent) keeps the value
        recorded."""
        resource_id = bodies.campaign_id(data)

        def change() -> None:
            if previous and previous.lower() in self.state.entries(kind):
                self.state.move(previous, name, kind=kind)
            known = self.state.entries(kind).get(name.lower()) or {}
            remote = {k: data.get(k, known.get(k)) for k in ("status", "createdAt",
                                                              "updatedAt")}
            self.state.record_campaign(name, resource_id, body, bodies.digest(body),
                                       remote=remote, kind=kind)
        self._save(change)
        return resource_id

    # -- pending intents from an earlier run ---------------------------------------------
    def resolve_pending(self) -> list[Outcome]:
        """Settle intents an earlier run left (crash, kill -9, CI cancel) before planning,
        with one paged listing per kind for all of them (more only while some are not yet
        seen)."""
        outcomes = []
        for kind in (CONTACT_LIST, CAMPAIGN):
            intents = dict(sorted(self.state.intents(kind).items()))
            if not intents:
                continue
            runs = {k: i for k, i in intents.items() if i.get("op") in ("start", "stop")}
            for lname, intent in runs.items():
                ok, message = self.settle_run(lname, intent)
                outcomes.append(Outcome(intent["name"], "resolve", ok, message))
            intents = {k: i for k, i in intents.items() if k not in runs}
            if not intents:
                continue
            found = self._look_up_many([i["name"] for i in intents.values()], kind)
            outcomes += [self._settle(lname, intent, found[lname], kind)
                         for lname, intent in intents.items()]
        return outcomes

    def _settle(self, lname: str, intent: dict[str, Any],
                found: list[dict[str, Any]], kind: str) -> Outcome:
        name, noun = intent["name"], self._ops[kind].noun
        if len(found) == 1:
            cid = self._record(name, found[0], intent["body"], kind=kind)
            return Outcome(name, "resolve", True, f"earlier create had succeeded; recorded "
                                                  f"id {cid}", cid)
        if found:
            return Outcome(name, "resolve", False, f"{len(found)} {noun}s named {name!r} "
                                                   f"exist ({', '.join(_ids(found))}); "
                                                   f"{by_hand(kind)}")
        self._save(lambda: self.state.clear_intent(lname, kind=kind))
        return Outcome(name, "resolve", True, "earlier create never arrived; safe to send")

    def _look_up(self, name: str, kind: str = CAMPAIGN, type: str = ""
                 ) -> list[dict[str, Any]]:
        """Resources named `name` no entry owns; for a campaign of `type`, only that type
        (a voice campaign of the name is not what an SMS create made)."""
        return self._look_up_many([name], kind, type)[name.lower()]

    def _look_up_many(self, names: list[str], kind: str = CAMPAIGN, type: str = ""
                      ) -> dict[str, list[dict[str, Any]]]:
        """Resources of these names (case-insensitive) that no state entry owns (one id
        belongs to one entry), looked for several times because the list may not yet show
        a create that is in progress."""
        found: dict[str, dict[str, dict[str, Any]]] = {n.lower(): {} for n in names}
        waited, delay = 0.0, self.settings.first_look_delay
        while True:
            listed = [item for item in self._ops[kind].list_all()
                      if str(item.get("name", "")).lower() in found
                      and (not type or bodies.campaign_type(item) == type)]
            with self._lock:   # owner_of is a dict read, kept by the state's changes
                for item in listed:
                    if self.state.owner_of(bodies.campaign_id(item), kind) is None:
                        found[str(item["name"]).lower()][bodies.campaign_id(item)] = item
            missing = [n for n in names if not found[n.lower()]]
            if not missing or waited >= self.settings.lag_window:
                break
            delay = min(delay, self.settings.lag_window - waited)
            self.on_event("wait", f"{', '.join(missing)}: not in the list yet; looking again "
                                  f"in {delay:g}s (the list may lag a create for up to "
                                  f"{self.settings.lag_window:g}s)")
            time.sleep(delay)
            waited, delay = waited + delay, delay * 2
        return {lname: list(items.values()) for lname, items in found.items()}

    # -- actions -------------------------------------------------------------------------
    def run(self, plan: Plan) -> Report:
        """Contact lists first, then campaigns (skipping those naming a list whose create
        failed), then contact-list deletes (kinds.py)."""
        report = Report()
        for todo in phases(plan.changes):
            failed = {(o.kind, o.name.lower()) for o in report.outcomes
                      if not o.ok and o.action in ("create", "update", "adopt")}
            self._run_phase(todo, failed, report)
        return report

    def _run_phase(self, todo: list[Action], failed: set[tuple[str, str]],
                   report: Report) -> None:
        with ThreadPoolExecutor(max_workers=max(1, self.settings.parallelism)) as pool:
            running: set[Future[Outcome]] = set()
            queue = list(reversed(todo))
            while queue or running:
                while queue and len(running) < self.settings.parallelism and not self.stop.is_set():
                    running.add(pool.submit(self._one, queue.pop(), failed))
                if self.stop.is_set():
                    report.not_started.extend(a.name for a in reversed(queue))
                    queue.clear()
                if not running:
                    break
                done, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    outcome = future.result()
                    report.outcomes.append(outcome)
                    self.on_event("done" if outcome.ok else "failed", _line(outcome))

    def _one(self, action: Action, failed: set[tuple[str, str]]) -> Outcome:
        handler: Callable[[Action], Outcome] = getattr(self, f"_do_{action.action}")
        why = unmet(action, failed)
        try:
            if why:
                raise ApiError(why)
            outcome = handler(action)
        except ProvisionerError as exc:
            outcome = Outcome(action.name, action.action, False, str(exc), action.id)
        outcome.kind = action.kind
        return outcome

    def _do_blocked(self, action: Action) -> Outcome:
        return Outcome(action.name, action.action, False,
                       f"skipped {action.blocked_action}: {action.reason}", action.id)

    def _do_update(self, action: Action) -> Outcome:
        return Outcome(action.name, "update", True, self._update(action), action.id)

    def _update(self, action: Action) -> str:
        """PUT the spec's body and record it. An answer that leaves the outcome unknown is
        settled by reading the resource back before anything else: recorded only when the
        tenant holds exactly what was sent."""
        assert action.id is not None and action.after is not None
        ops = self._ops[action.kind]
        body = self._console_values(action) if action.ignored else action.after
        try:
            data = ops.update(action.id, body)
        except AmbiguousError as exc:
            self.on_event("retry", f"{action.name}: update outcome unknown ({exc}); reading "
                                   "it back before anything else")
            data = self._read_back(action, body)
            self._record(action.name, {**data, "_id": action.id}, body, action.previous_name,
                         action.kind)
            return "updated (confirmed by reading it back after an unclear answer)"
        self._record(action.name, {**data, "_id": action.id}, body, action.previous_name,
                     action.kind)
        done = f"renamed from {action.previous_name}" if action.previous_name else "updated"
        if action.kind == CAMPAIGN:
            done += self._schedule(action, body, action.before)
        return done

    def _console_values(self, action: Action) -> dict[str, Any]:
        """The spec's body with the tenant's current values, read just now, for the fields
        the console owns (`ignoreChanges`): the spec never overwrites them."""
        assert action.id is not None and action.after is not None
        ops = self._ops[action.kind]
        data: dict[str, Any] | None = ops.get(action.id)
        if data is None:
            raise ApiError(f"{ops.noun} {action.id} disappeared before it could be updated")
        current = ops.normalise(data, action.after)
        return bodies.take(action.after, current, action.ignored)

    def _read_back(self, action: Action, sent: dict[str, Any]) -> dict[str, Any]:
        """The resource as the tenant holds it, if that is the body `sent`; else ApiError
        (state keeps what it had, so the next run plans the update again)."""
        assert action.id is not None
        ops = self._ops[action.kind]
        data: dict[str, Any] | None = ops.get(action.id)
        if data is None:
            raise ApiError(f"{ops.noun} {action.id} disappeared during an update whose "
                           "outcome is unknown; run apply again")
        if bodies.digest(ops.normalise(data, sent)) != bodies.digest(sent):
            raise ApiError(f"the update's outcome was unknown and the {ops.noun} does not "
                           "hold the spec's body; nothing was recorded: run apply again")
        return data

    def _do_delete(self, action: Action) -> Outcome:
        assert action.id is not None
        ops = self._ops[action.kind]
        try:
            ops.delete(action.id, action.before)
        except AmbiguousError as exc:
            self.on_event("retry", f"{action.name}: delete outcome unknown ({exc}); reading "
                                   "it back before anything else")
            if ops.get(action.id) is not None:
                raise ApiError(f"the delete's outcome was unknown and the {ops.noun} still "
                               "exists; it stays recorded: run apply again") from None
        except ApiError as exc:
            if exc.status != 404:
                raise
        self._save(lambda: self.state.forget(action.lname, kind=action.kind))
        return Outcome(action.name, "delete", True, "deleted", action.id)

    def _do_adopt(self, action: Action) -> Outcome:
        assert action.id is not None   # an adopt names the tenant's resource
        ops = self._ops[action.kind]
        data: dict[str, Any] | None = ops.get(action.id)
        if data is None:
            raise ApiError(f"{ops.noun} {action.id} disappeared before it could be adopted")
        remote_body = ops.normalise(data)
        self._record(action.name, {**data, "_id": action.id}, remote_body, kind=action.kind)
        if bodies.digest(remote_body) == action.digest_after:
            return Outcome(action.name, "adopt", True, "adopted (already matches the spec)",
                           action.id)
        if data.get("status") == "Active":
            return Outcome(action.name, "adopt", False, "adopted, but it is Active and "
                           "differs from the spec; the docs say Active campaigns cannot be "
                           "edited", action.id)
        if data.get("status") == PREPARING:
            self._wait_ready(action, action.id)
        return Outcome(action.name, "adopt", True, f"adopted and {self._update(action)}",
                       action.id)

    def _do_create(self, action: Action) -> Outcome:
        body, digest, kind = action.after, action.digest_after, action.kind
        assert body is not None and digest is not None   # a create carries its body
        ops = self._ops[kind]
        for attempt in range(1, self.settings.create_attempts + 1):
            self._save(lambda: self.state.record_intent(action.name, body, digest, kind=kind))
            try:
                data = ops.create(body)
            except AmbiguousError as exc:
                self.on_event("retry", f"{action.name}: create outcome unknown ({exc}); "
                                       "looking it up by name before anything else")
                found = self._look_up(action.name, kind, str(
                    body.get("campaignType") or "sms") if kind == CAMPAIGN else "")
                if len(found) > 1:
                    raise ApiError(f"{len(found)} {ops.noun}s named {action.name!r} now "
                                   f"exist ({', '.join(_ids(found))}); {by_hand(kind)}") from None
                if found:
                    cid = self._record(action.name, found[0], body, kind=kind)
                    return Outcome(action.name, "create", True, "created (confirmed by "
                                   "lookup after an unknown outcome)" + self._ready(
                                       action, cid, found[0]), cid)
                if self.stop.is_set() or attempt == self.settings.create_attempts:
                    raise ApiError(f"create outcome unknown and not found after {attempt} "
                                   "attempt(s); the intent is kept and the next run resolves "
                                   "it") from None
                time.sleep(self.settings.backoff * 2 ** attempt * random.uniform(0.5, 1.0))
                continue
            except ApiError:
                self._save(lambda: self.state.clear_intent(action.lname, kind=kind))
                raise
            cid = self._record(action.name, data, body, kind=kind)   # the id, at once
            done = ("recreated" if action.recreate else "created") + self._ready(
                action, cid, data)
            if kind == CAMPAIGN:
                done += self._schedule(action, body, None)
            return Outcome(action.name, "create", True, done, cid)
        raise AssertionError("unreachable")

def by_hand(kind: str) -> str:
    """The way out of an intent no lookup can settle (README, "Recovery"; docs/state.md),
    for a resource of `kind`."""
    flag = kind_flag(kind)
    return (f"resolve by hand: keep one with `provisioner import {flag}NAME ID` (and delete "
            f"the others in the console), or forget the intent with `provisioner state rm "
            f"{flag}NAME`")


def _ids(found: list[dict[str, Any]]) -> list[str]:
    return [bodies.campaign_id(c) for c in found]


def _line(outcome: Outcome) -> str:
    where = f" ({outcome.id})" if outcome.id else ""
    status = "ok" if outcome.ok else "FAILED"
    return f"{status:6} {outcome.action:7} {outcome.name}{where}: {outcome.message}"
