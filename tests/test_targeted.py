"""Targeted plans (issue 14, "Targeted runs"): the selection, build_plan with one, its JSON
round trip through a saved plan file, and how text and markdown say so in their first line.
Regenerate the goldens only on purpose: UPDATE_GOLDEN=1 pytest tests/test_targeted.py"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from provisioner.errors import ConfigError, SpecError
from provisioner.plan.build import build_plan, check_selection
from provisioner.plan.model import Plan, Remote
from provisioner.plan.saved import read_plan, shape_problem
from provisioner.plan.selection import Selection, selection
from provisioner.render.markdown import render_markdown
from provisioner.render.plans import render_json
from provisioner.render.text import render_text
from tests.conftest import check_golden
from tests.test_plan import TARGET, actions, body, spec, state_with

GOLDEN = Path(__file__).parent / "golden"


def test_patterns_are_globs_on_names_case_insensitive() -> None:
    chosen = selection(["Spring*", "summer ?ale"], ["*TEST*"])
    assert chosen.matches("spring sale") and chosen.matches("SPRING Promo")
    assert chosen.matches("Summer Sale") and not chosen.matches("Summer Sales")
    assert not chosen.matches("Spring test run")   # excluded wins
    assert not chosen.matches("Autumn")
    assert selection([], ["test*"]).matches("anything else")
    assert not Selection() and Selection().matches("whatever")
    assert selection(["[ab]*"]).matches("Beta") and not selection(["[ab]*"]).matches("c")


def test_same_selection_ignores_order_case_and_repeats() -> None:
    assert selection(["a*", "B*"], ["x"]).same_as(selection(["b*", "A*", "a*"], ["X"]))
    assert not selection(["a*"]).same_as(selection(["a*"], ["x"]))
    assert not selection(["a*"]).same_as(Selection())


def _state():   # type: ignore[no-untyped-def]
    return state_with(("Spring Sale", body("Spring Sale"), "Ready"),
                      ("Spring Test", body("Spring Test"), "Ready"),
                      ("Winter Promo", body("Winter Promo"), "Ready"),
                      ("Old Spring", body("Old Spring"), "Ready"))


def _specs() -> list:   # type: ignore[type-arg]
    return [spec("Spring Sale", priority="1"), spec("Spring Test", priority="1"),
            spec("Winter Promo", priority="1"), spec("Spring New"), spec("Winter New")]


def test_untargeted_plan_is_unchanged_and_has_no_targets() -> None:
    plan = build_plan(_specs(), _state(), env="t", specs={}, prune=True)
    assert actions(plan)["Winter Promo"] == "update" and actions(plan)["Old Spring"] == "delete"
    assert plan.scope is None and "targets" not in plan.to_dict()


def test_a_targeted_plan_touches_only_its_targets_even_with_prune() -> None:
    plan = build_plan(_specs(), _state(), env="t", specs={}, prune=True,
                      selection=selection(["spring*"], ["*test"]))
    assert actions(plan) == {"Spring Sale": "update", "Spring New": "create"}
    assert plan.to_dict()["targets"] == {"include": ["spring*"], "exclude": ["*test"],
                                         "selected": 2, "known": 6}


def test_prune_deletes_an_orphan_only_inside_the_target() -> None:
    plan = build_plan(_specs(), _state(), env="t", specs={}, prune=True,
                      selection=selection(["old*", "winter promo"]))
    assert actions(plan) == {"Old Spring": "delete", "Winter Promo": "update"}


def test_ensure_absent_outside_the_target_is_left_alone() -> None:
    specs = [spec("Spring Sale", ensure="absent"), spec("Winter Promo")]
    plan = build_plan(specs, _state(), env="t", specs={}, selection=selection(["winter*"]))
    assert actions(plan) == {"Winter Promo": "noop"}


def test_a_pending_intent_inside_the_target_is_shown_outside_it_is_not() -> None:
    state = _state()
    state.record_intent("Lost Spring", body("Lost Spring"), "sha256:x")
    inside = build_plan([], state, env="t", specs={}, selection=selection(["lost*"]))
    assert actions(inside) == {"Lost Spring": "orphan"}
    outside = build_plan([spec("Winter Promo")], state, env="t", specs={},
                         selection=selection(["winter*"]))
    assert "Lost Spring" not in actions(outside)


@pytest.mark.parametrize("include, exclude, named", [
    (["sprnig*"], [], "--target 'sprnig*' matches no campaign"),
    (["spring*"], ["tset*"], "--exclude 'tset*' matches no campaign"),
    (["x*", "spring*"], ["y"], "--target 'x*' and --exclude 'y' match no campaign"),
])
def test_a_pattern_that_matches_nothing_is_an_error(include: list[str], exclude: list[str],
                                                    named: str) -> None:
    chosen = selection(include, exclude)
    with pytest.raises(ConfigError, match=re.escape(named)) as raised:
        build_plan(_specs(), _state(), env="t", specs={}, selection=chosen)
    assert "\n" not in str(raised.value)
    with pytest.raises(ConfigError, match=re.escape(named)):
        check_selection(chosen, _specs(), _state())


def test_a_pattern_may_match_only_a_recorded_or_pending_campaign() -> None:
    state = _state()
    state.record_intent("Lost One", body("Lost One"), "sha256:x")
    check_selection(selection(["old spring", "lost*"]), [], state)
    check_selection(Selection(), [], None)   # untargeted: nothing to check


def test_an_id_owned_outside_the_target_is_never_adopted_inside_it() -> None:
    # "Winter Promo" (not targeted) was renamed "Spring Fresh" in the console; the new spec
    # "Spring Fresh" must not adopt it: its id belongs to a recorded campaign.
    state = state_with(("Winter Promo", body("Winter Promo"), "Ready"))
    remote = {"spring fresh": [Remote("cd-winter promo", "Spring Fresh", "Ready", "t2")]}
    plan = build_plan([spec("Winter Promo"), spec("Spring Fresh")], state, env="t", specs={},
                      remote=remote, selection=selection(["spring*"]))
    assert actions(plan) == {"Spring Fresh": "create"}


def test_empty_prune_is_still_refused_when_targeted() -> None:
    with pytest.raises(SpecError, match="prune is on"):
        build_plan([], _state(), env="t", specs={}, prune=True, selection=selection(["*"]))


def test_targets_round_trip_through_a_saved_plan(tmp_path: Path) -> None:
    plan = build_plan(_specs(), _state(), env="t", specs={}, target=TARGET,
                      selection=selection(["Spring*", "winter*"], ["*test"]))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan.to_dict()), encoding="utf-8")
    back = read_plan(str(path))
    assert back.selection.same_as(plan.selection) and back.scope == plan.scope
    assert back.to_dict() == plan.to_dict()
    untargeted = Plan.from_dict(build_plan(_specs(), _state(), env="t", specs={}).to_dict())
    assert untargeted.scope is None and not untargeted.selection


@pytest.mark.parametrize("targets, problem", [
    ("spring*", "$.targets must be an object or null, not a string"),
    ({"include": "spring*", "exclude": []}, "$.targets.include must be a list of strings"),
    ({"include": [1], "exclude": []}, "$.targets.include must be a list of strings"),
    ({"include": [], "exclude": []}, "$.targets must name at least one pattern"),
    ({"include": ["a"], "exclude": [], "selected": -1}, "$.targets.selected must be a non-"),
    ({"include": ["a"], "exclude": [], "extra": 1}, "$.targets has an unknown key 'extra'"),
])
def test_a_bad_targets_entry_is_named(targets: object, problem: str) -> None:
    data = build_plan(_specs(), _state(), env="t", specs={}).to_dict()
    assert shape_problem({**data, "targets": targets}).startswith(problem)
    assert shape_problem({**data, "targets": None}) == ""


def _targeted_plan() -> dict:   # type: ignore[type-arg]
    data = build_plan(_specs(), _state(), env="test", specs={"c.yaml": "sha256:0"},
                      prune=True, selection=selection(["spring*"], ["*test"])).to_dict()
    data["state"]["lineage"] = "00000000-0000-0000-0000-000000000000"   # fixed for the golden
    return data


def test_text_says_targeted_in_its_first_line() -> None:
    text = render_text(_targeted_plan())
    assert text.splitlines()[0] == (
        "Targeted plan: only campaigns matching 'spring*', excluding those matching '*test' "
        "(2 of 6 campaigns in the specs or the state; the other 4 are left alone).")
    check_golden(GOLDEN / "text" / "targeted.txt", text)


def test_markdown_says_targeted_in_its_first_visible_line() -> None:
    md = render_markdown(_targeted_plan())
    assert md.splitlines()[1].startswith("**Targeted plan:** only campaigns matching "
                                         "<code>spring*</code>")
    check_golden(GOLDEN / "markdown" / "targeted.md", md)


def test_json_carries_the_targets() -> None:
    check_golden(GOLDEN / "text" / "targeted.json", render_json(_targeted_plan()))


def test_patterns_are_escaped_where_shown() -> None:
    state = state_with(("Spring\x1b[2J", body("Spring\x1b[2J"), "Ready"))
    data = build_plan([spec("Spring\x1b[2J", priority="1")], state, env="t", specs={},
                      selection=selection(["spring\x1b*"], [])).to_dict()
    assert "\x1b" not in render_text(data).splitlines()[0]
    assert "\x1b" not in render_markdown(data).splitlines()[1]


def test_markdown_no_changes_still_says_targeted() -> None:
    state = state_with(("Spring Sale", body("Spring Sale"), "Ready"))
    data = build_plan([spec("Spring Sale")], state, env="t", specs={},
                      selection=selection([], ["spring*"])).to_dict()
    lines = render_markdown(data).splitlines()
    assert lines[1] == ("**Targeted plan:** every campaign, excluding those matching "
                        "<code>spring*</code> (0 of 1 campaigns in the specs or the state; "
                        "the other 1 is left alone).")
    assert lines[-1].startswith("No changes.")
