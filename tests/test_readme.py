"""The README stays true: its spec example is valid, and its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from provisioner.cli import COMMANDS
from provisioner.spec.load import load_specs

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_spec_example_is_valid(tmp_path: Path) -> None:
    (block,) = re.findall(r"```yaml\n(# yaml-language-server.*?)```", README, re.S)
    path = tmp_path / "campaigns" / "example.yaml"
    path.parent.mkdir()
    path.write_text(block, encoding="utf-8")
    result = load_specs([path.parent])
    assert [p.message for p in result.problems] == []
    assert len(result.campaigns) == 2


def test_every_command_the_readme_shows_exists() -> None:
    shown = set(re.findall(r"`provisioner ([a-z-]+)", README))
    assert shown and shown <= set(COMMANDS)
