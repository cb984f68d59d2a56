"""Target resolution: file < environment < options; credentials only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.config import load_credentials, load_target
from provisioner.errors import ConfigError

CONFIG = """\
default: dev
environments:
  dev: {host: "https://dev.example", streamId: st-dev, accountId: acc-dev}
  prod: {host: "https://prod.example", streamId: st-prod, accountId: acc-prod, iid: st-x,
         state: "postgresql://db/x", rateLimitPerMinute: 30, prune: true}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "provisioner.yaml"
    path.write_text(CONFIG)
    return path


def test_default_environment_and_iid_defaults_to_stream_id(config: Path) -> None:
    target = load_target(None, config_path=config, environ={})
    assert (target.env, target.host, target.iid, target.state) == (
        "dev", "https://dev.example", "st-dev", "state/dev.json")
    assert target.rate_limit_per_minute == 60 and target.prune is False


def test_named_environment_and_overrides(config: Path) -> None:
    target = load_target("prod", config_path=config, state="other.json",
                         environ={"KORE_HOST": "https://override.example",
                                  "KORE_RATE_LIMIT_PER_MINUTE": "10"})
    assert (target.host, target.iid, target.state, target.rate_limit_per_minute, target.prune) \
        == ("https://override.example", "st-x", "other.json", 10, True)


def test_plain_http_refused_except_on_loopback(config: Path) -> None:
    with pytest.raises(ConfigError, match="http"):
        load_target("dev", config_path=config, environ={"KORE_HOST": "http://example.com"})
    ok = load_target("dev", config_path=config, environ={"KORE_HOST": "http://127.0.0.1:9"})
    assert ok.host == "http://127.0.0.1:9"


def test_unknown_environment_and_key_are_clear_errors(config: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no environment 'qa'"):
        load_target("qa", config_path=config, environ={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("environments:\n  dev: {hots: x}\n")
    with pytest.raises(ConfigError, match="unknown key 'hots'"):
        load_target(None, config_path=bad, environ={})


def test_credentials_only_from_environment_and_never_shown() -> None:
    creds = load_credentials({"KORE_CLIENT_ID": "id", "KORE_CLIENT_SECRET": "hush-123"})
    assert "hush-123" not in repr(creds)
    with pytest.raises(ConfigError, match="KORE_CLIENT_SECRET"):
        load_credentials({"KORE_CLIENT_ID": "id"})


@pytest.mark.parametrize("settings, fragment", [
    ('prune: "false"', "prune must be true or false"),
    ("rateLimitPerMinute: 1.5", "rateLimitPerMinute: must be a whole number"),
    ('host: "http://[::1"', "not a usable URL"),
    ('host: "https://h.example:abc"', "not a usable URL"),
])
def test_settings_of_the_wrong_kind_are_refused(tmp_path: Path, settings: str,
                                                fragment: str) -> None:
    path = tmp_path / "provisioner.yaml"
    path.write_text(f"environments:\n  dev: {{{settings}}}\n")
    with pytest.raises(ConfigError, match=fragment):
        load_target(None, config_path=path, environ={})


def test_default_must_name_an_environment(tmp_path: Path) -> None:
    path = tmp_path / "provisioner.yaml"
    path.write_text("default: [dev]\nenvironments:\n  dev: {}\n")
    with pytest.raises(ConfigError, match="default must be an environment name"):
        load_target(None, config_path=path, environ={})


def test_custom_prefixes_that_are_paths_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "provisioner.yaml"
    path.write_text("environments:\n  dev: {apiPrefix: /gw/campaign/api/v2.1/public_x,"
                    " createPrefix: /api/v2/public}\n")
    target = load_target(None, config_path=path, environ={})
    assert (target.api_prefix, target.create_prefix) == ("/gw/campaign/api/v2.1/public_x",
                                                          "/api/v2/public")


HOSTILE = ["@evil.example", "@evil.example:80/x", "//evil.example", "\\\\evil.example",
           "/x?@evil.example", "/x#@evil.example", "/a/../../b", ".evil.example", ":1@e.x/"]


@pytest.mark.parametrize("key", ["apiPrefix", "createPrefix"])
@pytest.mark.parametrize("prefix", HOSTILE)
def test_a_request_url_always_has_the_configured_host(tmp_path: Path, key: str,
                                                      prefix: str) -> None:
    """The finding: `apiPrefix: "@evil.example"` made http://127.0.0.1:9@evil.example/...,
    sending the token to evil.example over plain http. Whatever a prefix holds, it is refused,
    or the URL the client builds (base + prefix + path) keeps the configured host."""
    from urllib.parse import urlsplit

    path = tmp_path / "provisioner.yaml"
    path.write_text(f"environments:\n  dev: {{host: 'http://127.0.0.1:9', {key}: '{prefix}'}}\n")
    try:
        target = load_target(None, config_path=path, environ={})
    except ConfigError as exc:
        assert f"{path}:2:" in str(exc) and f"environments.dev.{key}" in str(exc)
        return
    url = target.host + (target.api_prefix if key == "apiPrefix" else target.create_prefix)
    parts = urlsplit(url + "/st-1/campaign")
    assert (parts.netloc, parts.query, parts.fragment) == ("127.0.0.1:9", "", "")


def test_a_repeated_environment_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "provisioner.yaml"
    path.write_text("environments:\n  prod: {host: 'https://a.example'}\n"
                    "  prod: {host: 'https://b.example'}\n")
    with pytest.raises(ConfigError, match=r"provisioner.yaml:3:3: environments.prod: "
                                          r"duplicate key 'prod' \(first at line 2\)"):
        load_target(None, config_path=path, environ={})


def test_an_override_is_named_by_its_variable(config: Path) -> None:
    with pytest.raises(ConfigError, match="^KORE_RATE_LIMIT_PER_MINUTE: must be a whole"):
        load_target("dev", config_path=config, environ={"KORE_RATE_LIMIT_PER_MINUTE": "nan"})
    with pytest.raises(ConfigError, match="^--state: contains the control"):
        load_target("dev", config_path=config, state="a\nb", environ={})
