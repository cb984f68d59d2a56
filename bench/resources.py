"""What contact lists and voice campaigns cost an apply (issue 16), in requests and time.

Declares one contact list, N SMS campaigns and M voice campaigns naming it, applies them
through the real CLI (a subprocess) against the bundled emulator with no rate limit, and
prints the requests by operation and the wall time; then misspells one list reference and
prints what the refused apply sent (the reference check: one listing, nothing else).

    python bench/resources.py [--sms N] [--voice M] [--preparing SECONDS]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from provisioner.emulator import start_emulator  # noqa: E402

SECRET = "bench-client-secret-not-for-production-use"
LIST = "kind: ContactList\nname: Bench Opt-ins\ndescription: Declared by the bench.\n"
SMS = """\
name: Bench SMS {i}
description: Benchmark SMS campaign.
contactLists: [Bench Opt-ins]
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
VOICE = """\
name: Bench Voice {i}
description: Benchmark voice campaign.
campaignType: voice
dialingMode: Agentless
contactLists: [Bench Opt-ins]
dncLists: {{name: Default Global DNC}}
priority: "5"
dialingStrategy:
  callerId: {{phoneNumber: "+14155550123"}}
  callingHours:
    frequency: WEEKLY
    timezone: Asia/Kolkata
    days: [{{day: MO, start: "9:00 AM", end: "6:00 PM"}}]
  dialingOrder: FIFO
  maxAttemptsPerRecord: 3
  defaultRetryPeriod: 10
  maxRingTime: 30
experienceFlowName: Bench Flow
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sms", type=int, default=20)
    parser.add_argument("--voice", type=int, default=5)
    parser.add_argument("--preparing", type=float, default=2.0,
                        help="seconds a voice campaign stays Preparing (emulator setting)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, start_emulator(
            client_secret=SECRET, rate_limit_per_minute=0,
            faults={"voice_preparing_seconds": args.preparing}) as emu:
        root = Path(folder)
        (root / "campaigns").mkdir()
        shutil.copytree(ROOT / "schemas", root / "schemas")
        (root / "campaigns" / "lists.yaml").write_text(LIST)
        (root / "campaigns" / "sms.yaml").write_text(
            "---\n".join(SMS.format(i=i) for i in range(args.sms)))
        (root / "campaigns" / "voice.yaml").write_text(
            "---\n".join(VOICE.format(i=i) for i in range(args.voice)))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PROVISIONER_"))}
        env.update(KORE_HOST=emu.url, KORE_STREAM_ID="st-demo", KORE_ACCOUNT_ID="acc-demo",
                   KORE_CLIENT_ID="cs-demo", KORE_CLIENT_SECRET=SECRET,
                   KORE_RATE_LIMIT_PER_MINUTE="0", PROVISIONER_STATE="state/bench.json",
                   NO_COLOR="1")

        def apply(label: str) -> None:
            emu.requests.clear()
            started = time.monotonic()
            result = subprocess.run([sys.executable, "-m", "provisioner", "apply",
                                     "--auto-approve"], cwd=root, env=env, text=True,
                                    capture_output=True)
            took = time.monotonic() - started
            ops = Counter(str(entry["op"]) for entry in emu.requests.entries())
            print(f"{label}: exit {result.returncode}, {sum(ops.values())} requests "
                  f"({', '.join(f'{op} {n}' for op, n in sorted(ops.items()))}), {took:.2f} s")

        print(f"1 contact list, {args.sms} SMS and {args.voice} voice campaigns "
              f"(voice Preparing {args.preparing:g} s), no rate limit")
        apply("apply")
        sms = root / "campaigns" / "sms.yaml"
        sms.write_text(sms.read_text().replace("[Bench Opt-ins]", "[Bench Optins]", 1))
        apply("apply with one misspelt list")
    return 0


if __name__ == "__main__":
    sys.exit(main())
