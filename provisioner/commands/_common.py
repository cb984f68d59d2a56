"""Options and set-up shared by the commands that work on a target: where the specs are,
which environment, which state, and the API client."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TextIO

from provisioner.config import Target, load_credentials, load_target
from provisioner.errors import ConfigError, ProvisionerError, SpecError
from provisioner.options import seconds
from provisioner.spec.printable import escape

if TYPE_CHECKING:
    from provisioner.remote.client import KoreClient
    from provisioner.remote.ratelimit import RateLimiter
    from provisioner.speed.cache import SpecCache
    from provisioner.state import Backend, State
    from provisioner.state.model import RecordedState
    from provisioner.spec.files import Analyser
    from provisioner.spec.load import SpecLoading, SpecSet
    from provisioner.spec.record import Context


def add_target_options(parser: argparse.ArgumentParser, *, campaigns: bool = True) -> None:
    parser.add_argument("--env", help="environment in provisioner.yaml (default: the only one, "
                                      "or the one marked default)")
    if campaigns:
        parser.add_argument("--campaigns", metavar="DIR",
                            help="spec folder (env PROVISIONER_CAMPAIGNS, default campaigns/)")
    parser.add_argument("--state", metavar="LOCATION",
                        help="state file or postgresql:// URL (env PROVISIONER_STATE)")
    parser.add_argument("--lock-timeout", type=seconds(), default=0.0, metavar="SECONDS",
                        help="wait this long for a held state lock (default: fail at once)")
    add_config_option(parser)
    add_cache_option(parser)


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE",
                        default=os.environ.get("PROVISIONER_CONFIG") or "provisioner.yaml",
                        help="the configuration file (env PROVISIONER_CONFIG, default "
                             "provisioner.yaml)")


def add_empty_prune_option(parser: argparse.ArgumentParser) -> None:
    """plan, apply and drift: the explicit yes to pruning from an empty desired set."""
    parser.add_argument("--allow-empty-prune", action="store_true",
                        help="with prune on, delete every recorded campaign when no spec "
                             "is loaded (refused without this flag)")


def add_cache_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the cache of analysed spec files "
                             "(env PROVISIONER_CACHE_DIR, default .provisioner-cache/)")


def spec_cache(args: argparse.Namespace) -> SpecCache | None:
    """The spec cache for this run, or None with --no-cache."""
    if getattr(args, "no_cache", False):
        return None
    from provisioner.speed.cache import SpecCache, cache_dir
    return SpecCache(cache_dir())


def campaigns_dir(args: argparse.Namespace) -> str:
    return (getattr(args, "campaigns", None) or os.environ.get("PROVISIONER_CAMPAIGNS")
            or "campaigns")


def target_of(args: argparse.Namespace) -> Target:
    return load_target(args.env, state=args.state, config_path=Path(args.config))


def check_out_file(out: str, args: argparse.Namespace, target: Target) -> None:
    """Refuse an output file that is one the tool reads or records: the state file (or its
    backup, lock or temporary files), provisioner.yaml, or anything under the campaigns
    folder. Symlinks are followed, so no link or `..` path slips past."""
    from provisioner.state import is_postgres

    dest = Path(os.path.realpath(out))
    if not is_postgres(target.state):
        given = Path(target.state)   # the link itself (its backup may sit beside it) and
        for state in {Path(os.path.realpath(given.parent)) / given.name,   # what it points to
                      Path(os.path.realpath(given))}:
            if dest == state or (dest.parent == state.parent
                                 and dest.name.startswith(f"{state.name}.")):
                raise ConfigError(f"--out {out}: that is the state file {target.state} (or "
                                  "its backup or lock); choose another file")
    if dest == Path(os.path.realpath(args.config)):
        raise ConfigError(f"--out {out}: that is the configuration file {args.config}; "
                          "choose another file")
    folder = campaigns_dir(args)
    if dest.is_relative_to(os.path.realpath(folder)):
        raise ConfigError(f"--out {out}: that is inside the campaigns folder {folder} (a "
                          "saved plan there would be read as a spec); choose another file")


def start_specs(args: argparse.Namespace, analyser: Analyser | None = None,
                target: Target | None = None) -> SpecLoading:
    """Start loading every spec, resolved for the target's environment (worker processes
    begin): the caller may read meanwhile, then `valid_specs` checks them. Nothing remote or
    recorded is touched before that."""
    from provisioner.spec.load import start_loading

    folder = campaigns_dir(args)
    if not Path(folder).exists():
        raise SpecError(f"{folder}: no such campaigns folder")
    context = spec_context(target or target_of(args))
    return start_loading([folder], cache=spec_cache(args), analyser=analyser, context=context)


def spec_context(target: Target) -> Context:
    """What resolving specs for the target's environment needs (provisioner/spec/resolve.py)."""
    from provisioner.spec.record import Context

    return Context(target.env, target.environments or (target.env,), target.vars,
                   target.var_places, target.policy, ())


def valid_specs(loading: SpecLoading, args: argparse.Namespace, err: TextIO = sys.stderr
                ) -> SpecSet:
    """The loaded specs; every problem printed; SpecError (exit 1) if any is an error."""
    from provisioner.render.problems import format_problem

    specs = loading.result()
    for problem in specs.problems:
        print(format_problem(problem), file=err)
    errors = sum(1 for p in specs.problems if p.severity == "error")
    if errors:
        raise SpecError(f"{errors} problem(s) in the specs under {campaigns_dir(args)}; "
                        "nothing was changed")
    return specs


def load_valid_specs(args: argparse.Namespace, err: TextIO = sys.stderr,
                     target: Target | None = None) -> SpecSet:
    """Load and validate every spec: `valid_specs(start_specs(args), args)`."""
    return valid_specs(start_specs(args, target=target), args, err)


def warnings_of(specs: SpecSet) -> list[dict[str, Any]]:
    return [{"file": p.file, "line": p.line, "column": p.column, "path": p.path,
             "message": p.message} for p in specs.problems if p.severity == "warning"]


def load_specs_and_state(args: argparse.Namespace, target: Target, backend: Backend, *,
                         view: bool = False, analyser: Analyser | None = None
                         ) -> tuple[SpecSet, RecordedState | None]:
    """The valid specs and the recorded state, the state read while the specs are parsed
    in worker processes. A spec problem is reported before any state problem. With `view`
    (a plan that only reads) the state may come as a read-only view from the cache, its
    bodies loaded one by one when asked for (provisioner/speed/state_index.py)."""
    folder = None
    if view and not getattr(args, "no_cache", False):
        from provisioner.speed.cache import cache_dir
        folder = cache_dir()
    loading = start_specs(args, analyser, target)
    state: RecordedState | None = None
    state_error: ProvisionerError | None = None
    try:
        state = (read_view(backend, target, folder) if folder else read_state(backend, target))
    except ProvisionerError as exc:
        state_error = exc   # said after the specs' problems
    specs = valid_specs(loading, args)
    if state_error is not None:
        raise state_error
    return specs, state


def open_state(target: Target, on_warning: Callable[[str], None] | None = None) -> Backend:
    from provisioner.state import open_backend

    return open_backend(target.state, workspace=target.workspace, on_warning=on_warning)


def read_state(backend: Backend, target: Target) -> State | None:
    """The recorded state (None if there is none), refused if it belongs to another target."""
    state = backend.read()
    _check_bound(state, target)
    return state


def read_view(backend: Backend, target: Target, cache: Path) -> RecordedState | None:
    """`read_state` for a command that only reads: a local file's state comes as a
    read-only view from its index in `cache` (provisioner/speed/state_index.py), its bodies
    read one by one when asked for."""
    from provisioner.state.local import LocalBackend

    if isinstance(backend, LocalBackend) and not backend.has_journal():
        from provisioner.speed.state_index import read_view as indexed

        view: RecordedState | None = indexed(backend, cache)
    else:   # PostgreSQL: names, ids and digests; a local journal a killed run left: in full
        view = backend.read_view()
    _check_bound(view, target)
    return view


def _check_bound(state: RecordedState | None, target: Target) -> None:
    """StateError when `state` was recorded for another target."""
    if state is not None and target.host:
        state.check_target(target.binding())


def make_limiter(target: Target, on_event: Callable[[str, str], None]) -> RateLimiter:
    """The one request budget every request of this run shares."""
    from provisioner.remote.ratelimit import RateLimiter

    return RateLimiter(target.rate_limit_per_minute,
                       on_wait=lambda s, why: on_event("wait", f"waiting {s:.0f}s: {why}"))


def make_client(target: Target, on_event: Callable[[str, str], None],
                limiter: RateLimiter | None = None, connections: int = 10) -> KoreClient:
    """A KoreClient for the target, paced by the environment's request budget, keeping up
    to `connections` connections alive (apply: its parallelism)."""
    from provisioner.remote.auth import KoreJWTAuth
    from provisioner.remote.client import ApiTarget, KoreClient

    target.require_remote()
    creds = load_credentials()
    api = ApiTarget(host=target.host, stream_id=target.stream_id, account_id=target.account_id,
                    iid=target.iid, create_prefix=target.create_prefix, prefix=target.api_prefix,
                    voice_update_type=target.voice_update_type,
                    ready_timeout=target.ready_timeout)
    auth = KoreJWTAuth(creds.client_id, creds.client_secret, reuse=target.jti == "reuse")
    return KoreClient(api, auth, limiter=limiter or make_limiter(target, on_event),
                      on_event=on_event, connections=connections)


def stderr_event(kind: str, message: str) -> None:
    print(escape(f"{kind}: {message}"), file=sys.stderr, flush=True)
