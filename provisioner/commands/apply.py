"""`provisioner apply [PLANFILE]`: make the tenant match the specs, exactly once per campaign.

Order: validate specs (nothing sent if they are bad) -> refuse without approval -> take the
state lock -> settle pending intents of earlier runs -> list the tenant once (adopt, never
duplicate) -> plan -> execute, writing state after every remote action. A new state is
first written (and so bound to the target) only once the target has answered.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from provisioner.apply.executor import Applier, Outcome, Report, Settings
from provisioner.commands._common import (
    add_empty_prune_option, add_target_options, load_valid_specs, make_client, make_limiter, open_state, read_state, stderr_event,
    target_of, warnings_of,
)
from provisioner.commands._selection import add_selection_options, saved_selection, selection_of
from provisioner.commands.plan import emit_plan
from provisioner.errors import ConfigError, Interrupted, StaleStateError
from provisioner.options import count, seconds
from provisioner.plan.model import Plan
from provisioner.plan.build import build_plan, check_selection
from provisioner.spec.printable import escape
from provisioner.apply.progress import Progress
from provisioner.remote.ratelimit import choose_parallelism
from provisioner.commands._tenant import check_lists
from provisioner.remote.refresh import read_contact_lists, read_remote
from provisioner.state import State
from provisioner.state.model import describe_target, same_target

# Requests in flight at once; they share one request budget, so more than this only waits.
MAX_PARALLELISM = 64
AUTO_PARALLELISM = 16   # the most the default picks (Little's law on the measured latency)

if TYPE_CHECKING:
    from provisioner.config import Target
    from provisioner.spec.load import SpecSet
    from provisioner.state import Backend


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("apply", help="create and update campaigns to match the specs")
    add_target_options(p)
    p.add_argument("planfile", nargs="?", help="a plan saved with `plan --out FILE`")
    p.add_argument("--auto-approve", action="store_true", help="do not ask for a yes")
    p.add_argument("--parallelism", type=count(low=1, high=MAX_PARALLELISM), default=None,
                   metavar="N", help="requests in flight at once; they share one request "
                                     "budget (default: enough to use the budget at the "
                                     "latency measured on the first requests, at most "
                                     f"{AUTO_PARALLELISM})")
    p.add_argument("--create-lag", type=seconds(), default=Settings.lag_window, metavar="SECONDS",
                   help="how long the tenant's list may lag a create: a create whose outcome "
                        "is unknown is looked up for this long before it is sent again "
                        "(default %(default)g)")
    p.add_argument("--allow-start", action="store_true",
                   help="perform the plan's starts (each sends to every contact on the "
                        "campaign's lists); without it (or `allowStart: true` for the "
                        "environment) starts are skipped and apply exits 1")
    add_empty_prune_option(p)
    add_selection_options(p)
    p.add_argument("--no-color", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = target_of(args)
    target.require_remote()
    specs = load_valid_specs(args, target=target)
    saved = _load_plan_file(args.planfile) if args.planfile else None
    # A saved plan carries its own selection: it applies only what it showed.
    selection = (saved_selection(args, saved.selection, args.planfile) if saved is not None
                 else selection_of(args))
    if saved is None and not args.auto_approve and not sys.stdin.isatty():
        raise ConfigError("stdin is not a terminal: pass --auto-approve (or a saved plan file) "
                          "to apply without a prompt; nothing was sent")
    backend = open_state(target, on_warning=lambda m: stderr_event("warning", m))
    stop = threading.Event()
    with backend.lock("apply", timeout=args.lock_timeout), _signals(stop) as caught:
        state = read_state(backend, target) or State.new(target.binding())
        if saved is not None:
            _check_target(saved, target)
            _check_fresh(saved, state, specs.files)
        check_selection(selection, specs.campaigns, state,   # a typo: refused, nothing sent
                        specs.contact_lists)
        progress = Progress(sys.stderr)
        limiter = make_limiter(target, progress.event)
        client = make_client(target, progress.event, limiter,
                             connections=args.parallelism or AUTO_PARALLELISM)
        settings = Settings(parallelism=args.parallelism or 1, lag_window=args.create_lag,
                            allow_start=args.allow_start or target.allow_start)
        applier = Applier(client, backend, state, settings=settings,
                          on_event=progress.event, stop=stop)
        lists = read_contact_lists(client)
        check_lists(specs, lists)   # a misspelt contact list: refused, nothing sent
        settling_lists = bool(state.list_pending)
        unsettled = _settle(applier, state)
        if settling_lists:   # read again what settling the intents may have recorded
            lists = read_contact_lists(client)
        remote = read_remote(client, state, fetch_changed=True)
        if args.parallelism is None:   # sized from the budget and the latency just measured
            settings.parallelism = choose_parallelism(limiter.per_minute, client.latency(),
                                                      AUTO_PARALLELISM)
        if not state.serial:   # the target answered: only now is a new state bound to it
            backend.write(state)
        plan = build_plan(specs.campaigns, state, env=target.env, specs=specs.files,
                          remote=remote, contact_lists=specs.contact_lists,
                          remote_lists=lists, prune=target.prune, warnings=warnings_of(specs),
                          target=target.binding(), allow_empty_prune=args.allow_empty_prune,
                          selection=selection)
        if saved is not None:
            _check_within(saved, plan)
        emit_plan(plan, "text", no_color=args.no_color)
        _record_protection(specs, state, backend)
        if not plan.has_changes:
            return _finish(Report(outcomes=unsettled), []) if unsettled else 0
        if saved is None and not args.auto_approve and not _confirm():
            print("Apply cancelled; nothing was changed.")
            return 1
        todo = sum(1 for c in plan.changes if c.action not in ("noop", "orphan"))
        progress.start(todo, eta=limiter.eta_seconds)
        report = applier.run(plan)
        report.outcomes[:0] = unsettled
        progress.finish()
        _record_protection(specs, state, backend)
    return _finish(report, caught)


def _settle(applier: Applier, state: State) -> list[Outcome]:
    """Settle the intents earlier runs left; return those no lookup could settle (they
    make the run fail: README, "Recovery", says how to resolve them by hand)."""
    if not state.pending and not state.list_pending:
        return []
    outcomes = applier.resolve_pending()
    for outcome in outcomes:
        stderr_event("resolve" if outcome.ok else "error", f"{outcome.name}: {outcome.message}")
    return [o for o in outcomes if not o.ok]


def _record_protection(specs: SpecSet, state: State, backend: Backend) -> None:
    """Remember `protect: true` in state: once its spec is removed, prune must still see it."""
    changed = [state.mark_protected(c.lname, c.protect, kind=c.kind)
               for c in [*specs.contact_lists, *specs.campaigns]]
    if any(changed):
        backend.write(state)


def _finish(report: Report, caught: list[int]) -> int:
    done = [o for o in report.outcomes if o.ok]
    failed = report.failed
    line = f"Apply: {len(done)} done, {len(failed)} failed or skipped"
    if report.not_started:
        line += f", {len(report.not_started)} not started"
    print(line + ".")
    for outcome in failed:
        print(f"  {escape(outcome.name)}: {escape(outcome.message)}")
    if caught:
        code = 143 if caught[0] == signal.SIGTERM else 130
        print(f"Interrupted: in-flight requests were finished and recorded; not started: "
              f"{', '.join(map(escape, report.not_started)) or 'none'}. Run apply again to continue.")
        return code
    return 1 if failed else 0


@contextmanager
def _signals(stop: threading.Event) -> Iterator[list[int]]:
    """Ctrl-C / SIGTERM: send nothing new, let in-flight requests finish, save, exit."""
    caught: list[int] = []

    def handler(signum: int, _frame: Any) -> None:
        if caught:  # a second signal: stop waiting, the intents in state make it safe
            raise Interrupted("interrupted again; pending intents are resolved by the next run",
                              143 if signum == signal.SIGTERM else 130)
        caught.append(signum)
        stop.set()
        stderr_event("interrupt", "stopping: nothing new is sent; finishing in-flight requests")

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield caught
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def _confirm() -> bool:
    try:
        answer = input("Apply these changes? Only 'yes' is accepted: ")
    except EOFError:
        return False
    return answer.strip() == "yes"


def _load_plan_file(path: str) -> Plan:
    """The saved plan at `path`; ConfigError naming the file for anything else
    (provisioner/plan/saved.py checks its shape in full)."""
    from provisioner.plan.saved import read_plan

    return read_plan(path)


def _check_target(saved: Plan, target: Target) -> None:
    """A saved plan applies only to the environment and tenant it was made for."""
    if saved.target is None:
        raise StaleStateError("the saved plan does not record the target it was made for "
                              "(made by an older version?); run plan again")
    if saved.env != target.env or not same_target(saved.target, target.binding()):
        raise StaleStateError(f"the saved plan was made for environment {saved.env!r} "
                              f"({describe_target(saved.target)}), not {target.env!r} "
                              f"({describe_target(target.binding())}); run plan again")


def _check_fresh(saved: Plan, state: State, spec_files: dict[str, str]) -> None:
    """A saved plan applies only to the state and specs it was made from."""
    if saved.lineage is not None and saved.lineage != state.lineage:
        raise StaleStateError(f"the saved plan was made for state lineage {saved.lineage}, "
                              f"not {state.lineage}; run plan again")
    if saved.serial is not None and saved.serial != state.serial:
        raise StaleStateError(f"the state has moved on since the plan was saved (serial "
                              f"{saved.serial} -> {state.serial}); run plan again")
    if saved.lineage is None and state.serial:
        raise StaleStateError("the plan was made with no state, but state exists now; "
                              "run plan again")
    if saved.specs != spec_files:
        changed = sorted(set(saved.specs.items()) ^ set(spec_files.items()))
        raise StaleStateError(f"the specs changed since the plan was saved ({changed[0][0]} "
                              "and maybe others); run plan again")


def _check_within(saved: Plan, fresh: Plan) -> None:
    """Execute only what the saved plan showed. A create that became an adopt (the tenant
    already has it) is safer and allowed; anything else new is refused."""
    allowed = {(c.lname, c.action, c.digest_after) for c in saved.changes}
    for change in fresh.changes:
        if change.action in ("noop", "orphan", "blocked"):
            continue
        key = (change.lname, change.action, change.digest_after)
        if key in allowed or (change.action == "adopt"
                              and (change.lname, "create", change.digest_after) in allowed):
            continue
        raise StaleStateError(f"the tenant differs from the saved plan: {change.action} "
                              f"{change.name!r} was not in it; run plan again")

