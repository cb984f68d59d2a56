"""`python bench/apply.py --scale`: what apply costs per create as the state grows (issue 13).

    python bench/apply.py --scale [--sizes 1000,4000,10000] [--backends local,postgres]
                          [--parallelism 4]

For each size N and backend, against a fresh bundled emulator with no rate limit and no
added latency each time:

  floor      the N create bodies `provisioner plan --format json` resolves, POSTed by a bare
             `requests.Session` loop from P threads, a fresh JWT per request, no state
             (bench/apply_floor.py, a process of its own as the CLI is; its loop alone is
             timed)
  apply      `provisioner apply --auto-approve --parallelism P --no-cache` with a fresh state
             (local: a JSON file in a temp dir; postgres: a new schema of
             postgresql://127.0.0.1:5432/test, dropped afterwards), wall clock from outside,
             interpreter start included; then the emulator must hold exactly the N
             campaigns and `plan --detailed-exitcode` must find nothing to do
  bytes      local: what the CLI process wrote through write() calls (/proc/self/io `wchar`,
             read at exit by bench/apply_probe.py) less the bytes of its own stdout and
             stderr, which are the only pipes it writes; sockets do not count in `wchar`.
             That is the state, its backups, history and lock, byte for byte. `write_bytes`
             (pages dirtied on disk, 4 KiB granular) is kept beside it in the results.
             postgres: WAL generated during the run, cluster-wide (bench/apply_wal.py)
             divided by N.

Prints a table and the issue's targets (met / missed / not run), merges the figures into
bench/results.json under "apply_scale" and draws docs/apply-scale.svg. Exit 1 with one line
when a run fails (CLI exit, emulator count, state check), 2 when a target is missed.
"""

from __future__ import annotations

import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from apply import LISTS, SECRET, write_specs
from apply_chart import draw
from run import machine

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from provisioner.emulator import Emulator, start_emulator  # noqa: E402

SIZES = (1000, 4000, 10000)
BACKENDS = ("local", "postgres")
PG_URL = "postgresql://127.0.0.1:5432/test"
IDS = {"KORE_STREAM_ID": "st-bench", "KORE_ACCOUNT_ID": "acc-bench",
       "KORE_CLIENT_ID": "cs-bench"}
Run = dict[str, Any]


def main(sizes_arg: str | None, backends_arg: str | None, parallelism: int) -> int:
    sizes = [int(n) for n in sizes_arg.split(",") if n.isdigit()] if sizes_arg else list(SIZES)
    backends = backends_arg.split(",") if backends_arg else list(BACKENDS)
    if not set(backends) <= set(BACKENDS) or not sizes or not all(n > 0 for n in sizes) or (
            sizes_arg and len(sizes) != len(sizes_arg.split(","))):
        fail(f"--sizes takes whole numbers above 0 (1000,4000), --backends "
             f"{','.join(BACKENDS)}; not {sizes_arg!r}, {backends_arg!r}")
    # As an installed package is; and the CLI runs with PYTHONDONTWRITEBYTECODE so a .pyc
    # made stale by an edit meanwhile is not written and counted as state bytes
    compileall.compile_dir(ROOT / "provisioner", quiet=1)
    runs = [measure(backend, n, parallelism) for n in sizes for backend in backends]
    verdicts = checks(runs, backends)
    report = {"machine": machine(), "parallelism": parallelism, "runs": runs,
              "checks": verdicts}
    show(report)
    merge_results(report)
    (ROOT / "docs" / "apply-scale.svg").write_text(draw(runs))
    return 2 if any(c["verdict"] == "missed" for c in verdicts) else 0


def measure(backend: str, count: int, parallelism: int) -> Run:
    """One size on one backend: the floor, then the CLI, each against a fresh emulator."""
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{backend}-{count}-") as name:
        work = Path(name)
        write_specs(work / "campaigns", count)
        bodies = work / "bodies.json"
        bodies.write_text(json.dumps(create_bodies(work, count)))
        print(f"{backend} {count:,}: floor ...", file=sys.stderr, flush=True)
        load = os.getloadavg()[0]   # the machine is shared: a busy one slows both alike
        floor = run_floor(bodies, count, parallelism)
        print(f"{backend} {count:,}: apply ...", file=sys.stderr, flush=True)
        with state_location(backend, work) as (location, conn):
            run = run_apply(work, location, conn, count, parallelism)
    run.update(backend=backend, campaigns=count, parallelism=parallelism,
               floor_seconds=floor, ratio_to_floor=run["wall_seconds"] / floor,
               creates_per_second=count / run["wall_seconds"], loadavg_1min=load)
    return run


def base_env(emu: Emulator, work: Path) -> dict[str, str]:
    return {**os.environ, **IDS, "KORE_HOST": emu.url, "KORE_CLIENT_SECRET": SECRET,
            "KORE_RATE_LIMIT_PER_MINUTE": "0", "PROVISIONER_CAMPAIGNS": str(work / "campaigns"),
            "PYTHONDONTWRITEBYTECODE": "1"}


def unlimited_emulator() -> Emulator:
    return start_emulator(stream_id=IDS["KORE_STREAM_ID"], account_id=IDS["KORE_ACCOUNT_ID"],
                          client_id=IDS["KORE_CLIENT_ID"], client_secret=SECRET,
                          rate_limit_per_minute=0, faults={"latency_ms": 0},
                          contact_lists=LISTS)


def cli(work: Path, *args: str, launcher: tuple[str, ...] = ("-m", "provisioner")) -> list[str]:
    """The CLI's argv; no provisioner.yaml (the environment configures it), no spec cache."""
    return [sys.executable, *launcher, *args, "--no-cache", "--config", str(work / "none.yaml")]


def create_bodies(work: Path, count: int) -> list[dict[str, Any]]:
    """The bodies apply would send: each create action's `after` in `plan --format json`
    against an empty state (a plan never calls the API)."""
    env = {**os.environ, **IDS, "KORE_HOST": "http://127.0.0.1:9", "KORE_CLIENT_SECRET": SECRET,
           "PROVISIONER_CAMPAIGNS": str(work / "campaigns"),
           "PROVISIONER_STATE": str(work / "empty-state.json")}
    proc = subprocess.run(cli(work, "plan", "--format", "json"), env=env, cwd=work,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"plan --format json exited {proc.returncode}: {tail(proc.stderr)}")
    bodies = [c["after"] for c in json.loads(proc.stdout)["changes"] if c["action"] == "create"]
    if len(bodies) != count:
        fail(f"plan --format json listed {len(bodies)} creates, not {count}")
    return bodies


def run_floor(bodies: Path, count: int, parallelism: int) -> float:
    with unlimited_emulator() as emu:
        proc = subprocess.run([sys.executable, str(BENCH / "apply_floor.py"), str(bodies),
                               str(parallelism)], env=base_env(emu, bodies.parent),
                              capture_output=True, text=True)
        if proc.returncode != 0:
            fail(f"floor exited {proc.returncode}: {tail(proc.stderr)}")
        check_campaigns(emu, count, "floor")
    return float(json.loads(proc.stdout)["seconds"])


@contextmanager
def state_location(backend: str, work: Path) -> Iterator[tuple[str, Any]]:
    """A fresh, empty state: (location, an autocommit connection for postgres or None)."""
    if backend == "local":
        yield str(work / "state" / "bench.json"), None
        return
    try:
        import psycopg
        conn = psycopg.connect(PG_URL, autocommit=True)
    except Exception as exc:   # ImportError or any connection failure: one line either way
        fail(f"postgres backend: cannot connect to {PG_URL}: {type(exc).__name__}: {exc}")
    schema = f"bench_scale_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{PG_URL}?schema={schema}", conn
    finally:
        conn.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            psycopg.sql.Identifier(schema)))
        conn.close()


def run_apply(work: Path, location: str, conn: Any, count: int, parallelism: int) -> Run:
    """Time one real `provisioner apply`, check what it did, measure what it wrote."""
    from apply_wal import WalMeter

    meter = WalMeter(conn) if conn is not None else None
    with unlimited_emulator() as emu:
        env = {**base_env(emu, work), "PROVISIONER_STATE": location,
               "BENCH_IO_OUT": str(work / "io.json")}
        # the same CLI, its I/O counters saved at exit
        argv = cli(work, "apply", "--auto-approve", "--parallelism", str(parallelism),
                   launcher=(str(BENCH / "apply_probe.py"),))
        if meter:
            meter.start()
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=work, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        if meter:
            meter.watch(proc.pid)
        out, err = proc.communicate()
        wall = time.perf_counter() - started
        wal = meter.stop() if meter else None
        if proc.returncode != 0:
            fail(f"apply exited {proc.returncode}: {tail(err.decode(errors='replace'))}")
        requests = emu.requests.counts()["total"]
        check_campaigns(emu, count, "apply")
        check_state(work, env)
    return {"wall_seconds": wall, "requests": requests,
            **written(work, count, len(out) + len(err), location, wal)}


def written(work: Path, count: int, output: int, location: str,
            wal: tuple[int, list[str]] | None) -> Run:
    io = json.loads((work / "io.json").read_text())
    if wal is not None:
        return {"bytes_per_create": wal[0] / count, "bytes_measure": "WAL (cluster-wide)",
                "wal_bytes": wal[0], "wal_other_clients": wal[1], "io": io}
    state = Path(location)
    return {"bytes_per_create": (io["wchar"] - output) / count,
            "bytes_measure": "wchar less stdout/stderr", "output_bytes": output,
            "write_bytes_per_create": io["write_bytes"] / count, "io": io,
            "state_file_bytes": state.stat().st_size if state.exists() else None}


def check_campaigns(emu: Emulator, count: int, who: str) -> None:
    """Exactly the N bench campaigns: no fewer, no more, no duplicates."""
    names = [doc["name"] for doc in emu.store.all()]
    wanted = {f"Bench {i:05d}" for i in range(count)}
    if len(emu.store) != count or set(names) != wanted:
        fail(f"{who}: the emulator holds {len(emu.store)} campaigns ({len(set(names))} names), "
             f"not the {count} expected")


def check_state(work: Path, env: dict[str, str]) -> None:
    """The state after apply is complete: a plan against the same emulator has no changes."""
    proc = subprocess.run(cli(work, "plan", "--detailed-exitcode"), env=env, cwd=work,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"plan --detailed-exitcode after apply exited {proc.returncode} (0 = nothing "
             f"to do): {tail(proc.stdout + proc.stderr)}")


def fail(message: str) -> NoReturn:
    raise SystemExit(f"bench/apply.py --scale: {message}")


def tail(text: str) -> str:
    return " | ".join(text.strip().splitlines()[-3:])[-600:]


def checks(runs: list[Run], backends: list[str]) -> list[Run]:
    """The issue's targets, each met, missed or not run (a size it needs was not measured)."""
    by = {(r["backend"], r["campaigns"]): r for r in runs}
    out = []
    for backend in backends:
        big, mid, small = (by.get((backend, n)) for n in (10000, 4000, 1000))
        limit = 3.0 if backend == "local" else 4.0
        out.append(target(f"{backend}: 10,000 time / floor", ratio(big, "wall_seconds", big,
                          "floor_seconds"), f"<= {limit:g}x", lambda v: v <= limit))
        out.append(target(f"{backend}: 4,000 time / 1,000 time",
                          ratio(mid, "wall_seconds", small, "wall_seconds"),
                          "<= 4.4x", lambda v: v <= 4.4))
        out.append(target(f"{backend}: bytes/create 10,000 / 1,000",
                          ratio(big, "bytes_per_create", small, "bytes_per_create"),
                          "0.8x..1.2x", lambda v: 0.8 <= v <= 1.2))
    return out


def ratio(top: Run | None, top_key: str, bottom: Run | None, bottom_key: str) -> float | None:
    """top[top_key] / bottom[bottom_key], or None when either run is missing."""
    if top is None or bottom is None:
        return None
    return float(top[top_key]) / float(bottom[bottom_key])


def target(name: str, value: float | None, goal: str, ok: Callable[[float], bool]) -> Run:
    verdict = "not run" if value is None else ("met" if ok(value) else "missed")
    return {"target": name, "value": value, "goal": goal, "verdict": verdict}


def show(report: Run) -> None:
    print(f"machine: {report['machine']}, parallelism {report['parallelism']}")
    print(f"| {'backend':<8} | {'N':>6} | {'wall s':>8} | {'creates/s':>9} | {'floor s':>7} | "
          f"{'x floor':>7} | {'bytes/create':>12} |")
    print(f"|{'-' * 10}|{'-' * 7}:|{'-' * 9}:|{'-' * 10}:|{'-' * 8}:|{'-' * 8}:|{'-' * 13}:|")
    for r in report["runs"]:
        print(f"| {r['backend']:<8} | {r['campaigns']:>6,} | {r['wall_seconds']:>8.2f} | "
              f"{r['creates_per_second']:>9.1f} | {r['floor_seconds']:>7.2f} | "
              f"{r['ratio_to_floor']:>6.1f}x | {r['bytes_per_create']:>12,.0f} |")
    for c in report["checks"]:
        value = "-" if c["value"] is None else f"{c['value']:.2f}x"
        print(f"{c['target']}: {value} (target {c['goal']}): {c['verdict']}")
    for r in report["runs"]:
        if r.get("wal_other_clients"):
            print(f"warning: postgres {r['campaigns']:,}: other client sessions were open "
                  f"meanwhile; the WAL figure includes whatever they wrote: "
                  f"{r['wal_other_clients']}")


def merge_results(report: Run) -> None:
    """bench/results.json keeps its other keys; "apply_scale" is replaced whole."""
    path = BENCH / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["apply_scale"] = report
    path.write_text(json.dumps(results, indent=2) + "\n")
