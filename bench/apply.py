"""`make bench-apply`: how well apply spends the request budget against the emulator.

Creates N campaigns through the real CLI (a subprocess) against the bundled emulator, which
enforces the same per-minute limit the client is given and adds latency, then prints the
achieved request rate as a share of the budget, the count of 429s and the wall time.

    python bench/apply.py [--campaigns N] [--rate PER_MINUTE] [--latency-ms MS]
                          [--parallelism P]

Scale mode (issue 13; bench/apply_scale.py): apply's cost per create at growing N against
an emulator with no limit, beside the raw-POST floor, for each state backend:

    python bench/apply.py --scale [--sizes 1000,4000,10000] [--backends local,postgres]
                          [--parallelism P]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from provisioner.emulator import start_emulator  # noqa: E402

SECRET = "bench-client-secret-not-for-production-use"
# The contact list every bench campaign names: the emulator refuses a campaign naming a list
# it lacks (issue 16), so each bench emulator starts with it, as a console-made list.
LISTS = ("Bench List",)
SPEC = """\
name: Bench {i:05d}
description: Benchmark campaign {i}.
contactLists: [Bench List]
dncLists: {{name: Bench DNC}}
priority: "3"
format: simple
message: {{text: "Benchmark message {i}. Reply STOP to opt out."}}
dialingStrategy:
  callerId: {{phoneNumber: "+14155550123"}}
  callingHours:
    frequency: DAILY
    timezone: America/Chicago
    days: [{{day: MO, start: "9:00 AM", end: "5:00 PM"}}]
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=100)
    parser.add_argument("--rate", type=int, default=300, help="budget, requests per minute")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--out", default=str(ROOT / "bench" / "apply-results.json"))
    parser.add_argument("--scale", action="store_true",
                        help="scale mode: N creates, no limit, beside the raw-POST floor")
    parser.add_argument("--sizes", help="scale mode: campaign counts (default 1000,4000,10000)")
    parser.add_argument("--backends", help="scale mode: local,postgres (the default)")
    args = parser.parse_args()
    if args.scale:
        from apply_scale import main as scale_main   # bench/ is this script's directory
        return scale_main(args.sizes, args.backends, args.parallelism)
    if args.sizes or args.backends:
        parser.error("--sizes and --backends belong to --scale")
    result = run(args.campaigns, args.rate, args.latency_ms, args.parallelism)
    print(f"{'campaigns':>10} {'budget/min':>10} {'requests':>9} {'achieved/min':>12} "
          f"{'share':>6} {'429s':>5} {'wall s':>7}")
    print(f"{result['campaigns']:>10} {result['budget_per_minute']:>10} {result['requests']:>9} "
          f"{result['achieved_per_minute']:>12.1f} {result['share_of_budget']:>6.1%} "
          f"{result['http_429']:>5} {result['wall_seconds']:>7.1f}")
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["http_429"] == 0 and result["exit_code"] == 0 else 1


def write_specs(folder: Path, count: int) -> None:
    """`count` campaign specs from SPEC, ten documents to a file."""
    folder.mkdir()
    for start in range(0, count, 10):
        docs = [SPEC.format(i=i) for i in range(start, min(count, start + 10))]
        (folder / f"b{start:05d}.yaml").write_text("---\n".join(docs))


def run(count: int, rate: int, latency_ms: int, parallelism: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-apply-"))
    write_specs(work / "campaigns", count)
    with start_emulator(stream_id="st-bench", account_id="acc-bench", client_id="cs-bench",
                        client_secret=SECRET, rate_limit_per_minute=rate,
                        faults={"latency_ms": latency_ms}, contact_lists=LISTS) as emu:
        env = {**os.environ, "KORE_HOST": emu.url, "KORE_STREAM_ID": "st-bench",
               "KORE_ACCOUNT_ID": "acc-bench", "KORE_CLIENT_ID": "cs-bench",
               "KORE_CLIENT_SECRET": SECRET, "KORE_RATE_LIMIT_PER_MINUTE": str(rate),
               "PROVISIONER_STATE": str(work / "state.json"),
               "PROVISIONER_CAMPAIGNS": str(work / "campaigns")}
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "provisioner", "apply", "--auto-approve",
                               "--parallelism", str(parallelism), "--config",
                               str(work / "none.yaml")], env=env, cwd=work,
                              capture_output=True, text=True)
        wall = time.monotonic() - started
        log = [e for e in emu.requests.entries()]
    times = sorted(e["time"] for e in log)
    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    # n requests paced over `span` seconds: (n - 1) intervals
    achieved = (len(times) - 1) / span * 60 if span else 0.0
    return {"campaigns": count, "budget_per_minute": rate, "latency_ms": latency_ms,
            "parallelism": parallelism, "requests": len(log),
            "http_429": sum(1 for e in log if e.get("status") == 429),
            "achieved_per_minute": achieved, "share_of_budget": achieved / rate if rate else 0,
            "wall_seconds": wall, "exit_code": proc.returncode,
            "stderr_tail": proc.stderr[-500:] if proc.returncode else ""}


if __name__ == "__main__":
    raise SystemExit(main())
