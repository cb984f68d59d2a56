"""The command line: parse options, hand them to a command module, map errors to exit codes.

Each command lives in `provisioner/commands/<name>.py` and exposes
`register(subparsers) -> None` (adds its parser and sets `func=run`) and
`run(args) -> int`. This is the only place that catches errors and decides exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from provisioner import __version__
from provisioner.errors import ProvisionerError

COMMANDS = (
    "validate", "plan", "apply", "drift", "import_", "state", "force_unlock", "emulator",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provisioner",
        description="Declarative, git-ops provisioner for Kore.ai SMS campaigns.",
    )
    parser.add_argument("--version", action="version", version=f"provisioner {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"provisioner.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"provisioner.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 1
    debug = args.debug or os.environ.get("PROVISIONER_DEBUG") == "1"
    try:
        return int(args.func(args) or 0)
    except ProvisionerError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # noqa: BLE001 - the one place a user would otherwise see a traceback
        if debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
              file=sys.stderr)
        return 3
