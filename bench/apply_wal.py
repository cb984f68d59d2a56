"""PostgreSQL WAL generated while one CLI process runs (bench/apply_scale.py).

The figure is cluster-wide (`pg_wal_lsn_diff` of `pg_current_wal_lsn()` before and after),
so anything else writing to the same server meanwhile is counted too: a test suite running
beside the benchmark, for one. `WalMeter` therefore also watches `pg_stat_activity` while
the CLI runs and names every client session that is not the CLI's own (its connections are
told apart by their local TCP ports, read from the CLI process's open sockets, since the
CLI gives every connection the same application_name). Autovacuum is not counted as
another client: it cleans up after our own writes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.25
ACTIVITY = """SELECT pid, client_port, coalesce(application_name, ''), coalesce(datname, '')
    FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"""


def socket_ports(pid: int) -> set[int]:
    """Local TCP ports of the sockets process `pid` holds open (empty once it has ended)."""
    try:
        links = [p.readlink().name for p in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return set()
    inodes = {link[8:-1] for link in links if link.startswith("socket:[")}
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class WalMeter:
    """`start()` before the CLI, `watch(pid)` once it runs, `stop()` after it ends."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn   # autocommit, used by one thread at a time: watch's, then stop's
        self.begin = ""
        self.cli_ports: set[int] = set()
        self.seen: dict[tuple[int, int | None], str] = {}   # (pid, port) -> "pid app@db"
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.begin = self.conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]

    def watch(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._poll, args=(pid,), daemon=True)
        self._thread.start()

    def stop(self) -> tuple[int, list[str]]:
        """(WAL bytes since start, the other client sessions seen meanwhile)."""
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        wal = self.conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)::bigint",
                                (self.begin,)).fetchone()[0]
        return int(wal), sorted(who for (_, port), who in self.seen.items()
                                if port not in self.cli_ports)

    def _poll(self, pid: int) -> None:
        while not self._done.wait(POLL_SECONDS):
            # ports read on both sides of the query: a CLI connection in the answer was open
            # at the time, so one of the two reads has it unless it closed at once
            self.cli_ports |= socket_ports(pid)
            for backend, port, app, db in self.conn.execute(ACTIVITY).fetchall():
                self.seen.setdefault((backend, port), f"pid {backend} {app or '-'}@{db}")
            self.cli_ports |= socket_ports(pid)
