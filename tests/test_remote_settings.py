"""The remote settings of provisioner.yaml that issue 16 adds: `voiceUpdateType` (the
campaignType a voice campaign's PUT carries) and `readyTimeoutSeconds` (how long a new
voice campaign may stay Preparing), each checked and located like every other setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.config import Target, load_target
from provisioner.errors import ConfigError

BASE = 'environments:\n  dev:\n    host: "https://dev.example"\n    streamId: st\n    accountId: acc\n'


def target_of(tmp_path: Path, extra: str = "") -> Target:
    path = tmp_path / "provisioner.yaml"
    path.write_text(BASE + extra)
    return load_target(None, config_path=path, environ={})


def test_defaults_follow_the_update_pages_table_and_wait_a_minute(tmp_path: Path) -> None:
    target = target_of(tmp_path)
    assert (target.voice_update_type, target.ready_timeout) == ("voice", 60.0)


def test_both_are_settable(tmp_path: Path) -> None:
    target = target_of(tmp_path, "    voiceUpdateType: sms\n    readyTimeoutSeconds: 2.5\n")
    assert (target.voice_update_type, target.ready_timeout) == ("sms", 2.5)


@pytest.mark.parametrize("line, message", [
    ("voiceUpdateType: Voice", "voiceUpdateType: voiceUpdateType must be one of voice, sms, "
                               "not 'Voice'"),
    ("voiceUpdateType: [voice]", "voiceUpdateType must be one of voice, sms, not ['voice']"),
    ("readyTimeoutSeconds: -1", "readyTimeoutSeconds: must be"),
    ("readyTimeoutSeconds: .nan", "readyTimeoutSeconds: must be a finite number"),
    ("readyTimeoutSeconds: 100000", "readyTimeoutSeconds: must be"),
    ("readyTimeoutSeconds: soon", "readyTimeoutSeconds: must be a number"),
])
def test_bad_values_are_one_located_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        target_of(tmp_path, f"    {line}\n")
    text = str(caught.value)
    assert text.startswith(f"{tmp_path / 'provisioner.yaml'}:6:") and message in text
    assert "\n" not in text
