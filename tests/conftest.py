"""Shared fixtures: the real emulator as a separate process on loopback, and a runner for
the real CLI as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
STREAM_ID = "st-test-0001"
ACCOUNT_ID = "acc-test-0001"
CLIENT_ID = "cs-test-client"
# Distinctive, so a leak is easy to find in any output or file.
CLIENT_SECRET = "s3cr3t-ZQX-do-not-leak-7f1e9c"


@dataclass
class EmulatorProcess:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def campaigns(self) -> list[dict[str, Any]]:
        data = self.admin("GET", "campaigns")
        return data["campaigns"] if isinstance(data, dict) else data

    def requests_log(self) -> list[dict[str, Any]]:
        data = self.admin("GET", "requests")
        return data["requests"] if isinstance(data, dict) else data

    def set_faults(self, **faults: Any) -> None:
        self.admin("PUT", "faults", json=faults)

    def contact_lists(self) -> list[dict[str, Any]]:
        """Every contact list of the tenant (the answer form, with campaignInUse)."""
        data = self.admin("GET", "contact-lists")
        return data["contact_lists"] if isinstance(data, dict) else data

    def add_contact_list(self, name: str, description: str = "",
                         allow_duplicates: bool = False) -> dict[str, Any]:
        """Create a contact list behind the tool's back; returns it (with its `_id`)."""
        body = {"name": name, "description": description, "allowDuplicates": allow_duplicates}
        added: dict[str, Any] = self.admin("POST", "contact-lists", json=body)
        return added


# The contact lists every test tenant has, so campaigns naming them can be created.
DEFAULT_CONTACT_LISTS = ("Customers", "VIPs", "Spring customers", "L", "C", "Loyalty Members",
                         "Loyal Customers", "Spring Sale 2026", "Bench List",
                         "Picked In Console", "CL Only 2020 Dec 4", "Staging Testers",
                         "Customers East", "Customers West")


def start_emulator_process(tmp: Path, *extra: str, rate_limit: int = 0,
                           contact_lists: tuple[str, ...] = DEFAULT_CONTACT_LISTS,
                           voice_preparing_seconds: float | None = None) -> EmulatorProcess:
    """The emulator CLI as a subprocess whose tenant has `contact_lists` from the start.
    `voice_preparing_seconds` None keeps the emulator's default."""
    port_file = tmp / f"emulator-{time.monotonic_ns()}.port"
    log = tmp / "emulator.log"
    env = {**os.environ, "KORE_CLIENT_SECRET": CLIENT_SECRET}
    lists = [arg for name in contact_lists for arg in ("--contact-list", name)]
    preparing = ([] if voice_preparing_seconds is None
                 else ["--voice-preparing-seconds", str(voice_preparing_seconds)])
    cmd = [sys.executable, "-m", "provisioner", "emulator", "--port", "0", "--port-file",
           str(port_file), "--stream-id", STREAM_ID, "--account-id", ACCOUNT_ID,
           "--client-id", CLIENT_ID, "--rate-limit-per-minute", str(rate_limit), *lists,
           *preparing, *extra]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return EmulatorProcess(f"http://127.0.0.1:{port_file.read_text().strip()}", proc, log)
        if proc.poll() is not None:
            raise RuntimeError(f"emulator exited: {log.read_text()}")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("emulator did not start")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    emu = start_emulator_process(tmp_path)
    try:
        yield emu
    finally:
        stop_process(emu.proc)


@dataclass
class Workspace:
    """A campaigns repository in a temp folder, wired to an emulator."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state_file(self) -> Path:
        return self.root / "state" / "test.json"

    def state(self) -> dict[str, Any]:
        """The recorded state as a reader sees it: the document and its journal replayed
        (FileNotFoundError when there is none)."""
        from provisioner.state.local import LocalBackend

        state = LocalBackend(self.state_file).read()
        if state is None:
            raise FileNotFoundError(self.state_file)
        return {**state.to_dict(), "serial": state.serial}

    def write_spec(self, name: str, text: str) -> Path:
        path = self.root / "campaigns" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def popen(self, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "provisioner", *args], cwd=self.root,
                                env=self.env, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, **kwargs)

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "provisioner", *args], cwd=self.root,
                              env=self.env, text=True, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)


@pytest.fixture
def workspace(tmp_path: Path, emulator: EmulatorProcess) -> Workspace:
    root = tmp_path / "repo"
    (root / "campaigns").mkdir(parents=True)
    shutil.copytree(ROOT / "schemas", root / "schemas")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PROVISIONER_"))}
    env.update({
        "KORE_HOST": emulator.url, "KORE_STREAM_ID": STREAM_ID, "KORE_ACCOUNT_ID": ACCOUNT_ID,
        "KORE_CLIENT_ID": CLIENT_ID, "KORE_CLIENT_SECRET": CLIENT_SECRET,
        "KORE_RATE_LIMIT_PER_MINUTE": "0", "PROVISIONER_STATE": "state/test.json",
        "NO_COLOR": "1",
    })
    return Workspace(root, env)


def check_golden(path: Path, text: str) -> None:
    """Compare rendered output with its golden file; UPDATE_GOLDEN=1 rewrites it instead
    (only on purpose, never by default)."""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 once"
    assert text == path.read_text(encoding="utf-8")

