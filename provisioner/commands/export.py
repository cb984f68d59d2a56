"""`provisioner export [--out DIR] [--match REGEX] [--force] [--all-lists]`: bring a live
tenant under management (issue 15). Every campaign of the tenant, SMS and voice (issue 16),
becomes one spec file and one state entry, and the contact lists they name become
`kind: ContactList` documents of one more file (provisioner/commands/_export_lists.py), so
that `plan --detailed-exitcode` right after exits 0.

Only reads are sent: the paged list of each campaign type (at most 2 + ceil(S/page) +
ceil(V/page) requests for S SMS and V voice campaigns), a GET by id for each campaign whose
list item lacks its body fields (every one, as documented), then, when a campaign names a
list, one listing of the contact lists and a GET for each list exported (its listing item
lacks `allowDuplicates`). Each file is written atomically and recorded in state before the
next one, under the state lock, so Ctrl-C leaves no half file and a rerun completes the
rest: a campaign a spec already declares exactly as the tenant holds it is left as it is
(and recorded, if the interrupted run had not yet).

Skipped, one line each (exit 1): a name a spec declares otherwise, names the tenant holds
more than once (case-insensitively, as spec names are compared; an SMS and a voice campaign
of one name too), an existing file without `--force`. A campaign the schema would reject
is still written, with a comment on each bad line, and reported (exit 1)."""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner import body as bodies
from provisioner.body import CAMPAIGN, CONTACT_LIST
from provisioner.commands._common import (
    add_target_options, campaigns_dir, make_client, open_state, read_state, spec_context,
    stderr_event, target_of,
)
from provisioner.commands._export_lists import LISTS_STEM, Declared, ListExport, export_lists
from provisioner.commands._export_specs import Specs, declared_names, refuse_defaults
from provisioner.disk.atomic import write_atomic
from provisioner.errors import ConfigError
from provisioner.spec.export import export_campaign, file_name
from provisioner.spec.printable import escape
from provisioner.state import State

if TYPE_CHECKING:
    from provisioner.config import Target
    from provisioner.remote.client import KoreClient
    from provisioner.spec.record import Context

# A progress line on stderr after this many campaigns.
PROGRESS_EVERY = 100
# A list item holding these carries the body: no GET needed (the documented SMS list item
# carries neither: koreai-campaign-apis.md section 1.2; a voice item has no dialingStrategy
# and never the experienceFlow id: get-all-campaigns-v2).
BODY_KEYS = ("dialingStrategy", "contactLists")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("export", help="write a spec file for every campaign of the "
                                             "tenant and record each in state")
    add_target_options(p)
    p.add_argument("--out", metavar="DIR",
                   help="where to write the files (default: the campaigns folder)")
    p.add_argument("--match", metavar="REGEX",
                   help="only campaigns whose name matches (a Python regex, searched, "
                        "case-insensitive)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--all-lists", action="store_true",
                   help="export every contact list of the tenant, not only those the "
                        "exported campaigns name")
    p.set_defaults(func=run)


@dataclass
class Run:
    """One export: where to, what is declared already, and what happened."""

    out: Path
    force: bool
    context: Context
    declared: dict[str, Declared]             # lname -> where a spec declares a campaign
    when: str
    lists: ListExport
    by_file: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    # real path -> (kind, lname) of what it declares
    written: int = 0
    managed: int = 0
    troubles: list[str] = field(default_factory=list)


def run(args: argparse.Namespace) -> int:
    target = target_of(args)
    match = _pattern(args.match)
    out = Path(args.out or campaigns_dir(args))
    refuse_defaults(out, Path(campaigns_dir(args)))
    declared = declared_names(args, target)
    backend = open_state(target, on_warning=lambda m: stderr_event("warning", m))
    client = make_client(target, stderr_event)
    job = _job(args, out, target, declared)
    with backend.lock("export", timeout=args.lock_timeout):
        state = read_state(backend, target)
        items = client.list_all_campaigns()
        stderr_event("export", f"{len(items)} campaign(s) listed")
        state = state or State.new(target.binding())
        chosen = _choose(items, match, job)
        out.mkdir(parents=True, exist_ok=True)
        for done, (item, name) in enumerate(chosen, 1):
            if _export_one(client, item, name, state, job):
                backend.write(state)   # durable before the next file is written
            if done % PROGRESS_EVERY == 0 and done < len(chosen):
                stderr_event("export", f"{done}/{len(chosen)} campaign(s) done")
        if export_lists(client, state, job.lists, every=args.all_lists):
            backend.write(state)
    return _report(job, len(items))


def _job(args: argparse.Namespace, out: Path, target: Target, declared: Specs) -> Run:
    """The export's plan of work: where to, and what the specs declare already."""
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    context = spec_context(target)
    by_file: dict[str, set[tuple[str, str]]] = {}
    for kind, names in declared.items():
        for lname, where in names.items():
            by_file.setdefault(os.path.realpath(where.file), set()).add((kind, lname))
    troubles: list[str] = []
    lists = ListExport(out, args.force, context, when, declared[CONTACT_LIST], by_file,
                       troubles)
    return Run(out, args.force, context, declared[CAMPAIGN], when, lists, by_file,
               troubles=troubles)


def _pattern(text: str | None) -> re.Pattern[str] | None:
    if text is None:
        return None
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"--match {text!r} is not a regular expression: {exc}") from None


def _choose(items: list[dict[str, Any]], match: re.Pattern[str] | None, job: Run
            ) -> list[tuple[dict[str, Any], str]]:
    """The items to export, each with its file name. Names are given over every named item
    in one order (lname, id), so a rerun gives each campaign the same file."""
    named = sorted((item for item in items if isinstance(item.get("name"), str)),
                   key=lambda i: (i["name"].lower(), bodies.campaign_id(i)))
    for item in items:
        if not isinstance(item.get("name"), str):
            job.troubles.append(f"skipped campaign {escape(bodies.campaign_id(item) or '?')}: "
                                "it has no name")
    groups: dict[str, list[str]] = {}
    for item in named:
        groups.setdefault(item["name"].lower(), []).append(bodies.campaign_id(item))
    taken = {LISTS_STEM}   # the contact lists' file
    chosen = []
    for item in named:
        name = file_name(item["name"], taken)
        if match is not None and not match.search(item["name"]):
            continue
        ids = groups[item["name"].lower()]
        if len(ids) > 1:
            if ids[0] == bodies.campaign_id(item):
                job.troubles.append(f"skipped {escape(repr(item['name']))}: {len(ids)} campaigns "
                                    f"have this name ({escape(', '.join(ids))}); rename or "
                                    "delete all but one in the console")
            continue
        chosen.append((item, name))
    return chosen


def _export_one(client: KoreClient, item: dict[str, Any], name: str, state: State,
                job: Run) -> bool:
    """Write one campaign's file and record it in `state`; True when state changed."""
    shown, campaign_id = escape(repr(item["name"])), bodies.campaign_id(item)
    data = item if _has_body(item) else client.get(campaign_id)
    if not campaign_id or data is None:
        job.troubles.append(f"skipped {shown}: no campaign id, or it was deleted meanwhile")
        return False
    if not _encodable(data):
        job.troubles.append(f"skipped {shown}: it holds text that is not valid Unicode")
        return False
    reason = _refused(state, data, campaign_id)
    if reason:
        job.troubles.append(f"skipped {shown}: {reason}")
        return False
    recorded = state.campaign(data["name"].lower())
    known = recorded.get("body") if recorded else None
    exported = export_campaign(data, campaign_id=campaign_id, when=job.when,
                               context=job.context, known=known)
    lname, path = data["name"].lower(), job.out / name
    if lname in job.declared and not (job.force and _same(job.declared[lname].file, path)):
        return _declared_already(job, shown, lname, exported.digest, state, data,
                                 campaign_id, exported.body)
    refused = _overwrite_refused(job, path, lname)
    if refused:
        job.troubles.append(f"skipped {shown}: {refused}")
        return False
    write_atomic(path, exported.text.encode("utf-8"))
    state.record_campaign(data["name"], campaign_id, exported.body, exported.digest, remote=data)
    job.written += 1
    job.lists.name_lists(data)
    for problem in exported.problems:
        job.troubles.append(f"{escape(str(path))}: {shown} was written with a problem: "
                            f"{escape(problem)}")
    return True


def _declared_already(job: Run, shown: str, lname: str, digest: str, state: State,
                      data: dict[str, Any], campaign_id: str, body: dict[str, Any]) -> bool:
    """A campaign a spec declares: managed already when the spec says what the tenant holds
    (recorded now if an interrupted export had not yet), else skipped."""
    spec = job.declared[lname]
    recorded = state.campaign(lname)
    if spec.digest != digest or (recorded and recorded.get("id") != campaign_id):
        job.troubles.append(f"skipped {shown}: already declared in "
                            f"{escape(spec.file)}:{spec.line}")
        return False
    job.managed += 1
    job.lists.name_lists(data)
    if recorded:
        return False
    state.record_campaign(data["name"], campaign_id, body, digest, remote=data)
    return True


def _overwrite_refused(job: Run, path: Path, lname: str) -> str:
    """Why `path` may not be written ("" when it may): it exists and there is no --force,
    or it declares other campaigns, whose specs would be lost."""
    if not (path.exists() or path.is_symlink()):
        return ""
    if not job.force:
        return f"{escape(str(path))} exists (--force overwrites it)"
    others = sorted(job.by_file.get(os.path.realpath(path), set()) - {(CAMPAIGN, lname)})
    if not others:
        return ""
    what = ("campaigns" if all(kind == CAMPAIGN for kind, _ in others)
            else "campaigns or contact lists")
    names = ", ".join(name if kind == CAMPAIGN else f"contact list {name}"
                      for kind, name in others)
    return (f"{escape(str(path))} declares other {what} ({escape(names)}); "
            "not overwritten even with --force")


def _same(file: str, path: Path) -> bool:
    return os.path.realpath(file) == os.path.realpath(path)


def _refused(state: State, data: dict[str, Any], campaign_id: str) -> str:
    """Why state forbids recording this campaign under its name ("" when it does not)."""
    lname = str(data["name"]).lower()
    owner = state.owner_of(campaign_id)
    if owner is not None and owner != lname:
        return (f"state records its id under {escape(repr(state.campaigns[owner]['name']))} "
                "(renamed in the console?)")
    recorded = state.campaign(lname)
    if recorded and recorded.get("id") != campaign_id:
        return f"state records this name as campaign {escape(str(recorded.get('id')))}"
    return ""


def _has_body(item: dict[str, Any]) -> bool:
    """Whether a list item carries the whole body (then no GET is sent for it)."""
    return (all(key in item for key in BODY_KEYS)
            and ("message" in item or item.get("format") == "advanced"))


def _encodable(data: dict[str, Any]) -> bool:
    """Whether the campaign's text is valid Unicode (a lone surrogate from a JSON escape is
    not, and could be neither written nor digested)."""
    try:
        bodies.canonical_json(data).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _report(job: Run, listed: int) -> int:
    for line in job.troubles:
        print(line)
    managed = f", {job.managed} already managed" if job.managed else ""
    lists = job.lists
    where = f" to {escape(str(lists.file))}" if lists.file else ""
    known = f", {lists.managed} already managed" if lists.managed else ""
    print(f"Exported {job.written} of {listed} campaign(s) to {escape(str(job.out))}{managed}; "
          f"{lists.written} contact list(s){where}{known}; {len(job.troubles)} problem(s).")
    return 1 if job.troubles else 0

