"""A warm plan (spec cache, state index, helper process, lazily loaded bodies) prints
exactly what a plan with --no-cache prints, in every format, whatever changed: a spec, the
state, or the cache itself. Real CLI runs on a generated data set big enough for the
worker pool on a cold run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from gen import generate  # noqa: E402

COUNT = 600   # 300 files: a cold run forks the worker pool (provisioner/spec/files.py)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return generate(COUNT, tmp_path / "data")


def plan(data: Path, *extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PROVISIONER_"))}
    env.update(PYTHONPATH=str(ROOT), PROVISIONER_CACHE_DIR=str(data / "cache"), NO_COLOR="1")
    out = subprocess.run([sys.executable, "-m", "provisioner", "plan", "--config", "bench.yaml",
                          "--state", "state.json", "--campaigns", "campaigns", *extra],
                         cwd=data, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def same_as_cold(data: Path) -> dict:
    """Warm and cold output agree in json, text and markdown; the json plan is returned."""
    for fmt in ("json", "text", "markdown"):
        warm = plan(data, "--format", fmt)
        assert warm == plan(data, "--format", fmt, "--no-cache"), fmt
    return json.loads(warm if fmt == "json" else plan(data, "--format", "json"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_warm_plans_print_what_cold_plans_print(data: Path) -> None:
    first = same_as_cold(data)   # fills the cache on the first run
    assert first["summary"]["noop"] == COUNT and (data / "cache" / "specs.idx").exists()
    assert list((data / "cache").glob("state-*.bin"))
    assert all(c["before"] is None and c["after"] is None for c in first["changes"])
    recorded = json.loads((data / "state.json").read_text(encoding="utf-8"))["campaigns"]
    assert [c["lname"] for c in first["changes"]] == sorted(recorded)
    for change in first["changes"]:   # what a noop carries comes from its spec and record
        record = recorded[change["lname"]]
        assert (change["action"], change["name"], change["id"]) == (
            "noop", record["name"], record["id"])
        assert change["digest_before"] == change["digest_after"] == record["digest"]
        assert change["source"].startswith("campaigns/c") and change["source"].endswith(":1")
    time.sleep(2.1)   # past the racy window (provisioner/speed/cache.py): stats now vouch
    plan(data)        # records them so; the runs below read only what changed

    edit(data / "campaigns" / "c000010.yaml", "Generated for the provisioner benchmark.",
         "Edited.")
    changed = same_as_cold(data)
    [update] = [c for c in changed["changes"] if c["action"] == "update"]
    assert update["changes"] == [{"path": "$.description", "before": update["before"][
        "description"], "after": update["after"]["description"]}]
    assert update["after"]["description"].endswith("Edited.")


def test_a_campaign_missing_from_state_gets_its_body_from_the_cache(data: Path) -> None:
    same_as_cold(data)
    state = json.loads((data / "state.json").read_text(encoding="utf-8"))
    gone = sorted(state["campaigns"])[7]
    del state["campaigns"][gone]
    (data / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    result = same_as_cold(data)   # an unchanged file: the create's body comes from the pack
    [create] = [c for c in result["changes"] if c["action"] == "create"]
    assert create["lname"] == gone and create["after"]["name"].lower() == gone


def test_a_lost_pack_only_costs_a_second_analysis(data: Path) -> None:
    same_as_cold(data)
    for pack in (data / "cache").glob("specs-*.pack"):
        pack.unlink()
    state = json.loads((data / "state.json").read_text(encoding="utf-8"))
    first = sorted(state["campaigns"])[0]
    state["campaigns"][first]["digest"] = "sha256:" + "0" * 64   # forces an update
    (data / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    result = same_as_cold(data)
    assert [c["lname"] for c in result["changes"] if c["action"] == "update"] == [first]


def test_a_saved_warm_plan_equals_a_saved_cold_plan(data: Path) -> None:
    edit(data / "campaigns" / "c000020.yaml", "Generated for the provisioner benchmark.",
         "Saved.")
    plan(data, "--out", "warm.json")
    plan(data, "--out", "cold.json", "--no-cache")
    warm = json.loads((data / "warm.json").read_text(encoding="utf-8"))
    assert warm == json.loads((data / "cold.json").read_text(encoding="utf-8"))
    assert warm["summary"]["noop"] == COUNT - 1
