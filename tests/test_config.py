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
    ("rateLimitPerMinute: 1.5", "rateLimitPerMinute must be a whole number"),
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
