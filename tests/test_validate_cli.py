"""`python -m provisioner validate` as a subprocess, on real files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INVALID = ROOT / "tests" / "examples" / "invalid"
VALID = ROOT / "tests" / "examples" / "valid"


def validate(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    """The CLI on the example specs, with no config (so no environment's policy applies)
    unless `env` names one."""
    return subprocess.run([sys.executable, "-m", "provisioner", "validate", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PROVISIONER_CONFIG": "no-such-config.yaml",
                               **(env or {})})


def test_shipped_campaigns_are_clean_even_when_strict() -> None:
    """In every environment of the shipped config, its policies included."""
    result = validate("--strict", env={"PROVISIONER_CONFIG": "provisioner.yaml"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith("; 0 error(s), 0 warning(s)\n")
    assert "4 valid campaign(s), 1 valid contact list(s) in 6 file(s)" in result.stdout


def test_error_line_points_at_the_node() -> None:
    result = validate("tests/examples/invalid/time-not-a-time.yaml")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "tests/examples/invalid/time-not-a-time.yaml:19:26: "
        "$.dialingStrategy.callingHours.days[2].start: '25:00 PM' is not a time like 9:00 AM")


def test_every_invalid_example_is_reported_in_one_run_without_traceback() -> None:
    result = validate("tests/examples/invalid")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr == ""
    for example in INVALID.glob("*.yaml"):
        first = example.read_bytes().decode("latin-1").splitlines()[0]
        line_col, path = re.match(r"# expect: (\d+:\d+): (\S+):", first).groups()
        assert f"tests/examples/invalid/{example.name}:{line_col}: {path}: " in result.stdout


def test_warnings_pass_unless_strict() -> None:
    example = "tests/examples/valid/no-dnc-warning.yaml"
    assert validate(example).returncode == 0
    strict = validate(example, "--strict")
    assert strict.returncode == 1 and strict.stdout.startswith(f"{example}:2:1: $: SMS campaign")
    assert "(warning)" in strict.stdout


def test_json_and_github_formats() -> None:
    result = validate("--format", "json", "tests/examples/invalid/name-clash.yaml")
    [problem] = json.loads(result.stdout)
    assert result.returncode == 1
    assert set(problem) == {"file", "line", "column", "path", "message", "severity"}
    github = validate("--format", "github", "tests/examples/invalid")
    lines = github.stdout.splitlines()
    assert github.returncode == 1 and len(lines) == 12   # ensure-unknown.yaml also warns
    assert all(line.startswith("::error file=") for line in lines[:10])
    assert re.fullmatch(r"::error::\d+ more errors not shown; run provisioner validate locally",
                        lines[10])
    assert lines[11].startswith("::warning file=tests/examples/invalid/ensure-unknown.yaml,")


def test_campaigns_folder_from_environment_and_option(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: [x]\n")
    from_env = validate(env={"PROVISIONER_CAMPAIGNS": str(tmp_path)})
    assert from_env.returncode == 1 and "bad.yaml:1:7: $.name: expected a string" in from_env.stdout
    assert validate("--campaigns", str(VALID)).returncode == 0


def test_hostile_files_fail_cleanly(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"a: 1\n" * 300_000)
    (tmp_path / "bytes.yaml").write_bytes(b"\xff\xfe\x00")
    result = validate(str(tmp_path))
    assert result.returncode == 1 and result.stderr == ""
    assert "big.yaml:1:1: $: file is larger than" in result.stdout
    assert "bytes.yaml:1:1: $: byte 0xff is not UTF-8" in result.stdout
