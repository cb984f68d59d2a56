"""The PostgreSQL backend (issue 7): shared state and locking for many people and runners.

One row per workspace in `<schema>.states` holds the document; every write is a
compare-and-swap on its serial and appends the replaced version to `<schema>.history`.
The lock is a session-level advisory lock keyed by a hash of schema and workspace, held on
one dedicated connection for the whole operation, so a crashed holder's lock ends with its
session; `<schema>.locks` names the holder. See docs/state.md.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote_plus

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from provisioner.errors import LockError, StaleStateError, StateError
from provisioner.state.local import POLL_SECONDS, holder_info, locked_message
from provisioner.state.model import State, check_writable, next_serial

DEFAULT_SCHEMA = "provisioner"
# Versions kept per workspace. Apply writes after every remote action, so a 10,000-campaign
# first apply makes 10,000 versions of a document that ends near 18 MB: unbounded history
# would fill the disk. The newest versions are what a restore after a bad apply needs.
HISTORY_KEEP = 100
TABLES = (
    """CREATE TABLE IF NOT EXISTS {s}.states (
        workspace text PRIMARY KEY, lineage text NOT NULL, serial bigint NOT NULL,
        document jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS {s}.history (
        id bigserial PRIMARY KEY, workspace text NOT NULL, serial bigint NOT NULL,
        lineage text NOT NULL, document jsonb NOT NULL, saved_at timestamptz NOT NULL,
        replaced_at timestamptz NOT NULL DEFAULT now())""",
    "CREATE INDEX IF NOT EXISTS history_workspace_serial ON {s}.history (workspace, serial)",
    """CREATE TABLE IF NOT EXISTS {s}.locks (
        workspace text PRIMARY KEY, id text NOT NULL, who text NOT NULL, host text NOT NULL,
        pid integer NOT NULL, operation text NOT NULL, since text NOT NULL,
        backend_pid integer NOT NULL)""",
)
_HOLDER = """SELECT l.id, l.who, l.host, l.pid, l.operation, l.since, k.pid
    FROM pg_locks k LEFT JOIN {s}.locks l ON l.workspace = %s AND l.backend_pid = k.pid
    WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1
      AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND k.classid::bigint = %s AND k.objid::bigint = %s"""
_SUMMARY = """SELECT serial, lineage, to_char({at} AT TIME ZONE 'UTC',
        'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    (SELECT count(*) FROM jsonb_object_keys(document->'campaigns')),
    (SELECT count(*) FROM jsonb_object_keys(coalesce(document->'pending', '{{}}')))
    FROM {s}.{table} WHERE workspace = %s"""


def advisory_key(*parts: str) -> int:
    """A stable signed bigint from the first 8 bytes of sha256 of the parts."""
    raw = hashlib.sha256("\0".join(("provisioner", *parts)).encode("utf-8")).digest()
    return int.from_bytes(raw[:8], "big", signed=True)


def split_location(url: str) -> tuple[str, str | None, str]:
    """(dsn for psycopg, schema from `?schema=` or None, the URL without its password).

    Only the query is rewritten, pair by pair as written: a URL with no host part
    (`postgresql:///db?host=/var/run/postgresql`, valid libpq) must keep its `///`, which
    urlunsplit would fold into `postgresql:/db`, and its values their own encoding.
    """
    head, mark, rest = url.partition("?")
    query, hash_, fragment = rest.partition("#")
    pairs = [pair for pair in query.split("&") if pair] if mark else []
    schema = next((unquote_plus(pair.partition("=")[2]) for pair in pairs
                   if _key(pair) == "schema"), None)
    kept = [pair for pair in pairs if _key(pair) != "schema"]
    dsn = head + ("?" + "&".join(kept) if kept else "") + hash_ + fragment
    shown = [f"{pair.partition('=')[0]}=***" if _key(pair) in _SECRET_KEYS else pair
             for pair in pairs]
    return dsn, schema, _USERINFO_PASSWORD.sub(r"\1***@", head + mark + "&".join(shown))


_SECRET_KEYS = ("password", "sslpassword")
# `scheme://user:password@`: the password stops at the `@`, never crosses a `/`.
_USERINFO_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*:)[^@/]*@")


def _key(pair: str) -> str:
    return unquote_plus(pair.partition("=")[0])


class PostgresBackend:
    """State of one workspace in PostgreSQL. `location` never shows the password."""

    def __init__(self, url: str, *, workspace: str, schema: str | None = None,
                 on_warning: Callable[[str], None] | None = None,
                 history_keep: int = HISTORY_KEEP) -> None:
        self._dsn, url_schema, self.location = split_location(url)
        self.history_keep = history_keep
        self.schema = schema or url_schema or DEFAULT_SCHEMA
        self.workspace = workspace
        self.where = f"{self.location} (workspace {workspace})"
        self._warn = on_warning or (lambda message: None)
        self._key = advisory_key(self.schema, workspace)
        self._ready = False
        self._conn: psycopg.Connection[Any] | None = None
        self._lock_conn: psycopg.Connection[Any] | None = None

    # -- connections --------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10,
                                   application_name="provisioner")
        except psycopg.Error as exc:
            raise StateError(f"cannot reach PostgreSQL state {self.where}: "
                             f"{_first_line(exc)}") from None
        if not self._ready:
            with self._errors(), conn.transaction():
                # Serialise first-use DDL: concurrent CREATE ... IF NOT EXISTS can collide.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(self.schema),))
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(self._ident()))
                for ddl in TABLES:
                    conn.execute(self._sql(ddl))
            self._ready = True
        return conn

    def _ops(self) -> psycopg.Connection[Any]:
        """The lock's connection while locked (so a forced unlock stops our writes), else
        a lazily opened one."""
        if self._lock_conn is not None:
            return self._lock_conn
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema)

    def _sql(self, template: str, **names: str) -> sql.Composed:
        extra = {key: sql.Identifier(value) for key, value in names.items()}
        return sql.SQL(template).format(s=self._ident(), **extra)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise StateError(f"PostgreSQL state {self.where}: {_first_line(exc)}") from None

    # -- reading and writing ------------------------------------------------------------------

    def read(self) -> State | None:
        """The workspace's state, or None when it has none yet."""
        with self._errors():
            row = self._ops().execute(self._sql(
                "SELECT document, serial FROM {s}.states WHERE workspace = %s"),
                (self.workspace,)).fetchone()
        return None if row is None else self._state(row[0], row[1])

    def _state(self, document: Any, serial: int) -> State:
        state = State.from_dict(document, location=self.where)
        state.serial = serial  # the column is the truth the compare-and-swap uses
        return state

    def write(self, state: State) -> None:
        """Compare-and-swap on the serial; the replaced version goes to history. TypeError
        for a StateView: it is read-only."""
        check_writable(state)
        conn = self._ops()
        with self._errors(), conn.transaction():
            row = conn.execute(self._sql(
                "SELECT document, serial, updated_at FROM {s}.states WHERE workspace = %s "
                "FOR UPDATE"), (self.workspace,)).fetchone()
            stored = None if row is None else self._state(row[0], row[1])
            serial = next_serial(stored, state, self.where)
            if serial is None:
                return
            if row is None:
                self._insert(conn, state, serial)
            else:
                self._swap(conn, state, serial, row)
        state.serial = serial
        state.location = self.where

    def _insert(self, conn: psycopg.Connection[Any], state: State, serial: int) -> None:
        document = {**state.to_dict(), "serial": serial}
        done = conn.execute(self._sql(
            "INSERT INTO {s}.states (workspace, lineage, serial, document) VALUES "
            "(%s, %s, %s, %s) ON CONFLICT (workspace) DO NOTHING"),
            (self.workspace, state.lineage, serial, Jsonb(document)))
        if done.rowcount != 1:
            raise StaleStateError(f"state {self.where} was created by someone else meanwhile")

    def _swap(self, conn: psycopg.Connection[Any], state: State, serial: int,
              row: tuple[Any, ...]) -> None:
        conn.execute(self._sql(
            "INSERT INTO {s}.history (workspace, serial, lineage, document, saved_at) "
            "VALUES (%s, %s, %s, %s, %s)"),
            (self.workspace, row[1], row[0]["lineage"], Jsonb(row[0]), row[2]))
        conn.execute(self._sql(
            "DELETE FROM {s}.history WHERE workspace = %s AND serial <= %s"),
            (self.workspace, row[1] - self.history_keep))
        document = {**state.to_dict(), "serial": serial}
        done = conn.execute(self._sql(
            "UPDATE {s}.states SET serial = %s, document = %s, lineage = %s, "
            "updated_at = now() WHERE workspace = %s AND serial = %s"),
            (serial, Jsonb(document), state.lineage, self.workspace, state.serial))
        if done.rowcount != 1:
            raise StaleStateError(f"state {self.where} moved on from serial {state.serial} "
                                  f"before this write of serial {serial}; read it again")

    def import_state(self, state: State) -> None:
        """Store a copy of `state` (lineage and serial kept) where the workspace has none."""
        check_writable(state)
        stored = self.read()
        if stored is not None:
            raise StateError(f"state {self.where} already exists (lineage {stored.lineage}, "
                             f"serial {stored.serial}); refusing to overwrite it")
        with self._errors():
            self._insert(self._ops(), state, state.serial)
        state.location = self.where

    # -- history ------------------------------------------------------------------------------

    def history(self) -> list[dict[str, Any]]:
        """Every stored version, newest first: the current one, then each replaced one."""
        rows: list[tuple[str, tuple[Any, ...]]] = []
        with self._errors():
            for label, table, at in (("current", "states", "updated_at"),
                                     ("history", "history", "saved_at")):
                query = self._sql(_SUMMARY.replace("{at}", at), table=table)
                found = self._ops().execute(query, (self.workspace,)).fetchall()
                rows += [(label, row) for row in found]
        versions = [{"serial": r[0], "lineage": r[1], "savedAt": r[2], "campaigns": r[3],
                     "pending": r[4], "version": label} for label, r in rows]
        return sorted(versions, key=lambda v: (-v["serial"], v["version"]))

    def restore(self, serial: int) -> State:
        """Write the version at `serial` back as the newest serial; returns it."""
        current = self.read()
        with self._errors():
            row = self._ops().execute(self._sql(
                "SELECT document FROM {s}.history WHERE workspace = %s AND serial = %s "
                "ORDER BY id DESC LIMIT 1"), (self.workspace, serial)).fetchone()
        if current is None or row is None:
            have = ", ".join(str(v["serial"]) for v in self.history()) or "none"
            raise StateError(f"state {self.where} has no earlier version at serial {serial} "
                             f"(available: {have})")
        restored = self._state(row[0], current.serial)
        if restored.lineage != current.lineage:
            raise StateError(f"serial {serial} of {self.where} is lineage {restored.lineage}, "
                             f"not {current.lineage}; refusing to restore it")
        self.write(restored)
        return restored

    # -- locking ------------------------------------------------------------------------------

    @contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[None]:
        """Hold the workspace's advisory lock on a dedicated connection for the block."""
        conn = self._connect()
        try:
            mine = self._acquire(conn, operation, timeout)
            self._lock_conn = conn
            try:
                yield
            finally:
                self._lock_conn = None
                self._release(conn, mine)
        finally:
            conn.close()

    def _acquire(self, conn: psycopg.Connection[Any], operation: str,
                 timeout: float) -> dict[str, Any]:
        mine = holder_info(operation)
        # `timeout > 0` is False for nan, which max(nan, 0.0) kept: a deadline never reached
        deadline = time.monotonic() + (timeout if timeout > 0 else 0.0)
        with self._errors():
            while not (conn.execute("SELECT pg_try_advisory_lock(%s)",
                                    (self._key,)).fetchone() or (False,))[0]:
                holder = self._holder(conn)
                if holder and time.monotonic() >= deadline:
                    raise LockError(self._locked(holder))
                time.sleep(POLL_SECONDS)
            conn.execute(self._sql(
                "INSERT INTO {s}.locks (workspace, id, who, host, pid, operation, since, "
                "backend_pid) VALUES (%s, %s, %s, %s, %s, %s, %s, pg_backend_pid()) "
                "ON CONFLICT (workspace) DO UPDATE SET id = excluded.id, who = excluded.who, "
                "host = excluded.host, pid = excluded.pid, operation = excluded.operation, "
                "since = excluded.since, backend_pid = excluded.backend_pid"),
                (self.workspace, mine["id"], mine["user"], mine["host"], mine["pid"],
                 operation, mine["since"]))
        return mine

    def _holder(self, conn: psycopg.Connection[Any]) -> dict[str, Any]:
        """Who holds the advisory lock now, from pg_locks joined with our locks table
        ({} when it was just released)."""
        unsigned = self._key & 0xFFFFFFFFFFFFFFFF  # pg_locks splits the bigint key in two oids
        row = conn.execute(self._sql(_HOLDER), (self.workspace, unsigned >> 32,
                                                unsigned & 0xFFFFFFFF)).fetchone()
        if row is None:
            return {}
        keys = ("id", "user", "host", "pid", "operation", "since", "backend_pid")
        return dict(zip(keys, row, strict=True))

    def _locked(self, holder: dict[str, Any]) -> str:
        if holder.get("id") is None:  # a session outside this tool took the key
            return (f"state {self.where} is locked by PostgreSQL backend pid "
                    f"{holder['backend_pid']}, which recorded no holder")
        return f"{locked_message(self.where, holder)} [PostgreSQL backend pid " \
               f"{holder['backend_pid']}]"

    def _release(self, conn: psycopg.Connection[Any], mine: dict[str, Any]) -> None:
        try:
            conn.execute(self._sql("DELETE FROM {s}.locks WHERE workspace = %s AND id = %s"),
                         (self.workspace, mine["id"]))
            conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        except psycopg.Error as exc:  # e.g. ended by force-unlock; closing frees the lock
            self._warn(f"lock on {self.where} was lost before release: {_first_line(exc)}")

    def force_unlock(self, lock_id: str) -> dict[str, Any]:
        """End the session holding the lock whose id is `lock_id`; returns that holder."""
        conn = self._ops()
        with self._errors():
            holder = self._holder(conn)
            if holder.get("id") != lock_id:
                now = self._locked(holder) if holder else "it is not locked"
                raise LockError(f"no lock with id {lock_id} on {self.where}: {now}")
            conn.execute("SELECT pg_terminate_backend(%s)", (holder["backend_pid"],))
            conn.execute(self._sql("DELETE FROM {s}.locks WHERE workspace = %s AND id = %s"),
                         (self.workspace, lock_id))
        return holder


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
