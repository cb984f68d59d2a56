"""Contact lists named by campaigns (issue 16).

Each `contactLists` entry of a present campaign must name a contact list declared by a
present `kind: ContactList` spec, or one the tenant holds (names compared case-insensitively,
as the API's `lname`). Offline (`validate`, a plan without --refresh) the tenant is unknown,
so a name no spec declares is only a warning saying so; once the tenant's lists have been
read it is an error. A campaign naming a list whose spec says `ensure: absent` is an error
either way: the list is to be deleted, and the tenant refuses to delete a list in use.

Pure functions of loaded specs; problems are located at the entry (`$.contactLists[i]`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from provisioner.errors import ERROR, WARNING
from provisioner.spec.load import Campaign, ContactList, ListRef, Problem
from provisioner.spec.schema import suggest

NOT_CHECKED = "tenant lists were not checked: run plan --refresh"
OWNED_LISTS = "$.contactLists"   # as an `ignoreChanges` path: the console's lists are sent


def check_references(campaigns: Iterable[Campaign], contact_lists: Iterable[ContactList],
                     tenant: Collection[str] | None = None, *,
                     suggested_only: bool = False) -> list[Problem]:
    """A problem for each entry of a present campaign that names no usable list: warnings
    when `tenant` is None (its lists unknown), errors when it is given (the lowercased
    names of the tenant's lists, or a mapping of them to the names as written, which "did
    you mean" then shows). With `suggested_only` (offline), an undeclared name is
    reported only when it looks like a declared list's (a likely typo): `validate` says
    once, for the others, that the tenant was not checked (`undeclared`)."""
    declared = {cl.lname: cl for cl in contact_lists}
    known = _Known(declared, tenant, suggested_only)
    problems = []
    for campaign in campaigns:
        if campaign.ensure == "absent" or OWNED_LISTS in campaign.ignore:
            continue   # (owned by the console: the tenant's lists are sent, not these)
        for ref in campaign.lists:
            message, severity = known.why(ref.name)
            if message:
                problems.append(_at(campaign, ref, message, severity))
    return problems


def undeclared(campaigns: Iterable[Campaign], contact_lists: Iterable[ContactList]
               ) -> list[str]:
    """The names present campaigns give lists that no spec declares, each once (the first
    spelling), in spec order: offline, nothing says whether the tenant holds them."""
    declared = {cl.lname for cl in contact_lists}
    out: dict[str, str] = {}
    for campaign in campaigns:
        if campaign.ensure == "absent":
            continue
        for ref in campaign.lists:
            if ref.name.lower() not in declared:
                out.setdefault(ref.name.lower(), ref.name)
    return list(out.values())


def dependents(contact_lists: Iterable[ContactList], campaigns: Iterable[Campaign]
               ) -> dict[str, list[str]]:
    """lname of a contact list -> the names of the present campaigns that name it, in spec
    order: a list is never deleted while one of them still names it. Every declared list
    has an entry (empty when no campaign names it); so has every other name a campaign
    names (a list only state or the tenant knows). An `ensure: absent` campaign is left
    out: it is deleted before any list."""
    out: dict[str, list[str]] = {cl.lname: [] for cl in contact_lists}
    for campaign in campaigns:
        if campaign.ensure == "absent":
            continue
        for ref in campaign.lists:
            names = out.setdefault(ref.name.lower(), [])
            if campaign.name not in names:
                names.append(campaign.name)
    return out


class _Known:
    """The lists a reference may name, with why a name is not one of them (each name's
    verdict worked out once: many campaigns name the same few lists)."""

    def __init__(self, declared: dict[str, ContactList], tenant: Collection[str] | None,
                 suggested_only: bool = False) -> None:
        self.declared, self.tenant, self.suggested_only = declared, tenant, suggested_only
        self.verdicts: dict[str, tuple[str, str]] = {}

    def why(self, name: str) -> tuple[str, str]:
        """(message, severity) of a reference to `name`; ("", "") when it is good."""
        lname = name.lower()
        if lname not in self.verdicts:
            self.verdicts[lname] = self._verdict(name, lname)
        tail, severity = self.verdicts[lname]
        return (f"contact list {name!r} {tail}", severity) if tail else ("", "")

    def _verdict(self, name: str, lname: str) -> tuple[str, str]:
        """What follows "contact list 'X'" in the problem, and its severity."""
        spec = self.declared.get(lname)
        if spec is not None and spec.ensure == "absent":
            return (f"is to be deleted (ensure: absent at {spec.file}:{spec.line}:"
                    f"{spec.column}); a campaign cannot name it", ERROR)
        if spec is not None or (self.tenant is not None and lname in self.tenant):
            return "", ""
        # Stricter than for keys and enums: list names are long free text, where 0.6 finds
        # unrelated names alike ('Spring Sale Customers' and 'Staging Testers').
        hint = suggest(name, self._choices(), cutoff=0.8)
        if self.tenant is None and self.suggested_only and not hint:
            return "", ""
        if self.tenant is None:
            return f"is not declared as a ContactList spec{hint} ({NOT_CHECKED})", WARNING
        return f"is neither declared (kind: ContactList) nor on the tenant{hint}", ERROR

    def _choices(self) -> list[str]:
        """Names a reference may mean: the tenant's (lowercased), then the declared present
        lists' as written (so that these win when both have a name)."""
        present = [cl.name for cl in self.declared.values() if cl.ensure != "absent"]
        tenant = self.tenant or ()
        shown = tenant.values() if isinstance(tenant, Mapping) else tenant   # as written
        return [*shown, *present]


def _at(campaign: Campaign, ref: ListRef, message: str, severity: str) -> Problem:
    """A problem at the entry: in the campaign's file, or where the entry was written (a
    _defaults.yaml), naming the campaign."""
    if ref.file and ref.file != campaign.file:
        return Problem(ref.file, ref.line, ref.column, ref.path,
                       f"{message} (in campaign {campaign.name!r})", severity)
    return Problem(campaign.file, ref.line, ref.column, ref.path, message, severity)
