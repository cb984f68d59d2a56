"""Target configuration: `provisioner.yaml` environments, overridden by environment variables
and command-line options. Credentials come only from the environment.

provisioner.yaml:

    default: dev                 # optional when there is only one environment
    environments:
      dev:
        host: https://platform.kore.ai
        streamId: st-...
        accountId: ...
        iid: st-...              # optional: defaults to streamId, as the create page's sample shows
        state: state/dev.json    # or postgresql://...; default state/<env>.json
        workspace: dev           # PostgreSQL workspace; default: the environment's name
        rateLimitPerMinute: 60   # the documented per-account limit
        prune: false             # delete campaigns whose spec was removed
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from provisioner.errors import ConfigError

CONFIG_FILE = "provisioner.yaml"
ENV_KEYS = ("host", "streamId", "accountId", "iid", "state", "workspace", "rateLimitPerMinute",
            "prune", "default", "createPrefix", "apiPrefix")
# Decision: create uses the create page's own path (/api/v2/public); every other call uses
# /campaign/api/v2/public, as their pages do (koreai-campaign-apis.md §0.1). Both configurable.
DEFAULT_CREATE_PREFIX = "/api/v2/public"
DEFAULT_API_PREFIX = "/campaign/api/v2/public"


@dataclass(frozen=True)
class Target:
    env: str
    host: str
    stream_id: str
    account_id: str
    iid: str
    state: str
    workspace: str
    rate_limit_per_minute: int
    prune: bool
    create_prefix: str = DEFAULT_CREATE_PREFIX
    api_prefix: str = DEFAULT_API_PREFIX

    def binding(self) -> dict[str, str]:
        """What a state file is bound to."""
        return {"host": self.host, "streamId": self.stream_id, "accountId": self.account_id}

    def require_remote(self) -> None:
        """Raise ConfigError unless host, streamId and accountId are all known."""
        missing = [name for name, value in (("host (KORE_HOST)", self.host),
                                            ("streamId (KORE_STREAM_ID)", self.stream_id),
                                            ("accountId (KORE_ACCOUNT_ID)", self.account_id))
                   if not value]
        if missing:
            raise ConfigError(f"environment {self.env!r} has no {', '.join(missing)}; "
                              f"set it in {CONFIG_FILE} or the environment")


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, client_secret=<hidden>)"


def load_credentials(environ: Mapping[str, str] | None = None) -> Credentials:
    """Client id and secret from KORE_CLIENT_ID / KORE_CLIENT_SECRET (never from a file)."""
    environ = os.environ if environ is None else environ
    client_id = environ.get("KORE_CLIENT_ID", "")
    secret = environ.get("KORE_CLIENT_SECRET", "")
    if not client_id or not secret:
        missing = [n for n, v in (("KORE_CLIENT_ID", client_id), ("KORE_CLIENT_SECRET", secret))
                   if not v]
        raise ConfigError(f"credentials missing: set {' and '.join(missing)} in the environment")
    return Credentials(client_id, secret)


def read_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """The environments of provisioner.yaml ({} when the file does not exist)."""
    if not path.exists():
        return {}
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    envs = doc.get("environments") if isinstance(doc, dict) else None
    if not isinstance(envs, dict) or not all(isinstance(v, dict) for v in envs.values()):
        raise ConfigError(f"{path}: expected `environments:` mapping names to settings")
    for name, settings in envs.items():
        unknown = sorted(set(settings) - set(ENV_KEYS))
        if unknown:
            raise ConfigError(f"{path}: environments.{name}: unknown key {unknown[0]!r} "
                              f"(known: {', '.join(ENV_KEYS)})")
    default = doc.get("default")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{path}: default must be an environment name, not {default!r}")
    if default is not None and default not in envs:
        raise ConfigError(f"{path}: default {default!r} is not an environment")
    if default is not None:
        envs[default] = {**envs[default], "default": True}
    return envs


def pick_environment(envs: dict[str, dict[str, Any]], name: str | None) -> str:
    """--env NAME, else the only environment, else the one marked default."""
    if name:
        if envs and name not in envs:
            raise ConfigError(f"no environment {name!r} in {CONFIG_FILE} "
                              f"(have: {', '.join(sorted(envs))})")
        return name
    if len(envs) == 1:
        return next(iter(envs))
    defaults = [n for n, s in envs.items() if s.get("default")]
    if len(defaults) == 1:
        return defaults[0]
    if not envs:
        return "default"
    raise ConfigError(f"{CONFIG_FILE} has several environments ({', '.join(sorted(envs))}) "
                      "and none is marked default: pass --env NAME")


def load_target(env_name: str | None = None, *, state: str | None = None,
                config_path: Path | None = None,
                environ: Mapping[str, str] | None = None) -> Target:
    """Resolve the target: file settings < environment variables < command-line options."""
    environ = os.environ if environ is None else environ
    envs = read_config_file(config_path or Path(CONFIG_FILE))
    env = pick_environment(envs, env_name)
    settings = dict(envs.get(env, {}))
    overrides = {"host": "KORE_HOST", "streamId": "KORE_STREAM_ID", "accountId": "KORE_ACCOUNT_ID",
                 "rateLimitPerMinute": "KORE_RATE_LIMIT_PER_MINUTE", "state": "PROVISIONER_STATE"}
    for key, var in overrides.items():
        if environ.get(var):
            settings[key] = environ[var]
    if state:
        settings["state"] = state
    return _build_target(env, settings)


def _build_target(env: str, s: dict[str, Any]) -> Target:
    host = str(s.get("host") or "").rstrip("/")
    if host:
        from provisioner.remote.client import check_host  # the client owns the http/https rule
        check_host(host)
    stream_id = str(s.get("streamId") or "")
    rate = _whole_number(s.get("rateLimitPerMinute", 60))
    if rate is None:
        raise ConfigError(f"environment {env!r}: rateLimitPerMinute must be a whole number >= 0, "
                          f"not {s.get('rateLimitPerMinute')!r}")
    prune = s.get("prune", False)
    if not isinstance(prune, bool):   # "false" (a string) must never switch deletion on
        raise ConfigError(f"environment {env!r}: prune must be true or false, not {prune!r}")
    return Target(
        env=env, host=host, stream_id=stream_id, account_id=str(s.get("accountId") or ""),
        iid=str(s.get("iid") or stream_id), state=str(s.get("state") or f"state/{env}.json"),
        workspace=str(s.get("workspace") or env), rate_limit_per_minute=rate,
        prune=prune,
        create_prefix=str(s.get("createPrefix") or DEFAULT_CREATE_PREFIX),
        api_prefix=str(s.get("apiPrefix") or DEFAULT_API_PREFIX),
    )


def _whole_number(value: Any) -> int | None:
    """A count from YAML or the environment: 60 or "60", never 1.5, True or -1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value if isinstance(value, int) and value >= 0 else None

