"""`provisioner validate [PATH...]`: check spec files and report every problem at once, for
every environment the config names (or `--env E` only): each campaign is resolved for each
environment (defaults, overrides, variables, policy) and checked; a problem that occurs in
some environments only says which."""

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


def merge_environments(results: list[tuple[str, SpecSet]]) -> SpecSet:
    """One report for several environments: each problem once, naming the environments it
    occurs in when that is not all of them; the campaigns and files of the first."""
    if len(results) == 1:
        return results[0][1]
    where: dict[Problem, list[str]] = {}
    for env, specs in results:
        for problem in specs.problems:
            where.setdefault(problem, []).append(env)
    merged = SpecSet(campaigns=results[0][1].campaigns, files=results[0][1].files)
    for problem, envs in where.items():
        if len(envs) < len(results):
            problem = replace(problem, message=f"{problem.message} (environment"
                              f"{'s' if len(envs) > 1 else ''} {', '.join(envs)})")
        merged.problems.append(problem)
    return merged


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
    for env in envs:
        target = load_target(env, config_path=config)
        results.append((target.env, load_specs(args.paths or [args.campaigns],
                                                cache=spec_cache(args),
                                                context=spec_context(target),
                                                root=args.campaigns)))
    specs = merge_environments(results)
    REPORTERS[args.format](specs, sys.stdout)
    failed = not specs.ok or (args.strict and bool(specs.problems))
    return 1 if failed else 0
