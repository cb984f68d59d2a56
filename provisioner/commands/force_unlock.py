"""`provisioner force-unlock LOCK_ID`: clear a state lock by hand.

Use it only when the holder named in the lock error is known to be gone: the lock id must
match, so a lock taken since by someone else is never cleared by mistake.
"""

from __future__ import annotations

import argparse
from typing import Any

from provisioner.commands.state import add_state_options, backend_for
from provisioner.spec.printable import escape


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("force-unlock", help="clear a state lock by its id")
    parser.add_argument("lock_id", metavar="LOCK_ID", help="the id named in the lock error")
    add_state_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    backend = backend_for(args)
    holder = backend.force_unlock(args.lock_id)
    print(escape(f"cleared lock {args.lock_id} on {backend.location} (held by "
                 f"{holder.get('user', '?')}@{holder.get('host', '?')} pid "
                 f"{holder.get('pid', '?')}, operation: {holder.get('operation', '?')})"))
    return 0
