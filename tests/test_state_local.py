"""LocalBackend on real files: atomic writes, backups, compare-and-swap, corruption, locks."""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.errors import LockError, StaleStateError, StateError
from provisioner.state import local as local_module
from provisioner.state import open_backend
from provisioner.state.local import LocalBackend
from provisioner.state.model import State

TARGET = {"host": "https://a", "streamId": "st-1", "accountId": "acc-1"}
HOLDER = """
import sys
from provisioner.state.local import LocalBackend
with LocalBackend(sys.argv[1]).lock("apply"):
    print("locked", flush=True)
    sys.stdin.read()
"""


def saved(path: Path) -> tuple[LocalBackend, State]:
    """A backend at `path` holding one written state with one campaign."""
    backend = LocalBackend(path)
    state = State.new(TARGET)
    state.record_campaign("Spring Sale", "cd-1", {"name": "Spring Sale"}, "sha256:aa")
    backend.write(state)
    return backend, state


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock on tmp_path/s.json until its stdin closes."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "s.json")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    yield proc
    if proc.stdin and not proc.stdin.closed:
        proc.stdin.close()
    proc.wait(timeout=30)


def test_read_is_none_without_a_file_and_open_backend_picks_local(tmp_path: Path) -> None:
    backend = open_backend(str(tmp_path / "none.json"), workspace="dev")
    assert isinstance(backend, LocalBackend) and backend.read() is None


def test_write_creates_parents_and_a_readable_sorted_document(tmp_path: Path) -> None:
    path = tmp_path / "state" / "dev.json"
    backend, state = saved(path)
    text = path.read_text()
    assert state.serial == 1 and text.endswith("}\n")
    assert json.loads(text) == state.to_dict()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"
    assert backend.read() == state


def test_no_op_write_does_not_touch_the_file(tmp_path: Path) -> None:
    backend, state = saved(tmp_path / "s.json")
    before = os.stat(tmp_path / "s.json")
    again = backend.read()
    assert again is not None
    backend.write(again)
    after = os.stat(tmp_path / "s.json")
    assert again.serial == 1 and (after.st_ino, after.st_mtime_ns) == (before.st_ino,
                                                                       before.st_mtime_ns)
    assert not (tmp_path / "s.json.backup").exists()


def test_a_change_bumps_serial_once_and_keeps_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    backend, state = saved(path)
    first = path.read_text()
    state.forget("spring sale")
    backend.write(state)
    assert state.serial == 2 and json.loads(path.read_text())["serial"] == 2
    assert (tmp_path / "s.json.backup").read_text() == first


def test_a_crash_before_rename_leaves_the_old_file_intact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    backend, state = saved(path)
    old = path.read_bytes()

    real_replace = os.replace

    def crash(src: str, dst: str) -> None:
        if Path(dst) == path:  # the backup is replaced; the state file's rename "crashes"
            raise OSError("simulated crash before rename")
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", crash)
    state.forget("spring sale")
    with pytest.raises(StateError, match="simulated crash"):
        backend.write(state)
    monkeypatch.undo()
    assert path.read_bytes() == old and state.serial == 1
    # no temp file left behind; the backup already holds the old version too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "s.json.backup"]
    assert backend.read() == State.from_dict(json.loads(old), location=str(path))


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_corrupt_file_is_reported_and_never_overwritten(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "s.json"
    backend, state = saved(path)
    state.forget("spring sale")
    backend.write(state)  # now a backup exists
    text = path.read_text()
    broken = text[: len(text) // 2] if damage == "truncate" else "{\n  nope\n"
    path.write_text(broken)
    with pytest.raises(StateError) as caught:
        backend.read()
    message = str(caught.value)
    assert f"state {path} is corrupt (line " in message and " column " in message
    assert f"{path}.backup" in message and "\n" not in message
    with pytest.raises(StateError):
        backend.write(state)
    assert path.read_text() == broken


def test_a_wrongly_shaped_file_is_reported_without_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"format_version": 9}\n')
    with pytest.raises(StateError, match="format_version 9 is not supported") as caught:
        LocalBackend(path).read()
    assert "backup" not in str(caught.value)


def test_compare_and_swap_refuses_a_stale_writer(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    saved(path)
    first, second = LocalBackend(path), LocalBackend(path)
    mine, theirs = first.read(), second.read()
    assert mine is not None and theirs is not None
    theirs.forget("spring sale")
    second.write(theirs)
    written = path.read_text()
    mine.record_intent("Other", {}, "sha256:bb")
    with pytest.raises(StaleStateError, match="serial 2 but this write was based on serial 1"):
        first.write(mine)
    assert path.read_text() == written


def test_a_second_new_state_cannot_replace_the_first(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    saved(path)
    with pytest.raises(StaleStateError, match="lineage"):
        LocalBackend(path).write(State.new(TARGET))


def test_lock_held_by_a_live_process_names_its_holder(
        tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    backend = LocalBackend(tmp_path / "s.json")
    lock_id = json.loads((tmp_path / "s.json.lock").read_text())["id"]
    with pytest.raises(LockError) as caught, backend.lock("plan"):
        pass
    message = str(caught.value)
    assert message.startswith(f"state {tmp_path / 's.json'} is locked by "
                              f"{getpass.getuser()}@{socket.gethostname()} pid {holder.pid} since ")
    assert f"(operation: apply, lock id {lock_id})" in message
    assert f"`provisioner force-unlock {lock_id}`" in message


def test_a_nan_lock_timeout_does_not_wait_forever(
        tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    backend = LocalBackend(tmp_path / "s.json")
    with pytest.raises(LockError, match="is locked by"), backend.lock("plan",
                                                                      timeout=float("nan")):
        pass


def test_lock_timeout_waits_and_gets_the_lock_when_released(
        tmp_path: Path, holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch) -> None:
    polled = threading.Event()
    real_sleep = local_module.time.sleep

    def sleep(seconds: float) -> None:
        polled.set()
        real_sleep(seconds)
    monkeypatch.setattr(local_module.time, "sleep", sleep)
    got: list[str] = []

    def wait_for_lock() -> None:
        with LocalBackend(tmp_path / "s.json").lock("apply", timeout=120):
            got.append(json.loads((tmp_path / "s.json.lock").read_text())["operation"])
    waiter = threading.Thread(target=wait_for_lock)
    waiter.start()
    assert polled.wait(60)  # the waiter found the lock held and is polling
    assert got == []
    assert holder.stdin is not None
    holder.stdin.close()
    waiter.join(120)
    assert got == ["apply"] and not (tmp_path / "s.json.lock").exists()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _plant_lock(path: Path, host: str, pid: int) -> None:
    Path(f"{path}.lock").write_text(json.dumps({
        "id": "old-id", "pid": pid, "host": host, "user": "someone",
        "since": "2024-01-01T00:00:00Z", "operation": "apply"}))


def test_a_stale_lock_of_a_dead_pid_is_taken_over_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    pid = _dead_pid()
    _plant_lock(path, socket.gethostname(), pid)
    warnings: list[str] = []
    with LocalBackend(path, on_warning=warnings.append).lock("apply"):
        assert json.loads(Path(f"{path}.lock").read_text())["pid"] == os.getpid()
    assert len(warnings) == 1
    assert warnings[0].startswith(f"took over a stale lock left by pid {pid} ")
    assert not Path(f"{path}.lock").exists()


def test_a_dead_pid_on_another_host_is_respected(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    _plant_lock(path, "elsewhere.example", _dead_pid())
    with pytest.raises(LockError, match="someone@elsewhere.example"), \
            LocalBackend(path).lock("apply"):
        pass


def test_force_unlock_needs_the_matching_id(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    backend = LocalBackend(path)
    with pytest.raises(LockError, match="is not locked"):
        backend.force_unlock("old-id")
    _plant_lock(path, "elsewhere.example", 1)
    with pytest.raises(LockError, match="lock id wrong does not match"):
        backend.force_unlock("wrong")
    assert backend.force_unlock("old-id")["host"] == "elsewhere.example"
    assert not Path(f"{path}.lock").exists()


def test_the_lock_is_released_on_error_but_never_someone_elses(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    backend = LocalBackend(path)
    with pytest.raises(RuntimeError), backend.lock("apply"):
        raise RuntimeError("boom")
    assert not Path(f"{path}.lock").exists()
    with backend.lock("apply"):
        mine = json.loads(Path(f"{path}.lock").read_text())["id"]
        backend.force_unlock(mine)
        _plant_lock(path, "elsewhere.example", 1)
    assert json.loads(Path(f"{path}.lock").read_text())["id"] == "old-id"


def test_history_and_restore_use_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    backend, state = saved(path)
    state.forget("spring sale")
    backend.write(state)
    assert [(v["serial"], v["campaigns"]) for v in backend.history()] == [(2, 0), (1, 1)]
    with pytest.raises(StateError, match="no version at serial 7 .available: 2, 1"):
        backend.restore(7)
    restored = backend.restore(1)
    again = backend.read()
    assert restored.serial == 3 and again is not None
    assert again.lineage == state.lineage and "spring sale" in again.campaigns


def test_import_state_keeps_lineage_and_serial_but_never_overwrites(tmp_path: Path) -> None:
    source, state = saved(tmp_path / "a.json")
    copy = LocalBackend(tmp_path / "b.json")
    copy.import_state(state)
    assert copy.read() == state
    with pytest.raises(StateError, match="already exists"):
        copy.import_state(state)
