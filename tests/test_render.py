"""Text and JSON plan rendering, checked against golden files.

Regenerate the goldens only on purpose: UPDATE_GOLDEN=1 pytest tests/test_render.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.plan.model import Remote
from provisioner.plan.build import build_plan
from provisioner.render.plans import render_json
from provisioner.render.text import render_text, summary_line
from tests.conftest import check_golden
from tests.test_plan import body, spec, state_with

GOLDEN = Path(__file__).parent / "golden" / "text"


def sample_plan() -> dict:
    state = state_with(("Steady", body("Steady"), "Ready"), ("Reworded", body("Reworded"), "Ready"),
                       ("Started", body("Started"), "Active"), ("Dropped", body("Dropped"), "Ready"),
                       ("Edited", body("Edited"), "Ready"), ("Vanished", body("Vanished"), "Ready"))
    console = {**body("Edited"), "priority": "2"}
    remote = {"steady": [Remote("cd-steady", "Steady", "Ready", "t1")],
              "reworded": [Remote("cd-reworded", "Reworded", "Ready", "t1")],
              "started": [Remote("cd-started", "Started", "Active", "t1")],
              "dropped": [Remote("cd-dropped", "Dropped", "Ready", "t1")],
              "edited": [Remote("cd-edited", "Edited", "Ready", "t2", console)],
              "found": [Remote("cd-found", "Found", "Ready", "t1")]}
    specs = [spec("Steady"), spec("Reworded", text="Fresh words, same campaign"),
             spec("Started", priority="1"), spec("Brand New", priority="2"), spec("Edited"),
             spec("Vanished"), spec("Found")]
    plan = build_plan(specs, state, env="test", specs={"c.yaml": "sha256:0"}, remote=remote)
    data = plan.to_dict()
    data["state"]["lineage"] = "00000000-0000-0000-0000-000000000000"  # fixed for the golden
    return data


def test_text_plan_matches_golden() -> None:
    check_golden(GOLDEN / "plan.txt", render_text(sample_plan()))


def test_json_plan_matches_golden() -> None:
    check_golden(GOLDEN / "plan.json", render_json(sample_plan()))


def test_colour_only_when_asked() -> None:
    plain = render_text(sample_plan())
    coloured = render_text(sample_plan(), colour=True)
    assert "\x1b[" not in plain and "\x1b[32m" in coloured


def test_summary_counts_every_kind() -> None:
    line = summary_line(sample_plan())
    assert line == ("Plan: 2 to create, 2 to update, 0 to delete, 1 unchanged, 1 to adopt, "
                    "1 blocked, 1 orphaned.")


@pytest.mark.parametrize("section", ["To create:", "Deleted outside the tool", "To update:",
                                     "Changed outside the tool", "To adopt", "Blocked:"])
def test_every_section_is_shown(section: str) -> None:
    assert section in render_text(sample_plan())


def test_no_changes_says_so() -> None:
    state = state_with(("Steady", body("Steady"), "Ready"))
    data = build_plan([spec("Steady")], state, env="t", specs={}).to_dict()
    text = render_text(data)
    assert "No changes." in text and json.loads(render_json(data))["summary"]["noop"] == 1
