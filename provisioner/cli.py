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
from collections.abc import Sequence
from typing import Any, NoReturn

from provisioner import __version__
from provisioner.errors import ProvisionerError
from provisioner.spec.printable import escape

# command name -> module in provisioner/commands/
COMMANDS = {
    "validate": "validate", "plan": "plan", "apply": "apply", "drift": "drift",
    "import": "import_", "state": "state", "force-unlock": "force_unlock",
    "emulator": "emulator", "render": "render", "export": "export",
}


def _command(argv: Sequence[str] | None) -> str | None:
    """The command named on the command line, if it is one."""
    first = next((a for a in argv or () if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def _wanted(argv: Sequence[str] | None) -> list[str]:
    """Only the named command's module is imported (start-up matters when CI runs plan on
    every push); all of them for --help or a mistyped command."""
    command = _command(argv)
    return [COMMANDS[command]] if command else list(COMMANDS.values())


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the width: argparse builds one for every option added,
    and left to find the width itself it imports shutil (3 ms of a warm plan's 140)."""

    def __init__(self, prog: str) -> None:
        try:
            width = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size().columns
        except (ValueError, OSError):
            width = 80
        super().__init__(prog, width=max(width, 40) - 2)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes exit 1, like every other error: exit 2 means "changes" for
    `plan --detailed-exitcode` and "drift" for `drift`, and a typo must never read as that."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="provisioner",
        description="Declarative, git-ops provisioner for Kore.ai campaigns and contact lists.",
    )
    parser.add_argument("--version", action="version", version=f"provisioner {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _wanted(argv):
        try:
            module = importlib.import_module(f"provisioner.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"provisioner.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 1
    debug = args.debug or os.environ.get("PROVISIONER_DEBUG") == "1"
    try:
        return int(args.func(args) or 0)
    except ProvisionerError as exc:
        if debug:
            import traceback
            traceback.print_exc()
        print(f"error: {escape(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # noqa: BLE001 - the one place a user would otherwise see a traceback
        if debug:
            import traceback
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {escape(str(exc))} (rerun with --debug "
              "for details)",
              file=sys.stderr)
        return 3


def run() -> None:
    """The console script and `python -m provisioner`: the process-wide settings and the
    way out are the speed machinery's (provisioner/speed/process.py)."""
    from provisioner.speed import process

    argv = sys.argv[1:]
    command = _command(argv)
    process.tune(command)
    process.leave(main(argv), command)
