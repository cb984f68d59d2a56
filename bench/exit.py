"""How much a normal interpreter exit costs a warm plan at 10,000 campaigns, against
os._exit after flushing and running the exit handlers (what provisioner/speed/process.py
does for plan and validate; this is the figure that says whether it should).

    python bench/exit.py [--repeats N]

Both are fresh processes on the same data set (bench/gen.py), interleaved so a change in
machine speed hits both alike; prints the median of each and the difference.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from gen import DATA, generate  # noqa: E402

NORMAL = ("import sys\nfrom provisioner import cli\nfrom provisioner.speed import process\n"
          "argv = sys.argv[1:]\nprocess.tune(cli._command(argv))\n"
          "process.leave(cli.main(argv))\n")


def _time(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=21)
    repeats = parser.parse_args().repeats
    data = generate(10_000, DATA / "n10000")
    args = ["plan", "--campaigns", "campaigns", "--state", "state.json"]
    fast_cmd = [sys.executable, "-m", "provisioner", *args]
    normal_cmd = [sys.executable, "-c", NORMAL, *args]
    _time(normal_cmd, data)   # warms the spec cache and the state index
    fast, normal = [], []
    for _ in range(repeats):
        fast.append(_time(fast_cmd, data))
        normal.append(_time(normal_cmd, data))
    f, n = statistics.median(fast), statistics.median(normal)
    print(f"warm plan, 10,000 campaigns, median of {repeats}: os._exit {f * 1000:.0f} ms, "
          f"normal exit {n * 1000:.0f} ms, difference {(n - f) * 1000:.0f} ms "
          f"({(n - f) / n:.0%} of the normal run)")


if __name__ == "__main__":
    main()
