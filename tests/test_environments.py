"""One repository, two environments (issue 14): shared defaults, variables, overrides and a
prod-only campaign, rendered and applied through the real CLI against two emulators; every
bad input located and refused with nothing sent."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import (ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, ROOT, STREAM_ID,
                            EmulatorProcess, Workspace, start_emulator_process, stop_process)

CONFIG = """\
default: staging
environments:
  staging:
    host: {staging}
    streamId: {stream}
    accountId: {account}
    state: state/staging.json
    vars:
      caller: "+14155550100"
      lists: [Staging Testers]
      priority: 2
  prod:
    host: {prod}
    streamId: {stream}
    accountId: {account}
    state: state/prod.json
    vars:
      caller: "+14155550199"
      lists: [Customers East, Customers West]
      priority: 3
    policy:
      maxPriority: "3"
      requireDncList: true
"""
DEFAULTS = """\
description: Shared by every campaign here.
priority: ${var.priority}
format: simple
dncLists: {name: Company DNC}
dialingStrategy:
  callerId: {phoneNumber: "${var.caller}"}
  callingHours:
    frequency: DAILY
    timezone: America/Chicago
    days: [{day: MO, start: "9:00 AM", end: "5:00 PM"}]
"""
SPRING = """\
name: Spring Sale
contactLists: ${var.lists}
message: {text: "Spring offer from ${var.caller}. Reply STOP to opt out."}
overrides:
  prod:
    description: The production spring sale.
"""
PROD_ONLY = """\
name: Loyalty Push
only: [prod]
contactLists: [Loyal Customers]
message: {text: "Thank you for staying with us. Reply STOP to opt out."}
"""


@pytest.fixture
def second(tmp_path: Path) -> Iterator[EmulatorProcess]:
    folder = tmp_path / "second"
    folder.mkdir()
    emu = start_emulator_process(folder)
    try:
        yield emu
    finally:
        stop_process(emu.proc)


@pytest.fixture
def repo(tmp_path: Path, emulator: EmulatorProcess, second: EmulatorProcess) -> Workspace:
    root = tmp_path / "repo"
    (root / "campaigns" / "sales").mkdir(parents=True)
    shutil.copytree(ROOT / "schemas", root / "schemas")
    (root / "provisioner.yaml").write_text(CONFIG.format(
        staging=emulator.url, prod=second.url, stream=STREAM_ID, account=ACCOUNT_ID))
    (root / "campaigns" / "_defaults.yaml").write_text(DEFAULTS)
    (root / "campaigns" / "sales" / "spring.yaml").write_text(SPRING)
    (root / "campaigns" / "sales" / "loyalty.yaml").write_text(PROD_ONLY)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PROVISIONER_"))}
    env.update({"KORE_CLIENT_ID": CLIENT_ID, "KORE_CLIENT_SECRET": CLIENT_SECRET,
                "NO_COLOR": "1", "PROVISIONER_CACHE_DIR": str(tmp_path / "cache")})
    return Workspace(root, env)


def rendered(ws: Workspace, env: str) -> dict[str, dict[str, object]]:
    result = ws.run("render", "--env", env, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["format_version"] == 1 and document["env"] == env
    return {c["name"]: c["body"] for c in document["campaigns"]}


def sent(emulator: EmulatorProcess) -> dict[str, object]:
    return {e["body"]["name"]: e["body"] for e in emulator.requests_log()
            if e["op"] == "create"}


def test_each_environment_receives_exactly_what_render_printed(
        repo: Workspace, emulator: EmulatorProcess, second: EmulatorProcess) -> None:
    staging, prod = rendered(repo, "staging"), rendered(repo, "prod")
    assert sorted(staging) == ["Spring Sale"] and sorted(prod) == ["Loyalty Push", "Spring Sale"]
    assert staging["Spring Sale"]["contactLists"] == ["Staging Testers"]
    assert prod["Spring Sale"]["contactLists"] == ["Customers East", "Customers West"]
    assert prod["Spring Sale"]["description"] == "The production spring sale."
    assert staging["Spring Sale"]["priority"] == "2"
    for env in ("staging", "prod"):
        result = repo.run("apply", "--env", env, "--auto-approve")
        assert result.returncode == 0, result.stdout + result.stderr
    assert sent(emulator) == staging and sent(second) == prod
    for env in ("staging", "prod"):
        assert repo.run("plan", "--env", env, "--detailed-exitcode").returncode == 0


def test_a_change_to_defaults_or_a_variable_updates_every_campaign_it_reaches(
        repo: Workspace) -> None:
    for env in ("staging", "prod"):
        assert repo.run("apply", "--env", env, "--auto-approve").returncode == 0
    config = repo.root / "provisioner.yaml"
    config.write_text(config.read_text().replace('caller: "+14155550199"',
                                                 'caller: "+14155550177"'))
    prod = repo.run("plan", "--env", "prod", "--format", "json")
    staging = repo.run("plan", "--env", "staging", "--detailed-exitcode")
    assert staging.returncode == 0, staging.stdout   # staging's variables did not change
    actions = {a["name"]: a["action"] for a in json.loads(prod.stdout)["changes"]}
    assert actions == {"Loyalty Push": "update", "Spring Sale": "update"}
    defaults = repo.root / "campaigns" / "_defaults.yaml"
    defaults.write_text(defaults.read_text().replace("Shared by every", "Shared by all"))
    staging = repo.run("plan", "--env", "staging", "--format", "json")
    actions = {a["name"]: a["action"] for a in json.loads(staging.stdout)["changes"]}
    assert actions == {"Spring Sale": "update"}


@pytest.mark.parametrize("change, expected", [
    (("sales/spring.yaml", "${var.lists}", "${var.listz}"),
     "campaigns/sales/spring.yaml:2:15: $.contactLists: undefined variable ${var.listz}"),
    (("_defaults.yaml", DEFAULTS, "- just a list\n"),
     "campaigns/_defaults.yaml:1:1: $: a _defaults.yaml holds one mapping"),
    (("sales/loyalty.yaml", "only: [prod]", "only: [prd]"),
     "campaigns/sales/loyalty.yaml:2:8: $.only[0]: 'prd' is not an environment of the config"),
    (("provisioner.yaml", "priority: 3", "priority: [3]"),
     "provisioner.yaml:20:17: $.priority:"),
    (("sales/spring.yaml", "description: The production spring sale.", "priority: 9"),
     "campaigns/sales/spring.yaml:6:15: $.priority:"),
    (("provisioner.yaml", "priority: 3", "priority: 4"),
     "provisioner.yaml:20:17: $.priority: priority 4 is above 3, the highest allowed in "
     "environment 'prod' (policy maxPriority) (variable priority, used by campaign"),
])
def test_bad_input_is_located_and_nothing_is_sent(
        repo: Workspace, emulator: EmulatorProcess, second: EmulatorProcess,
        change: tuple[str, str, str], expected: str) -> None:
    name, old, new = change
    path = repo.root / name if name == "provisioner.yaml" else repo.root / "campaigns" / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    result = repo.run("validate")
    assert result.returncode == 1 and expected in result.stdout, result.stdout
    apply = repo.run("apply", "--env", "prod", "--auto-approve")
    assert apply.returncode == 1 and "Traceback" not in apply.stderr, apply.stderr
    assert expected.split(": ", 1)[0] in apply.stderr
    assert emulator.requests_log() == [] and second.requests_log() == []
    assert not (repo.root / "state").exists()


def test_a_huge_defaults_file_is_refused(repo: Workspace) -> None:
    defaults = repo.root / "campaigns" / "_defaults.yaml"
    defaults.write_text(DEFAULTS + "# " + "x" * (5 << 20) + "\n")
    result = repo.run("validate")
    assert result.returncode == 1
    assert "campaigns/_defaults.yaml:1:1: $: file is larger than" in result.stdout
    assert "campaigns/sales/spring.yaml:1:1: $: not checked: the defaults file" in result.stdout


def test_validate_names_the_environments_a_problem_occurs_in(repo: Workspace) -> None:
    spring = repo.root / "campaigns" / "sales" / "spring.yaml"
    spring.write_text(spring.read_text() + "    priority: \"5\"\n")
    result = repo.run("validate")
    assert result.returncode == 1
    assert "(policy maxPriority) (environment prod)" in result.stdout, result.stdout
    only = repo.run("validate", "--env", "staging")
    assert only.returncode == 0, only.stdout


def test_variables_keep_their_yaml_type_only_when_plain(repo: Workspace) -> None:
    spring = repo.root / "campaigns" / "sales" / "spring.yaml"
    spring.write_text(spring.read_text().replace(
        "Spring offer from ${var.caller}.", "Literal $${var.caller} and '${var.priority}'."))
    body = rendered(repo, "staging")["Spring Sale"]
    import base64
    import urllib.parse
    text = base64.b64decode(urllib.parse.unquote(body["message"]["message"])).decode()  # type: ignore[index]
    assert text.startswith("Literal ${var.caller} and '2'.")
    assert body["priority"] == "2" and body["contactLists"] == ["Staging Testers"]


def test_a_warm_cache_is_never_served_after_a_policy_variable_or_defaults_change(
        repo: Workspace) -> None:
    """The cache key covers the defaults files that apply, the environment's variables
    and its policy: each change below must show at once, with the cache in use."""
    assert repo.run("validate", "--env", "staging").returncode == 0   # fills the cache
    assert any((repo.env["PROVISIONER_CACHE_DIR"] and Path(repo.env["PROVISIONER_CACHE_DIR"])
                ).iterdir())
    config = repo.root / "provisioner.yaml"
    original = config.read_text()
    config.write_text(original.replace("      priority: 2\n",
                                       "      priority: 2\n    policy: {maxPriority: \"1\"}\n"))
    policy = repo.run("validate", "--env", "staging")
    assert policy.returncode == 1 and "(policy maxPriority)" in policy.stdout, policy.stdout
    config.write_text(original.replace('caller: "+14155550100"', 'caller: "not a number"'))
    variable = repo.run("validate", "--env", "staging")
    assert variable.returncode == 1 and "$.dialingStrategy.callerId.phoneNumber" in \
        variable.stdout, variable.stdout
    config.write_text(original)
    assert repo.run("validate", "--env", "staging").returncode == 0
    defaults = repo.root / "campaigns" / "_defaults.yaml"
    defaults.write_text(defaults.read_text().replace("format: simple", "format: fancy"))
    changed = repo.run("validate", "--env", "staging")
    assert changed.returncode == 1 and "$.format" in changed.stdout, changed.stdout


def test_a_file_named_alone_gets_the_defaults_above_it(repo: Workspace) -> None:
    """As a pre-commit hook runs it: the changed file only, its folders' defaults found."""
    alone = repo.run("validate", "campaigns/sales/spring.yaml")
    assert alone.returncode == 0, alone.stdout
    assert "1 valid campaign(s) in 1 file(s)" in alone.stdout
