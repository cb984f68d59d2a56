"""`provisioner state ...` and `force-unlock` through the real CLI, as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from provisioner.state.local import LocalBackend
from provisioner.state.model import State

TARGET = {"host": "https://a", "streamId": "st-1", "accountId": "acc-1"}


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PROVISIONER_STATE"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "provisioner", *args], cwd=cwd, text=True,
                          capture_output=True, env=environment, timeout=60)


def seed(path: Path) -> State:
    state = State.new(TARGET)
    state.record_campaign("Spring Sale", "cd-1", {"name": "Spring Sale"}, "sha256:" + "a" * 64,
                          {"status": "Ready", "createdAt": "c", "updatedAt": "u"})
    state.record_campaign("Autumn", "cd-2", {"name": "Autumn"}, "sha256:" + "b" * 64)
    state.record_intent("Winter", {"name": "Winter"}, "sha256:" + "c" * 64)
    LocalBackend(path).write(state)
    return state


def test_list_uses_the_env_default_location(tmp_path: Path) -> None:
    seed(tmp_path / "state" / "dev.json")
    since = json.loads((tmp_path / "state/dev.json").read_text())["pending"]["winter"]["since"]
    result = cli("state", "list", "--env", "dev", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Autumn\tcd-2\t-\tsha256:bbbbbbbbbbbb",
        "Spring Sale\tcd-1\tReady\tsha256:aaaaaaaaaaaa",
        f"Winter\t(pending create since {since})\t-\tsha256:cccccccccccc",
    ]


def test_list_without_state_says_so(tmp_path: Path) -> None:
    result = cli("state", "list", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert "no state recorded at state/default.json" in result.stderr


def test_show_finds_a_campaign_in_any_case_via_the_env_variable(tmp_path: Path) -> None:
    state = seed(tmp_path / "x.json")
    result = cli("state", "show", "SPRING sale", cwd=tmp_path,
                 env={"PROVISIONER_STATE": str(tmp_path / "x.json")})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == state.campaigns["spring sale"]
    missing = cli("state", "show", "nope", "--state", "x.json", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr == "error: no campaign named 'nope' in state x.json\n"


def test_rm_forgets_under_the_lock_and_says_what(tmp_path: Path) -> None:
    seed(tmp_path / "s.json")
    result = cli("state", "rm", "autumn", "--state", "s.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("forgot Autumn (id cd-2) from state s.json (serial 2)")
    stored = LocalBackend(tmp_path / "s.json").read()
    assert stored is not None and sorted(stored.campaigns) == ["spring sale"]
    assert not (tmp_path / "s.json.lock").exists()


def test_rm_refuses_while_locked_and_force_unlock_clears_it(tmp_path: Path) -> None:
    seed(tmp_path / "s.json")
    (tmp_path / "s.json.lock").write_text(json.dumps({
        "id": "lock-1", "pid": 1, "host": "ci-runner-9", "user": "bot",
        "since": "2024-05-01T10:00:00Z", "operation": "apply"}))
    refused = cli("state", "rm", "autumn", "--state", "s.json", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: state s.json is locked by bot@ci-runner-9 pid 1 "
                                     "since 2024-05-01T10:00:00Z (operation: apply, lock id "
                                     "lock-1)")
    wrong = cli("force-unlock", "lock-2", "--state", "s.json", cwd=tmp_path)
    assert wrong.returncode == 1 and (tmp_path / "s.json.lock").exists()
    cleared = cli("force-unlock", "lock-1", "--state", "s.json", cwd=tmp_path)
    assert cleared.returncode == 0, cleared.stderr
    assert "cleared lock lock-1" in cleared.stdout and not (tmp_path / "s.json.lock").exists()
    assert cli("state", "rm", "autumn", "--state", "s.json", cwd=tmp_path).returncode == 0


def test_corrupt_state_is_an_error_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{"format_version": 1,')
    result = cli("state", "rm", "x", "--state", "s.json", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: state s.json is corrupt (line 1 column 22")
    assert "Traceback" not in result.stderr
    assert (tmp_path / "s.json").read_text() == '{"format_version": 1,'


def test_history_restore_and_migrate_between_files(tmp_path: Path) -> None:
    state = seed(tmp_path / "s.json")
    assert cli("state", "rm", "autumn", "--state", "s.json", cwd=tmp_path).returncode == 0
    history = cli("state", "history", "--state", "s.json", cwd=tmp_path)
    assert [line.split("\t")[0] for line in history.stdout.splitlines()] == ["2", "1"]
    restored = cli("state", "restore", "1", "--state", "s.json", cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith("restored serial 1 of s.json as serial 3")
    moved = cli("state", "migrate", "--state", "s.json", "--to", "copy/b.json", cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    copy = LocalBackend(tmp_path / "copy" / "b.json").read()
    assert copy is not None and (copy.lineage, copy.serial) == (state.lineage, 3)
    assert sorted(copy.campaigns) == ["autumn", "spring sale"]
    again = cli("state", "migrate", "--state", "s.json", "--to", "copy/b.json", cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_mv_rekeys_a_campaign_keeping_its_id_and_refuses_what_would_lose_one(
        tmp_path: Path) -> None:
    """`state mv OLD NEW` (issue 15): same id, new key; nothing on the tenant changes."""
    seed(tmp_path / "s.json")
    moved = cli("state", "mv", "spring SALE", "Spring Sale 2027", "--state", "s.json",
                cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("moved Spring Sale (id cd-1) to Spring Sale 2027 in state")
    stored = LocalBackend(tmp_path / "s.json").read()
    assert stored is not None and sorted(stored.campaigns) == ["autumn", "spring sale 2027"]
    entry = stored.campaigns["spring sale 2027"]
    assert (entry["name"], entry["id"], entry["status"]) == ("Spring Sale 2027", "cd-1", "Ready")
    for args, message in ((("nope", "X"), "no campaign 'nope' is recorded"),
                          (("autumn", "SPRING SALE 2027"), "is recorded in state already"),
                          (("autumn", "winter"), "an intent is pending"),
                          (("autumn", " padded"), "is not a campaign name")):
        refused = cli("state", "mv", *args, "--state", "s.json", cwd=tmp_path)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
        assert len(refused.stderr.splitlines()) == 1
    assert LocalBackend(tmp_path / "s.json").read() == stored
