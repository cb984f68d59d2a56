"""The raw-POST floor of bench/apply_scale.py: the same create bodies, a bare requests loop.

    KORE_HOST=... KORE_STREAM_ID=... KORE_ACCOUNT_ID=... KORE_CLIENT_ID=... \\
    KORE_CLIENT_SECRET=... python bench/apply_floor.py BODIES.json PARALLELISM

POSTs every body of BODIES.json (a JSON list) to the create path provisioner uses, with its
headers and query, from PARALLELISM threads sharing one `requests.Session`; every request
carries a fresh JWT with its own `jti`, signed by provisioner's own KoreJWTAuth. No state,
no plan, no retries. Prints {"seconds", "sent", "statuses"} as JSON, where seconds is the
loop alone (threads started to all answered; interpreter start and reading the bodies are
left out, so the floor is as low as it can be). Exits 1 with one line on stderr when any
request fails or answers anything but 2xx.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from provisioner.remote.auth import KoreJWTAuth  # noqa: E402


def per_request_auth(client_id: str, secret: str) -> KoreJWTAuth:
    """A KoreJWTAuth in per-request mode (its own `jti` each time), as the issue's floor
    signs; checked, so a change in auth.py cannot quietly turn the floor into reuse."""
    auth = KoreJWTAuth(client_id, secret, reuse=False)
    if auth.token() == auth.token():
        raise SystemExit("floor: KoreJWTAuth reuses its token; the floor needs one per request")
    return auth


class Sender:
    """PARALLELISM threads taking bodies from one shared iterator."""

    def __init__(self, bodies: list[dict[str, Any]], parallelism: int) -> None:
        env = os.environ
        stream, self.account = env["KORE_STREAM_ID"], env["KORE_ACCOUNT_ID"]
        self.url = f"{env['KORE_HOST']}/api/v2/public/{stream}/campaign"
        # the headers provisioner sends (remote/client.py `_send`); iid defaults to the stream
        self.headers = {"iid": stream, "accountId": self.account,
                        "Content-Type": "application/json"}
        self.auth = per_request_auth(env["KORE_CLIENT_ID"], env["KORE_CLIENT_SECRET"])
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=parallelism))
        self.parallelism = parallelism
        self.bodies: Iterator[dict[str, Any]] = iter(bodies)
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()

    def run(self) -> float:
        threads = [threading.Thread(target=self.work) for _ in range(self.parallelism)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started

    def work(self) -> None:
        while True:
            with self.lock:
                body = next(self.bodies, None)
            if body is None:
                return
            status = self.send(body)
            with self.lock:   # Counter's += is a read and a write: not atomic across threads
                self.statuses[status] += 1

    def send(self, body: dict[str, Any]) -> str:
        try:
            response = self.session.post(
                self.url, params={"accountId": self.account, "campaignType": "sms"}, json=body,
                headers={**self.headers, "auth": self.auth.token()}, timeout=(5, 30))
        except requests.RequestException as exc:
            return type(exc).__name__
        return str(response.status_code)


def main() -> int:
    bodies = json.loads(Path(sys.argv[1]).read_text())
    sender = Sender(bodies, int(sys.argv[2]))
    seconds = sender.run()
    sent = sum(sender.statuses.values())
    print(json.dumps({"seconds": seconds, "sent": sent, "statuses": dict(sender.statuses)}))
    bad = {k: v for k, v in sender.statuses.items() if not k.startswith("2")}
    if bad or sent != len(bodies):
        print(f"floor: {sent} of {len(bodies)} sent, failures {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
