"""The desired resources a spec set declares: `Campaign`s and `ContactList`s (a document's
`kind:`), each valid document as one object, and `ListRef`, a campaign's reference to a
contact list by name, located where it was written.

Everything but the body is known once the specs are loaded; the body (the normalised API
body: exactly what create/update sends) of a file the cache vouched for is loaded only when
something reads it, since a plan of unchanged resources needs only digests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from provisioner import body as api_body
from provisioner.body import CAMPAIGN, CONTACT_LIST

if TYPE_CHECKING:
    from provisioner.spec.load import _Bodies
    from provisioner.spec.record import FileContext

# Where a cached resource's body is loaded from: (loader, analysis key, path, the file's
# context, document index).
_Source = tuple["_Bodies", str, str, "FileContext | None", int]


class ListRef(NamedTuple):
    """One `contactLists` entry of a campaign: the list's name and where it was written."""

    name: str
    line: int
    column: int
    path: str        # "$.contactLists[2]"
    file: str = ""   # the file it was written in when not the campaign's (a _defaults.yaml)


class Resource:
    """What every kind of desired resource has (the plan's `Desired`)."""

    # One __init__ for every kind, the campaign-only fields (contact-list entries, `run`,
    # `rerun`) None elsewhere: a subclass calling super().__init__ costs 15 ms of a warm plan
    # at 10,000 campaigns (bench/run.py).
    __slots__ = ("name", "lname", "file", "line", "column", "ensure", "protect", "digest",
                 "previous", "ignore", "_body", "_source", "_lists", "_refs", "run", "rerun")
    kind = ""

    def __init__(self, name: str, body: dict[str, Any] | None, file: str, line: int,
                 column: int, ensure: str = "present", protect: bool = False,
                 _digest: str = "", _source: _Source | None = None,
                 previous: tuple[str, ...] = (), ignore: tuple[str, ...] = (),
                 lists: Sequence[Sequence[Any]] | None = None, run: str | None = None,
                 rerun: str | None = None) -> None:
        self._lists = lists   # as the analysis records them: (name, line, column, file)
        self._refs: tuple[ListRef, ...] | None = None
        self.run, self.rerun = run, rerun
        self.name, self.file, self.line, self.column = name, file, line, column
        self.previous = previous   # `previousNames`: names state may record it under
        self.ignore = ignore       # `ignoreChanges`: paths the console owns
        self.lname = name.lower()   # names are unique case-insensitively, as the API's
        self.ensure, self.protect = ensure, protect   # spec-only keys (never sent)
        self._body, self._source = body, _source
        self.digest = _digest or api_body.digest(self.body)   # of the body, defaults folded

    @property
    def body(self) -> dict[str, Any]:
        if self._body is None:
            assert self._source is not None   # (loader, key, path, context, document index)
            loader, digest, path, context, index = self._source
            self._body = loader.body(digest, self.file, path, context, index)
        return self._body

    def _key(self) -> tuple[Any, ...]:
        return (self.name, self.body, self.file, self.line, self.column, self.ensure,
                self.protect)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Resource) and type(other) is type(self)
                and self._key() == other._key())

    __hash__ = None   # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.file}:{self.line}:{self.column})"


class Campaign(Resource):
    """One valid campaign document (`kind: Campaign`, the default), SMS or voice.

    `run` and `rerun` are the tool's own keys (never sent, not in the body or its digest):
    `run` "active" or "stopped", the declared run state (None: the tool never starts or
    stops it); `rerun` a token (None when not given) whose change re-runs a Completed
    campaign declared active."""

    __slots__ = ()
    kind = CAMPAIGN

    def _key(self) -> tuple[Any, ...]:
        return (*super()._key(), self.run, self.rerun)

    @property
    def lists(self) -> tuple[ListRef, ...]:
        """Each `contactLists` entry, located (made on first read: a plan of unchanged
        campaigns never reads them). A campaign made without them (a test's) has its
        body's, located at the campaign."""
        if self._refs is None:
            raw = self._lists
            if raw is None:
                names = self.body.get("contactLists")
                raw = [(n, self.line, self.column, "") for n in names or ()
                       if isinstance(n, str)]
            self._refs = tuple(ref if isinstance(ref, ListRef) else
                               ListRef(ref[0], ref[1], ref[2], f"$.contactLists[{index}]",
                                       ref[3] if len(ref) > 3 else "")
                               for index, ref in enumerate(raw))
        return self._refs


class ContactList(Resource):
    """One valid `kind: ContactList` document; its body is {name, description,
    allowDuplicates} (provisioner/body `contact_list_body`)."""

    __slots__ = ()
    kind = CONTACT_LIST
