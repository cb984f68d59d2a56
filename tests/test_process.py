"""How a command's process ends (provisioner/speed/process.py): output flushed and exit
handlers run, whether or not the heap's teardown is skipped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", ["plan", "validate", "apply", None])
def test_exit_handlers_run_and_output_is_flushed(tmp_path: Path, command: str | None) -> None:
    marker = tmp_path / "handler-ran"
    probe = ("import atexit, sys\nfrom pathlib import Path\n"
             "from provisioner.speed import process\n"
             f"atexit.register(lambda: Path({str(marker)!r}).write_text('yes'))\n"
             "sys.stdout.write('unflushed output')\n"
             f"process.leave(3, {command!r})\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 3
    assert result.stdout == "unflushed output"
    assert marker.read_text() == "yes"
