"""The README stays true: its spec examples are valid, and its commands exist and parse."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from provisioner.cli import COMMANDS, build_parser
from provisioner.spec.load import load_specs
from provisioner.spec.references import check_references, undeclared

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SPEC_BLOCKS = re.findall(r"```yaml\n(# yaml-language-server.*?)```", README, re.S)
SHELL_LINES = [line for block in re.findall(r"```sh\n(.*?)```", README, re.S)
               for line in block.splitlines()]


def test_the_spec_examples_are_valid_and_their_references_resolve(tmp_path: Path) -> None:
    """The SMS examples, the contact list and the voice campaign, read together as one
    campaigns folder: no problem, and every list a campaign names is declared, except
    the docs sample's own list (a console's)."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    for index, block in enumerate(SPEC_BLOCKS):
        (folder / f"example{index}.yaml").write_text(block, encoding="utf-8")
    result = load_specs([folder])
    assert [p.message for p in result.problems] == []
    types = {c.name: c.body["campaignType"] for c in result.campaigns}
    assert types == {"Interactive Support SMS Campaign1212": "sms",
                     "Spring Sale Reminder": "sms", "Spring Sale Feedback Call": "voice"}
    assert sorted(cl.name for cl in result.contact_lists) == ["Spring Sale 2026",
                                                              "Spring Sale Opt-ins"]
    assert check_references(result.campaigns, result.contact_lists, suggested_only=True) == []
    assert undeclared(result.campaigns, result.contact_lists) == ["CL Only 2020 Dec 4"]


def test_every_command_the_readme_shows_exists() -> None:
    shown = set(re.findall(r"`provisioner ([a-z-]+)", README))
    assert shown and shown <= set(COMMANDS)


def shown_commands() -> list[list[str]]:
    """Each `provisioner ...` line of the README's sh blocks as argv, without the comment
    and any leading VAR=value assignments."""
    out = []
    for line in SHELL_LINES:
        words = shlex.split(line, comments=True)
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            words.pop(0)
        if words and words[0] == "provisioner":
            out.append(words[1:])
    return out


@pytest.mark.parametrize("argv", shown_commands(), ids=" ".join)
def test_every_command_line_the_readme_shows_parses(argv: list[str]) -> None:
    """Options as the README writes them are the CLI's (a renamed flag fails here)."""
    args = build_parser(argv).parse_args(argv)
    assert args.command == argv[0]


def test_the_command_lines_are_found() -> None:
    assert any(argv[0] == "emulator" and "--contact-list" in argv for argv in shown_commands())
    assert len(shown_commands()) >= 4
