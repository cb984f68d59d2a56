"""`provisioner state list|show|rm|history|restore|migrate`: inspect and repair recorded state.

None of these touch the tenant: they read or write the state backend only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from provisioner.commands._common import add_target_options, target_of
from provisioner.errors import ConfigError, StateError
from provisioner.options import count
from provisioner.spec.printable import escape, escape_json
from provisioner.state import Backend, State, open_backend
from provisioner.state.model import CAMPAIGN, CONTACT_LIST, KINDS


def add_state_options(parser: argparse.ArgumentParser) -> None:
    """The options every state-touching command shares (--env, --state, --lock-timeout)."""
    add_target_options(parser, campaigns=False)


def resolve_location(args: argparse.Namespace) -> tuple[str, str]:
    """(state location, workspace) from --state, PROVISIONER_STATE, provisioner.yaml, or
    state/<env>.json."""
    target = target_of(args)
    return target.state, target.workspace


def warn(message: str) -> None:
    print(escape(f"warning: {message}"), file=sys.stderr)


def backend_for(args: argparse.Namespace) -> Backend:
    location, workspace = resolve_location(args)
    return open_backend(location, workspace=workspace, on_warning=warn)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("state", help="inspect and repair recorded state")
    commands = parser.add_subparsers(dest="state_command", metavar="SUBCOMMAND", required=True)
    for name, help_text, func in (
        ("list", "one line per recorded campaign", run_list),
        ("show", "the recorded JSON of one campaign", run_show),
        ("rm", "forget a campaign, or a pending intent, in state (the tenant is not "
               "touched)", run_rm),
        ("mv", "record a campaign under another name (same id; the next plan renames it "
               "on the tenant)", run_mv),
        ("history", "versions of the state that can be restored", run_history),
        ("restore", "write an earlier version back as the newest", run_restore),
        ("migrate", "copy the state to another backend, keeping its lineage", run_migrate),
    ):
        sub = commands.add_parser(name, help=help_text)
        add_state_options(sub)
        sub.set_defaults(func=func)
        if name in ("show", "rm"):
            sub.add_argument("name", metavar="NAME", help="campaign name (any case)")
        elif name == "mv":
            sub.add_argument("old", metavar="OLD", help="the recorded name (any case)")
            sub.add_argument("new", metavar="NEW", help="the name to record it under")
        if name in ("show", "rm", "mv"):
            sub.add_argument("--kind", choices=KINDS, default=CAMPAIGN,
                             help="the kind of resource the name is (default %(default)s)")
        elif name == "restore":
            sub.add_argument("serial", metavar="SERIAL", type=count())
        elif name == "migrate":
            sub.add_argument("--to", required=True, metavar="LOCATION", dest="to",
                             help="destination path or postgresql:// URL (must hold no state)")


def run(args: argparse.Namespace) -> int:
    return int(args.func(args))


def _read(backend: Backend) -> State:
    state = backend.read()
    if state is None:
        raise StateError(f"no state recorded at {backend.location}")
    return state


def _campaign(state: State, name: str, location: str, kind: str = CAMPAIGN
              ) -> dict[str, Any]:
    entry = state.entries(kind).get(name.lower())
    if entry is None:
        what = "contact list" if kind == CONTACT_LIST else "campaign"
        raise StateError(f"no {what} named {name!r} in state {location}")
    return entry


def run_list(args: argparse.Namespace) -> int:
    backend = backend_for(args)
    state = backend.read()
    if state is None:
        print(f"no state recorded at {backend.location}", file=sys.stderr)
        return 0
    for lname in sorted(state.campaigns):
        entry = state.campaigns[lname]
        print(f"{escape(entry['name'])}\t{escape(entry['id'])}\t"
              f"{escape(entry.get('status') or '-')}\t"
              f"{entry['digest'][:19]}")
    for lname in sorted(state.pending):
        intent = state.pending[lname]
        print(f"{escape(intent['name'])}\t(pending {intent['op']} since {intent.get('since', '?')})"
              f"\t-\t{intent['digest'][:19]}")
    for lname in sorted(state.contact_lists):   # after the campaigns: a reader of the
        entry = state.contact_lists[lname]     # first lines sees what it always saw
        print(f"{escape(entry['name'])}\t{escape(entry['id'])}\tcontact list\t"
              f"{entry['digest'][:19]}")
    for lname in sorted(state.list_pending):
        intent = state.list_pending[lname]
        print(f"{escape(intent['name'])}\t(pending contact list {intent['op']} since "
              f"{intent.get('since', '?')})\t-\t{intent['digest'][:19]}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    backend = backend_for(args)
    entry = _campaign(_read(backend), args.name, backend.location, args.kind)
    print(escape_json(json.dumps(entry, sort_keys=True, indent=2, ensure_ascii=False)))
    return 0


def _locked(args: argparse.Namespace, operation: str,
            change: Callable[[Backend, State], str]) -> int:
    """Run `change` on the state under the lock, write it, print what it returns."""
    backend = backend_for(args)
    with backend.lock(operation, timeout=args.lock_timeout):
        state = _read(backend)
        message = change(backend, state)
    print(escape(message))
    return 0


def run_rm(args: argparse.Namespace) -> int:
    """Forget a recorded campaign, a pending intent of that name, or both."""
    def forget(backend: Backend, state: State) -> str:
        intent = state.intents(args.kind).get(args.name.lower())
        entry = (state.entries(args.kind).get(args.name.lower()) if intent is not None
                 else _campaign(state, args.name, backend.location, args.kind))
        state.forget(args.name.lower(), kind=args.kind)
        backend.write(state)
        what = [f"{entry['name']} (id {entry['id']})"] if entry else []
        if intent is not None:
            what.append(f"the pending {intent['op']} intent for {intent['name']}")
        return (f"forgot {' and '.join(what)} from state {backend.location} "
                f"(serial {state.serial}); the tenant was not touched")
    return _locked(args, "state rm", forget)


def run_mv(args: argparse.Namespace) -> int:
    """Re-key a recorded campaign by hand: `state mv OLD NEW` (issue 15)."""
    new = args.new.strip()
    if not new or new != args.new or not new.isprintable():
        raise ConfigError(f"NEW: {escape(repr(args.new))} is not a campaign name (empty, "
                          "surrounding spaces, or control characters)")

    def move(backend: Backend, state: State) -> str:
        entry = state.move(args.old, new, kind=args.kind)
        backend.write(state)
        return (f"moved {entry['name']} (id {entry['id']}) to {new} in state "
                f"{backend.location} (serial {state.serial}); the tenant was not touched: "
                "the next plan shows the rename as an update")
    return _locked(args, "state mv", move)


def run_history(args: argparse.Namespace) -> int:
    for version in backend_for(args).history():
        print(f"{version['serial']}\t{version['savedAt'] or '-'}\t"
              f"{version['campaigns']} campaigns\t{version['pending']} pending\t"
              f"{version['version']}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    def restore(backend: Backend, state: State) -> str:
        restored = backend.restore(args.serial)
        return (f"restored serial {args.serial} of {backend.location} as serial "
                f"{restored.serial} ({len(restored.campaigns)} campaigns)")
    return _locked(args, "state restore", restore)


def run_migrate(args: argparse.Namespace) -> int:
    source = backend_for(args)
    target = open_backend(args.to, workspace=resolve_location(args)[1], on_warning=warn)
    with source.lock("state migrate", timeout=args.lock_timeout), \
            target.lock("state migrate", timeout=args.lock_timeout):
        state = _read(source)
        target.import_state(state)
    print(f"copied state lineage {state.lineage} serial {state.serial} from "
          f"{source.location} to {target.location}; point --state or PROVISIONER_STATE at it")
    return 0
