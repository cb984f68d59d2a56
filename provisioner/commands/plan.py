"""`provisioner plan`: what apply would change. Offline from recorded state by default (no
credentials needed: pull requests from forks have none); `--refresh` reads the tenant first.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from provisioner.commands._common import (
    add_empty_prune_option, add_target_options, check_out_file, load_specs_and_state, load_valid_specs, make_client,
    open_state, read_state, stderr_event, target_of, warnings_of,
)
from provisioner.commands._selection import add_selection_options, selection_of
from provisioner.disk.atomic import write_atomic
from provisioner.errors import ConfigError
from provisioner.spec.printable import escape
from provisioner.plan.model import Plan
from provisioner.plan.build import build_plan, explain_here
from provisioner.render.plans import RENDERERS, render_plan
from provisioner.speed.worker import Worker


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("plan", help="show what apply would change")
    add_target_options(p)
    p.add_argument("--format", choices=sorted(RENDERERS), default="text")
    p.add_argument("--out", metavar="FILE", help="save the plan for `apply FILE`")
    p.add_argument("--detailed-exitcode", action="store_true",
                   help="exit 0 with no changes, 2 with changes, 1 on error")
    p.add_argument("--refresh", action="store_true",
                   help="read the tenant first (needs credentials)")
    p.add_argument("--refresh-only", action="store_true",
                   help="read the tenant and record what it holds in state, nothing else")
    p.add_argument("--no-color", action="store_true", help="never colour the text output")
    add_empty_prune_option(p)
    add_selection_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.refresh_only:
        if selection_of(args):
            raise ConfigError("--refresh-only records the whole tenant; it takes no --target "
                              "or --exclude")
        return _refresh_only(args)
    helper = Worker.start()   # imports the analysis code and deepdiff on the other core
    try:
        target = target_of(args)
        if args.out:
            check_out_file(args.out, args, target)
        backend = open_state(target, on_warning=lambda m: stderr_event("warning", m))
        specs, state = load_specs_and_state(args, target, backend, view=not args.refresh,
                                            analyser=helper)
        tenant = None
        if args.refresh:
            from provisioner.commands._tenant import read_tenant
            tenant = read_tenant(make_client(target, stderr_event), state, specs)
        plan = build_plan(specs.campaigns, state, env=target.env, specs=specs.files,
                          remote=tenant.campaigns if tenant else None,
                          contact_lists=specs.contact_lists,
                          remote_lists=tenant.lists if tenant else None,
                          prune=target.prune, warnings=warnings_of(specs),
                          explain=helper.explain if helper else explain_here,
                          target=target.binding(),
                          allow_empty_prune=args.allow_empty_prune,
                          selection=selection_of(args))
    finally:
        if helper is not None:
            helper.close()
    emit_plan(plan, args.format, out=args.out, no_color=args.no_color)
    if args.detailed_exitcode and plan.has_changes:
        return 2
    return 0


def emit_plan(plan: Plan, fmt: str, *, out: str | None = None, no_color: bool = False) -> None:
    full = plan.to_dict() if out or fmt == "json" else None
    if out:
        save_plan(full, Path(out))   # type: ignore[arg-type]
    colour = (fmt == "text" and not no_color and sys.stdout.isatty()
              and not os.environ.get("NO_COLOR"))
    shown = full or plan.to_dict(unchanged=False)   # text and markdown only count noops
    render_plan(shown, fmt, sys.stdout, colour=colour)
    sys.stdout.flush()


def save_plan(data: dict[str, Any], path: Path) -> None:
    """Write the plan atomically (a unique temporary file renamed over it); a path that is
    not a regular file (/dev/stdout, a pipe, a symlink) is written in place instead."""
    import json

    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot save the plan ({exc.strerror})") from None


def _refresh_only(args: argparse.Namespace) -> int:
    from provisioner.remote.refresh import read_contact_lists, read_remote, record_refresh

    target = target_of(args)
    backend = open_state(target, on_warning=lambda m: stderr_event("warning", m))
    load_valid_specs(args)

    with backend.lock("refresh", timeout=args.lock_timeout):
        state = read_state(backend, target)
        if state is None:
            print("No recorded state: nothing to refresh.")
            return 0
        client = make_client(target, stderr_event)
        lists = read_contact_lists(client)
        notes = record_refresh(state, read_remote(client, state, fetch_changed=True), lists)
        backend.write(state)
    for note in notes:
        print(escape(note))
    print(f"Refresh: {len(notes)} change(s) recorded in state." if notes
          else "Refresh: the tenant matches the recorded state.")
    return 0
