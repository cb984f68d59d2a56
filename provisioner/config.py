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
        apiPrefix: /campaign/api/v2/public   # URL paths only: no host, query, `..` or spaces
        createPrefix: /api/v2/public
        voiceUpdateType: voice   # campaignType of a voice campaign's PUT (sms or voice)
        readyTimeoutSeconds: 60  # how long apply waits for a new voice campaign to be Ready

Every problem is one located line (`provisioner.yaml:LINE:COL: environments.ENV.KEY: ...`,
or the variable or option that overrode it): a repeated key, a number YAML guessed where a
string belongs, a control character, a count out of range (provisioner/options.py).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from provisioner.errors import ConfigError
from provisioner.options import MAX_SECONDS, finite_number, whole_number

CONFIG_FILE = "provisioner.yaml"
OVERRIDES = {"host": "KORE_HOST", "streamId": "KORE_STREAM_ID", "accountId": "KORE_ACCOUNT_ID",
             "rateLimitPerMinute": "KORE_RATE_LIMIT_PER_MINUTE", "state": "PROVISIONER_STATE"}
TEXT_KEYS = ("host", "streamId", "accountId", "iid", "state", "workspace", "createPrefix",
             "apiPrefix")
_PREFIX = re.compile(r"(?:/[A-Za-z0-9._~-]+)+")
ENV_KEYS = ("host", "streamId", "accountId", "iid", "state", "workspace", "rateLimitPerMinute",
            "prune", "default", "createPrefix", "apiPrefix", "vars", "policy", "jti",
            "voiceUpdateType", "readyTimeoutSeconds", "allowStart")
# JWT: one token reused until shortly before it expires (no `jti`), or a new token with its
# own `jti` per request for a JWT app with "Enforce JTI" on (provisioner/remote/auth.py).
JTI_MODES = ("reuse", "per-request")
# An environment's `policy:` (checked on campaigns by provisioner/spec/policy.py).
POLICY_KEYS = ("callerIds", "requireDncList", "quietHours", "maxPriority")
QUIET_HOURS = ("error", "warning", "off")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Decision: create uses the create page's own path (/api/v2/public); every other call uses
# /campaign/api/v2/public, as their pages do (koreai-campaign-apis.md §0.1). Both configurable.
DEFAULT_CREATE_PREFIX = "/api/v2/public"
DEFAULT_API_PREFIX = "/campaign/api/v2/public"
# Decision: update-voice-campaign-v2's URL says campaignType=sms, its query table "voice"
# (provisioner/remote/client.py `update`); the table wins unless `voiceUpdateType: sms`.
VOICE_UPDATE_TYPES = ("voice", "sms")
DEFAULT_READY_TIMEOUT = 60.0   # seconds a voice campaign may stay Preparing after create

MAX_PER_MINUTE = 60_000   # 1,000 a second; the documented budget is 60 (0 means unlimited)


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
    # what resolving specs for this environment needs (provisioner/spec/resolve.py Context)
    environments: tuple[str, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)
    var_places: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    jti: str = "reuse"
    voice_update_type: str = "voice"
    ready_timeout: float = DEFAULT_READY_TIMEOUT
    # Starting a campaign sends to customers: apply starts one only with --allow-start or
    # this (issue 17). Meant for an environment such as dev whose lists are test numbers.
    allow_start: bool = False

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


class _Places:
    """Where each setting came from, for errors: `file:line:col: environments.ENV.KEY`,
    or the environment variable or option that overrode it."""

    def __init__(self, path: Path, doc: Any = None) -> None:
        self.path, self.doc, self.overrides = path, doc, dict[str, str]()

    def of(self, env: str, key: str, *, at_key: bool = False) -> str:
        if key in self.overrides:
            return self.overrides[key]
        if self.doc is None:
            return f"environment {env!r}: {key}"
        line, column = self.doc.locate(("environments", env, key), key=at_key)
        return f"{self.path}:{line}:{column}: environments.{env}.{key}"

    def of_path(self, env: str, path: tuple[Any, ...], *, at_key: bool = False) -> str:
        """`of` for a setting below an environment's key (vars.NAME, policy.KEY)."""
        if self.doc is None:
            return f"environment {env!r}: {'.'.join(map(str, path))}"
        line, column = self.doc.locate(("environments", env, *path), key=at_key)
        return f"{self.path}:{line}:{column}: environments.{env}.{'.'.join(map(str, path))}"

    def place(self, path: tuple[Any, ...]) -> tuple[str, int, int]:
        """(file, line, column) of the value at `path`."""
        if self.doc is None:
            return (str(self.path), 0, 0)
        line, column = self.doc.locate(path)
        return (str(self.path), line, column)


def read_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """The environments of provisioner.yaml ({} when the file does not exist)."""
    return _read_config(path)[0]


def _read_config(path: Path) -> tuple[dict[str, dict[str, Any]], _Places]:
    if not path.exists() and not path.is_symlink():
        return {}, _Places(path)
    doc = _parse_config(path)
    where = _Places(path, doc)
    envs = doc.value.get("environments")
    if not isinstance(envs, dict) or not all(isinstance(v, dict) for v in envs.values()):
        line, column = doc.locate(("environments",))
        raise ConfigError(f"{path}:{line}:{column}: expected `environments:` mapping names "
                          "to settings")
    for name, settings in envs.items():
        unknown = sorted(set(settings) - set(ENV_KEYS))
        if unknown:
            raise ConfigError(f"{where.of(name, unknown[0], at_key=True)}: unknown key {unknown[0]!r} "
                              f"(known: {', '.join(ENV_KEYS)})")
    default = doc.value.get("default")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{path}: default must be an environment name, not {default!r}")
    if default is not None and default not in envs:
        raise ConfigError(f"{path}: default {default!r} is not an environment")
    if default is not None:
        envs[default] = {**envs[default], "default": True}
    return envs, where


def _parse_config(path: Path) -> Any:
    """The one YAML document of provisioner.yaml, read with the spec reader's walker (which
    refuses duplicate keys, unknown tags, deep nesting and alias bombs, all located)."""
    from yaml.nodes import MappingNode

    from provisioner.disk.limits import MAX_FILE_BYTES
    from provisioner.disk.regular import NotRegularFile, read_regular
    from provisioner.disk.yamlnodes import Issue, parse

    try:   # one byte past the cap is enough to refuse it; a FIFO is named, not waited on
        data = read_regular(path, MAX_FILE_BYTES + 1)[0]
    except NotRegularFile:
        raise ConfigError(f"{path}: not a regular file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    docs, issues = parse(data)
    if docs and not isinstance(docs[0].node, MappingNode):
        issues.append(Issue(docs[0].line, docs[0].column, "$",
                            "expected a mapping with `environments:`"))
    elif docs:
        issues += docs[0].issues
    if len(docs) > 1:
        issues.append(Issue(docs[1].line, docs[1].column, "$", "more than one YAML document"))
    if issues:
        first, more = issues[0], len(issues) - 1
        where = "" if first.path == "$" else f" {first.path.removeprefix('$.')}:"
        raise ConfigError(f"{path}:{first.line}:{first.column}:{where} {first.message}"
                          + (f" (and {more} more problem(s))" if more else ""))
    return docs[0]


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
    envs, where = _read_config(config_path or Path(CONFIG_FILE))
    env = pick_environment(envs, env_name)
    settings = dict(envs.get(env, {}))
    for key, var in OVERRIDES.items():
        if environ.get(var):
            settings[key], where.overrides[key] = environ[var], var
    if state:
        settings["state"], where.overrides["state"] = state, "--state"
    target = _build_target(env, settings, where)
    vars_, places = _vars(env, settings.get("vars"), where)
    policy = _policy(env, settings.get("policy"), where)
    jti = settings.get("jti", "reuse")
    if jti not in JTI_MODES:
        raise ConfigError(f"{where.of(env, 'jti')}: jti must be one of {', '.join(JTI_MODES)}, "
                          f"not {_short(jti)}")
    return dataclasses.replace(target, environments=tuple(envs) or (env,), vars=vars_,
                               var_places=places, policy=policy, jti=jti)


def load_environments(config_path: Path | None = None) -> list[str]:
    """The environment names the config file names (in its order), [] without one."""
    return list(_read_config(config_path or Path(CONFIG_FILE))[0])


def _vars(env: str, given: Any, where: _Places) -> tuple[dict[str, Any],
                                                          dict[str, tuple[str, int, int]]]:
    """An environment's `vars:` and where each was written (for located spec problems)."""
    if given is None:
        return {}, {}
    if not isinstance(given, dict):
        raise ConfigError(f"{where.of(env, 'vars')}: vars must map NAME to a value")
    places = {}
    for name in given:
        if not isinstance(name, str) or not _VAR_NAME.match(name):
            raise ConfigError(f"{where.of_path(env, ('vars', name), at_key=True)}: variable "
                              f"name {str(name)[:60]!r} must be letters, digits and _ "
                              "(not starting with a digit)")
        places[name] = where.place(("environments", env, "vars", name))
    return dict(given), places


def _policy(env: str, given: Any, where: _Places) -> dict[str, Any]:
    if given is None:
        return {}
    problems = policy_problems(given)
    if problems:   # the first, located
        path, message = problems[0]
        raise ConfigError(f"{where.of_path(env, ('policy', *path), at_key=bool(path))}: "
                          f"{message}")
    return dict(given)


def policy_problems(policy: Any) -> list[tuple[tuple[str, ...], str]]:
    """What is wrong with a config's `policy:` mapping: [(path under it, message)]."""
    if not isinstance(policy, dict):
        return [((), "policy must be a mapping of " + ", ".join(POLICY_KEYS))]
    found: list[tuple[tuple[str, ...], str]] = [
        ((str(key),), f"unknown policy {key!r} (known: {', '.join(POLICY_KEYS)})")
        for key in policy if key not in POLICY_KEYS]
    ids = policy.get("callerIds", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        found.append((("callerIds",), "callerIds must be a list of phone numbers (quoted)"))
    if not isinstance(policy.get("requireDncList", False), bool):
        found.append((("requireDncList",), "requireDncList must be true or false"))
    if policy.get("quietHours", "warning") not in QUIET_HOURS:
        found.append((("quietHours",), f"quietHours must be one of {', '.join(QUIET_HOURS)}"))
    if "maxPriority" in policy and not _is_priority(policy["maxPriority"]):
        found.append((("maxPriority",), 'maxPriority must be a priority "1" to "5"'))
    return found


def _is_priority(value: Any) -> bool:
    return (isinstance(value, (str, int)) and not isinstance(value, bool)
            and str(value).strip() in ("1", "2", "3", "4", "5"))


def _build_target(env: str, s: dict[str, Any], where: _Places) -> Target:
    text = {key: _text(s.get(key), where.of(env, key)) for key in TEXT_KEYS}
    host = text["host"].rstrip("/")
    if host:
        check_host(host, where.of(env, "host"))
    try:
        rate = whole_number(s.get("rateLimitPerMinute", 60), high=MAX_PER_MINUTE)
    except ValueError as exc:
        raise ConfigError(f"{where.of(env, 'rateLimitPerMinute')}: {exc}") from None
    prune = s.get("prune", False)
    if not isinstance(prune, bool):   # "false" (a string) must never switch deletion on
        raise ConfigError(f"{where.of(env, 'prune')}: prune must be true or false, "
                          f"not {prune!r}")
    allow_start = s.get("allowStart", False)
    if not isinstance(allow_start, bool):   # "false" (a string) must never start anything
        raise ConfigError(f"{where.of(env, 'allowStart')}: allowStart must be true or "
                          f"false, not {allow_start!r}")
    stream_id = text["streamId"]
    return Target(
        env=env, host=host, stream_id=stream_id, account_id=text["accountId"],
        iid=text["iid"] or stream_id, state=text["state"] or f"state/{env}.json",
        workspace=text["workspace"] or env, rate_limit_per_minute=rate, prune=prune,
        allow_start=allow_start,
        create_prefix=_prefix(text["createPrefix"], DEFAULT_CREATE_PREFIX,
                              where.of(env, "createPrefix")),
        api_prefix=_prefix(text["apiPrefix"], DEFAULT_API_PREFIX, where.of(env, "apiPrefix")),
        **_voice_settings(env, s, where),
    )


def _voice_settings(env: str, s: dict[str, Any], where: _Places) -> dict[str, Any]:
    """`voiceUpdateType` and `readyTimeoutSeconds`, checked (Target's field names)."""
    voice_type = s.get("voiceUpdateType", "voice")
    if voice_type not in VOICE_UPDATE_TYPES:
        raise ConfigError(f"{where.of(env, 'voiceUpdateType')}: voiceUpdateType must be one "
                          f"of {', '.join(VOICE_UPDATE_TYPES)}, not {_short(voice_type)}")
    try:
        ready = finite_number(s.get("readyTimeoutSeconds", DEFAULT_READY_TIMEOUT),
                              high=MAX_SECONDS)
    except ValueError as exc:
        raise ConfigError(f"{where.of(env, 'readyTimeoutSeconds')}: {exc}") from None
    return {"voice_update_type": voice_type, "ready_timeout": ready}


def _text(value: Any, place: str) -> str:
    """A string setting ("" when absent): never a number YAML guessed (quote ids: `0123` is
    83 to YAML), never a control or invisible character (a header or URL would carry it)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{place}: must be a string (quote it), not {_short(value)}")
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")),
               None)
    if bad is not None:
        raise ConfigError(f"{place}: contains the control or invisible character "
                          f"U+{ord(bad):04X}")
    return value


def _prefix(value: str, default: str, place: str) -> str:
    """A URL path such as /api/v2/public. Anything else could move the request elsewhere:
    `@host` or `//host` would turn the configured host into user info, `?`/`#` would cut
    the path, `..` would climb out of it."""
    if not value:
        return default
    if not _PREFIX.fullmatch(value) or {".", ".."} & set(value.split("/")):
        raise ConfigError(f"{place}: {_short(value)} is not a URL path like {default!r} "
                          "('/'-separated segments of letters, digits, '.', '_', '~' and '-'; "
                          "no host, query, fragment, '..' or spaces)")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_loopback(hostname: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def check_host(url: str, where: str = "host") -> str:
    """Return the base URL without a trailing slash; ConfigError when it is not usable.

    Plain http is refused except on loopback: the JWT in the `auth` header would travel in
    clear text. User info, query and fragment are refused so no credential hides in a URL
    that error messages might show.
    """
    if any(ch in url.strip() for ch in "?#\\") or any(not ch.isprintable() or ch.isspace()
                                                       for ch in url.strip()):
        raise ConfigError(f"{where}: give only scheme, host, port and path: no '?', '#', "
                          "backslash, space or control character")
    try:
        parts = urlsplit(url.strip())
        parts.port   # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ConfigError(f"{where}: {url!r} is not a usable URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {url!r} is not an http(s) URL with a host name")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"{where}: give only scheme, host, port and path, "
                          f"no user info, query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(f"{where}: plain http:// is refused for {parts.hostname!r} "
                          f"(only loopback may use it); use https://")
    return url.strip().rstrip("/")
