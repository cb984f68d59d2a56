"""Targeted runs end to end: the real CLI against the emulator. A targeted apply touches
only its targets (the emulator's request log says so), a saved targeted plan applies only
what it shows, and a pattern that matches nothing is refused before anything is sent."""

from __future__ import annotations

import json

from tests.conftest import Workspace
from tests.test_e2e import SIMPLE

CONFIG = "environments:\n  test:\n    state: state/test.json\n    prune: true\n"
FIRST = ("Spring Sale", "Spring Test", "Winter Promo", "Winter Old")


def spec(name: str, priority: int = 3) -> str:
    return (SIMPLE.replace("Spring Sale Reminder", name)
            .replace("priority: 3", f"priority: {priority}"))


def write(workspace: Workspace, name: str, priority: int = 3) -> None:
    workspace.write_spec(name.lower().replace(" ", "-") + ".yaml", spec(name, priority))


def changes(workspace: Workspace, emulator) -> tuple[dict[str, str], dict[str, str]]:
    """Four campaigns applied, then every one changed: the priority of three raised, the
    spec of "Winter Old" removed (prune would delete it), two new specs added. The request
    log is cleared. Returns the ids by name and the emulator's priorities by name."""
    (workspace.root / "provisioner.yaml").write_text(CONFIG, encoding="utf-8")
    for name in FIRST:
        write(workspace, name)
    first = workspace.run("apply", "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    for name in FIRST[:3]:
        write(workspace, name, 5)
    (workspace.root / "campaigns" / "winter-old.yaml").unlink()
    write(workspace, "Spring New")
    write(workspace, "Winter New")
    emulator.admin("DELETE", "requests")
    ids = {c["name"]: c["_id"] for c in emulator.campaigns()}
    return ids, priorities(emulator)


def priorities(emulator) -> dict[str, str]:
    return {c["name"]: str(c["priority"]) for c in emulator.campaigns()}


def sent(emulator) -> list[tuple[str, str]]:
    """(operation, campaign id or created name) of every request that changes the tenant."""
    return [(r["op"], r["body"]["name"] if r["op"] == "create" else r["path"].rsplit("/", 1)[1])
            for r in emulator.requests_log() if r["op"] in ("create", "update", "delete")]


def test_a_targeted_apply_touches_only_its_targets(workspace: Workspace, emulator) -> None:
    ids, before = changes(workspace, emulator)
    run = workspace.run("apply", "--auto-approve", "--target", "SPRING*", "--exclude", "*test")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0] == (
        "Targeted plan: only campaigns matching 'SPRING*', excluding those matching '*test' "
        "(2 of 6 campaigns in the specs or the state; the other 4 are left alone).")
    assert sorted(sent(emulator)) == [("create", "Spring New"), ("update", ids["Spring Sale"])]
    after = priorities(emulator)
    assert after["Spring Sale"] == "5"
    assert {k: after[k] for k in ("Spring Test", "Winter Promo", "Winter Old")} == {
        k: before[k] for k in ("Spring Test", "Winter Promo", "Winter Old")}
    assert "Winter New" not in after

    rest = workspace.run("plan", "--format", "json")
    data = json.loads(rest.stdout)
    assert "targets" not in data
    assert {c["name"]: c["action"] for c in data["changes"] if c["action"] != "noop"} == {
        "Spring Test": "update", "Winter Promo": "update", "Winter New": "create",
        "Winter Old": "delete"}


def test_a_saved_targeted_plan_applies_only_what_it_shows(workspace: Workspace,
                                                         emulator) -> None:
    ids, _ = changes(workspace, emulator)
    saved = workspace.root / "winter.plan.json"
    plan = workspace.run("plan", "--target", "winter*", "--out", str(saved))
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.startswith("Targeted plan: only campaigns matching 'winter*' (3 of 6")
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["targets"] == {"include": ["winter*"], "exclude": [], "selected": 3,
                               "known": 6}

    other = workspace.run("apply", str(saved), "--target", "spring*")
    assert other.returncode == 1
    assert other.stderr.strip().splitlines() == [
        f"error: {saved} was planned with --target 'winter*', not --target 'spring*'; apply "
        "it without --target/--exclude, or plan again"]
    assert sent(emulator) == []

    run = workspace.run("apply", str(saved), "--target", "WINTER*")   # the same selection
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(sent(emulator)) == sorted([("create", "Winter New"),
                                             ("update", ids["Winter Promo"]),
                                             ("delete", ids["Winter Old"])])

    again = workspace.run("apply", str(saved))   # the freshness checks still hold
    assert again.returncode == 1 and "run plan again" in again.stderr


def test_a_saved_untargeted_plan_refuses_a_target(workspace: Workspace, emulator) -> None:
    changes(workspace, emulator)
    saved = workspace.root / "all.plan.json"
    assert workspace.run("plan", "--out", str(saved)).returncode == 0
    run = workspace.run("apply", str(saved), "--exclude", "winter*")
    assert run.returncode == 1
    assert "was planned with no --target or --exclude, not --exclude 'winter*'" in run.stderr
    assert sent(emulator) == []


def test_a_saved_targeted_plan_is_refused_once_the_specs_moved(workspace: Workspace,
                                                              emulator) -> None:
    changes(workspace, emulator)
    saved = workspace.root / "spring.plan.json"
    assert workspace.run("plan", "--target", "spring*", "--out", str(saved)).returncode == 0
    write(workspace, "Winter Promo", 1)   # outside the target, but the specs moved on
    run = workspace.run("apply", str(saved))
    assert run.returncode == 1 and "the specs changed since the plan was saved" in run.stderr
    assert sent(emulator) == []


def test_a_pattern_that_matches_nothing_sends_nothing(workspace: Workspace, emulator) -> None:
    changes(workspace, emulator)
    for command in (("plan",), ("apply", "--auto-approve")):
        run = workspace.run(*command, "--target", "sprnig*")
        assert run.returncode == 1
        assert run.stderr.strip().splitlines() == [
            "error: --target 'sprnig*' matches no campaign in the specs or the state (check "
            "the spelling); nothing was planned or sent"]
        assert run.stdout == ""
    assert emulator.requests_log() == []   # not even a listing or a token


def test_a_removed_campaign_can_be_targeted_by_its_recorded_name(workspace: Workspace,
                                                                emulator) -> None:
    ids, _ = changes(workspace, emulator)
    run = workspace.run("apply", "--auto-approve", "--target", "winter old")
    assert run.returncode == 0, run.stdout + run.stderr
    assert sent(emulator) == [("delete", ids["Winter Old"])]


def test_pending_intents_outside_the_target_are_still_settled(workspace: Workspace,
                                                              emulator) -> None:
    changes(workspace, emulator)
    state = workspace.state()
    rec = state["campaigns"].pop("winter promo")   # created, its id never recorded
    state["pending"]["winter promo"] = {"op": "create", "name": rec["name"],
                                        "digest": rec["digest"], "body": rec["body"],
                                        "since": "2026-01-01T00:00:00Z"}
    workspace.state_file.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    run = workspace.run("apply", "--auto-approve", "--target", "spring sale")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Winter Promo: earlier create had succeeded" in run.stderr
    assert workspace.state()["campaigns"]["winter promo"]["id"] == rec["id"]
    assert workspace.state()["pending"] == {}
    assert [op for op, _ in sent(emulator)] == ["update"]


def test_plan_formats_say_targeted(workspace: Workspace, emulator) -> None:
    changes(workspace, emulator)
    md = workspace.run("plan", "--format", "markdown", "--exclude", "winter*")
    assert md.stdout.splitlines()[1].startswith(
        "**Targeted plan:** every campaign, excluding those matching <code>winter*</code>")
    refresh_only = workspace.run("plan", "--refresh-only", "--target", "spring*")
    assert refresh_only.returncode == 1 and "takes no --target" in refresh_only.stderr
