"""Every settings reader fed malformed input: provisioner.yaml, the environment variables that
override it, and every numeric command-line option of every command. Each must end in exit
1 with one located line (`error: provisioner.yaml:L:C: ...`, or argparse's usage error
naming the option), never `internal error` or a traceback, and write nothing.

(Spec, state and saved-plan files have their own matrix.)
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from provisioner.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
ENV = "environments:\n  dev:\n"
DEEP = "[" * 100 + "]" * 100
DEEPER = "[" * 2000 + "]" * 2000
LAUGHS = "[&a [x, x, x, x, x, x, x, x, x], " + ", ".join(
    f"&{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")) + "]"
HUGE = "1" * 5000

# (key, value as written in YAML, what the error must say): each is one setting of `dev`,
# located at its value (line 3, column len(key) + 7).
SETTING_CASES = [
    ("accountId", "0123", "must be a string (quote it), not 83"),
    ("streamId", "[a]", "must be a string"),
    ("prune", '"false"', "prune must be true or false"),
    ("accountId", '"a\\ab"', "U+0007"),
    ("streamId", '"st-\\u200b1"', "U+200B"),
    ("state", '"a\\nb"', "U+000A"),
    ("host", "http://example.com", "plain http:// is refused"),
    ("host", "https://u:p@h.example", "no user info"),
    ("host", "ftp://h.example", "not an http(s) URL"),
    ("host", "https://h.example:99999", "not a usable URL"),
    ("host", '"http://[::1"', "not a usable URL"),
    ("rateLimitPerMinute", "-1", "at least 0"),
    *[("rateLimitPerMinute", v, "whole number")
      for v in (".nan", ".inf", "-.inf", "1.5", "abc", "true", "1e3", "'²'", "12abc", "[1]")],
    ("rateLimitPerMinute", "99999999999999999999999", "at most 60000"),
    ("rateLimitPerMinute", HUGE, "cannot be read"),
    ("rateLimitPerMinute", '!!int "abc"', "not a valid !!int"),
    ("rateLimitPerMinute", '!!float "x"', "not a valid !!float"),
    ("prune", '!!bool "maybe"', "not a valid !!bool"),
]

# (id, provisioner.yaml text, where the error must point, what it must say)
CONFIG_CASES = [
    ("syntax", "environments: [\n", "provisioner.yaml:2:1:", "YAML syntax error"),
    ("tab", "environments:\n\tdev: {}\n", "provisioner.yaml:2:1:", "YAML syntax error"),
    ("not-utf8", b"environments:\n  dev: {host: \xff}\n", "provisioner.yaml:2:15:", "not UTF-8"),
    ("empty", "", "provisioner.yaml:1:1:", "no YAML document"),
    ("list", "- dev\n", "provisioner.yaml:1:1:", "expected a mapping"),
    ("two-documents", "environments:\n  dev: {}\n---\nx: 1\n", "provisioner.yaml:4:1:",
     "more than one YAML document"),
    ("no-environments", "default: dev\n", "provisioner.yaml:1:1:", "environments"),
    ("environments-list", "environments: [dev]\n", "provisioner.yaml:1:15:", "environments"),
    ("duplicate-env", "environments:\n  dev: {}\n  dev: {prune: true}\n",
     "provisioner.yaml:3:3: environments.dev:", "duplicate key 'dev'"),
    ("duplicate-setting", ENV + "    prune: false\n    prune: true\n",
     "provisioner.yaml:4:5: environments.dev.prune:", "duplicate key 'prune'"),
    ("duplicate-top", "default: dev\ndefault: qa\nenvironments:\n  dev: {}\n",
     "provisioner.yaml:2:1: default:", "duplicate key 'default'"),
    ("unknown-key", ENV + "    hots: x\n", "provisioner.yaml:3:5: environments.dev.hots:",
     "unknown key 'hots'"),
    ("default-list", "default: [dev]\nenvironments:\n  dev: {}\n", "provisioner.yaml:",
     "default must be an environment name"),
    ("too-large", ENV + "    host: https://h.example\n" + "#" * (1 << 20) + "\n",
     "provisioner.yaml:1:1:", "larger than"),
    ("fifo", os.mkfifo, "provisioner.yaml:", "not a regular file"),   # a read would hang
    ("directory", Path.mkdir, "provisioner.yaml:", "not a regular file"),
    ("tag-binary", ENV + "    host: !!binary aGk=\n", "provisioner.yaml:3:11:",
     "unsupported YAML tag"),
    ("tag-python", ENV + "    host: !!python/object:os.system x\n", "provisioner.yaml:3:11:",
     "unsupported YAML tag"),
    ("deep", ENV + f"    host: {DEEP}\n", "provisioner.yaml:", "nested deeper than"),
    ("deeper", ENV + f"    host: {DEEPER}\n", "provisioner.yaml:", "nesting depth"),
    ("alias-bomb", ENV + f"    host: {LAUGHS}\n", "provisioner.yaml:", "alias bomb"),
]

CONFIG_CASES += [(f"{key}={value[:12]}", f"{ENV}    {key}: {value}\n",
                  f"provisioner.yaml:3:{len(key) + 7}: environments.dev.{key}:", says)
                 for key, value, says in SETTING_CASES]

PREFIXES = ["@evil.example", "@evil.example/x", "//evil.example/x", "/a@evil.example",
            "\\\\evil.example", "/x?y=1", "/x#y", "/a/../b", "/a/./b", "/..", "/a b", " /a",
            "/a\\tb", "api/v2", "/", "/a//b", "/a/", "http://evil.example/x", "/a%2e%2e/b",
            ":8080/x"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A repository folder as cwd, with a campaigns folder and no KORE_/PROVISIONER_ vars."""
    for name in list(os.environ):
        if name.startswith(("KORE_", "PROVISIONER_")):
            monkeypatch.delenv(name)
    (tmp_path / "campaigns").mkdir()
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    gc.enable()   # `plan` switches the collector off for its short-lived process


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the real CLI in this process; (exit code, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as exc:   # argparse's usage error
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def assert_one_error(code: int, err: str, *fragments: str) -> str:
    """Exit 1, one `error:` line (after argparse's usage lines) holding every fragment."""
    assert code == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.strip().splitlines()
    last = lines[-1]
    assert len(lines) == 1 or all(not ln.startswith("error") for ln in lines[:-1]), err
    assert last.startswith("error: ") or ": error: " in last, err
    for fragment in fragments:
        assert fragment in last, err
    return last


@pytest.mark.parametrize("text, where, says", [c[1:] for c in CONFIG_CASES],
                         ids=[c[0] for c in CONFIG_CASES])
@pytest.mark.parametrize("command", [("state", "list"), ("plan",)])
def test_a_malformed_config_file_is_one_located_line(repo: Path, capsys: pytest.CaptureFixture[str],
                                                     command: tuple[str, ...],
                                                     text: str | bytes | Callable[[Path], None],
                                                     where: str, says: str) -> None:
    config = repo / "provisioner.yaml"
    if callable(text):
        text(config)
    else:
        config.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    before = snapshot(repo)
    code, err = run_cli(capsys, *command)
    last = assert_one_error(code, err, where, says)
    assert last.startswith("error: provisioner.yaml:"), err
    assert snapshot(repo) == before


@pytest.mark.parametrize("key", ["apiPrefix", "createPrefix"])
@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_prefix_that_is_not_a_url_path_is_refused(repo: Path, capsys: pytest.CaptureFixture[str],
                                                    key: str, prefix: str) -> None:
    """`@host`, `//host`, `\\`, `?`, `#`, `..`, spaces: any of these could move a request
    (and its token) to another host or path."""
    quoted = prefix.replace("\\", "\\\\").replace('"', '\\"')
    (repo / "provisioner.yaml").write_text(
        f'{ENV}    host: "http://127.0.0.1:9"\n    {key}: "{quoted}"\n', encoding="utf-8")
    code, err = run_cli(capsys, "state", "list")
    assert_one_error(code, err, "provisioner.yaml:4:", f"environments.dev.{key}:",
                     "is not a URL path")


@pytest.mark.parametrize("var, value, says", [
    *[("KORE_RATE_LIMIT_PER_MINUTE", value, "whole number")
      for value in ("nan", "inf", "1.5", "1e3", "0x10", "²", " ", HUGE)],
    ("KORE_RATE_LIMIT_PER_MINUTE", "-1", "at least 0"),
    ("KORE_RATE_LIMIT_PER_MINUTE", "99999999", "at most 60000"),
    ("KORE_HOST", "http://127.0.0.1:1@evil.example", "no user info"),
    ("KORE_HOST", "http://evil.example", "plain http:// is refused"),
    ("KORE_ACCOUNT_ID", "acc\r\nX-Injected: 1", "U+000D"),
    ("PROVISIONER_STATE", "state\x1b[2J.json", "U+001B"),
])
def test_a_malformed_environment_variable_is_named(repo: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, var: str,
                                                   value: str, says: str) -> None:
    (repo / "provisioner.yaml").write_text(ENV + "    host: https://h.example\n")
    monkeypatch.setenv(var, value)
    before = snapshot(repo)
    code, err = run_cli(capsys, "state", "list")
    assert_one_error(code, err, f"{var}:", says)
    assert snapshot(repo) == before


SECONDS = ["nan", "NaN", "inf", "-inf", "1e999", "-1", "-0.5", "abc", "", "86401",
           "9" * 5000]
COUNTS = ["nan", "inf", "1.5", "-1", "abc", "", "1e3", "0x10", "9" * 5000]
PROBABILITIES = ["nan", "inf", "-0.1", "1.5", "abc", ""]
PORTS = ["99999", "65536", "-1", "nan", "abc", "", "80.5"]

# (command line before the option, option, bad values)
NUMERIC_OPTIONS = [
    *[(cmd, "--lock-timeout", SECONDS) for cmd in (
        ("plan",), ("apply", "--auto-approve"), ("drift",), ("import", "X"),
        ("state", "list"), ("state", "show", "X"), ("state", "rm", "X"), ("state", "history"),
        ("state", "restore", "1"), ("state", "migrate", "--to", "x.json"),
        ("force-unlock", "L"))],
    (("emulator",), "--port", PORTS),
    (("emulator",), "--rate-limit-per-minute", COUNTS + ["99999999"]),
    (("emulator",), "--latency-ms", COUNTS + ["60001"]),
    (("emulator",), "--fail-rate", PROBABILITIES),
    (("emulator",), "--drop-after-commit-rate", PROBABILITIES),
    (("emulator",), "--list-lag-seconds", SECONDS),
    (("emulator",), "--seed", ["nan", "1.5", "abc", "", "9" * 5000]),
]
# apply's own options, given after `apply --auto-approve`.
APPLY_OPTIONS = {("apply", "--parallelism"): COUNTS + ["0", "100000"],
                 ("apply", "--create-lag"): SECONDS}


def _option_cases() -> Iterator[object]:
    for before, option, values in NUMERIC_OPTIONS:
        for value in values:
            yield pytest.param(before, option, value, id=f"{' '.join(before)} {option}={value[:8]}")
    for (command, option), values in APPLY_OPTIONS.items():
        for value in values:
            yield pytest.param((command, "--auto-approve"), option, value,
                               id=f"{command} {option}={value[:8]}")


def parse_only(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Parse a command line with the CLI's own parser, running nothing (a value that got
    through could start an emulator that serves forever); (exit code, stderr)."""
    try:
        build_parser(args).parse_args(args)
    except SystemExit as exc:
        return int(exc.code or 0), capsys.readouterr().err
    return 0, "the command line was accepted"


@pytest.mark.parametrize("before, option, value", list(_option_cases()))
def test_a_malformed_numeric_option_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                                     before: tuple[str, ...], option: str,
                                                     value: str) -> None:
    """nan, infinities, negatives, fractions, text and out-of-range values: refused while
    parsing, naming the option, before anything is read or started."""
    code, err = parse_only(capsys, *before, f"{option}={value}")
    assert_one_error(code, err, option)


@pytest.mark.parametrize("value", ["nan", "1.5", "abc", "-1", "9" * 5000])
def test_restore_serial_must_be_a_whole_number(capsys: pytest.CaptureFixture[str],
                                               value: str) -> None:
    code, err = parse_only(capsys, "state", "restore", value)
    assert_one_error(code, err, "SERIAL")


def test_lock_timeout_nan_does_not_wait_forever(tmp_path: Path) -> None:
    """The finding: `--lock-timeout nan` against a held lock waited forever."""
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "dev.json.lock").write_text('{"id": "x", "pid": 1, "host": "h"}\n')
    result = subprocess.run([sys.executable, "-m", "provisioner", "state", "rm", "X",
                             "--state", "state/dev.json", "--lock-timeout", "nan"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert_one_error(result.returncode, result.stderr, "--lock-timeout", "finite")


# -- plan --out never overwrites what the tool reads or records ------------------------------

def plan_out_is_refused(root: Path, out: str, says: str) -> None:
    """`plan --out OUT` (the real CLI) exits 1 with one line, and no file changes."""
    before = snapshot(root)
    result = subprocess.run([sys.executable, "-m", "provisioner", "plan", "--out", out],
                            cwd=root, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert_one_error(result.returncode, result.stderr, f"--out {out}", says)
    assert snapshot(root) == before


@pytest.mark.parametrize("out", ["state/dev.json", "state/dev.json.backup", "state/dev.json.lock",
                                 "./state/../state/dev.json", "link.json", "linkdir/dev.json",
                                 "provisioner.yaml", "campaigns/a.yaml", "campaigns/new.json",
                                 "campaigns/sub/x.yaml", "campaign-link/plan.json"])
def test_plan_out_refuses_the_state_config_and_specs(tmp_path: Path, out: str) -> None:
    (tmp_path / "campaigns" / "sub").mkdir(parents=True)
    (tmp_path / "campaigns" / "a.yaml").write_text("name: A\n")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "dev.json").write_text("{}\n")
    (tmp_path / "provisioner.yaml").write_text(ENV + "    state: state/dev.json\n")
    (tmp_path / "link.json").symlink_to("state/dev.json")
    (tmp_path / "linkdir").symlink_to("state")
    (tmp_path / "campaign-link").symlink_to("campaigns")
    plan_out_is_refused(tmp_path, out, "choose another file")


@pytest.mark.parametrize("out", ["link.json", "link.json.backup", "link.json.lock",
                                 "state/dev.json", "state/dev.json.backup"])
def test_plan_out_refuses_a_symlinked_state_and_what_sits_beside_either_end(
        tmp_path: Path, out: str) -> None:
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "dev.json").write_text("{}\n")
    (tmp_path / "link.json").symlink_to("state/dev.json")
    (tmp_path / "provisioner.yaml").write_text(ENV + "    state: link.json\n")
    plan_out_is_refused(tmp_path, out, "the state file")
