"""The pull-request plan comment: goldens for its shape, and checks of the cap, the escaping
and the linear shortening. Regenerate goldens with `UPDATE_GOLDEN=1`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from provisioner.body import encode_message
from provisioner.render.markdown import render_markdown
from tests.conftest import check_golden

GOLDEN = Path(__file__).parent / "golden" / "markdown"
NOTE = re.compile(r"^… (\d+) more campaigns? not shown", re.MULTILINE)


def body(name: str, text: str = "Hi {first}, our spring sale starts today.",
         priority: str = "3") -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name} campaign",
        "contactLists": ["Spring customers"],
        "dncLists": {"name": "global-dnc"},
        "priority": priority,
        "format": "simple",
        "campaignType": "sms",
        "message": {"message": encode_message(text), "templateId": ""},
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+15550100123"},
            "callingHours": {
                "frequency": "WEEKLY", "timezone": "America/New_York",
                "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"},
                         {"day": "TU", "start": "9:00 AM", "end": "6:00 PM"}],
            },
        },
    }


def message(text: str, encoding: str = "GSM-7", segments: int = 1) -> dict[str, Any]:
    return {"text": text, "encoding": encoding, "segments": segments}


def change(action: str, name: str, **extra: Any) -> dict[str, Any]:
    item = {"action": action, "name": name, "lname": name.lower(), "id": None,
            "source": f"campaigns/{name.lower().replace(' ', '-')}.yaml:1:1",
            "before": None, "after": None, "digest_before": None, "digest_after": None,
            "changes": [], "reason": "", "drift": False, "recreate": False,
            "drift_changes": [], "message": None, "blocked_action": "", "candidates": []}
    item.update(extra)
    return item


def create(name: str, text: str = "Hi {first}, our spring sale starts today.") -> dict[str, Any]:
    return change("create", name, after=body(name, text), message=message(text))


def update(name: str, index: int = 0) -> dict[str, Any]:
    return change("update", name, id=f"cd-{index:04d}", changes=[
        {"path": "$.priority", "before": "3", "after": "5"},
        {"path": "$.message.text", "before": "Old text", "after": f"New text {index}"},
    ], message=message(f"New text {index}"))


def plan(changes: list[dict[str, Any]], env: str = "dev", **extra: Any) -> dict[str, Any]:
    result = {"format_version": 1, "env": env, "state": {"lineage": None, "serial": 3},
              "specs": {}, "refreshed": False, "changes": changes, "warnings": []}
    result.update(extra)
    return result


def small_plan() -> dict[str, Any]:
    return plan([
        create("Spring Sale"),
        update("Winter Promo", 7),
        change("noop", "Loyalty"),
    ])


def large_plan() -> dict[str, Any]:
    changes = [create(f"Create {i}") for i in range(4)]
    changes += [update(f"Update {i}", i) for i in range(3)]
    changes += [
        create("Unicode", "Olá José — 20% off today! 🎉"),
        change("update", "Drifted", id="cd-0100", drift=True, drift_changes=[
            {"path": "$.dialingStrategy.callingHours.days[1].end", "before": "6:00 PM",
             "after": "7:00 PM"}], changes=[
            {"path": "$.dialingStrategy.callingHours.days[1].end", "before": "7:00 PM",
             "after": "6:00 PM"},
            {"path": "$.schedule", "before": None, "after": {"isSchedulingEnabled": False}}],
            message=message("Hi {first}, our spring sale starts today.")),
        change("create", "Recreated", recreate=True, after=body("Recreated"),
               message=message("Hi {first}, our spring sale starts today.")),
        change("delete", "Old Campaign", id="cd-0200", before=body("Old Campaign"),
               reason="ensure: absent in campaigns/old.yaml"),
        change("blocked", "Live One", id="cd-0300", blocked_action="update",
               reason="campaign is Active: an Active campaign cannot be edited",
               changes=[{"path": "$.priority", "before": "3", "after": "4"}]),
        change("adopt", "Found On Tenant", id="cd-0400"),
        change("orphan", "Forgotten", id="cd-0500", source=""),
        change("noop", "Steady 1"), change("noop", "Steady 2"),
    ]
    warnings = [{"file": "campaigns/create-0.yaml", "line": 4, "column": 3,
                 "path": "$.description", "message": "description is empty <tag> @team"}]
    return plan(changes, env="prod", warnings=warnings)


def many_creates(count: int) -> dict[str, Any]:
    return plan([create(f"Campaign {i:05d}") for i in range(count)])


CASES = {
    "small": (small_plan, {}),
    "large": (large_plan, {}),
    "truncated": (large_plan, {"limit": 5000}),
    "no-changes": (lambda: plan([change("noop", "A"), change("noop", "B")]), {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    make, options = CASES[case]
    check_golden(GOLDEN / f"{case}.md", render_markdown(make(), **options))


def test_marker_and_summary_lead() -> None:
    lines = render_markdown(small_plan()).splitlines()
    assert lines[0] == "<!-- provisioner-plan:dev -->"
    assert lines[1] == "**Plan (dev):** 1 to create, 1 to update, 0 to delete, 1 unchanged"


def test_summary_counts_optional_actions_and_warnings() -> None:
    summary = render_markdown(large_plan()).splitlines()[1]
    assert summary == ("**Plan (prod):** 6 to create, 4 to update, 1 to delete, 2 unchanged, "
                       "1 to adopt, 1 orphaned, 1 blocked, 1 validation warning")


def test_no_changes_is_marker_and_one_line() -> None:
    rendered = render_markdown(plan([change("noop", "A")] * 3))
    assert rendered.splitlines() == ["<!-- provisioner-plan:dev -->",
                                     "No changes. 3 campaigns up to date."]


def test_noop_gets_no_block() -> None:
    rendered = render_markdown(small_plan())
    assert rendered.count("<details>") == 2
    assert "Loyalty" not in rendered


def test_create_shows_decoded_text_not_base64() -> None:
    text = "Hi {first}, our spring sale starts today."
    rendered = render_markdown(plan([create("Spring Sale", text)]))
    assert '+ message.text: "Hi {first}, our spring sale starts today."' in rendered
    assert encode_message(text) not in rendered
    assert "**SMS text** (GSM-7, 1 segment, 41 characters):\n\n```text\n" + text in rendered


def test_update_lists_before_and_after_per_path() -> None:
    rendered = render_markdown(plan([update("Winter", 3)]))
    assert '- priority: "3"\n+ priority: "5"\n- message.text: "Old text"\n' in rendered


def test_fence_in_message_cannot_close_the_block() -> None:
    text = "a\n```\nnot code\n````\nend"
    rendered = render_markdown(plan([create("Fenced", text)]))
    assert "`````text\n" + text + "\n`````\n" in rendered


def test_user_text_is_escaped() -> None:
    evil = change("blocked", "<img src=x> @admins", source="",
                  reason="**bold** <b>x</b> @admins #1")
    rendered = render_markdown(plan([evil], env="dev --> <b>"))
    marker = rendered.splitlines()[0]
    assert marker.startswith("<!-- provisioner-plan:dev") and marker.endswith(" -->")
    assert "--" not in marker[4:-4] and ">" not in marker[4:-4]
    assert "<img" not in rendered and "<b>x" not in rendered
    assert "@admins" not in rendered.replace("<code>&lt;img src=x&gt; @admins</code>", "")
    assert "\\*\\*bold\\*\\*" in rendered


def test_truncated_comment_is_under_cap_and_keeps_summary() -> None:
    rendered = render_markdown(many_creates(2000))
    assert len(rendered) < 60_000
    assert rendered.splitlines()[1] == "**Plan (dev):** 2000 to create, 0 to update, 0 to delete"
    shown = rendered.count("<details>")
    match = NOTE.search(rendered)
    assert match and int(match.group(1)) == 2000 - shown
    assert rendered.rstrip().endswith("`provisioner plan`)")


@pytest.mark.parametrize("limit", range(700, 9000, 137))
def test_every_limit_is_respected(limit: int) -> None:
    rendered = render_markdown(large_plan(), limit=limit)
    assert len(rendered) < limit
    assert rendered.splitlines()[1].startswith("**Plan (prod):** 6 to create")
    match = NOTE.search(rendered)
    campaigns = rendered.count("<details><summary><code>")
    assert match and int(match.group(1)) == 14 - campaigns


def test_plan_that_fits_has_no_note() -> None:
    rendered = render_markdown(large_plan())
    assert NOTE.search(rendered) is None
    assert rendered.count("<details><summary><code>") == 14


def test_twenty_thousand_changes_render_with_the_right_count() -> None:
    rendered = render_markdown(many_creates(20_000))
    assert len(rendered) < 60_000
    assert rendered.splitlines()[1].startswith("**Plan (dev):** 20000 to create,")
    match = NOTE.search(rendered)
    assert match and int(match.group(1)) == 20_000 - rendered.count("<details>")


def test_message_shown_only_when_created_or_changed() -> None:
    rendered = render_markdown(large_plan())
    drifted = rendered[rendered.index("<code>Drifted</code>"):]
    drifted = drifted[:drifted.index("</details>")]
    assert "**SMS text**" not in drifted
    assert '+ schedule: {"isSchedulingEnabled": false}' in drifted
    assert "- schedule" not in drifted
    assert "Changed outside the tool (recorded → tenant):" in drifted


def test_blocked_names_what_was_blocked() -> None:
    assert "<code>!</code> update blocked SMS campaign <code>Live One</code>" in render_markdown(large_plan())


def test_renders_the_plan_modules_own_dict() -> None:
    plan_module = pytest.importorskip("provisioner.plan.build")
    spring = body("Spring Sale")
    actions = [plan_module.Action("create", "Spring Sale", "spring sale", after=spring,
                                  source="campaigns/spring.yaml:1:1",
                                  message=message("Hi {first}, our spring sale starts today.")),
               plan_module.Action("noop", "Steady", "steady")]
    built = plan_module.Plan(env="dev", lineage=None, serial=None, specs={}, changes=actions)
    rendered = render_markdown(built.to_dict())
    assert rendered.splitlines()[1] == ("**Plan (dev):** 1 to create, 0 to update, "
                                        "0 to delete, 1 unchanged")
    assert '+ message.text: "Hi {first}, our spring sale starts today."' in rendered
