"""`provisioner drift`: a scheduled check that the tenant matches specs and state.

Exits 0 when nothing differs, 2 when something does (changes to make, out-of-band edits,
deletions, campaigns to adopt, blocked ones, a campaign on the tenant named like a managed
one that state does not know), 1 on error."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from provisioner.commands._common import (
    add_empty_prune_option, add_target_options, load_valid_specs, make_client, open_state, read_state, stderr_event,
    target_of, warnings_of,
)
from provisioner.plan.build import build_plan
from provisioner.spec.printable import escape
from provisioner.commands._tenant import read_tenant
from provisioner.render.plans import RENDERERS, render_plan


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("drift", help="exit 2 when the tenant differs from specs or state")
    add_target_options(p)
    p.add_argument("--format", choices=sorted(RENDERERS), default="text")
    add_empty_prune_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = target_of(args)
    specs = load_valid_specs(args, target=target)
    state = read_state(open_state(target), target)
    tenant = read_tenant(make_client(target, stderr_event), state, specs)
    plan = build_plan(specs.campaigns, state, env=target.env, specs=specs.files,
                      remote=tenant.campaigns, contact_lists=specs.contact_lists,
                      remote_lists=tenant.lists, prune=target.prune, warnings=warnings_of(specs),
                      target=target.binding(), allow_empty_prune=args.allow_empty_prune)
    render_plan(plan.to_dict(), args.format, sys.stdout)
    quiet = [c for c in plan.changes if c.drift and c.action == "noop"]
    if quiet and args.format == "text":   # the text plan lists no noops: say why drift is 2
        sys.stdout.write("Out of band, nothing for apply to do:\n" + "".join(
            f"  ! {escape(c.name)}: {escape(c.reason or 'changed outside the tool')}\n" for c in quiet))
    differs = plan.has_changes or any(c.drift or c.recreate for c in plan.changes)
    return 2 if differs else 0
