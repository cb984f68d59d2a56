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
from provisioner.errors import AmbiguousError, ApiError, ProvisionerError
from provisioner.plan.model import Action, Plan

Event = Callable[[str, str], None]  # (kind, one-line message)
# The way out of an intent no lookup can settle (README, "Recovery"; docs/state.md).
BY_HAND = ("resolve by hand: keep one with `provisioner import NAME ID` (and delete the "
           "others in the console), or forget the intent with `provisioner state rm NAME`")

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


class Applier:
    """Holds the client, the state and its backend; every state change is written at once,
    under one lock, so parallel workers never interleave writes."""

    def __init__(self, client: KoreClient, backend: Backend, state: State, *, settings: Settings,
                 on_event: Event, stop: threading.Event) -> None:
        self.client, self.backend, self.state = client, backend, state
        self.settings, self.on_event, self.stop = settings, on_event, stop
        self._lock = threading.Lock()

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
                previous: str = "") -> str:
        """Record what the tenant answered; a rename first moves the entry recorded under
        `previous` (one id, one entry), in the same durable write."""
        campaign_id = bodies.campaign_id(data)
        remote = {k: data.get(k) for k in ("status", "createdAt", "updatedAt")}

        def change() -> None:
            if previous and self.state.campaign(previous) is not None:
                self.state.move(previous, name)
            self.state.record_campaign(name, campaign_id, body, bodies.digest(body),
                                       remote=remote)
        self._save(change)
        return campaign_id

    # -- pending intents from an earlier run ---------------------------------------------
    def resolve_pending(self) -> list[Outcome]:
        """Settle intents an earlier run left (crash, kill -9, CI cancel) before planning,
        with one paged listing for all of them (more only while some are not yet seen)."""
        intents = dict(sorted(self.state.pending.items()))
        found = self._look_up_many([i["name"] for i in intents.values()])
        return [self._settle(lname, intent, found[lname]) for lname, intent in intents.items()]

    def _settle(self, lname: str, intent: dict[str, Any],
                found: list[dict[str, Any]]) -> Outcome:
        name = intent["name"]
        if len(found) == 1:
            cid = self._record(name, found[0], intent["body"])
            return Outcome(name, "resolve", True, f"earlier create had succeeded; recorded "
                                                  f"id {cid}", cid)
        if found:
            return Outcome(name, "resolve", False, f"{len(found)} campaigns named {name!r} "
                                                   f"exist ({', '.join(_ids(found))}); "
                                                   f"{BY_HAND}")
        self._save(lambda: self.state.clear_intent(lname))
        return Outcome(name, "resolve", True, "earlier create never arrived; safe to send")

    def _look_up(self, name: str) -> list[dict[str, Any]]:
        return self._look_up_many([name])[name.lower()]

    def _look_up_many(self, names: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Campaigns of these names (case-insensitive) that no state entry owns (one id
        belongs to one entry), looked for several times because the list may not yet show
        a create that is in progress."""
        found: dict[str, dict[str, dict[str, Any]]] = {n.lower(): {} for n in names}
        waited, delay = 0.0, self.settings.first_look_delay
        while True:
            listed = [item for item in self.client.list_campaigns()
                      if str(item.get("name", "")).lower() in found]
            with self._lock:   # owner_of is a dict read, kept by the state's changes
                for item in listed:
                    if self.state.owner_of(bodies.campaign_id(item)) is None:
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
        report = Report()
        todo = [a for a in plan.changes if a.action in ("create", "update", "delete", "adopt",
                                                        "blocked")]
        with ThreadPoolExecutor(max_workers=max(1, self.settings.parallelism)) as pool:
            running: set[Future[Outcome]] = set()
            queue = list(reversed(todo))
            while queue or running:
                while queue and len(running) < self.settings.parallelism and not self.stop.is_set():
                    running.add(pool.submit(self._one, queue.pop()))
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
        return report

    def _one(self, action: Action) -> Outcome:
        handler: Callable[[Action], Outcome] = getattr(self, f"_do_{action.action}")
        try:
            return handler(action)
        except ProvisionerError as exc:
            return Outcome(action.name, action.action, False, str(exc), action.id)

    def _do_blocked(self, action: Action) -> Outcome:
        return Outcome(action.name, action.action, False,
                       f"skipped {action.blocked_action}: {action.reason}", action.id)

    def _do_update(self, action: Action) -> Outcome:
        return Outcome(action.name, "update", True, self._update(action), action.id)

    def _update(self, action: Action) -> str:
        """PUT the spec's body and record it. An answer that leaves the outcome unknown is
        settled by reading the campaign back before anything else: recorded only when the
        tenant holds exactly what was sent."""
        assert action.id is not None and action.after is not None
        body = self._console_values(action) if action.ignored else action.after
        try:
            data = self.client.update(action.id, body)
        except AmbiguousError as exc:
            self.on_event("retry", f"{action.name}: update outcome unknown ({exc}); reading "
                                   "it back before anything else")
            data = self._read_back(action, body)
            self._record(action.name, {**data, "_id": action.id}, body, action.previous_name)
            return "updated (confirmed by reading it back after an unclear answer)"
        self._record(action.name, {**data, "_id": action.id}, body, action.previous_name)
        return f"renamed from {action.previous_name}" if action.previous_name else "updated"

    def _console_values(self, action: Action) -> dict[str, Any]:
        """The spec's body with the tenant's current values, read just now, for the fields
        the console owns (`ignoreChanges`): the spec never overwrites them."""
        assert action.id is not None and action.after is not None
        data: dict[str, Any] | None = self.client.get(action.id)
        if data is None:
            raise ApiError(f"campaign {action.id} disappeared before it could be updated")
        current = bodies.normalise_remote(data, action.after)
        return bodies.take(action.after, current, action.ignored)

    def _read_back(self, action: Action, sent: dict[str, Any]) -> dict[str, Any]:
        """The campaign as the tenant holds it, if that is the body `sent`; else ApiError
        (state keeps what it had, so the next run plans the update again)."""
        assert action.id is not None
        data: dict[str, Any] | None = self.client.get(action.id)
        if data is None:
            raise ApiError(f"campaign {action.id} disappeared during an update whose outcome "
                           "is unknown; run apply again")
        if bodies.digest(bodies.normalise_remote(data, sent)) != bodies.digest(sent):
            raise ApiError("the update's outcome was unknown and the campaign does not hold "
                           "the spec's body; nothing was recorded: run apply again")
        return data

    def _do_delete(self, action: Action) -> Outcome:
        assert action.id is not None
        try:
            self.client.delete(action.id)
        except AmbiguousError as exc:
            self.on_event("retry", f"{action.name}: delete outcome unknown ({exc}); reading "
                                   "it back before anything else")
            if self.client.get(action.id) is not None:
                raise ApiError("the delete's outcome was unknown and the campaign still "
                               "exists; it stays recorded: run apply again") from None
        except ApiError as exc:
            if exc.status != 404:
                raise
        self._save(lambda: self.state.forget(action.lname))
        return Outcome(action.name, "delete", True, "deleted", action.id)

    def _do_adopt(self, action: Action) -> Outcome:
        assert action.id is not None   # an adopt names the tenant's campaign
        data: dict[str, Any] | None = self.client.get(action.id)
        if data is None:
            raise ApiError(f"campaign {action.id} disappeared before it could be adopted")
        remote_body = bodies.normalise_remote(data)
        self._record(action.name, {**data, "_id": action.id}, remote_body)
        if bodies.digest(remote_body) == action.digest_after:
            return Outcome(action.name, "adopt", True, "adopted (already matches the spec)",
                           action.id)
        if data.get("status") == "Active":
            return Outcome(action.name, "adopt", False, "adopted, but it is Active and "
                           "differs from the spec; the docs say Active campaigns cannot be "
                           "edited", action.id)
        return Outcome(action.name, "adopt", True, f"adopted and {self._update(action)}",
                       action.id)

    def _do_create(self, action: Action) -> Outcome:
        body, digest = action.after, action.digest_after
        assert body is not None and digest is not None   # a create carries its body
        for attempt in range(1, self.settings.create_attempts + 1):
            self._save(lambda: self.state.record_intent(action.name, body, digest))
            try:
                data = self.client.create(body)
            except AmbiguousError as exc:
                self.on_event("retry", f"{action.name}: create outcome unknown ({exc}); "
                                       "looking it up by name before anything else")
                found = self._look_up(action.name)
                if len(found) > 1:
                    raise ApiError(f"{len(found)} campaigns named {action.name!r} now exist "
                                   f"({', '.join(_ids(found))}); {BY_HAND}") from None
                if found:
                    cid = self._record(action.name, found[0], body)
                    return Outcome(action.name, "create", True,
                                   "created (confirmed by lookup after an unknown outcome)", cid)
                if self.stop.is_set() or attempt == self.settings.create_attempts:
                    raise ApiError(f"create outcome unknown and not found after {attempt} "
                                   "attempt(s); the intent is kept and the next run resolves "
                                   "it") from None
                time.sleep(self.settings.backoff * 2 ** attempt * random.uniform(0.5, 1.0))
                continue
            except ApiError:
                self._save(lambda: self.state.clear_intent(action.lname))
                raise
            cid = self._record(action.name, data, body)
            return Outcome(action.name, "create", True, "recreated" if action.recreate
                           else "created", cid)
        raise AssertionError("unreachable")


def _ids(found: list[dict[str, Any]]) -> list[str]:
    return [bodies.campaign_id(c) for c in found]


def _line(outcome: Outcome) -> str:
    where = f" ({outcome.id})" if outcome.id else ""
    status = "ok" if outcome.ok else "FAILED"
    return f"{status:6} {outcome.action:7} {outcome.name}{where}: {outcome.message}"
