"""The recorded state as a pure in-memory model: no I/O (docs/architecture.md, "State").

A state document binds one target (host, streamId, accountId) to the resources this tool
created or adopted there, by kind and lowercased name: campaigns under `campaigns`, contact
lists under `contactLists` (issue 16), each with write-ahead intents for creates whose
outcome is not yet known (issue 4, "Never a duplicate"): `pending` and
`contactListsPending`.

Format 2 added the contact lists. A format-1 document is read as one with none, and is
written back whole as format 2 at its first write (`migrated_from`); format 1 readers refuse
format 2 with "format_version 2 is not supported", never misreading it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from collections.abc import Callable
from typing import Any, Protocol

from provisioner.body import canonical_json
from provisioner.errors import StateError
from provisioner.state.document import FORMAT_VERSION, TARGET_KEYS, shape_problem

CAMPAIGN, CONTACT_LIST = "Campaign", "ContactList"   # resource kinds (the spec's `kind:`)
KINDS = (CAMPAIGN, CONTACT_LIST)
REMOTE_FIELDS = ("status", "createdAt", "updatedAt")
# What a campaign's declared run state last made so (issue 17): `run` ("active" or
# "stopped"), when (`runSetAt`), and the `rerun` token of the last start. Kept by every
# later record of the campaign.
RUN_FIELDS = ("run", "runSetAt", "rerun")
# One mutation of a state, as a journal records it: {"op": "intent" | "clear" | "put" |
# "drop" | "protect", "lname": ..., and the op's data ("intent", "entry", "value")}, plus
# "kind": "ContactList" for a contact list (absent: a campaign, as format 1 wrote them).
Change = dict[str, Any]


def now_iso() -> str:
    """The current time as ISO-8601 UTC with a `Z`, to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_target(target: dict[str, Any]) -> str:
    """`https://a / st-1 / acc-1`: how a target is named in messages."""
    return " / ".join(str(target.get(key, "?")) for key in TARGET_KEYS)


def same_target(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two bindings name one tenant (a trailing slash on the host does not count)."""
    def norm(t: dict[str, Any]) -> tuple[str, ...]:
        return (str(t.get("host", "")).rstrip("/"), str(t.get("streamId", "")),
                str(t.get("accountId", "")))
    return norm(a) == norm(b)


def check_target(recorded: dict[str, Any], location: str, target: dict[str, Any]) -> None:
    """Raise StateError when a state recorded for `recorded` (read from `location`) is used
    for another target than `target`. Shared by State and the read-only StateView."""
    if not same_target(recorded, target):
        raise StateError(
            f"state {location or '(unsaved)'} belongs to {describe_target(recorded)}"
            f", not {describe_target(target)}")


def check_unique_ids(campaigns: dict[str, dict[str, Any]], location: str = "") -> None:
    """Raise StateError when two entries record one remote id: prune or `ensure: absent`
    on one of them would delete the campaign the other one's spec still describes. Shared
    by State and every reader of a state's campaigns (build_plan, for views too)."""
    ids = [entry.get("id") for entry in campaigns.values()]
    if len(set(ids)) == len(ids):   # the common case, without a Python step per entry
        return
    owner: dict[str, str] = {}
    for lname, entry in campaigns.items():
        cid = entry.get("id")
        if not cid:
            continue
        other = owner.setdefault(cid, lname)
        if other != lname:
            where = f"state {location}" if location else "state"
            raise StateError(
                f"{where} records id {cid} as both {campaigns[other].get('name')!r} and "
                f"{entry.get('name')!r}; one remote campaign belongs to one entry: "
                f"`provisioner state rm NAME` the wrong one")


def check_writable(state: object) -> None:
    """TypeError unless `state` is a State: a backend never writes a read-only view."""
    if not isinstance(state, State):
        raise TypeError(f"only a State can be written, not a {type(state).__name__} "
                        f"(a StateView is read-only: read the full State to change it)")


class RecordedState(Protocol):
    """What a plan reads of recorded state: the whole `State`, or the read-only view of the
    local file (provisioner/speed/state_index.py `StateView`), whose bodies are read one by
    one when asked for."""

    lineage: str
    serial: int
    target: dict[str, Any]
    campaigns: dict[str, dict[str, Any]]
    pending: dict[str, dict[str, Any]]
    contact_lists: dict[str, dict[str, Any]]   # whole entries (few, small): bodies included
    list_pending: dict[str, dict[str, Any]]
    location: str

    def body_of(self, lname: str) -> dict[str, Any]: ...

    def check_target(self, target: dict[str, Any]) -> None: ...


@dataclass
class State:
    """One recorded state. `location` is where it was read from (never serialised)."""

    lineage: str
    serial: int
    target: dict[str, str]
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    contact_lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    list_pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    location: str = field(default="", compare=False)
    # The format it was read in when older than FORMAT_VERSION: a backend then writes the
    # next change as a whole document (never a journal record over an older document).
    migrated_from: int | None = field(default=None, compare=False)
    _changes: list[Change] = field(default_factory=list, compare=False, repr=False)
    _owners: dict[Any, str] | None = field(default=None, compare=False, repr=False)
    _owners_of: object = field(default=None, compare=False, repr=False)

    @classmethod
    def new(cls, target: dict[str, Any], location: str = "") -> State:
        """A fresh, empty state for `target` with a new lineage and serial 0 (never written)."""
        bound = {key: str(target[key]) for key in TARGET_KEYS if key in target}
        missing = [key for key in TARGET_KEYS if key not in bound]
        if missing:
            raise StateError(f"state target lacks {', '.join(missing)}")
        import uuid   # only for a new state: importing it is a tenth of a warm plan's start

        return cls(lineage=str(uuid.uuid4()), serial=0, target=bound, location=location)

    @classmethod
    def from_dict(cls, data: Any, location: str = "") -> State:
        """Build a State from a parsed document. Raises StateError naming the first problem."""
        where = f"state {location}" if location else "state"
        problem = shape_problem(data)
        if problem:
            raise StateError(f"{where} is malformed: {problem}")
        version = data["format_version"]
        return cls(
            lineage=data["lineage"], serial=data["serial"], target=dict(data["target"]),
            campaigns={k: dict(v) for k, v in data["campaigns"].items()},
            pending={k: dict(v) for k, v in data.get("pending", {}).items()},
            contact_lists={k: dict(v) for k, v in data.get("contactLists", {}).items()},
            list_pending={k: dict(v) for k, v in data.get("contactListsPending", {}).items()},
            location=location,
            migrated_from=version if version != FORMAT_VERSION else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION, "lineage": self.lineage, "serial": self.serial,
            "target": dict(self.target), "campaigns": self.campaigns, "pending": self.pending,
            "contactLists": self.contact_lists, "contactListsPending": self.list_pending,
        }

    def content_digest(self) -> str:
        """sha256 of everything but the serial: equal digests mean a write would be a no-op."""
        content = self.to_dict()
        del content["serial"]
        return "sha256:" + hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()

    def check_target(self, target: dict[str, Any]) -> None:
        """Raise StateError when this state belongs to another target than `target`."""
        check_target(self.target, self.location, target)

    def campaign(self, lname: str) -> dict[str, Any] | None:
        """The recorded campaign of that name (any case), or None."""
        return self.campaigns.get(lname.lower())

    def entries(self, kind: str = CAMPAIGN) -> dict[str, dict[str, Any]]:
        """The recorded entries of one kind, by lname (read them; change them only through
        the methods below)."""
        return self.contact_lists if kind == CONTACT_LIST else self.campaigns

    def intents(self, kind: str = CAMPAIGN) -> dict[str, dict[str, Any]]:
        """The pending intents of one kind, by lname."""
        return self.list_pending if kind == CONTACT_LIST else self.pending

    def body_of(self, lname: str) -> dict[str, Any]:
        """The recorded body of campaign `lname` (KeyError when none is recorded)."""
        body: dict[str, Any] = self.campaigns[lname]["body"]
        return body

    # -- changes: every mutation is one Change, so a backend can journal it (issue 13) -------
    # Change entries and intents only through these methods: a journalling backend writes
    # the changes they log, not the dicts. `kind` picks the resource kind's table.

    def record_intent(self, name: str, body: dict[str, Any], digest: str,
                      op: str = "create", *, kind: str = CAMPAIGN) -> None:
        """Write-ahead: note that `op` is about to be sent for `name` (issue 4)."""
        self.apply(_of(kind, {"op": "intent", "lname": name.lower(), "intent": {
            "op": op, "name": name, "digest": digest, "body": body, "since": now_iso()}}))

    def clear_intent(self, lname: str, *, kind: str = CAMPAIGN) -> None:
        if lname.lower() in self.intents(kind):
            self.apply(_of(kind, {"op": "clear", "lname": lname.lower()}))

    def record_campaign(self, name: str, id: str, body: dict[str, Any], digest: str,
                        remote: dict[str, Any] | None = None, *,
                        kind: str = CAMPAIGN) -> None:
        """Record a resource as applied now; clears its intent. Remote fields come from
        `remote` (the API's data), else are kept from the previous record."""
        lname = name.lower()
        self._check_id_free(id, lname, kind)
        previous = self.entries(kind).get(lname) or {}
        source = remote if remote is not None else previous
        entry: dict[str, Any] = {"name": name, "lname": lname, "id": id, "body": body,
                                 "digest": digest}
        entry.update({key: source.get(key) for key in REMOTE_FIELDS})
        entry["appliedAt"] = now_iso()
        if previous.get("protect"):
            entry["protect"] = True
        entry.update({key: previous[key] for key in RUN_FIELDS if key in previous})
        self.apply(_of(kind, {"op": "put", "lname": lname, "entry": entry}))

    def record_run(self, lname: str, status: str, run: str | None = None,
                   rerun: str | None = None) -> None:
        """Record a campaign's status as the tenant answered it and, when `run` is given,
        that the declared run state was made so now (with the `rerun` token of a start).
        Clears any intent of that name (a start or stop settled)."""
        entry = dict(self.campaigns[lname])
        entry["status"] = status
        if run is not None:
            entry.update(run=run, runSetAt=now_iso())
        if rerun is not None:
            entry["rerun"] = rerun
        self.apply({"op": "put", "lname": lname, "entry": entry})

    def owner_of(self, id: str, kind: str = CAMPAIGN) -> str | None:
        """The lname of the entry that records remote id `id`, or None (for campaigns a
        dict read: the index is built once, then kept by `apply`; contact lists are few)."""
        if kind == CONTACT_LIST:
            return next((k for k, e in self.contact_lists.items() if e.get("id") == id), None)
        if self._owners is None or self._owners_of is not self.campaigns:
            self._owners = {e.get("id"): k for k, e in self.campaigns.items() if e.get("id")}
            self._owners_of = self.campaigns
        owner = self._owners.get(id)
        return owner if owner is not None and owner in self.campaigns else None

    def _check_id_free(self, id: str, lname: str, kind: str = CAMPAIGN) -> None:
        """StateError when `id` is recorded under another name than `lname` (one id
        belongs to one entry, issue 18)."""
        owner = self.owner_of(id, kind) if id else None
        if owner is not None and owner != lname:
            what = "contact list" if kind == CONTACT_LIST else "campaign"
            raise StateError(f"{what} {id} is already recorded in state as "
                             f"{self.entries(kind)[owner]['name']!r}; one remote {what} "
                             "belongs to one entry (`provisioner state rm` that one first "
                             "if it is wrong)")

    def mark_protected(self, lname: str, protect: bool, *, kind: str = CAMPAIGN) -> bool:
        """Record whether the spec protects a resource (so prune still honours it once the
        spec is gone). Returns whether anything changed."""
        entry = self.entries(kind).get(lname)
        if entry is None or bool(entry.get("protect")) == protect:
            return False
        self.apply(_of(kind, {"op": "protect", "lname": lname, "value": protect}))
        return True

    def forget(self, lname: str, *, kind: str = CAMPAIGN) -> dict[str, Any] | None:
        """Drop a resource (and any intent) from state; returns what was recorded, or None."""
        lname = lname.lower()
        entry = self.entries(kind).get(lname)
        if entry is not None or lname in self.intents(kind):
            self.apply(_of(kind, {"op": "drop", "lname": lname}))
        return entry

    def move(self, lname: str, name: str, *, kind: str = CAMPAIGN) -> dict[str, Any]:
        """Re-key the resource recorded as `lname` under `name` (same id, body and digest:
        the next plan updates the tenant's name). StateError when there is none, when
        `name` is recorded already, or while an intent is pending for either name."""
        entries, intents = self.entries(kind), self.intents(kind)
        what = "contact list" if kind == CONTACT_LIST else "campaign"
        entry = entries.get(lname.lower())
        if entry is None:
            raise StateError(f"no {what} {lname!r} is recorded in state")
        if name.lower() != lname.lower() and name.lower() in entries:
            raise StateError(f"{entries[name.lower()]['name']!r} is recorded in state "
                             "already; `state rm` it first if it is wrong")
        if lname.lower() in intents or name.lower() in intents:
            raise StateError("an intent is pending for that name: run apply (it settles "
                             "intents) or `state rm` it first")
        self.apply(_of(kind, {"op": "drop", "lname": lname.lower()}))
        self.apply(_of(kind, {"op": "put", "lname": name.lower(),
                              "entry": {**entry, "name": name, "lname": name.lower()}}))
        return entry

    def apply(self, change: Change, *, log: bool = True) -> None:
        """Make one change (from a method above, or replayed from a journal with
        log=False). StateError for a change this version does not know."""
        op, lname = change.get("op"), change.get("lname")
        if not isinstance(lname, str) or op not in _APPLY or change.get(
                "kind", CAMPAIGN) not in KINDS:
            raise StateError(f"unknown state change {str(op)[:40]!r}")
        _APPLY[op](self, lname, change)
        if log:
            self._changes.append(change)

    @property
    def unsaved(self) -> bool:
        """Whether changes were made since the last write took them."""
        return bool(self._changes)

    def restore_changes(self, changes: list[Change]) -> None:
        """Put back changes a write took but could not store (a later write stores them)."""
        self._changes[:0] = changes

    def take_changes(self) -> list[Change]:
        """The changes made since the last call (what a journalling write appends)."""
        changes, self._changes = self._changes, []
        return changes

    # The change handlers, for either kind (the change's "kind", absent for a campaign).
    # Only campaigns keep an owner index (`owner_of`): contact lists are few.

    def _intent(self, lname: str, change: Change) -> None:
        self.intents(change.get("kind", CAMPAIGN))[lname] = dict(change["intent"])

    def _clear(self, lname: str, change: Change) -> None:
        self.intents(change.get("kind", CAMPAIGN)).pop(lname, None)

    def _put(self, lname: str, change: Change) -> None:
        kind = change.get("kind", CAMPAIGN)
        entries, entry = self.entries(kind), dict(change["entry"])
        owners = self._owners if kind == CAMPAIGN else None
        old = entries.get(lname)
        if owners is not None and old is not None:
            owners.pop(old.get("id"), None)
        entries[lname] = entry
        self.intents(kind).pop(lname, None)
        if owners is not None and entry.get("id"):
            owners[entry["id"]] = lname

    def _drop(self, lname: str, change: Change) -> None:
        kind = change.get("kind", CAMPAIGN)
        self.intents(kind).pop(lname, None)
        old = self.entries(kind).pop(lname, None)
        if kind == CAMPAIGN and self._owners is not None and old is not None:
            self._owners.pop(old.get("id"), None)

    def _protect(self, lname: str, change: Change) -> None:
        entry = self.entries(change.get("kind", CAMPAIGN)).get(lname)
        if entry is not None and change.get("value"):
            entry["protect"] = True
        elif entry is not None:
            entry.pop("protect", None)


def _of(kind: str, change: Change) -> Change:
    """`change` for a resource of `kind`: campaigns' records carry no kind (as in format 1)."""
    if kind != CAMPAIGN:
        change["kind"] = kind
    return change


_APPLY: dict[Any, Callable[[State, str, Change], None]] = {
    "intent": State._intent,
    "clear": State._clear,
    "put": State._put,
    "drop": State._drop,
    "protect": State._protect,
}
