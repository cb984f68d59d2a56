"""`provisioner emulator`: serve the bundled emulator of the campaign API on loopback until
SIGTERM or SIGINT, then exit 0.

The client secret comes only from `KORE_CLIENT_SECRET` and is never printed. One line,
`emulator listening on http://127.0.0.1:PORT`, goes to stdout; `--port-file` receives the
port (written atomically, so a reader never sees half a number). `--contact-list NAME`
(repeatable) gives the tenant contact lists from the start: a campaign may only name lists
the tenant has.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from provisioner.disk.atomic import write_atomic
from provisioner.emulator import Emulator, FaultConfig, start_emulator
from provisioner.emulator.validation import check_name
from provisioner.errors import ConfigError
from provisioner.options import count, port, probability, seconds
from provisioner.config import MAX_PER_MINUTE

MAX_LATENCY_MS = 60_000   # a minute per request: longer only times the client out


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "emulator", help="serve an emulator of the Kore.ai campaign API on loopback",
        description="Serve a strict emulator of the documented Kore.ai campaign API on "
                    "loopback. The client secret is read from KORE_CLIENT_SECRET.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default %(default)s)")
    parser.add_argument("--port", type=port(), default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--port-file", type=Path, help="write the chosen port to this file")
    parser.add_argument("--stream-id", default="st-demo")
    parser.add_argument("--account-id", default="acc-demo")
    parser.add_argument("--client-id", default="cs-demo")
    parser.add_argument("--rate-limit-per-minute", type=count(high=MAX_PER_MINUTE), default=60,
                        help="per-account requests per 60 s window; 0 = off (default 60)")
    parser.add_argument("--persist", type=Path, help="keep campaigns in this JSON file")
    parser.add_argument("--latency-ms", type=count(high=MAX_LATENCY_MS), default=0)
    parser.add_argument("--fail-rate", type=probability(), default=0.0,
                        help="probability of a 5xx before anything is committed")
    parser.add_argument("--drop-after-commit-rate", type=probability(), default=0.0,
                        help="probability of committing a write, then closing with no answer")
    parser.add_argument("--list-lag-seconds", type=seconds(), default=0.0,
                        help="a new campaign shows in the list only after this long")
    parser.add_argument("--seed", type=count(low=-(2**63), high=2**63 - 1), help="seed of the fault draws")
    parser.add_argument("--reject-duplicate-names", action="store_true",
                        help="refuse a second campaign with the same name (the docs do not say)")
    parser.add_argument("--contact-list", action="append", default=[], metavar="NAME",
                        help="a contact list the tenant has from the start (repeatable)")
    parser.add_argument("--voice-preparing-seconds", type=seconds(), default=2.0,
                        help="a new voice campaign is Preparing this long, then Ready "
                             "(default %(default)s)")
    parser.add_argument("--active-seconds", type=seconds(), default=30.0,
                        help="a started campaign is Active this long, then Completed "
                             "(default %(default)s)")
    parser.set_defaults(func=run)


def fault_config(args: argparse.Namespace) -> FaultConfig:
    """The fault settings the options ask for; raises ConfigError when one is out of range."""
    config = FaultConfig(
        latency_ms=args.latency_ms, fail_rate=args.fail_rate,
        drop_after_commit_rate=args.drop_after_commit_rate,
        list_lag_seconds=args.list_lag_seconds, rate_limit_per_minute=args.rate_limit_per_minute,
        seed=args.seed, reject_duplicate_names=args.reject_duplicate_names,
        voice_preparing_seconds=args.voice_preparing_seconds, active_seconds=args.active_seconds)
    problems = config.problems()
    if problems:
        raise ConfigError(f"emulator: {'; '.join(problems)}")
    return config


def _check_list_names(names: list[str]) -> None:
    """Raise ConfigError for a --contact-list name the API would refuse."""
    for name in names:
        problems = check_name(name, "--contact-list")
        if problems:
            raise ConfigError(f"emulator: {problems[0]}, not {name!r}")


def write_port_file(path: Path, port: int) -> None:
    write_atomic(path, f"{port}\n".encode())


def run(args: argparse.Namespace) -> int:
    secret = os.environ.get("KORE_CLIENT_SECRET", "")
    if not secret:
        raise ConfigError("emulator: set KORE_CLIENT_SECRET (the secret tokens must be signed with)")
    config = fault_config(args)
    _check_list_names(args.contact_list)
    stop = threading.Event()
    handlers = _install_handlers(stop)
    try:
        emulator = _start(args, secret, config)
        try:
            if args.port_file:
                write_port_file(args.port_file, emulator.port)
            print(f"emulator listening on {emulator.url}", flush=True)
            while not stop.wait(0.2):
                pass
        finally:
            emulator.stop()
    finally:
        for signum, previous in handlers.items():
            signal.signal(signum, previous)
    return 0


def _start(args: argparse.Namespace, secret: str, config: FaultConfig) -> Emulator:
    try:
        return start_emulator(
            stream_id=args.stream_id, account_id=args.account_id, client_id=args.client_id,
            client_secret=secret, rate_limit_per_minute=args.rate_limit_per_minute,
            host=args.host, port=args.port, persist=args.persist, faults=config,
            contact_lists=args.contact_list)
    except OSError as exc:
        raise ConfigError(f"emulator: cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    except ValueError as exc:  # a corrupt --persist file
        raise ConfigError(f"emulator: cannot load {args.persist}: {exc}") from None


def _install_handlers(stop: threading.Event) -> dict[int, Any]:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
