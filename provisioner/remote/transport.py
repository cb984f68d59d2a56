"""`Transport`: how every call of `KoreClient` reaches the API: the shared budget, auth,
retries, and the one Session.

Retry policy (issue 4): GET, PUT, DELETE and the read-only POSTs (list, status) are resent
on connection errors, 5xx and 429 with capped exponential backoff and full jitter, a bounded
number of times. A non-idempotent call (create, start, stop, schedule) is never resent once
it may have reached the server: see `_transport_error`. A 401 to a reused token is resent
once, create included, with a token of its own (`_reauthorise`).

Connections (issue 13): one Session for every thread, its pool holding `connections`
keep-alive connections, so each of apply's parallel workers keeps one open. Its cookie jar
accepts nothing (the API is stateless behind the JWT), so no thread ever mutates the shared
session after it is built; urllib3's pool itself is thread-safe.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from provisioner.config import check_host, is_loopback
from provisioner.errors import AmbiguousError, ApiError, ConfigError
from provisioner.remote.auth import KoreJWTAuth
from provisioner.remote.ratelimit import RateLimiter
from provisioner.remote.responses import (
    OK_STATUSES, http_error, is_rate_limited, result_of, retry_after,
)

OnEvent = Callable[[str, str], None]

CAMPAIGN_TYPES = ("sms", "voice")

# Bound on 429 waits for one call: ten windows (about ten minutes at no Retry-After).
MAX_RATE_LIMIT_WAITS = 10
# Without Retry-After, a 429 waits one full documented window (digest section 3): after
# 60 s with nothing sent, every request of ours, the refused one included if the server
# counts it, has left the server's sliding window.
RATE_LIMIT_PAUSE = 60.0
# Bound on the pages of one listing.
MAX_PAGES = 10_000
# Round trips kept for `latency()`: the most recent ones, so memory stays constant.
LATENCY_SAMPLES = 32


@dataclass(frozen=True)
class ApiTarget:
    """Where the API is: base URL with scheme, the bot/app stream id, account and iid.

    Two path prefixes, because the pages disagree (koreai-campaign-apis.md section 0.1):
    `create_prefix` is `/api/v2/public`, the path of the SMS create page and of the voice
    start and stop pages; `prefix` is `/campaign/api/v2/public`, every other page's (the
    voice create page's too). `voice_update_type` is the `campaignType` a voice campaign's
    PUT carries (see `KoreClient.update`); `ready_timeout` bounds `wait_ready` (seconds).
    """

    host: str
    stream_id: str
    account_id: str
    iid: str
    create_prefix: str = "/api/v2/public"
    prefix: str = "/campaign/api/v2/public"
    voice_update_type: str = "voice"
    ready_timeout: float = 60.0


def checked_type(campaign_type: Any) -> str:
    """`campaign_type` when the API knows it ("sms" or "voice"); else ApiError, before
    anything is sent."""
    if campaign_type not in CAMPAIGN_TYPES:
        raise ApiError(f"campaignType must be 'sms' or 'voice', not "
                       f"{str(campaign_type)[:40]!r}; nothing was sent")
    return str(campaign_type)


class Transport:
    """Sending one call to one target until a final answer. Thread-safe: every thread
    shares one Session.

    `connections` is the most connections open to the API at once, each kept alive: give
    it at least apply's parallelism, or workers beyond it wait for a free one. An injected
    `session` (tests mount a fake transport on it) is used as it is. `close()` closes the
    connections. `sleep` and `clock` (monotonic seconds: latency, waits) are injectable.
    """

    def __init__(self, target: ApiTarget, auth: AuthBase, *, limiter: RateLimiter,
                 timeout: tuple[float, float] = (5, 30), max_retries: int = 5,
                 backoff_base: float = 0.5, backoff_cap: float = 30, connections: int = 10,
                 session: requests.Session | None = None, on_event: OnEvent | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        if isinstance(connections, bool) or not isinstance(connections, int) or connections < 1:
            raise ConfigError(f"connections must be a whole number >= 1, not {connections!r}")
        self.target = target
        self.base = check_host(target.host)
        self._auth, self._limiter, self._timeout = auth, limiter, timeout
        self._max_retries, self._base, self._cap = max_retries, backoff_base, backoff_cap
        self._session = session if session is not None else _new_session(self.base, connections)
        self._on_event, self._sleep, self._jitter = on_event, sleep, jitter
        self._clock = clock
        self._latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        self._latency_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.base!r}, stream_id={self.target.stream_id!r})"

    def latency(self) -> float | None:
        """Median seconds from sending a request to having its answer, over the last
        LATENCY_SAMPLES answered requests (rate-limit waits excluded); None before any."""
        with self._latency_lock:
            samples = list(self._latencies)
        return statistics.median(samples) if samples else None

    def close(self) -> None:
        """Close the kept-alive connections (the client may still be used: it reconnects)."""
        self._session.close()

    # -- plumbing -----------------------------------------------------------------------

    @property
    def _stream(self) -> str:
        return quote(self.target.stream_id, safe="")

    def _path(self, *parts: str, prefix: str | None = None) -> str:
        """`{prefix}/{streamId}/campaign` and then `parts`, each quoted: an id can never
        add a segment, a query or a host. `prefix` defaults to the general one."""
        segments = "".join(f"/{quote(part, safe='')}" for part in parts)
        return f"{prefix or self.target.prefix}/{self._stream}/campaign{segments}"

    def _query(self, **extra: str) -> dict[str, str]:
        return {"accountId": self.target.account_id, **extra}

    def _event(self, kind: str, message: str) -> None:
        if self._on_event is not None:
            self._on_event(kind, message)

    def _call(self, method: str, path: str, query: dict[str, str], body: Any, *,
              resend: bool, missing_ok: bool = False,
              ok_statuses: frozenset[str] = OK_STATUSES, envelope: bool = False) -> Any:
        """Send until a final answer; return the envelope's `data`, or with `envelope` the
        whole answer object (MISSING on an allowed 404)."""
        label = f"{method} {path}"
        failures = rate_waits = 0
        reauthorised = False
        while True:
            self._limiter.acquire()
            try:
                response = self._send(method, path, query, body)
            except requests.RequestException as exc:
                failures = self._backoff(self._transport_error(label, exc, resend), failures)
                continue
            if is_rate_limited(response):
                rate_waits = self._wait_for_window(label, response, rate_waits)
                continue
            if response.status_code == 401 and not reauthorised:
                reauthorised = self._reauthorise(label, response)
                if reauthorised:
                    continue
            if response.status_code >= 500 and resend:
                failures = self._backoff(http_error(label, response), failures)
                continue
            return result_of(label, response, resend=resend, missing_ok=missing_ok,
                             ok_statuses=ok_statuses, envelope=envelope)

    def _send(self, method: str, path: str, query: dict[str, str],
              body: Any) -> requests.Response:
        headers = {"iid": self.target.iid, "accountId": self.target.account_id,
                   "Content-Type": "application/json"}
        # No redirects: requests would forward our custom `auth` header (it only strips
        # `Authorization`) to whatever host a redirect names. verify=True always.
        url = self.base + path
        sent, configured = urlsplit(url), urlsplit(self.base)
        if sent.netloc != configured.netloc or sent.query or sent.fragment:
            # a path (from settings or an id) must never move the request, and the token
            # with it, to another host
            raise ConfigError(f"refusing to send {method} to a URL outside {self.base}")
        started = self._clock()
        response = self._session.request(
            method, url, params=query, json=body, headers=headers,
            auth=self._auth, timeout=self._timeout, verify=True, allow_redirects=False)
        seconds = self._clock() - started
        with self._latency_lock:
            self._latencies.append(seconds)
        return response

    def _reauthorise(self, label: str, response: requests.Response) -> bool:
        """After a 401: True when the refused token was a reused one and the auth now signs
        one per request, so the call is worth sending once more.

        Safe for a create too: a 401 says the JWT was refused before the call was executed
        (the platform's errors read "error verifying the jwt: ...", digest section 3; the
        emulator checks credentials before it touches the store)."""
        token = response.request.headers.get("auth") if response.request else None
        if not isinstance(self._auth, KoreJWTAuth) or not isinstance(token, str):
            return False
        if not self._auth.refused(token):
            return False
        self._event("retry", f"{label}: the API refused a reused token (401); signing a "
                             "token per request from now on")
        return True

    def _transport_error(self, label: str, exc: requests.RequestException,
                         resend: bool) -> ApiError:
        """Classify a failure with no HTTP answer: return a retryable error, or raise.

        Only a failure while connecting proves the request never left: a connect timeout,
        or urllib3's NewConnectionError (refused, unreachable, DNS) wrapped in requests'
        ConnectionError. Anything else (read timeout, connection reset or closed after the
        request was written) may have reached the server, so a create is then ambiguous.
        """
        if isinstance(exc, requests.exceptions.SSLError):
            raise ApiError(f"{label}: TLS verification failed (certificate not trusted?)")
        if _never_sent(exc):
            return ApiError(f"{label}: could not connect ({_describe(exc)})")
        if not resend:   # any failure after sending (a reset, a truncated answer) may have
            # committed: for a create that means "look it up before sending again"
            raise AmbiguousError(f"{label}: no response ({_describe(exc)}); the request "
                                 "may or may not have taken effect")
        if not isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            raise ApiError(f"{label}: request failed ({type(exc).__name__})")
        return ApiError(f"{label}: no response ({_describe(exc)})")

    def _backoff(self, error: ApiError, failures: int) -> int:
        """Sleep before the next attempt, or raise `error` when the retries are spent."""
        if failures >= self._max_retries:
            raise type(error)(f"{error}; gave up after {failures + 1} attempts",
                              status=error.status, api_message=error.api_message)
        delay = self._jitter() * min(self._cap, self._base * 2 ** failures)
        self._event("retry", f"{error}; retrying in {delay:.1f}s "
                             f"(retry {failures + 1} of {self._max_retries})")
        self._sleep(delay)
        return failures + 1

    def _wait_for_window(self, label: str, response: requests.Response, waits: int) -> int:
        """The request was refused, not committed: pause everyone, then send it again."""
        if waits >= MAX_RATE_LIMIT_WAITS:
            raise ApiError(f"{label}: still rate-limited after {waits} waits", status=429)
        seconds = retry_after(response) or RATE_LIMIT_PAUSE
        self._event("rate-limit", f"{label}: the API's rate limit was hit "
                                  f"({response.status_code}); waiting {seconds:.0f}s")
        self._limiter.penalise(seconds, f"the API's rate limit ({response.status_code})")
        return waits + 1


def _never_sent(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or not exc.args:
        return False
    reason = getattr(exc.args[0], "reason", exc.args[0])
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _describe(exc: requests.RequestException) -> str:
    """A short cause without the URL (requests' own messages repeat the full URL)."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.ReadTimeout):
        return "read timeout"
    if _never_sent(exc):
        return "connection refused or host unreachable"
    return "connection dropped"


def _new_session(base: str, connections: int) -> requests.Session:
    """A Session keeping up to `connections` connections alive to the API's one host."""
    session = requests.Session()
    # pool_maxsize is the connections kept per host (pool_connections only counts hosts).
    # pool_block: a worker beyond it waits for a free connection rather than opening and
    # dropping one per request (urllib3 would also print a warning for each).
    adapter = HTTPAdapter(pool_maxsize=connections, pool_block=True)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # No cookie is ever stored, so the shared jar is never written while others read it.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    # Loopback needs no proxy; environment proxies must not catch the emulator.
    session.trust_env = not is_loopback(urlsplit(base).hostname or "")
    return session
