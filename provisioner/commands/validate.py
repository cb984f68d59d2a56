"""`provisioner validate [PATH...]`: check spec files and report every problem at once, for
every environment the config names (or `--env E` only): each campaign is resolved for each
environment (defaults, overrides, variables, policy) and checked; a problem that occurs in
some environments only says which.

The contact lists campaigns name are checked against the declared ones (`kind:
ContactList`) only: validate never reads the tenant. A name no spec declares may well be a
list made in the console, so it is said once, in a note (not a warning: `--strict` keeps
passing for lists the console owns), unless it looks like a declared list's (a likely typo:
a warning at the entry). A campaign naming a list to be deleted is an error."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from provisioner.commands._common import (add_cache_option, add_config_option, spec_cache,
                                          spec_context)
from provisioner.config import load_environments, load_target
from provisioner.render.problems import REPORTERS
from provisioner.spec.load import Problem, SpecSet, load_specs
from provisioner.spec.references import NOT_CHECKED, check_references, undeclared

NOTE_NAMES = 5   # undeclared list names a note shows; the rest are counted


def merge_environments(results: list[tuple[str, SpecSet]]) -> SpecSet:
    """One report for several environments: each problem once, naming the environments it
    occurs in when that is not all of them; the campaigns, contact lists and files of the
    first."""
    if len(results) == 1:
        return results[0][1]
    where: dict[Problem, list[str]] = {}
    for env, specs in results:
        for problem in specs.problems:
            where.setdefault(problem, []).append(env)
    merged = SpecSet(campaigns=results[0][1].campaigns, files=results[0][1].files,
                     contact_lists=results[0][1].contact_lists)
    for problem, envs in where.items():
        if len(envs) < len(results):
            problem = replace(problem, message=f"{problem.message} (environment"
                              f"{'s' if len(envs) > 1 else ''} {', '.join(envs)})")
        merged.problems.append(problem)
    return merged


def unchecked_note(names: list[str]) -> str:
    """The one note for list names no spec declares (offline, the tenant is not read)."""
    shown = ", ".join(repr(name) for name in names[:NOTE_NAMES])
    more = f" and {len(names) - NOTE_NAMES} more" if len(names) > NOTE_NAMES else ""
    return (f"{len(names)} contact list name(s) used by campaigns are not declared (kind: "
            f"ContactList): {shown}{more}; {NOT_CHECKED}")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate", help="check campaign spec files",
        description="Check campaign spec files against the schema and the API's rules. "
                    "Exit 0 when every document is valid, 1 otherwise.")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="spec files or folders (default: the campaigns folder)")
    parser.add_argument("--campaigns", metavar="DIR",
                        default=os.environ.get("PROVISIONER_CAMPAIGNS", "campaigns"),
                        help="campaigns folder (env PROVISIONER_CAMPAIGNS; default campaigns/)")
    parser.add_argument("--format", choices=sorted(REPORTERS), default="text",
                        help="output format (default: text)")
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument("--env", help="check this environment only (default: every one the "
                                      "config names)")
    add_config_option(parser)
    add_cache_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = Path(args.config)
    envs: list[str | None] = [args.env] if args.env else [*load_environments(config)] or [None]
    results = []
    unchecked: dict[str, str] = {}   # lname -> a name no spec declares, in any environment
    for env in envs:
        target = load_target(env, config_path=config)
        specs = load_specs(args.paths or [args.campaigns], cache=spec_cache(args),
                           context=spec_context(target), root=args.campaigns)
        specs.problems += check_references(specs.campaigns, specs.contact_lists,
                                           suggested_only=True)
        for name in undeclared(specs.campaigns, specs.contact_lists):
            unchecked.setdefault(name.lower(), name)
        results.append((target.env, specs))
    specs = merge_environments(results)
    if unchecked:
        specs.notes.append(unchecked_note(list(unchecked.values())))
    REPORTERS[args.format](specs, sys.stdout)
    failed = not specs.ok or (args.strict and bool(specs.problems))
    return 1 if failed else 0
