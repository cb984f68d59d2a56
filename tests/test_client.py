"""KoreClient over a transport-level fake: client, auth and retry code run for real.

A few tests use real loopback sockets for the two connection failures that matter most:
a refused connection (never sent) and a connection closed after the request was read.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

import jwt
import pytest
import requests
import urllib3.exceptions
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from provisioner.remote.auth import KoreJWTAuth
from provisioner.remote.client import ApiTarget, KoreClient, check_host
from provisioner.errors import AmbiguousError, ApiError, AuthError, ConfigError
from provisioner.remote.ratelimit import RateLimiter

SECRET = "ZEBRA-secret-91c4-must-never-leak-abcdef"
TARGET = ApiTarget("https://kore.test", "st-123", "acc-9", "st-123")
CREATE = "https://kore.test/api/v2/public/st-123/campaign"
CAMPAIGN = "https://kore.test/campaign/api/v2/public/st-123/campaign"

Reply = tuple[int, Any] | tuple[int, Any, dict[str, str]] | Exception
Handler = Callable[[requests.PreparedRequest], Reply]


class FakeTransport(BaseAdapter):
    """Answers each request from a list of replies (the last one repeats), or a handler."""

    def __init__(self, replies: list[Reply] | Handler) -> None:
        super().__init__()
        self.replies = replies
        self.sent: list[requests.PreparedRequest] = []
        self.options: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Any = None) -> requests.Response:
        with self._lock:
            self.sent.append(request)
            self.options.append({"timeout": timeout, "verify": verify})
            if callable(self.replies):
                reply = self.replies(request)
            else:
                reply = self.replies[min(len(self.sent), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return make_response(request, *reply)

    def close(self) -> None:
        pass


def make_response(request: requests.PreparedRequest, status: int, body: Any,
                  headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.headers = CaseInsensitiveDict(headers or {})
    response.request, response.url, response.encoding = request, request.url, "utf-8"
    return response


def ok(data: Any, message: str = "ok") -> tuple[int, Any]:
    return 200, {"status": "success", "message": message, "data": data}


def refused() -> requests.ConnectionError:
    """What requests raises for a refused connection (urllib3 NewConnectionError inside)."""
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", reason))


def dropped() -> requests.ConnectionError:
    """What requests raises when the server closes the connection after the request."""
    return requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted."))


class Harness:
    """A client on the fake transport. With `ticking`, its clock is virtual time that only
    its sleeps move (`now`), so waits are exact and instant."""

    def __init__(self, replies: list[Reply] | Handler, *, per_minute: int = 0,
                 max_retries: int = 3, target: ApiTarget = TARGET, reuse: bool = True,
                 clock: Callable[[], float] | None = None, ticking: bool = False) -> None:
        self.transport = FakeTransport(replies)
        session = requests.Session()
        session.mount("https://", self.transport)
        session.mount("http://", self.transport)
        self.events: list[tuple[str, str]] = []
        self.slept: list[float] = []
        self.now = 0.0
        if ticking:
            clock = lambda: self.now   # noqa: E731
        self.limiter = RateLimiter(per_minute, clock=lambda: 0.0, sleep=self.slept.append)
        self.client = KoreClient(
            target, KoreJWTAuth("cs-app", SECRET, reuse=reuse), limiter=self.limiter,
            max_retries=max_retries, session=session, sleep=self._sleep,
            on_event=lambda kind, text: self.events.append((kind, text)), jitter=lambda: 1.0,
            **({"clock": clock} if clock else {}))

    def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def urls(self) -> list[str]:
        return [str(r.url).split("?")[0] for r in self.transport.sent]


# -- happy paths: paths, query, headers, body ---------------------------------------------

def test_create_sends_the_documented_request() -> None:
    h = Harness([ok({"_id": "cd-1", "name": "Spring"}, "Campaign Spring creation in progress")])
    assert h.client.create({"name": "Spring"}) == {"_id": "cd-1", "name": "Spring"}
    (request,) = h.transport.sent
    assert request.method == "POST"
    assert request.url == f"{CREATE}?accountId=acc-9&campaignType=sms"
    assert request.headers["iid"] == "st-123" and request.headers["accountId"] == "acc-9"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"name": "Spring"}
    options = h.transport.options[0]
    assert options["timeout"] == (5, 30)
    # verification on: True, or the CA bundle path requests takes from REQUESTS_CA_BUNDLE
    assert options["verify"] is True or os.path.isfile(options["verify"])


@pytest.mark.parametrize("reuse", [True, False])
def test_jwt_claims_one_reused_token_or_a_fresh_jti_per_request(reuse: bool) -> None:
    h = Harness([ok({"_id": "cd-1"})], reuse=reuse)
    for _ in range(3):
        h.client.get("cd-1")
    tokens = [r.headers["auth"] for r in h.transport.sent]
    claims = [jwt.decode(t, SECRET, algorithms=["HS256"]) for t in tokens]
    assert {c["appId"] for c in claims} == {"cs-app"}
    assert all(0 < c["exp"] - c["iat"] <= 3600 for c in claims)
    if reuse:
        assert len(set(tokens)) == 1 and "jti" not in claims[0]
    else:
        assert len({c["jti"] for c in claims}) == 3


def test_update_get_delete_paths() -> None:
    h = Harness([ok({"_id": "cd-7"})])
    h.client.update("cd-7", {"name": "x"})
    h.client.get("cd-7")
    h.client.delete("cd-7")
    got = [(r.method, r.url) for r in h.transport.sent]
    assert got == [
        ("PUT", f"{CAMPAIGN}/cd-7?accountId=acc-9&campaignType=sms"),
        ("GET", f"{CAMPAIGN}/cd-7?accountId=acc-9"),
        ("DELETE", f"{CAMPAIGN}/cd-7?accountId=acc-9&campaignType=sms"),
    ]


def test_campaign_id_cannot_escape_the_path() -> None:
    h = Harness([ok({"_id": "x"})])
    h.client.get("../../admin?x=1")
    assert h.transport.sent[0].path_url.startswith(
        "/campaign/api/v2/public/st-123/campaign/..%2F..%2Fadmin%3Fx%3D1?")


def test_get_returns_none_on_404() -> None:
    h = Harness([(404, {"errors": [{"msg": "Campaign not found", "code": 404}]})])
    assert h.client.get("cd-missing") is None


def test_list_follows_has_more() -> None:
    pages = [ok({"results": [{"id": f"cd-{n}"} for n in range(2)], "hasMore": True}),
             ok({"results": [{"id": "cd-2"}], "hasMore": False})]
    h = Harness(pages)
    assert [c["id"] for c in h.client.list_campaigns(page_size=2)] == ["cd-0", "cd-1", "cd-2"]
    bodies = [json.loads(r.body) for r in h.transport.sent]
    assert bodies == [{"type": "sms", "limit": 2, "skip": 0, "page": 1},
                      {"type": "sms", "limit": 2, "skip": 2, "page": 2}]
    assert h.urls() == [f"{CAMPAIGN}/getAllCampaignDetails"] * 2


# -- create is never resent blindly --------------------------------------------------------

@pytest.mark.parametrize("reply", [
    (500, {"errors": [{"msg": "Internal error", "code": 500}]}),
    (503, b"<html>bad gateway</html>"),
    requests.ReadTimeout("read timed out"),
    dropped(),
    (200, b"not json"),
    ok({"name": "no id"}),
], ids=["500", "503-html", "read-timeout", "dropped", "2xx-unreadable", "2xx-no-id"])
def test_create_outcome_unknown_is_ambiguous_and_sent_once(reply: Reply) -> None:
    h = Harness([reply, ok({"_id": "cd-2"})])
    with pytest.raises(AmbiguousError) as caught:
        h.client.create({"name": "Spring"})
    assert len(h.transport.sent) == 1
    assert str(caught.value).startswith("POST /api/v2/public/st-123/campaign")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("failure", [requests.ConnectTimeout("connect"), refused()],
                         ids=["connect-timeout", "refused"])
def test_create_retried_when_the_request_never_left(failure: Exception) -> None:
    h = Harness([failure, failure, ok({"_id": "cd-3"})])
    assert h.client.create({"name": "Spring"})["_id"] == "cd-3"
    assert len(h.transport.sent) == 3
    assert h.slept == [0.5, 1.0]  # full jitter at its maximum: base * 2**n
    assert [kind for kind, _ in h.events] == ["retry", "retry"]


def test_create_gives_up_on_refusal_as_a_plain_error() -> None:
    h = Harness([refused()], max_retries=2)
    with pytest.raises(ApiError) as caught:
        h.client.create({"name": "Spring"})
    assert not isinstance(caught.value, AmbiguousError)  # nothing ever reached the server
    assert "gave up after 3 attempts" in str(caught.value)
    assert len(h.transport.sent) == 3


@pytest.mark.parametrize("reply", [
    (429, {"errors": [{"msg": "Too many requests", "code": 429}]}),
    (400, {"message": "You've exceeded the per-minute rate limit. Please wait for sometime "
                      "before retrying."}),
    (200, {"status": "failure", "message": "Rate limit for this API has been reached. "
                                           "Please try again later"}),
], ids=["429", "documented-message", "community-message"])
def test_create_resent_after_a_rate_limit_refusal(reply: Reply) -> None:
    h = Harness([reply, ok({"_id": "cd-4"})], per_minute=60)
    assert h.client.create({"name": "Spring"})["_id"] == "cd-4"
    assert len(h.transport.sent) == 2
    assert h.slept == [pytest.approx(60.0)]  # paused one full window, no Retry-After
    assert h.events[0][0] == "rate-limit" and "waiting 60s" in h.events[0][1]


def test_retry_after_header_is_honoured() -> None:
    h = Harness([(429, {}, {"Retry-After": "7"}), ok({"_id": "cd-5"})], per_minute=60)
    h.client.create({"name": "Spring"})
    assert h.slept == [pytest.approx(7.0)]


def test_rate_limit_waits_are_bounded() -> None:
    h = Harness([(429, {})])
    with pytest.raises(ApiError, match="still rate-limited after 10 waits"):
        h.client.get("cd-1")
    assert len(h.transport.sent) == 11


def test_campaign_quoting_the_rate_limit_phrase_is_not_a_refusal() -> None:
    h = Harness([ok({"_id": "cd-1", "description": "exceeded the per-minute rate limit"})])
    assert h.client.get("cd-1")["_id"] == "cd-1"
    assert len(h.transport.sent) == 1


# -- idempotent calls are retried ----------------------------------------------------------

def test_get_retried_on_503_then_succeeds() -> None:
    h = Harness([(503, {"message": "unavailable"}), (503, {}), ok({"_id": "cd-1"})])
    assert h.client.get("cd-1") == {"_id": "cd-1"}
    assert len(h.transport.sent) == 3
    assert "503" in h.events[0][1] and "retrying" in h.events[0][1]


@pytest.mark.parametrize("method", ["get", "update", "delete", "list"])
def test_retry_bound_respected(method: str) -> None:
    h = Harness([dropped()], max_retries=4)
    call = {"get": lambda: h.client.get("cd-1"),
            "update": lambda: h.client.update("cd-1", {}),
            "delete": lambda: h.client.delete("cd-1"),
            "list": lambda: h.client.list_campaigns()}[method]
    with pytest.raises(ApiError, match="gave up after 5 attempts") as caught:
        call()
    assert not isinstance(caught.value, AmbiguousError)
    assert len(h.transport.sent) == 5
    assert h.slept == [0.5, 1.0, 2.0, 4.0]


def test_backoff_is_capped_and_jittered() -> None:
    h = Harness([(500, {})], max_retries=8)
    h.client._cap, h.client._jitter = 3.0, lambda: 0.5
    with pytest.raises(ApiError):
        h.client.get("cd-1")
    assert h.slept == [0.25, 0.5, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5]


# -- final errors --------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"errors": [{"msg": "Validation errors/ Invalid arguments", "code": 412}]},
     "Validation errors/ Invalid arguments"),
    ({"status": "failure", "message": "name is too long"}, "name is too long"),
])
def test_other_4xx_is_final_with_the_api_message(body: dict, message: str) -> None:
    h = Harness([(412, body)])
    with pytest.raises(ApiError) as caught:
        h.client.update("cd-1", {"name": "x"})
    assert str(caught.value) == (
        f"PUT /campaign/api/v2/public/st-123/campaign/cd-1: 412 {message}")
    assert caught.value.status == 412 and caught.value.api_message == message
    assert len(h.transport.sent) == 1


@pytest.mark.parametrize("status, reuse, sent", [
    (401, False, 1),   # a per-request token refused: nothing to gain by resending
    (401, True, 2),    # a reused token refused: one resend with a token of its own, no loop
    (403, True, 1),    # forbidden is not about the token's reuse
])
def test_refused_credentials_raise_auth_error(status: int, reuse: bool, sent: int) -> None:
    h = Harness([(status, {"errors": [{"msg": "Invalid JWT token", "code": 4002}]})],
                reuse=reuse)
    with pytest.raises(AuthError) as caught:
        h.client.list_campaigns()
    assert f"the API refused the credentials ({status}): Invalid JWT token" in str(caught.value)
    assert len(h.transport.sent) == sent


def test_401_to_a_reused_token_resends_a_create_once_with_its_own_jti() -> None:
    """Safe for a create: a 401 means the JWT was refused before anything ran. The resend
    takes its own slot from the budget."""
    h = Harness([(401, {"errors": [{"msg": "Invalid JWT token", "code": 4002}]}),
                 ok({"_id": "cd-9"})], per_minute=60)
    assert h.client.create({"name": "Spring"})["_id"] == "cd-9"
    first, second = (jwt.decode(r.headers["auth"], SECRET, algorithms=["HS256"])
                     for r in h.transport.sent)
    assert "jti" not in first and "jti" in second
    assert h.slept == [pytest.approx(60 / 60 * 1.02)]   # paced like any request
    assert [kind for kind, _ in h.events] == ["retry"]
    assert "reused token (401)" in h.events[0][1]
    h.client.get("cd-9")   # per-request from now on
    assert "jti" in jwt.decode(h.transport.sent[-1].headers["auth"], SECRET,
                               algorithms=["HS256"])


def test_success_status_other_than_success_is_an_error() -> None:
    h = Harness([(200, {"status": "error", "message": "no such stream"})])
    with pytest.raises(ApiError, match="status 'error': no such stream"):
        h.client.delete("cd-1")


def test_redirects_are_not_followed() -> None:
    h = Harness([(302, b"", {"Location": "https://elsewhere.test/"})])
    with pytest.raises(ApiError, match="302"):
        h.client.get("cd-1")
    assert len(h.transport.sent) == 1


def test_secret_and_token_never_leak() -> None:
    def echo_token(request: requests.PreparedRequest) -> Reply:
        return 400, {"message": f"bad token {request.headers['auth']}"}

    h = Harness(echo_token)
    with pytest.raises(ApiError) as caught:
        h.client.create({"name": "x"})
    token = h.transport.sent[0].headers["auth"]
    texts = [str(caught.value), repr(caught.value), caught.value.api_message,
             repr(h.client), repr(h.limiter), repr(h.client._auth)]
    for reply in [(401, {}), (500, {}), dropped(), refused()]:
        other = Harness([reply], max_retries=1)
        with pytest.raises(ApiError) as failure:
            other.client.create({"name": "x"})
        texts += [str(failure.value), repr(failure.value)] + [t for _, t in other.events]
    assert "bad token <token>" in texts[0]
    assert all(SECRET not in t and token not in t for t in texts)


# -- connections and latency ---------------------------------------------------------------

@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_connections_must_be_a_positive_whole_number(bad: Any) -> None:
    with pytest.raises(ConfigError, match="connections"):
        KoreClient(TARGET, KoreJWTAuth("c", SECRET), limiter=RateLimiter(0), connections=bad)


def test_latency_is_the_median_of_recent_answers() -> None:
    ticks = iter([0.0, 0.2, 1.0, 1.1, 2.0])   # two answers: 0.2 s and 0.1 s
    h = Harness([ok({"_id": "cd-1"}), ok({"_id": "cd-1"}), dropped()],
                clock=lambda: next(ticks), max_retries=0)
    assert h.client.latency() is None
    h.client.get("cd-1")
    h.client.get("cd-1")
    with pytest.raises(ApiError):
        h.client.get("cd-1")   # no answer, no sample
    assert h.client.latency() == pytest.approx(0.15)


# -- hosts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1/",
                                 "http://[::1]:9000", "http://127.8.9.10",
                                 "https://platform.kore.ai"])
def test_check_host_accepts(url: str) -> None:
    assert check_host(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://platform.kore.ai", "http://10.0.0.1",
                                 "ftp://127.0.0.1", "platform.kore.ai",
                                 "https://user:pw@kore.test", "https://kore.test/?k=v",
                                 "http://localhost.evil.test", "https://kore.test#",
                                 "https://kore.test?", "https://kore.test/a b",
                                 "https://kore.test\\@evil.test", "https://kore.test/\x1b"])
def test_check_host_refuses(url: str) -> None:
    with pytest.raises(ConfigError):
        check_host(url)


@pytest.mark.parametrize("prefix", ["@evil.test/x", ".evil.test/x", ":81/x", "?host=x", "#x"])
def test_a_request_never_leaves_the_configured_host(prefix: str) -> None:
    """Defence in depth behind config's path check: whatever a prefix holds, the URL the
    client sends to keeps the configured host, and nothing is sent otherwise."""
    target = ApiTarget("https://kore.test", "st-123", "acc-9", "st-123", prefix=prefix)
    h = Harness([ok({"_id": "cd-1"})], target=target)
    with pytest.raises(ConfigError, match="outside https://kore.test"):
        h.client.get("cd-1")
    assert h.transport.sent == []


def test_client_refuses_plain_http_target() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        KoreClient(ApiTarget("http://kore.test", "st", "a", "st"), KoreJWTAuth("c", SECRET),
                   limiter=RateLimiter(0))


# -- real loopback sockets -----------------------------------------------------------------

def loopback_client(port: int) -> KoreClient:
    target = ApiTarget(f"http://127.0.0.1:{port}", "st-1", "acc", "st-1")
    return KoreClient(target, KoreJWTAuth("c", SECRET), limiter=RateLimiter(0),
                      max_retries=1, sleep=lambda s: None, timeout=(2, 5))


def test_real_refused_connection_is_retried_for_create() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    with pytest.raises(ApiError, match="could not connect") as caught:
        loopback_client(port).create({"name": "x"})
    assert not isinstance(caught.value, AmbiguousError)


def test_real_connection_closed_after_request_is_ambiguous() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    received: list[bytes] = []

    def read_then_hang_up() -> None:
        conn, _ = server.accept()
        received.append(conn.recv(65536))
        conn.close()

    thread = threading.Thread(target=read_then_hang_up)
    thread.start()
    try:
        with pytest.raises(AmbiguousError, match="connection dropped"):
            loopback_client(server.getsockname()[1]).create({"name": "x"})
    finally:
        thread.join(5)
        server.close()
    assert received and received[0].startswith(b"POST /api/v2/public/st-1/campaign?")


def test_create_answer_cut_off_mid_body_is_ambiguous_not_a_plain_failure() -> None:
    """A truncated answer (requests' ChunkedEncodingError) comes after sending: the create
    may have committed, so apply must look it up, not forget its intent."""
    import requests as _requests

    from provisioner.errors import AmbiguousError

    h = Harness([_requests.exceptions.ChunkedEncodingError("connection broken mid-body")])
    with pytest.raises(AmbiguousError, match="may or may not"):
        h.client.create({"name": "X"})
    assert len(h.transport.sent) == 1


# -- contact lists (issue 16) --------------------------------------------------------------

LISTS = f"{CAMPAIGN}/contactList"


def test_contact_list_calls_send_the_documented_requests() -> None:
    h = Harness([ok({"_id": "cl-1", "name": "VIPs"})])
    h.client.create_list({"name": "VIPs", "description": "", "allowDuplicates": False})
    h.client.update_list("cl-1", {"name": "VIP", "description": "d", "allowDuplicates": True})
    h.client.get_list("cl-1")
    h.client.delete_list("cl-1")
    got = [(r.method, r.url, json.loads(r.body) if r.body else None) for r in h.transport.sent]
    assert got == [
        ("POST", f"{LISTS}/createContactList?accountId=acc-9",
         {"name": "VIPs", "description": "", "allowDuplicates": False, "source": "passiveApi"}),
        ("PUT", f"{LISTS}/cl-1?accountId=acc-9", {"name": "VIP", "description": "d"}),
        ("GET", f"{LISTS}/cl-1?accountId=acc-9", None),
        ("DELETE", f"{LISTS}/cl-1?accountId=acc-9", None),
    ]


def test_get_list_is_none_on_404_and_an_id_cannot_escape_the_path() -> None:
    h = Harness([(404, {"errors": [{"msg": "Contact list not found", "code": 404}]})])
    assert h.client.get_list("../x?y=1") is None
    assert h.transport.sent[0].path_url.startswith(
        "/campaign/api/v2/public/st-123/campaign/contactList/..%2Fx%3Fy%3D1?")


def test_deleting_a_list_in_use_is_an_api_error_with_its_message() -> None:
    message = "Contact list VIPs is in use by campaign(s): Spring, Winter"
    h = Harness([(400, {"errors": [{"msg": message, "code": 400}]})])
    with pytest.raises(ApiError) as caught:
        h.client.delete_list("cl-1")
    assert not isinstance(caught.value, AmbiguousError)
    assert caught.value.status == 400 and caught.value.api_message == message
    assert message in str(caught.value) and len(h.transport.sent) == 1


@pytest.mark.parametrize("reply", [
    (500, {"errors": [{"msg": "Internal error", "code": 500}]}),
    requests.ReadTimeout("read timed out"),
    dropped(),
    (200, b"not json"),
    ok({"name": "no id"}),
    ok(None),
], ids=["500", "read-timeout", "dropped", "2xx-unreadable", "2xx-no-id", "2xx-no-data"])
def test_create_list_outcome_unknown_is_ambiguous_and_sent_once(reply: Reply) -> None:
    h = Harness([reply, ok({"_id": "cl-2"})])
    with pytest.raises(AmbiguousError) as caught:
        h.client.create_list({"name": "VIPs", "description": ""})
    assert len(h.transport.sent) == 1
    assert str(caught.value).startswith(
        "POST /campaign/api/v2/public/st-123/campaign/contactList/createContactList")


@pytest.mark.parametrize("call", ["get", "update", "delete", "list"])
def test_list_reads_and_idempotent_writes_are_retried(call: str) -> None:
    h = Harness([(503, {}), dropped(), ok({"_id": "cl-1", "contactListId": "cl-1"})
                 if call != "list" else ok([{"_id": "cl-1", "name": "VIPs"}])])
    result = {"get": lambda: h.client.get_list("cl-1"),
              "update": lambda: h.client.update_list("cl-1", {"name": "VIPs"}),
              "delete": lambda: h.client.delete_list("cl-1"),
              "list": lambda: h.client.list_contact_lists()}[call]()
    assert result and len(h.transport.sent) == 3 and h.slept == [0.5, 1.0]


def item(n: int) -> dict[str, Any]:
    return {"_id": f"cl-{n}", "name": f"List {n}", "status": "Ready"}


@pytest.mark.parametrize("data", [
    [item(0), item(1)],
    {"results": [item(0), item(1)], "hasMore": False, "totalResults": 2},
], ids=["data-list", "data-results"])
def test_list_contact_lists_reads_either_shape_in_one_documented_get(data: Any) -> None:
    h = Harness([ok(data)])
    assert h.client.list_contact_lists() == [item(0), item(1)]
    (request,) = h.transport.sent
    assert (request.method, request.url, request.body) == (
        "GET", f"{LISTS}/getAllListDetails?accountId=acc-9&type=call", None)


def test_list_contact_lists_follows_has_more_with_paging_in_the_query() -> None:
    h = Harness([ok({"results": [item(0), item(1)], "hasMore": True}),
                 ok({"results": [item(2)], "hasMore": False})])
    assert [i["_id"] for i in h.client.list_contact_lists(page_size=2)] == [
        "cl-0", "cl-1", "cl-2"]
    assert [r.url for r in h.transport.sent] == [
        f"{LISTS}/getAllListDetails?accountId=acc-9&type=call",
        f"{LISTS}/getAllListDetails?accountId=acc-9&type=call&skip=2&limit=2&page=2"]


def test_list_contact_lists_stops_when_paging_is_ignored() -> None:
    """A server that says hasMore but answers every list each time: the second page brings
    nothing new, so the listing ends there, each list once."""
    h = Harness([ok({"results": [item(0), item(1)], "hasMore": True})])
    assert [i["_id"] for i in h.client.list_contact_lists()] == ["cl-0", "cl-1"]
    assert len(h.transport.sent) == 2


@pytest.mark.parametrize("data", [None, {"results": None}, [None], [{"name": "no id"}],
                                  {"results": [{"_id": 7, "name": "x"}]}])
def test_list_contact_lists_refuses_what_is_not_a_list_of_lists(data: Any) -> None:
    h = Harness([ok(data)])
    with pytest.raises(ApiError) as caught:
        h.client.list_contact_lists()
    assert not isinstance(caught.value, AmbiguousError)


# -- voice campaigns (issue 16) ------------------------------------------------------------

def test_voice_create_takes_its_own_page_path_and_answers_id() -> None:
    h = Harness([ok({"id": "cd-v1", "status": "Preparing"},
                    "Campaign V creation in progress")])
    data = h.client.create({"name": "V", "campaignType": "voice"})
    assert data == {"id": "cd-v1", "status": "Preparing"}
    assert h.transport.sent[0].url == f"{CAMPAIGN}?accountId=acc-9&campaignType=voice"


@pytest.mark.parametrize("voice_update_type, sent_type", [("voice", "voice"), ("sms", "sms")])
def test_campaign_type_picks_the_update_and_delete_query(voice_update_type: str,
                                                         sent_type: str) -> None:
    target = ApiTarget("https://kore.test", "st-123", "acc-9", "st-123",
                       voice_update_type=voice_update_type)
    h = Harness([ok({"_id": "cd-7"})], target=target)
    h.client.update("cd-7", {"name": "V", "campaignType": "voice"})
    h.client.update("cd-8", {"name": "S", "campaignType": "sms"})
    h.client.update("cd-9", {"name": "S"})
    h.client.delete("cd-7", "voice")
    h.client.delete("cd-8")
    assert [(r.method, r.url) for r in h.transport.sent] == [
        ("PUT", f"{CAMPAIGN}/cd-7?accountId=acc-9&campaignType={sent_type}"),
        ("PUT", f"{CAMPAIGN}/cd-8?accountId=acc-9&campaignType=sms"),
        ("PUT", f"{CAMPAIGN}/cd-9?accountId=acc-9&campaignType=sms"),
        ("DELETE", f"{CAMPAIGN}/cd-7?accountId=acc-9&campaignType=voice"),
        ("DELETE", f"{CAMPAIGN}/cd-8?accountId=acc-9&campaignType=sms"),
    ]


@pytest.mark.parametrize("call", ["create", "update", "delete"])
def test_an_unknown_campaign_type_sends_nothing(call: str) -> None:
    h = Harness([ok({"_id": "cd-1"})])
    with pytest.raises(ApiError, match="campaignType must be 'sms' or 'voice', not 'whatsapp'"):
        {"create": lambda: h.client.create({"campaignType": "whatsapp"}),
         "update": lambda: h.client.update("cd-1", {"campaignType": "whatsapp"}),
         "delete": lambda: h.client.delete("cd-1", "whatsapp")}[call]()
    assert h.transport.sent == []


def test_list_all_campaigns_lists_sms_then_voice() -> None:
    def by_type(request: requests.PreparedRequest) -> Reply:
        kind = json.loads(request.body)["type"]
        key = "id" if kind == "sms" else "_id"
        return ok({"results": [{key: f"cd-{kind}", "name": kind}], "hasMore": False})

    h = Harness(by_type)
    assert [c["name"] for c in h.client.list_all_campaigns()] == ["sms", "voice"]
    assert [json.loads(r.body)["type"] for r in h.transport.sent] == ["sms", "voice"]


def test_wait_ready_polls_until_the_campaign_leaves_preparing() -> None:
    h = Harness([ok({"_id": "cd-v", "status": "Preparing"}), (404, {}),
                 ok({"_id": "cd-v", "status": "Preparing"}),
                 ok({"_id": "cd-v", "status": "Ready"})], ticking=True)
    assert h.client.wait_ready("cd-v", poll=0.5)["status"] == "Ready"
    assert [r.method for r in h.transport.sent] == ["GET"] * 4
    assert h.slept == [0.5, 0.5, 0.5]
    assert h.events == [("wait", "campaign cd-v is preparing; waiting up to 60s for it")]


def test_wait_ready_is_bounded_and_returns_the_last_answer() -> None:
    h = Harness([ok({"_id": "cd-v", "status": "Preparing"})], ticking=True)
    events: list[tuple[str, str]] = []
    data = h.client.wait_ready("cd-v", timeout=2.5, on_event=lambda *e: events.append(e))
    assert data["status"] == "Preparing"   # the caller decides
    assert h.now == 2.5 and h.slept == [1.0, 1.0, 0.5] and len(h.transport.sent) == 4
    assert len(events) == 1 and h.events == []


def test_wait_ready_default_bound_is_the_target_setting() -> None:
    target = ApiTarget("https://kore.test", "st-123", "acc-9", "st-123", ready_timeout=3)
    h = Harness([(404, {"errors": [{"msg": "not found", "code": 404}]})], target=target,
                ticking=True)
    with pytest.raises(ApiError, match="campaign cd-v not found after waiting 3s"):
        h.client.wait_ready("cd-v")
    assert h.now == 3 and len(h.transport.sent) == 4


# -- run state (issue 17) ------------------------------------------------------------------

VOICE_TRIGGER = "https://kore.test/api/v2/public/st-123/campaign/trigger"
STARTED = (200, {"status": "Active", "message": "Campaign Started",
                 "updatedAt": "2026-01-01T00:00:00Z"})
STOPPED = (200, {"status": "Stopped", "message": "Campaign Stopped",
                 "updatedAt": "2026-01-01T00:00:00Z", "campaignExecutionType": "NORMAL"})


def test_start_and_stop_take_each_pages_path() -> None:
    h = Harness([STARTED, STOPPED, STARTED, STOPPED])
    assert h.client.start("cd-7")["status"] == "Active"
    assert h.client.stop("cd-7", "sms")["campaignExecutionType"] == "NORMAL"
    h.client.start("cd-v", "voice")
    h.client.stop("cd-v", "voice")
    assert [(r.method, r.url, r.body) for r in h.transport.sent] == [
        ("POST", f"{CAMPAIGN}/cd-7?accountId=acc-9&campaignType=sms&trigger=play", b"{}"),
        ("POST", f"{CAMPAIGN}//trigger/cd-7?accountId=acc-9&campaignType=sms&trigger=stop",
         b"{}"),
        ("POST", f"{VOICE_TRIGGER}/cd-v?accountId=acc-9&campaignType=voice&trigger=play",
         b"{}"),
        ("POST", f"{VOICE_TRIGGER}/cd-v?accountId=acc-9&campaignType=voice&trigger=stop",
         b"{}"),
    ]


def test_voice_triggers_follow_the_create_prefix_setting() -> None:
    target = ApiTarget("https://kore.test", "st-123", "acc-9", "st-123",
                       create_prefix="/gw/v2/public")
    h = Harness([STARTED], target=target)
    h.client.start("cd-v", "voice")
    assert h.urls() == ["https://kore.test/gw/v2/public/st-123/campaign/trigger/cd-v"]


@pytest.mark.parametrize("call, reply", [
    ("start", STOPPED), ("stop", STARTED), ("start", (200, {"status": "Completed"})),
    ("start", (200, {"status": "failure", "message": "Campaign is Active"})),
])
def test_a_trigger_answering_another_state_is_an_error(call: str, reply: Reply) -> None:
    h = Harness([reply])
    with pytest.raises(ApiError, match="status") as caught:
        getattr(h.client, call)("cd-7")
    assert not isinstance(caught.value, AmbiguousError)


def test_a_refused_trigger_carries_the_api_message() -> None:
    h = Harness([(400, {"errors": [{"msg": "Campaign is already Active", "code": 400}]})])
    with pytest.raises(ApiError) as caught:
        h.client.start("cd-7", "voice")
    assert caught.value.status == 400 and caught.value.api_message == "Campaign is already Active"
    assert not isinstance(caught.value, AmbiguousError)


@pytest.mark.parametrize("call", ["start", "stop", "enable", "disable"])
@pytest.mark.parametrize("reply", [
    (500, {"errors": [{"msg": "Internal error", "code": 500}]}),
    requests.ReadTimeout("read timed out"),
    dropped(),
    (200, b"not json"),
], ids=["500", "read-timeout", "dropped", "2xx-unreadable"])
def test_run_state_writes_are_never_resent_once_they_may_have_arrived(call: str,
                                                                      reply: Reply) -> None:
    h = Harness([reply, STARTED])
    with pytest.raises(AmbiguousError, match="may or may not"):
        {"start": lambda: h.client.start("cd-7"),
         "stop": lambda: h.client.stop("cd-7", "voice"),
         "enable": lambda: h.client.enable_schedule("Spring", {}),
         "disable": lambda: h.client.disable_schedule("Spring")}[call]()
    assert len(h.transport.sent) == 1


def test_a_trigger_that_never_left_is_sent_again() -> None:
    h = Harness([refused(), STARTED])
    assert h.client.start("cd-7")["status"] == "Active"
    assert len(h.transport.sent) == 2


@pytest.mark.parametrize("call", ["start", "stop"])
def test_an_unknown_type_triggers_nothing(call: str) -> None:
    h = Harness([STARTED])
    with pytest.raises(ApiError, match="campaignType must be 'sms' or 'voice'"):
        getattr(h.client, call)("cd-7", "Voice")
    assert h.transport.sent == []


def test_status_reads_the_status_view_and_is_retried() -> None:
    h = Harness([(503, {}), ok({"id": "cd-7", "status": "Active", "name": "Spring"})])
    assert h.client.status("cd-7") == "Active"
    assert [(r.method, r.url, r.body) for r in h.transport.sent] == [
        ("POST", f"{CAMPAIGN}/cd-7/status?accountId=acc-9&view=status", b"{}")] * 2


@pytest.mark.parametrize("reply, expected", [
    ((404, {"errors": [{"msg": "Campaign not found", "code": 404}]}), None),
    (ok({"id": "cd-7", "status": "Stopped"}), "Stopped"),
])
def test_status_of_a_missing_campaign_is_none(reply: Reply, expected: str | None) -> None:
    assert Harness([reply]).client.status("cd-7") == expected


@pytest.mark.parametrize("data", [None, [], {"id": "cd-7"}, {"status": ""}, {"status": 3}])
def test_status_without_a_status_is_an_error(data: Any) -> None:
    with pytest.raises(ApiError) as caught:
        Harness([ok(data)]).client.status("cd-7")
    assert not isinstance(caught.value, AmbiguousError)


def test_schedule_finds_the_campaign_by_name_in_the_query() -> None:
    schedule = {"startDateTime": "2026-01-27 18:29:00", "endDateTime": "2026-02-27 18:29:00",
                "recurrenceObject": {"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 1}}}
    h = Harness([(200, {"status": "success", "message": "Campaign Spring & Co/1 scheduled "
                                                       "successfully", "id": "cd-7"})])
    assert h.client.enable_schedule("Spring & Co/1", schedule)["id"] == "cd-7"
    h.client.disable_schedule("Spring & Co/1")
    sent = [(r.method, r.url, json.loads(r.body)) for r in h.transport.sent]
    query = "accountId=acc-9&enableSchedule={}&campaignName=Spring+%26+Co%2F1"
    assert sent == [("POST", f"{CAMPAIGN}/schedule?{query.format('true')}", schedule),
                    ("POST", f"{CAMPAIGN}/schedule?{query.format('false')}", {})]


def test_a_refused_schedule_is_an_api_error_with_its_message() -> None:
    h = Harness([(400, {"errors": [{"msg": "endDateTime must be after now", "code": 400}]})])
    with pytest.raises(ApiError, match="400 endDateTime must be after now") as caught:
        h.client.enable_schedule("Spring", {})
    assert not isinstance(caught.value, AmbiguousError)
