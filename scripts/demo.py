"""`make demo`: the whole job against the bundled emulator, leaving nothing running.

Starts the emulator on a free loopback port with demo credentials and the contact lists a
console would already hold, then runs validate, plan, apply --auto-approve (a contact list,
then the SMS and voice campaigns naming it), plan again and drift (which must both find
nothing to do), and stops it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = {"KORE_STREAM_ID": "st-demo", "KORE_ACCOUNT_ID": "acc-demo",
        "KORE_CLIENT_ID": "cs-demo-client", "KORE_CLIENT_SECRET": "demo-secret-not-for-production"}
# Lists the campaigns name that campaigns/ does not declare (kind: ContactList): on a real
# tenant they were made in the console; the emulator refuses a campaign naming a list it lacks.
CONSOLE_LISTS = ("CL Only 2020 Dec 4", "Demo Testers")


def start_emulator(env: dict[str, str], port_file: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "provisioner", "emulator", "--port", "0",
           "--port-file", str(port_file), "--stream-id", DEMO["KORE_STREAM_ID"],
           "--account-id", DEMO["KORE_ACCOUNT_ID"], "--client-id", DEMO["KORE_CLIENT_ID"],
           *(arg for name in CONSOLE_LISTS for arg in ("--contact-list", name))]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    for _ in range(100):
        if port_file.exists() and port_file.read_text().strip():
            return proc
        if proc.poll() is not None:
            raise SystemExit("demo: the emulator did not start")
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit("demo: the emulator did not report its port")


def step(title: str, args: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> None:
    print(f"\n$ provisioner {' '.join(args)}    # {title}", flush=True)
    code = subprocess.call([sys.executable, "-m", "provisioner", *args], env=env, cwd=ROOT)
    if code not in ok:
        raise SystemExit(f"demo: `provisioner {' '.join(args)}` exited {code}")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="provisioner-demo-"))
    env = {**os.environ, **DEMO, "PROVISIONER_STATE": str(work / "state.json"),
           "PROVISIONER_CAMPAIGNS": str(ROOT / "campaigns")}
    proc = start_emulator(env, work / "port")
    try:
        port = (work / "port").read_text().strip()
        env["KORE_HOST"] = f"http://127.0.0.1:{port}"
        print(f"demo: emulator on {env['KORE_HOST']}, state in {work / 'state.json'}; "
              f"contact lists made in its console: {', '.join(CONSOLE_LISTS)}")
        step("check every spec", ["validate"], env)
        step("what would change", ["plan", "--env", "demo"], env)
        step("make it so", ["apply", "--env", "demo", "--auto-approve"], env)
        step("nothing left to do", ["plan", "--env", "demo", "--detailed-exitcode"], env)
        step("the tenant matches", ["drift", "--env", "demo"], env)
        print("\ndemo: done; the emulator is stopped and nothing is left running.")
        return 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
