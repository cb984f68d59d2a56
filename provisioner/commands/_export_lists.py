"""The contact-list half of `provisioner export` (issue 16): the tenant's lists that the
exported campaigns name (every list with `--all-lists`) become `kind: ContactList`
documents of one file in the output folder, and entries of kind ContactList in state.

Sent: one listing of the tenant's lists, then a GET by id for each list to export whose
listed item lacks `allowDuplicates` (the documented listing never carries it:
get-all-contact-lists-v2, "Sample Response").

The file: new lists go to `contact-lists.yaml`, or when that exists to the first free
`contact-lists.N.yaml` (a dot: no campaign's file name has one), so an existing file is
never overwritten; with `--force`, `contact-lists.yaml` is rewritten whole when every list
it declares is exported this run. It is written atomically, then its lists are recorded,
so Ctrl-C leaves no half file and a rerun completes the rest (a list a spec declares
exactly as the tenant holds it is managed already, and recorded if it was not yet).

Skipped, one line each: a name the tenant holds more than once (compared case-
insensitively, as campaigns name lists: the tool never guesses which one is meant), a
name a spec declares otherwise, a list state records under another name, a DNC list. A
name an exported campaign gives that the tenant lacks is reported, as `plan --refresh`
will refuse that campaign.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from provisioner import body as bodies
from provisioner.body import CONTACT_LIST
from provisioner.disk.atomic import write_atomic
from provisioner.spec.export_lists import export_contact_lists
from provisioner.spec.printable import escape

if TYPE_CHECKING:
    from provisioner.remote.client import KoreClient
    from provisioner.spec.record import Context
    from provisioner.state import State

LISTS_STEM = "contact-lists"   # reserved: no campaign's file takes this name
LISTS_FILE = f"{LISTS_STEM}.yaml"


class Declared(NamedTuple):
    """A name a spec declares: where, and its body's digest (None: the spec has errors)."""

    file: str
    line: int
    digest: str | None


class Found(NamedTuple):
    """One tenant list to export: its id, its data (a get, or an item that has the body),
    its body in normal form and that body's digest."""

    id: str
    data: dict[str, Any]
    body: dict[str, Any]
    digest: str

    @property
    def lname(self) -> str:
        return str(self.data["name"]).lower()


@dataclass
class ListExport:
    """The lists of one export: what is wanted, what specs declare, what happened."""

    out: Path
    force: bool
    context: Context
    when: str
    declared: dict[str, Declared]                    # lname -> where a spec declares it
    by_file: dict[str, set[tuple[str, str]]]         # real path -> (kind, lname) it declares
    troubles: list[str]
    wanted: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    # lname -> (the name as a campaign writes it, the campaigns naming it)
    written: int = 0
    managed: int = 0
    file: Path | None = None

    def name_lists(self, data: dict[str, Any]) -> None:
        """Note the contact lists exported campaign `data` names."""
        names = data.get("contactLists")
        for name in names if isinstance(names, list) else ():
            if isinstance(name, str):
                entry = self.wanted.setdefault(name.lower(), (name, []))
                entry[1].append(str(data.get("name")))


def export_lists(client: KoreClient, state: State, job: ListExport, *,
                 every: bool) -> bool:
    """Export the wanted lists (every list of the tenant with `every`); True when state
    changed. Nothing is sent when no list is wanted."""
    if not job.wanted and not every:
        return False
    groups = _grouped(client.list_contact_lists(), job)
    names = sorted(set(job.wanted) | (set(groups) if every else set()))
    found = [hit for hit in (_find(client, state, lname, groups.get(lname, []), job)
                             for lname in names) if hit is not None]
    target = job.out / LISTS_FILE
    mine = {lname for kind, lname in job.by_file.get(os.path.realpath(target), set())
            if kind == CONTACT_LIST}
    rewrite = _rewritable(job, target, {hit.lname for hit in found})
    forced, changed = _declared(state, job, [h for h in found if h.lname in job.declared],
                                mine if rewrite else set())
    new = [hit for hit in found if hit.lname not in job.declared] + forced
    if not new:
        return changed
    if rewrite:   # the whole file again: the lists it declared, and the new ones
        whole = [hit for hit in found if hit.lname not in job.declared or hit.lname in mine]
        return _write(state, job, whole, target, new)
    return _write(state, job, new, _free(job.out), new)


def _grouped(items: list[dict[str, Any]], job: ListExport) -> dict[str, list[dict[str, Any]]]:
    """The tenant's lists by lname; a list without a name is reported."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if isinstance(item.get("name"), str):
            groups.setdefault(item["name"].lower(), []).append(item)
        else:
            job.troubles.append(f"skipped contact list {escape(bodies.campaign_id(item) or '?')}"
                                ": it has no name")
    return groups


def _find(client: KoreClient, state: State, lname: str, group: list[dict[str, Any]],
          job: ListExport) -> Found | None:
    """The one tenant list of that name, read whole, or None (reported) when there is
    none, more than one, or state or the tenant forbid exporting it."""
    if not group:
        name, users = job.wanted[lname]
        job.troubles.append(f"contact list {escape(repr(name))}, named by "
                            f"{escape(', '.join(map(repr, users)))}, is not on the tenant: "
                            "plan --refresh refuses those campaigns until it is")
        return None
    shown = f"contact list {escape(repr(group[0]['name']))}"
    if len(group) > 1:
        ids = sorted(bodies.campaign_id(item) for item in group)
        job.troubles.append(f"skipped {shown}: {len(group)} contact lists have this name "
                            f"({escape(', '.join(ids))}); a campaign could reach either, "
                            "so rename or delete all but one in the console")
        return None
    item, list_id = group[0], bodies.campaign_id(group[0])
    data = item if "allowDuplicates" in item else client.get_list(list_id) if list_id else None
    reason = _refused(state, data, list_id)
    if reason:
        job.troubles.append(f"skipped {shown}: {reason}")
        return None
    assert data is not None
    body = bodies.normalise_remote_list(data)
    return Found(list_id, data, body, bodies.digest(body))


def _refused(state: State, data: dict[str, Any] | None, list_id: str) -> str:
    """Why this list is not exported ("" when it may be)."""
    if data is None or not list_id or not isinstance(data.get("name"), str):
        return "no id, or it was deleted meanwhile"
    if data.get("isGlobalDNC") is True:
        return "it is a DNC list (campaigns name it in dncLists; the tool does not manage it)"
    try:
        bodies.canonical_json(data).encode("utf-8")
    except UnicodeEncodeError:
        return "it holds text that is not valid Unicode"
    lname = data["name"].lower()
    owner = state.owner_of(list_id, CONTACT_LIST)
    if owner is not None and owner != lname:
        return (f"state records its id under "
                f"{escape(repr(state.contact_lists[owner]['name']))} (renamed in the console?)")
    recorded = state.contact_lists.get(lname)
    if recorded and recorded.get("id") != list_id:
        return f"state records this name as contact list {escape(str(recorded.get('id')))}"
    return ""


def _rewritable(job: ListExport, target: Path, exported: set[str]) -> bool:
    """Whether `target` is rewritten whole (--force): it exists and every resource it
    declares is a list exported this run, so none is lost."""
    if not job.force or not target.exists():
        return False
    mine = job.by_file.get(os.path.realpath(target), set())
    return all(kind == CONTACT_LIST and lname in exported for kind, lname in mine)


def _declared(state: State, job: ListExport, declared: list[Found], mine: set[str]
              ) -> tuple[list[Found], bool]:
    """Lists a spec declares: managed when the spec says what the tenant holds (recorded
    now if an interrupted export had not yet), else skipped, unless their file is rewritten
    (`mine`: the lists it declares). Returns those to write again, and whether state
    changed."""
    forced, changed = [], False
    for hit in declared:
        spec = job.declared[hit.lname]
        if spec.digest == hit.digest:
            job.managed += 1
            if hit.lname not in state.contact_lists:
                _record(state, hit)
                changed = True
        elif hit.lname in mine:
            forced.append(hit)
        else:
            job.troubles.append(f"skipped contact list {escape(repr(hit.data['name']))}: "
                                f"already declared in {escape(spec.file)}:{spec.line}")
    return forced, changed


def _write(state: State, job: ListExport, lists: list[Found], path: Path,
           new: list[Found]) -> bool:
    """Write `lists` to `path` atomically, then record the `new` ones; True."""
    exported = export_contact_lists([(hit.id, hit.body) for hit in lists], when=job.when,
                                    context=job.context)
    write_atomic(path, exported.text.encode("utf-8"))
    job.file, job.written = path, job.written + len(new)
    for hit in new:
        _record(state, hit)
    for index, problem in exported.problems:
        job.troubles.append(f"{escape(str(path))}: contact list "
                            f"{escape(repr(lists[index].data['name']))} was written with a "
                            f"problem: {escape(problem)}")
    return True


def _record(state: State, hit: Found) -> None:
    state.record_campaign(hit.data["name"], hit.id, hit.body, hit.digest, remote=hit.data,
                          kind=CONTACT_LIST)


def _free(out: Path) -> Path:
    """`contact-lists.yaml`, or the first `contact-lists.N.yaml` that does not exist."""
    path, number = out / LISTS_FILE, 2
    while path.exists() or path.is_symlink():
        path, number = out / f"{LISTS_STEM}.{number}.yaml", number + 1
    return path
