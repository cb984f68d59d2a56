"""The state journal (issue 13) on real files and a real PostgreSQL: one small record per
write whatever the state's size, torn and corrupt records, kills mid-append and
mid-compaction, compare-and-swap, group commit."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from provisioner.errors import StaleStateError, StateError
from provisioner.state import open_backend
from provisioner.state.journal import GroupCommit, parse_journal, record_line
from provisioner.state.local import LocalBackend
from provisioner.state.model import State
from tests.test_state_postgres import url  # noqa: F401  (the fixture: a fresh schema)

TARGET = {"host": "https://a", "streamId": "st-1", "accountId": "acc-1"}
BODY = {"name": "x", "description": "A campaign body of a realistic size. " * 20}


def seeded(path: Path, count: int) -> LocalBackend:
    """A stored state of `count` campaigns (written whole, without the lock)."""
    backend = LocalBackend(path)
    state = State.new(TARGET)
    for i in range(count):
        state.record_campaign(f"Old {i:05d}", f"old-{i}", BODY, f"sha256:{i}")
    backend.write(state)
    return backend


def add(state: State, i: int) -> None:
    state.record_intent(f"New {i}", BODY, f"sha256:n{i}")
    state.record_campaign(f"New {i}", f"new-{i}", BODY, f"sha256:n{i}")


def test_a_write_under_the_lock_appends_the_same_bytes_whatever_the_state_size(
        tmp_path: Path) -> None:
    grown = {}
    for count in (10, 2000):
        backend = seeded(tmp_path / f"s{count}.json", count)
        document = backend.path.read_bytes()
        with backend.lock("apply"):
            state = backend.read()
            assert state is not None
            sizes = []
            for i in range(5):
                add(state, i)
                backend.write(state)
                sizes.append(backend.journal_path.stat().st_size)
            assert backend.path.read_bytes() == document   # the document was not rewritten
        grown[count] = [b - a for a, b in zip(sizes, sizes[1:])]
        assert not backend.journal_path.exists()   # compacted when the lock was released
        assert len(LocalBackend(backend.path).read().campaigns) == count + 5  # type: ignore[union-attr]
    assert grown[10] == grown[2000] and all(0 < n < 2500 for n in grown[10])


def test_a_reader_sees_document_and_journal_and_the_serial_counts_writes(tmp_path: Path) -> None:
    backend = seeded(tmp_path / "s.json", 3)
    with backend.lock("apply"):
        state = backend.read()
        assert state is not None
        add(state, 1)
        backend.write(state)
        state.forget("old 00000")
        backend.write(state)
        other = LocalBackend(backend.path).read()   # a plan reading meanwhile, lock-free
        assert other == state and other is not None and other.serial == state.serial == 3
        assert json.loads(backend.path.read_text())["serial"] == 1
    assert json.loads(backend.path.read_text())["serial"] == 3


def journal_left(tmp_path: Path, records: int = 3,
                 backend: LocalBackend | None = None) -> LocalBackend:
    """A state with a journal of `records` writes left beside it, as a killed run leaves it."""
    backend = backend or seeded(tmp_path / "s.json", 2)
    state = backend.read()
    assert state is not None
    backend._locked = True   # as under the lock, without the compaction on its release
    for i in range(records):
        add(state, i)
        backend.write(state)
    backend._journal.close()
    return backend


def test_a_torn_last_record_is_ignored_with_a_warning_then_cut_off(tmp_path: Path) -> None:
    backend = journal_left(tmp_path)
    whole = backend.journal_path.read_bytes()
    torn = record_line(5, [{"op": "drop", "lname": "old 00000"}])
    backend.journal_path.write_bytes(whole + torn[: len(torn) // 2])
    warnings: list[str] = []
    reader = LocalBackend(backend.path, on_warning=warnings.append)
    state = reader.read()
    assert state is not None and state.serial == 4 and "old 00000" in state.campaigns
    assert len(warnings) == 1 and "torn last record" in warnings[0] and "line 5" in warnings[0]
    with reader.lock("apply"):
        state = reader.read()   # the lock holder compacts what the killed run left
        assert not reader.journal_path.exists()
        assert state is not None
        state.forget("new 0")
        reader.write(state)
    final = LocalBackend(backend.path).read()
    assert final is not None and final.serial == 5 and "new 0" not in final.campaigns


@pytest.mark.parametrize("damage", ["flip a byte", "cut a line"])
def test_a_bad_record_before_the_last_is_corruption_and_nothing_is_written(
        tmp_path: Path, damage: str) -> None:
    backend = journal_left(tmp_path)
    lines = backend.journal_path.read_bytes().splitlines(keepends=True)
    if damage == "flip a byte":
        lines[2] = lines[2].replace(b'"op"', b'"oq"', 1)
    else:
        lines[2] = lines[2][:-6] + b"\n"
    backend.journal_path.write_bytes(b"".join(lines))
    before = (backend.path.read_bytes(), backend.journal_path.read_bytes())
    reader = LocalBackend(backend.path)
    with pytest.raises(StateError, match=r"journal of state .* is corrupt: line 3") as caught:
        with reader.lock("apply"):
            reader.read()
    assert "\n" not in str(caught.value)
    assert (backend.path.read_bytes(), backend.journal_path.read_bytes()) == before


def test_a_compaction_cut_short_after_the_rename_reads_the_same(tmp_path: Path) -> None:
    backend = journal_left(tmp_path)
    expected = LocalBackend(backend.path).read()
    assert expected is not None
    journal = backend.journal_path.read_bytes()
    with backend.lock("apply"):
        backend.read()   # compacts
    backend.journal_path.write_bytes(journal)   # as if killed before the journal was removed
    again = LocalBackend(backend.path).read()
    assert again == expected and again is not None and again.serial == expected.serial


def test_a_write_after_someone_else_wrote_is_refused(tmp_path: Path) -> None:
    backend = seeded(tmp_path / "s.json", 2)
    with backend.lock("apply"):
        state = backend.read()
        assert state is not None
        add(state, 1)
        backend.write(state)
        intruder = LocalBackend(backend.path)   # e.g. after a force-unlock
        theirs = intruder.read()
        assert theirs is not None
        theirs.forget("old 00000")
        intruder.write(theirs)
        add(state, 2)
        with pytest.raises(StaleStateError, match="serial"):
            backend.write(state)
    final = LocalBackend(backend.path).read()
    assert final is not None and "new 2" not in final.campaigns


KILLED = """
import sys
from provisioner.state.local import LocalBackend
backend = LocalBackend(sys.argv[1], compact_bytes=int(sys.argv[2]))
body = {"name": "x", "description": "y" * 300}
with backend.lock("apply"):
    state = backend.read()
    for i in range(100000):
        state.record_intent(f"K{i}", body, "sha256:k")
        backend.write(state)
        state.record_campaign(f"K{i}", f"k-{i}", body, "sha256:k")
        backend.write(state)
        print(i, flush=True)
"""


@pytest.mark.parametrize("compact_bytes", [4000, 1 << 20])
def test_kill_9_mid_append_or_mid_compaction_loses_nothing_confirmed(
        tmp_path: Path, compact_bytes: int) -> None:
    """Killed at random moments (with a small threshold, many land in a compaction), the
    state stays readable and holds every write that was confirmed durable, in order."""
    path = tmp_path / "s.json"
    seeded(path, 1)
    rng = random.Random(13)
    for _round in range(6):
        proc = subprocess.Popen([sys.executable, "-c", KILLED, str(path), str(compact_bytes)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        deadline = time.monotonic() + rng.uniform(0.3, 0.9)
        confirmed = -1
        while time.monotonic() < deadline:
            confirmed = int(proc.stdout.readline())
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = LocalBackend(path).read()
        assert state is not None
        names = sorted(int(k[1:]) for k in state.campaigns if k.startswith("k"))
        assert names == list(range(len(names))) and len(names) > confirmed
        pending = [k for k in state.pending]
        assert pending in ([], [f"k{len(names)}"])
        holder = LocalBackend(path)
        with holder.lock("apply"):   # the next holder compacts what the killed run left
            assert holder.read() == state
        assert not holder.journal_path.exists() and LocalBackend(path).read() == state
        for key in list(state.campaigns):
            if key.startswith("k"):
                state.forget(key)
        state.clear_intent(f"k{len(names)}")
        LocalBackend(path).write(state)


def test_group_commit_shares_one_sync_between_waiting_workers() -> None:
    syncs: list[int] = []
    staged_lock = threading.Lock()

    def slow_sync(upto: int) -> None:
        syncs.append(upto)
        time.sleep(0.05)

    group = GroupCommit(slow_sync)

    def worker() -> None:
        for _ in range(5):
            with staged_lock:
                ticket = group.staged()
            group.wait(ticket)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert syncs == sorted(syncs) and syncs[-1] == 20
    assert len(syncs) < 20   # waiting together, workers shared syncs


def test_a_failed_sync_fails_every_wait_for_what_it_covered() -> None:
    def failing(upto: int) -> None:
        raise StateError("disk gone")

    group = GroupCommit(failing)
    first, second = group.staged(), group.staged()
    for ticket in (first, second):
        with pytest.raises(StateError, match="disk gone"):
            group.wait(ticket)


def test_parse_journal_trusts_only_whole_lines() -> None:
    from provisioner.state.journal import header_line
    data = header_line("L", 1) + record_line(2, []) + b"0000"
    read = parse_journal(data)
    assert (read.lineage, read.base, [r.serial for r in read.records]) == ("L", 1, [2])
    assert read.good_end == len(data) - 4 and "cut off" in read.torn


# -- PostgreSQL -------------------------------------------------------------------------------

@pytest.mark.postgres
def test_postgres_journals_rows_under_the_lock_and_compacts_on_release(url: str) -> None:  # noqa: F811
    import psycopg

    backend = open_backend(url, workspace="dev")
    state = State.new(TARGET)
    for i in range(50):
        state.record_campaign(f"Old {i}", f"old-{i}", BODY, f"sha256:{i}")
    backend.write(state)
    schema = url.split("schema=")[1]
    with backend.lock("apply"):
        state = backend.read()
        assert state is not None
        for i in range(4):
            add(state, i)
            backend.write(state)
        with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
            rows = conn.execute(f'SELECT serial, octet_length(changes::text) FROM "{schema}".journal '
                                "ORDER BY serial").fetchall()
            stored = conn.execute(f'SELECT serial FROM "{schema}".states').fetchone()
        assert [r[0] for r in rows] == [2, 3, 4, 5] and stored == (1,)
        assert max(r[1] for r in rows) < 3000
        assert open_backend(url, workspace="dev").read() == state   # document + journal
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        stored = conn.execute(f'SELECT serial FROM "{schema}".states').fetchone()
        snapshots = conn.execute(f'SELECT serial FROM "{schema}".history').fetchall()
    assert stored == (5,) and snapshots == [(1,)]
    final = open_backend(url, workspace="dev").read()
    assert final == state and final is not None and final.serial == 5


@pytest.mark.postgres
def test_postgres_refuses_a_journal_write_after_someone_else_wrote(url: str) -> None:  # noqa: F811
    backend = open_backend(url, workspace="dev")
    backend.write(State.new(TARGET))
    with backend.lock("apply"):
        state = backend.read()
        assert state is not None
        add(state, 1)
        backend.write(state)
        theirs = open_backend(url, workspace="dev").read()
        assert theirs is not None
        theirs.forget("new 1")
        open_backend(url, workspace="dev").write(theirs)
        add(state, 2)
        with pytest.raises(StaleStateError, match="moved on"):
            backend.write(state)
    final = open_backend(url, workspace="dev").read()
    assert final is not None and "new 2" not in final.campaigns


def test_a_postgres_state_without_the_driver_names_the_extra(tmp_path: Path) -> None:
    """Not `internal error: ModuleNotFoundError`: one line naming what to install, exit 1."""
    blocked = ("import sys; sys.modules['psycopg'] = None; sys.argv[0] = 'provisioner'; "
               "from provisioner.cli import run; run()")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", blocked, "state", "list", "--env", "dev", "--state",
         "postgresql://u:s3cret@127.0.0.1:5432/test"], cwd=tmp_path, capture_output=True,
        text=True, timeout=60, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: a postgresql:// state needs the PostgreSQL driver, which is not installed: "
        "pip install 'provisioner[postgres]'"]


def test_a_plan_after_a_killed_run_reads_the_journal_not_the_stale_index(
        tmp_path: Path) -> None:
    from provisioner.commands._common import read_view
    from provisioner.config import Target

    backend = seeded(tmp_path / "s.json", 2)
    target = Target("dev", "https://a", "st-1", "acc-1", "", str(backend.path), "dev", 0, False)
    cache = tmp_path / "cache"
    assert sorted(read_view(backend, target, cache).campaigns) == ["old 00000", "old 00001"]  # type: ignore[union-attr]
    left = journal_left(tmp_path, 2, backend)   # the same document, now with a journal
    view = read_view(LocalBackend(left.path), target, cache)
    assert view is not None and view.serial == 3
    assert sorted(view.campaigns) == ["new 0", "new 1", "old 00000", "old 00001"]


@pytest.mark.postgres
def test_postgres_plan_view_reads_no_bodies_until_asked(url: str) -> None:  # noqa: F811
    from provisioner.state.view import StateView

    backend = open_backend(url, workspace="dev")
    state = State.new(TARGET)
    for i in range(3):
        state.record_campaign(f"Old {i}", f"old-{i}", {**BODY, "i": i}, f"sha256:{i}")
    state.record_intent("Next", BODY, "sha256:n")
    backend.write(state)
    view = backend.read_view()
    assert isinstance(view, StateView) and view.serial == 1
    assert view.campaigns["old 1"] == {"name": "Old 1", "lname": "old 1", "id": "old-1",
                                       "digest": "sha256:1"}
    assert view.pending == state.pending and view.body_of("old 2") == {**BODY, "i": 2}
    with backend.lock("apply"):   # journal rows follow the document: the whole state
        current = backend.read()
        assert current is not None
        add(current, 1)
        backend.write(current)
        assert backend.read_view() == current
    view = backend.read_view()
    assert isinstance(view, StateView) and view.serial == 2 and "new 1" in view.campaigns
