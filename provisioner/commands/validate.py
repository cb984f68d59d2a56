"""`provisioner validate [PATH...]`: check spec files and report every problem at once."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from provisioner.commands._common import add_cache_option, spec_cache
from provisioner.render.problems import REPORTERS
from provisioner.spec.load import load_specs


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
    add_cache_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    specs = load_specs(args.paths or [args.campaigns], cache=spec_cache(args))
    REPORTERS[args.format](specs, sys.stdout)
    failed = not specs.ok or (args.strict and bool(specs.problems))
    return 1 if failed else 0
