"""PostgresBackend against a real server: CAS, advisory locks, history, migrate.

Skipped with a reason when no server answers, unless PROVISIONER_REQUIRE_POSTGRES=1 (CI),
which turns that into a failure. The server is PROVISIONER_TEST_POSTGRES (default
postgresql://postgres@127.0.0.1:5432/test); each test uses a schema of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.errors import LockError, StaleStateError, StateError
from provisioner.state import open_backend
from provisioner.state.local import LocalBackend
from provisioner.state.model import State

pytestmark = pytest.mark.postgres
SERVER = os.environ.get("PROVISIONER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("PROVISIONER_REQUIRE_POSTGRES") == "1"
TARGET = {"host": "https://a", "streamId": "st-1", "accountId": "acc-1"}
HOLDER = """
import sys
from provisioner.errors import StateError
from provisioner.state import open_backend
backend = open_backend(sys.argv[1], workspace=sys.argv[2])
with backend.lock("apply"):
    print("locked", flush=True)
    sys.stdin.readline()
    try:
        backend.read()
        print("still connected", flush=True)
    except StateError as exc:
        print(f"lost: {exc}", flush=True)
"""


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"PROVISIONER_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def url() -> Iterator[str]:
    """A state URL with a fresh schema, dropped afterwards."""
    try:
        import psycopg
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'psycopg[binary]')")
    try:
        admin = psycopg.connect(SERVER, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        first = " ".join(str(exc).split())[:160]
        _unavailable(f"no PostgreSQL server answers at {SERVER}: {first}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{SERVER}?schema={schema}"
    admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.close()


@pytest.fixture
def holders(url: str) -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait(30)


def hold(procs: list[subprocess.Popen[str]], url: str, workspace: str
         ) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url, workspace], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    procs.append(proc)
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    return proc


def seeded(url: str, workspace: str = "dev") -> tuple[object, State]:
    backend = open_backend(url, workspace=workspace)
    state = State.new(TARGET)
    state.record_campaign("Spring Sale", "cd-1", {"name": "Spring Sale"}, "sha256:aa")
    backend.write(state)
    return backend, state


def test_round_trip_and_no_op_writes_keep_the_serial(url: str) -> None:
    backend, state = seeded(url)
    assert backend.read() is not None and backend.read() == state and state.serial == 1
    again = backend.read()
    backend.write(again)
    assert again.serial == 1 and backend.history()[0]["serial"] == 1
    assert len(backend.history()) == 1  # a no-op write adds no history


def test_compare_and_swap_refuses_a_stale_writer(url: str) -> None:
    seeded(url)
    first, second = open_backend(url, workspace="dev"), open_backend(url, workspace="dev")
    mine, theirs = first.read(), second.read()
    theirs.forget("spring sale")
    second.write(theirs)
    mine.record_intent("Other", {}, "sha256:bb")
    with pytest.raises(StaleStateError, match="serial 2 but this write was based on serial 1"):
        first.write(mine)
    assert first.read() == theirs


def test_a_refused_lock_names_the_holder_and_kill_9_frees_it(
        url: str, holders: list[subprocess.Popen[str]]) -> None:
    proc = hold(holders, url, "dev")
    backend = open_backend(url, workspace="dev")
    with pytest.raises(LockError) as caught, backend.lock("plan"):
        pass
    message = str(caught.value)
    assert f"pid {proc.pid} since " in message and "(operation: apply, lock id " in message
    assert "(workspace dev) is locked by " in message and "PostgreSQL backend pid" in message
    proc.kill()
    proc.wait(30)
    # The server ends the dead client's session, and its session lock with it.
    with backend.lock("after-kill", timeout=60):
        now = _holder_text(url, "dev")
    assert f"pid {os.getpid()} since " in now and "(operation: after-kill, " in now


def _holder_text(url: str, workspace: str) -> str:
    try:
        with open_backend(url, workspace=workspace).lock("probe"):
            return ""
    except LockError as exc:
        return str(exc)


def test_a_nan_lock_timeout_does_not_wait_forever(
        url: str, holders: list[subprocess.Popen[str]]) -> None:
    """max(nan, 0.0) is nan: the deadline was never reached (the CLI refuses nan too)."""
    hold(holders, url, "dev")
    with pytest.raises(LockError), open_backend(url, workspace="dev").lock(
            "plan", timeout=float("nan")):
        pass


def test_two_workspaces_never_block_each_other(
        url: str, holders: list[subprocess.Popen[str]]) -> None:
    hold(holders, url, "dev")
    with open_backend(url, workspace="prod").lock("apply"):
        seeded(url, "prod")
    assert "locked by" in _holder_text(url, "dev")


def test_the_same_workspace_in_another_schema_is_another_lock(
        url: str, holders: list[subprocess.Popen[str]]) -> None:
    hold(holders, url, "dev")
    other = url.replace("?schema=t_", "?schema=u_")
    try:
        with open_backend(other, workspace="dev").lock("apply"):
            pass
    finally:
        import psycopg
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{other.split("schema=")[1]}" CASCADE')


def test_force_unlock_ends_the_holders_session(
        url: str, holders: list[subprocess.Popen[str]]) -> None:
    proc = hold(holders, url, "dev")
    backend = open_backend(url, workspace="dev")
    with pytest.raises(LockError, match="no lock with id nope"):
        backend.force_unlock("nope")
    lock_id = _holder_text(url, "dev").split("lock id ")[1].split(")")[0]
    assert backend.force_unlock(lock_id)["pid"] == proc.pid
    with backend.lock("apply", timeout=60):
        pass
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().startswith("lost: PostgreSQL state ")


WRITER = """
import sys
from provisioner.state import State, open_backend
backend = open_backend(sys.argv[1], workspace="dev")
with backend.lock("apply", timeout=120):
    state = backend.read() or State.new({"host": "https://a", "streamId": "s", "accountId": "a"})
    state.record_campaign(sys.argv[2], "cd-" + sys.argv[2], {}, "sha256:" + sys.argv[2])
    backend.write(state)
"""


def test_concurrent_writers_under_the_lock_lose_nothing(url: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, f"c{n}"]) for n in range(4)]
    assert [proc.wait(120) for proc in procs] == [0, 0, 0, 0]
    state = open_backend(url, workspace="dev").read()
    assert state is not None and state.serial == 4
    assert sorted(state.campaigns) == ["c0", "c1", "c2", "c3"]


def test_history_and_restore_round_trip(url: str) -> None:
    backend, state = seeded(url)
    state.forget("spring sale")
    backend.write(state)
    state.record_intent("Autumn", {"name": "Autumn"}, "sha256:cc")
    backend.write(state)
    history = backend.history()
    assert [(v["serial"], v["campaigns"], v["pending"], v["version"]) for v in history] == [
        (3, 0, 1, "current"), (2, 0, 0, "history"), (1, 1, 0, "history")]
    with pytest.raises(StateError, match=r"no earlier version at serial 9 \(available: 3, 2, 1"):
        backend.restore(9)
    restored = backend.restore(1)
    current = backend.read()
    assert restored.serial == 4 and current == restored
    assert sorted(current.campaigns) == ["spring sale"] and current.pending == {}
    assert current.lineage == state.lineage


def test_migrate_local_to_postgres_and_back_keeps_lineage(url: str, tmp_path: Path) -> None:
    local = LocalBackend(tmp_path / "dev.json")
    state = State.new(TARGET)
    state.record_campaign("Spring Sale", "cd-1", {"name": "Spring Sale"}, "sha256:aa")
    local.write(state)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env.pop("PROVISIONER_STATE", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "provisioner", "state", *args, "--env",
                               "dev"], cwd=tmp_path, env=env, text=True, capture_output=True,
                              timeout=60)
    there = cli("migrate", "--state", "dev.json", "--to", url)
    assert there.returncode == 0, there.stderr
    pg = open_backend(url, workspace="dev").read()
    assert pg == state and pg.lineage == state.lineage and pg.serial == 1
    back = cli("migrate", "--state", url, "--to", "back.json")
    assert back.returncode == 0, back.stderr
    assert LocalBackend(tmp_path / "back.json").read() == state
    listed = cli("list", "--state", url)
    assert listed.stdout == "Spring Sale\tcd-1\t-\tsha256:aa\n"
    refused = cli("migrate", "--state", "dev.json", "--to", url)
    assert refused.returncode == 1 and "already exists" in refused.stderr


def test_the_password_never_appears_in_the_location() -> None:
    from provisioner.state.postgres import split_location
    dsn, schema, shown = split_location("postgresql://u:s3cret@h:5/db?schema=x&sslmode=require")
    assert (schema, "s3cret" in dsn) == ("x", True)
    assert shown == "postgresql://u:***@h:5/db?schema=x&sslmode=require"
    assert dsn == "postgresql://u:s3cret@h:5/db?sslmode=require"
    shown = split_location("postgres://h/db?password=s3cret")[2]
    assert shown == "postgres://h/db?password=***"


@pytest.mark.parametrize("url, dsn, schema", [
    ("postgresql:///db?host=/var/run/postgresql", "postgresql:///db?host=/var/run/postgresql",
     None),
    ("postgresql:///db?host=127.0.0.1&port=5432&schema=s",
     "postgresql:///db?host=127.0.0.1&port=5432", "s"),
    ("postgres:///db", "postgres:///db", None),
    ("postgresql://h/db?schema=a%2Db&application_name=x%20y",
     "postgresql://h/db?application_name=x%20y", "a-b"),
])
def test_a_url_keeps_its_shape_when_the_schema_is_taken_out(url: str, dsn: str,
                                                            schema: str | None) -> None:
    """libpq accepts a URL with no host part; urlunsplit turned `///` into `/`."""
    from provisioner.state.postgres import split_location
    assert split_location(url)[:2] == (dsn, schema)


@pytest.mark.parametrize("url, secret", [
    ("postgresql://u:pa?ss@h/db", "pa?ss"),
    ("postgresql:///db?host=h&sslpassword=k3y", "k3y"),
    ("postgresql://u:p%40ss@h1:1,h2:2/db?schema=x", "p%40ss"),
])
def test_no_password_survives_in_the_shown_location(url: str, secret: str) -> None:
    from provisioner.state.postgres import split_location
    assert secret not in split_location(url)[2]


def _hostless(server: str, host: str, schema: str) -> str:
    """SERVER as a URL with no host part: `postgresql:///db?host=...&port=...&user=...`."""
    from urllib.parse import quote, urlsplit
    parts = urlsplit(server)
    user = f"&user={parts.username}" if parts.username else ""
    return (f"postgresql://{parts.path}?host={quote(host, safe='')}&port={parts.port or 5432}"
            f"{user}&schema={schema}")


@pytest.mark.parametrize("via", ["tcp", "socket"])
def test_a_url_without_a_host_part_reaches_the_server(url: str, via: str) -> None:
    from urllib.parse import urlsplit
    host = urlsplit(SERVER).hostname or "127.0.0.1"
    if via == "socket":
        host = "/var/run/postgresql"
        if not Path(host).is_dir():
            pytest.skip("no PostgreSQL socket folder at /var/run/postgresql")
    backend = open_backend(_hostless(SERVER, host, url.rpartition("schema=")[2]),
                           workspace="dev")
    state = State.new(TARGET)
    backend.write(state)
    assert open_backend(url, workspace="dev").read() == state
    assert backend.location.startswith("postgresql:///")


def test_an_unreachable_server_is_a_one_line_state_error() -> None:
    pytest.importorskip("psycopg")
    backend = open_backend("postgresql://u:s3cret@127.0.0.1:1/test", workspace="dev")
    with pytest.raises(StateError) as caught:
        backend.read()
    message = str(caught.value)
    assert message.startswith("cannot reach PostgreSQL state postgresql://u:***@127.0.0.1:1/")
    assert "s3cret" not in message and "\n" not in message


def test_history_keeps_only_the_newest_versions(url: str) -> None:
    """Apply writes after every remote action: unbounded history would fill the disk."""
    from provisioner.state.postgres import PostgresBackend

    backend = PostgresBackend(url, workspace="dev", history_keep=3)
    state = State.new(TARGET)
    backend.write(state)
    for i in range(8):
        state.record_intent(f"C{i}", {"name": f"C{i}"}, f"sha256:{i}")
        backend.write(state)
    versions = [(v["serial"], v["version"]) for v in backend.history()]
    assert versions == [(9, "current"), (8, "history"), (7, "history"), (6, "history")]
