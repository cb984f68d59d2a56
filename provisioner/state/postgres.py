"""The PostgreSQL backend (issue 7): shared state and locking for many people and runners.

One row per workspace in `<schema>.states` holds the document. Under the lock, a write
appends one row to `<schema>.journal` (its serial, its changes: provisioner/state/journal.py)
whose cost does not grow with the state; parallel workers' rows share one transaction
(group commit). Reads replay the rows that follow the document's serial; compaction (when
the rows outgrow the document, and when the lock is released) writes the document and
keeps the replaced one in `<schema>.history`, which holds HISTORY_KEEP such snapshots and
the journal rows since the oldest: any serial in between can be restored. A write without
the lock (or of a new state) is a compare-and-swap of the whole document, as before.
The lock is a session-level advisory lock keyed by a hash of schema and workspace, held on
one dedicated connection for the whole operation, so a crashed holder's lock ends with its
session; `<schema>.locks` names the holder. See docs/state.md.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb


from provisioner.errors import LockError, StaleStateError, StateError
from provisioner.state.journal import (COMPACT_BYTES, DONE, Commit, GroupCommit, JournalError,
                                       JournalRecord, compaction_due, replay)
from provisioner.state.locks import POLL_SECONDS, holder_info, locked_message
from provisioner.state.document import next_serial
from provisioner.state.model import State, check_writable
from provisioner.state.postgres_sql import (HOLDER, JOURNAL_ROWS, SUMMARY, VIEW, TABLES,
                                            advisory_key, split_location)
from provisioner.state.view import StateView

DEFAULT_SCHEMA = "provisioner"
# Whole-document snapshots kept per workspace: one per compaction (about one per apply)
# or whole write. The journal rows between them are kept too, so every serial since the
# oldest snapshot can be restored without keeping a copy of an 18 MB document per action.
HISTORY_KEEP = 20
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
        self.compact_bytes = COMPACT_BYTES
        self._mutex = threading.RLock()
        self._group = GroupCommit(self._sync)
        self._staged: list[tuple[str, int, str]] = []   # (lineage, serial, changes JSON)
        self._journal_bytes = 0     # journalled since the document was last written
        self._document_bytes = 0
        self._document_serial = 0   # the document's serial as last read or written here
        self._last: State | None = None

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
        """The workspace's state (document + journal), or None when it has none yet. Under
        the lock, journal rows a killed run left are compacted at once."""
        with self._mutex, self._errors():
            conn = self._ops()
            row = conn.execute(self._sql(
                "SELECT document, serial, octet_length(document::text) FROM {s}.states "
                "WHERE workspace = %s"), (self.workspace,)).fetchone()
            if row is None:
                return None
            state = self._state(row[0], row[1])
            self._document_serial, self._document_bytes = row[1], row[2]
            rows = conn.execute(self._sql(JOURNAL_ROWS),
                                (self.workspace, state.lineage, state.serial)).fetchall()
        self._replay(state, rows)
        self._journal_bytes = sum(len(json.dumps(changes, ensure_ascii=False))
                                  for _, changes in rows)   # measured as append measures
        if rows and self._lock_conn is not None:
            self._compact(state)
        return state

    def read_view(self) -> StateView | State | None:
        """What a plan reads: names, ids and digests of the recorded campaigns, not their
        bodies (each fetched when asked for), or the whole state while journal rows follow
        the document (a killed run's, until the next lock holder compacts them)."""
        with self._mutex, self._errors():
            conn = self._ops()
            row = conn.execute(self._sql(VIEW), (self.workspace,)).fetchone()
            if row is None:
                return None
            lineage, serial, target, pending, campaigns, journalled, lists, list_pending = row
        if journalled:
            return self.read()
        if not all(isinstance(part, dict) for part in (campaigns, pending, lists,
                                                         list_pending)):
            return self.read()   # a malformed document: read() names the problem
        return StateView(lineage, serial, target, campaigns, pending, self.where,
                         lambda lname: self._fetch_entry(lname, serial), lists, list_pending)

    def _fetch_entry(self, lname: str, serial: int) -> Any:
        with self._mutex, self._errors():
            row = self._ops().execute(self._sql(
                "SELECT document->'campaigns'->%s FROM {s}.states WHERE workspace = %s AND "
                "serial = %s"), (lname, self.workspace, serial)).fetchone()
        return None if row is None else row[0]

    def _replay(self, state: State, rows: list[tuple[Any, ...]]) -> None:
        try:
            replay(state, (JournalRecord(serial, changes) for serial, changes in rows))
        except JournalError as exc:
            raise StateError(f"the journal of state {self.where} is corrupt: {exc}") from None

    def _state(self, document: Any, serial: int) -> State:
        state = State.from_dict(document, location=self.where)
        state.serial = serial  # the column is the truth the compare-and-swap uses
        return state

    def write(self, state: State) -> None:
        """Store `state`'s changes durably (see `append`)."""
        self.append(state).wait()

    def append(self, state: State) -> Commit:
        """Under the lock, stage the changes `state` logged as one journal row (serial + 1),
        inserted with the rows staged beside it when the Commit is waited for; else (or for
        a new state, or one that logged none) write the whole document. TypeError for a
        StateView: it is read-only."""
        check_writable(state)
        with self._mutex:
            changes = state.take_changes()
            if not changes or not state.serial or self._lock_conn is None or state.migrated_from:
                self._write_document(state)   # an older format: rewritten whole, as ours
                state.migrated_from = None
                return DONE
            state.serial += 1
            state.location = self.where
            data = json.dumps(changes, sort_keys=True, ensure_ascii=False)
            self._staged.append((state.lineage, state.serial, data))
            self._journal_bytes += len(data)
            self._last = state
            ticket = self._group.staged()
            if compaction_due(self._journal_bytes, self._document_bytes, self.compact_bytes):
                self._compact(state)   # inserts what is staged first
            return Commit(self._group, ticket)

    def _sync(self, _upto: int) -> None:
        """GroupCommit's sync: insert every staged row in one transaction. The first row must
        follow the stored serial (compare-and-swap): StaleStateError otherwise."""
        with self._mutex:
            rows, self._staged = self._staged, []
            if not rows:
                return
            conn = self._ops()
            with self._errors(), conn.transaction():
                stored = conn.execute(self._sql(
                    "SELECT s.lineage, greatest(s.serial, (SELECT max(j.serial) FROM "
                    "{s}.journal j WHERE j.workspace = s.workspace AND j.lineage = s.lineage)) "
                    "FROM {s}.states s WHERE s.workspace = %s FOR UPDATE"),
                    (self.workspace,)).fetchone()
                if stored is None or (stored[0], stored[1]) != (rows[0][0], rows[0][1] - 1):
                    raise StaleStateError(
                        f"state {self.where} moved on since it was read (it is at "
                        f"{'no state' if stored is None else f'serial {stored[1]}'}, this write "
                        f"follows serial {rows[0][1] - 1}); read it again")
                with conn.cursor() as cursor:
                    cursor.executemany(self._sql(
                        "INSERT INTO {s}.journal (workspace, lineage, serial, changes) "
                        "VALUES (%s, %s, %s, %s::jsonb)"),
                        [(self.workspace, *row) for row in rows])

    def compact(self, state: State) -> None:
        """Write `state` (the one last read or appended here) whole as the document."""
        with self._mutex:
            if state.unsaved:
                self.append(state).wait()
            if state.serial != self._document_serial:
                self._compact(state)

    def _compact(self, state: State) -> None:
        """The document row becomes `state` at its serial; the one it replaces is kept as a
        snapshot in history. The journal rows stay (history) but are no longer replayed."""
        with self._mutex:
            self._sync(0)
            conn = self._ops()
            with self._errors(), conn.transaction():
                self._snapshot(conn, self._document_serial)
                text = json.dumps({**state.to_dict(), "serial": state.serial},
                                  ensure_ascii=False)
                done = conn.execute(self._sql(
                    "UPDATE {s}.states SET serial = %s, document = %s::jsonb, "
                    "updated_at = now() WHERE workspace = %s AND lineage = %s AND serial = %s"),
                    (state.serial, text, self.workspace, state.lineage,
                     self._document_serial))
                if done.rowcount != 1:
                    raise StaleStateError(f"state {self.where} moved on before its journal "
                                          "could be compacted; read it again")
            self._document_serial, self._journal_bytes = state.serial, 0
            self._document_bytes = len(text)   # the next compaction is due relative to it

    def _snapshot(self, conn: psycopg.Connection[Any], serial: int) -> None:
        """Keep the document row (at `serial`) in history, server-side, and drop what is
        older than the newest `history_keep` snapshots (journal rows included)."""
        conn.execute(self._sql(
            "INSERT INTO {s}.history (workspace, serial, lineage, document, saved_at) "
            "SELECT workspace, serial, lineage, document, updated_at FROM {s}.states "
            "WHERE workspace = %s AND serial = %s"), (self.workspace, serial))
        conn.execute(self._sql(
            "DELETE FROM {s}.history WHERE workspace = %s AND id NOT IN (SELECT id FROM "
            "{s}.history WHERE workspace = %s ORDER BY serial DESC, id DESC LIMIT %s)"),
            (self.workspace, self.workspace, self.history_keep))
        conn.execute(self._sql(
            "DELETE FROM {s}.journal WHERE workspace = %s AND serial <= coalesce((SELECT "
            "min(serial) FROM {s}.history WHERE workspace = %s), 0)"),
            (self.workspace, self.workspace))

    def _write_document(self, state: State) -> None:
        """Compare-and-swap of the whole document on the serial; the replaced version goes
        to history."""
        conn = self._ops()
        with self._errors(), conn.transaction():
            row = conn.execute(self._sql(
                "SELECT document, serial, updated_at FROM {s}.states WHERE workspace = %s "
                "FOR UPDATE"), (self.workspace,)).fetchone()
            stored = None if row is None else self._state(row[0], row[1])
            if stored is not None:
                self._replay(stored, conn.execute(
                    self._sql(JOURNAL_ROWS),
                    (self.workspace, stored.lineage, stored.serial)).fetchall())
            serial = next_serial(stored, state, self.where)
            if serial is None:
                return
            if row is None:
                self._insert(conn, state, serial)
            else:
                self._swap(conn, state, serial, row)
        state.serial = serial
        state.location = self.where
        self._document_serial, self._journal_bytes = serial, 0

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
        self._snapshot(conn, row[1])
        document = {**state.to_dict(), "serial": serial}
        done = conn.execute(self._sql(
            "UPDATE {s}.states SET serial = %s, document = %s, lineage = %s, "
            "updated_at = now() WHERE workspace = %s AND serial = %s"),
            (serial, Jsonb(document), state.lineage, self.workspace, row[1]))
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
                query = self._sql(SUMMARY.replace("{at}", at), table=table)
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
                self._finish()
                self._lock_conn = None
                self._release(conn, mine)
        finally:
            conn.close()

    def _finish(self) -> None:
        """Compact what this process journalled; a failure only warns (the journal rows
        keep every change, and whoever next takes the lock compacts them)."""
        with self._mutex:
            last, self._last = self._last, None
            try:
                if last is not None:
                    self.compact(last)
            except StateError as exc:
                self._warn(f"{exc} (the journal keeps every change; the next run compacts it)")

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
        row = conn.execute(self._sql(HOLDER), (self.workspace, unsigned >> 32,
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
