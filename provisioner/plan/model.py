"""A plan as data: `Action`s in lname order, the `Plan` that holds them, and what a plan is
built from (`Remote` campaigns of the tenant, `Desired` campaigns of the specs). A plan
round-trips through JSON (`Plan.to_dict` / `Plan.from_dict`), so saved plan files and
`plan --format json` come for free; every renderer reads that JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol

from provisioner.errors import StateError
from provisioner.plan.selection import Scope, Selection
from provisioner.state.document import TARGET_KEYS

if TYPE_CHECKING:
    from provisioner.plan.build import Unchanged

FORMAT_VERSION = 1
ACTIONS = ("start", "stop", "create", "update", "delete", "adopt", "blocked", "orphan",
           "noop")
RUN_ACTIONS = ("start", "stop")   # a campaign's declared run state (issue 17): a second
                                  # entry beside its create/update, acted on after (start)
                                  # or before (stop) it
CAMPAIGN, CONTACT_LIST = "Campaign", "ContactList"   # an action's `kind` (issue 16)
ACTIVE = "Active"  # the UI docs: an Active campaign cannot be edited or deleted


@dataclass(slots=True)
class Action:
    action: str
    name: str
    lname: str
    id: str | None = None
    source: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    digest_before: str | None = None
    digest_after: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""
    drift: bool = False
    recreate: bool = False
    drift_changes: list[dict[str, Any]] = field(default_factory=list)
    message: dict[str, Any] | None = None
    blocked_action: str = ""
    candidates: list[str] = field(default_factory=list)
    previous_name: str = ""   # a rename: the name state recorded it under (same id)
    ignored: list[str] = field(default_factory=list)   # paths the console owns (not sent
                                                       # from the spec, never drift)
    kind: str = CAMPAIGN   # the resource kind: "Campaign" or "ContactList"
    lists: list[str] = field(default_factory=list)   # a campaign's contact lists (its
                                                     # dependencies: created before it)
    status: str = ""   # the tenant's status as last seen (a voice campaign: Preparing)
    rerun: str = ""    # a start's `rerun` token (recorded once it is started)


def kind_flag(kind: str) -> str:
    """What a command line says to name a resource of `kind` (`import`, `state rm`): nothing
    for a campaign, `--kind ContactList ` for a contact list."""
    return "" if kind == CAMPAIGN else f"--kind {kind} "


def order(action: Action) -> tuple[bool, str, bool]:
    """Plan order: contact lists first (what campaigns depend on), then campaigns, each by
    lname (a campaign's start or stop right after its own entry)."""
    return (action.kind != CONTACT_LIST, action.lname, action.action in RUN_ACTIONS)


class Plan:
    """Every action: contact lists, then campaigns, each in lname order. Offline noops (decided by comparing digests) are kept
    as an `Unchanged` and made into Action objects only when `changes` is read: a text or
    markdown plan, which only counts them, never builds 10,000 of them."""

    def __init__(self, env: str, lineage: str | None, serial: int | None,
                 specs: dict[str, str], changes: list[Action], refreshed: bool = False,
                 warnings: list[dict[str, Any]] | None = None,
                 format_version: int = FORMAT_VERSION, unchanged: Unchanged | None = None,
                 target: dict[str, str] | None = None, scope: Scope | None = None) -> None:
        self.env, self.lineage, self.serial, self.specs = env, lineage, serial, specs
        self.target = target   # host, streamId, accountId it was made for (no secrets)
        self.scope = scope     # a targeted plan's selection (plan/selection.py); else None
        self.refreshed, self.warnings = refreshed, warnings or []
        self.format_version = format_version
        self._decided, self._unchanged = changes, unchanged

    @property
    def changes(self) -> list[Action]:
        if self._unchanged is not None:
            self._decided = sorted(self._decided + self._unchanged.actions(), key=order)
            self._unchanged = None
        return self._decided

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTIONS, 0)
        for change in self._decided:
            counts[change.action] += 1
        counts["noop"] += len(self._unchanged or ())
        return counts

    @property
    def selection(self) -> Selection:
        """The campaigns this plan covers: an empty Selection (all) unless targeted."""
        return self.scope.selection if self.scope else Selection()

    @property
    def has_changes(self) -> bool:
        return any(c.action not in ("noop", "orphan") for c in self._decided)

    def to_dict(self, *, unchanged: bool = True) -> dict[str, Any]:
        """The plan as JSON data. `unchanged=False` leaves out the noop entries (still
        counted in the summary): all a text or markdown rendering reads. `"targets"` is
        there only for a targeted plan."""
        changes = self.changes if unchanged else [c for c in self._decided   # (a noop
                                                  if c.action != "noop" or c.blocked_action]
        # with a blocked_action carries a note a reader must see: a Completed campaign)
        targets = {"targets": self.scope.to_dict()} if self.scope else {}
        return {**targets,
            "format_version": self.format_version, "env": self.env,
            "target": self.target,
            "state": {"lineage": self.lineage, "serial": self.serial},
            "specs": self.specs, "refreshed": self.refreshed,
            "changes": [_shallow(c) for c in changes],
            "warnings": self.warnings, "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Plan":
        """Rebuild a saved plan; StateError when it is not one of ours."""
        try:
            if data["format_version"] != FORMAT_VERSION:
                raise StateError(f"plan format {data['format_version']} is not supported "
                                 f"(expected {FORMAT_VERSION})")
            return cls(env=data["env"], lineage=data["state"]["lineage"],
                       serial=data["state"]["serial"], specs=dict(data["specs"]),
                       changes=[Action(**c) for c in data["changes"]],
                       refreshed=bool(data.get("refreshed")),
                       warnings=list(data.get("warnings", [])),
                       target=_saved_target(data.get("target")),
                       scope=Scope.from_dict(data.get("targets")))
        except (KeyError, TypeError) as exc:
            raise StateError(f"not a provisioner plan file (missing or bad {exc})") from None


_ACTION_FIELDS = tuple(f.name for f in fields(Action))


def _saved_target(value: Any) -> dict[str, str] | None:
    """The target a saved plan records: None (older plans), or host, streamId and
    accountId as strings; TypeError (reported as a bad plan file) otherwise."""
    if value is None:
        return None
    if not isinstance(value, dict) or any(not isinstance(value.get(k), str)
                                          for k in TARGET_KEYS):
        raise TypeError("'target'")
    return {key: value[key] for key in TARGET_KEYS}


def _shallow(action: Action) -> dict[str, Any]:
    """The action as a dict without copying bodies (dataclasses.asdict deep-copies every
    before/after body: seconds at 10,000 campaigns). Bodies are never mutated."""
    return {name: getattr(action, name) for name in _ACTION_FIELDS}


@dataclass(frozen=True)
class Remote:
    """One campaign as the tenant holds it: from the list call, plus the full body when
    it was fetched (only for campaigns whose list entry changed)."""

    id: str
    name: str
    status: str = ""
    updated_at: str = ""
    body: dict[str, Any] | None = None
    type: str = ""   # a campaign's campaignType ("sms", "voice"); "" when not known


class Desired(Protocol):
    """A campaign as the specs want it (provisioner/spec/load.py `Campaign`): names and
    digest known at once, the body read only when a change needs it."""

    name: str
    lname: str
    digest: str
    file: str
    line: int
    column: int
    ensure: str
    protect: bool
    previous: tuple[str, ...]   # `previousNames`: names state may record it under
    ignore: tuple[str, ...]     # `ignoreChanges`: JSON paths the console owns
    run: str | None             # `run:` active | stopped (a campaign's; None: not declared)
    rerun: str | None           # `rerun:` token (a campaign's)

    @property
    def body(self) -> dict[str, Any]: ...
