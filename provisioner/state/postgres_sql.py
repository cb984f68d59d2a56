"""The PostgreSQL backend's SQL and its location URLs: the tables, the statements the
backend runs, the advisory lock key, and how a `postgresql://` URL becomes a DSN, a schema
and a location that never shows the password (provisioner/state/postgres.py uses them)."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote_plus

TABLES = (
    """CREATE TABLE IF NOT EXISTS {s}.states (
        workspace text PRIMARY KEY, lineage text NOT NULL, serial bigint NOT NULL,
        document jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS {s}.history (
        id bigserial PRIMARY KEY, workspace text NOT NULL, serial bigint NOT NULL,
        lineage text NOT NULL, document jsonb NOT NULL, saved_at timestamptz NOT NULL,
        replaced_at timestamptz NOT NULL DEFAULT now())""",
    "CREATE INDEX IF NOT EXISTS history_workspace_serial ON {s}.history (workspace, serial)",
    """CREATE TABLE IF NOT EXISTS {s}.journal (
        workspace text NOT NULL, lineage text NOT NULL, serial bigint NOT NULL,
        changes jsonb NOT NULL, written_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace, lineage, serial))""",
    """CREATE TABLE IF NOT EXISTS {s}.locks (
        workspace text PRIMARY KEY, id text NOT NULL, who text NOT NULL, host text NOT NULL,
        pid integer NOT NULL, operation text NOT NULL, since text NOT NULL,
        backend_pid integer NOT NULL)""",
)
HOLDER = """SELECT l.id, l.who, l.host, l.pid, l.operation, l.since, k.pid
    FROM pg_locks k LEFT JOIN {s}.locks l ON l.workspace = %s AND l.backend_pid = k.pid
    WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1
      AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND k.classid::bigint = %s AND k.objid::bigint = %s"""
# The journal rows a reader replays over a document at serial %s.
JOURNAL_ROWS = ("SELECT serial, changes FROM {s}.journal WHERE workspace = %s AND lineage = %s "
                 "AND serial > %s ORDER BY serial")
# A plan's read: everything but the campaigns' bodies (state/view.py VIEW_FIELDS), and
# whether journal rows follow the document.
VIEW = """SELECT s.lineage, s.serial, s.document->'target', coalesce(s.document->'pending', '{{}}'),
    coalesce((SELECT jsonb_object_agg(c.key, jsonb_strip_nulls(jsonb_build_object(
        'name', c.value->'name', 'lname', c.value->'lname', 'id', c.value->'id',
        'digest', c.value->'digest', 'status', c.value->'status',
        'protect', c.value->'protect', 'run', c.value->'run', 'rerun', c.value->'rerun')))
      FROM jsonb_each(s.document->'campaigns') c), '{{}}'),
    EXISTS (SELECT 1 FROM {s}.journal j WHERE j.workspace = s.workspace
            AND j.lineage = s.lineage AND j.serial > s.serial),
    coalesce(s.document->'contactLists', '{{}}'),
    coalesce(s.document->'contactListsPending', '{{}}')
    FROM {s}.states s WHERE s.workspace = %s"""
SUMMARY = """SELECT serial, lineage, to_char({at} AT TIME ZONE 'UTC',
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
