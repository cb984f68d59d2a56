"""`provisioner emulator` as a subprocess: start, serve, stop on SIGTERM, exit 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.test_emulator_helpers import ACCOUNT, CLIENT, SECRET, STREAM, token

ROOT = Path(__file__).resolve().parent.parent


def launch(tmp_path: Path, *extra: str, secret: str | None = SECRET) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KORE_")}
    if secret is not None:
        env["KORE_CLIENT_SECRET"] = secret
    cmd = [sys.executable, "-m", "provisioner", "emulator", "--port", "0",
           "--port-file", str(tmp_path / "port"), "--stream-id", STREAM,
           "--account-id", ACCOUNT, "--client-id", CLIENT, *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def wait_for_port(tmp_path: Path, proc: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        port_file = tmp_path / "port"
        if port_file.exists():
            return int(port_file.read_text())
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the emulator did not write its port")


def stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    return proc.returncode, out, err


def test_serves_until_sigterm_then_exits_zero(tmp_path: Path) -> None:
    proc = launch(tmp_path, "--rate-limit-per-minute", "7", "--latency-ms", "1")
    try:
        port = wait_for_port(tmp_path, proc)
        url = f"http://127.0.0.1:{port}"
        headers = {"auth": token(), "iid": STREAM, "accountId": ACCOUNT}
        listed = requests.post(f"{url}/campaign/api/v2/public/{STREAM}/campaign/getAllCampaignDetails",
                               params={"accountId": ACCOUNT}, json={"type": "sms"},
                               headers=headers, timeout=10)
        assert listed.status_code == 200
        faults = requests.get(f"{url}/_emulator/faults", timeout=10).json()
        assert (faults["rate_limit_per_minute"], faults["latency_ms"]) == (7, 1)
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    assert out == f"emulator listening on http://127.0.0.1:{port}\n"
    assert SECRET not in out + err
    assert proc.poll() is not None   # nothing left running


def test_sigint_also_exits_zero(tmp_path: Path) -> None:
    proc = launch(tmp_path)
    wait_for_port(tmp_path, proc)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_missing_secret_and_non_loopback_host_are_refused(tmp_path: Path) -> None:
    missing = launch(tmp_path, secret=None)
    assert missing.wait(timeout=20) == 1
    assert "KORE_CLIENT_SECRET" in missing.communicate()[1]
    public = launch(tmp_path, "--host", "0.0.0.0")
    assert public.wait(timeout=20) == 1
    _, err = public.communicate()
    assert "non-loopback" in err and SECRET not in err
    bad_rate = launch(tmp_path, "--fail-rate", "1.5")
    assert bad_rate.wait(timeout=20) == 1
    assert not (tmp_path / "port").exists()


@pytest.mark.parametrize("args, says", [
    (("--port", "99999"), "argument --port: must be at most 65535"),
    (("--port", "-1"), "argument --port: must be at least 0"),
    (("--port", "nan"), "argument --port: must be a whole number"),
    (("--latency-ms", "1e999"), "argument --latency-ms: must be a whole number"),
    (("--list-lag-seconds", "inf"), "argument --list-lag-seconds: must be a finite number"),
    (("--rate-limit-per-minute", "-5"), "argument --rate-limit-per-minute: must be at least 0"),
])
def test_an_out_of_range_option_is_a_usage_error_not_a_crash(tmp_path: Path,
                                                             args: tuple[str, ...],
                                                             says: str) -> None:
    """`--port 99999` was `internal error: OverflowError` (exit 3)."""
    proc = launch(tmp_path, *args)
    assert proc.wait(timeout=20) == 1
    out, err = proc.communicate()
    assert says in err.splitlines()[-1] and "internal error" not in err, err
    assert not (tmp_path / "port").exists() and not out


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = launch(tmp_path, "--port", str(port))
        assert proc.wait(timeout=20) == 1
        _, err = proc.communicate()
    assert err.startswith(f"error: emulator: cannot listen on 127.0.0.1:{port}: "), err
    assert len(err.splitlines()) == 1 and not (tmp_path / "port").exists()


@pytest.mark.parametrize("port", [-1, 65536, 1.5, True])
def test_the_emulator_refuses_a_port_out_of_range(port: object) -> None:
    from provisioner.emulator import Emulator
    from provisioner.errors import ConfigError
    with pytest.raises(ConfigError, match="port must be 0 to 65535"):
        Emulator(stream_id=STREAM, account_id=ACCOUNT, client_id=CLIENT, client_secret=SECRET,
                 port=port)  # type: ignore[arg-type]
