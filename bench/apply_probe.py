"""Run the provisioner CLI in this process and, at exit, save what it wrote (bench/apply_scale.py).

    BENCH_IO_OUT=FILE python bench/apply_probe.py apply --auto-approve ...

Exactly `provisioner.cli.run()` (the console script's path, its exit included), plus an exit
handler that copies this process's /proc/self/io counters into FILE as JSON. The counters
are read before FILE is written, so that write is not counted. Threads are included (the
kernel sums a process's threads); child processes are not.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def io_counters() -> dict[str, int]:
    """/proc/self/io as numbers: rchar, wchar, syscr, syscw, read_bytes, write_bytes, ..."""
    pairs = (line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return {key: int(value) for key, value in pairs}


def _save(target: str) -> None:
    counters = io_counters()
    Path(target).write_text(json.dumps(counters))


if __name__ == "__main__":
    atexit.register(_save, os.environ["BENCH_IO_OUT"])
    from provisioner.cli import run

    sys.argv = ["provisioner", *sys.argv[1:]]
    run()
