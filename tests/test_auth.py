"""KoreJWTAuth: claims, one reused token or one per request, the switch after a 401,
the header, and the secret staying private."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests

from provisioner.remote.auth import KoreJWTAuth
from provisioner.errors import AuthError

SECRET = "s3cr3t-QUOKKA-7f1e-do-not-leak-0123456789"


def signed_request(auth: KoreJWTAuth) -> requests.PreparedRequest:
    return requests.Request("GET", "https://tenant.example/x", auth=auth).prepare()


def decode(token: str) -> dict:
    return jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingAuth(KoreJWTAuth):
    """Counts signatures, to see how often a token is really made."""

    signed = 0

    def _sign(self, now: float, *, jti: bool) -> str:
        self.signed += 1
        return super()._sign(now, jti=jti)


@pytest.mark.parametrize("reuse", [True, False])
def test_token_claims_and_header(reuse: bool) -> None:
    auth = KoreJWTAuth("cs-client-1", SECRET, clock=Clock(), reuse=reuse)
    request = signed_request(auth)
    token = request.headers["auth"]
    assert "Authorization" not in request.headers
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = decode(token)
    assert claims["appId"] == "cs-client-1"
    assert claims["sub"] == "provisioner"
    assert claims["iat"] == 1_700_000_000
    assert claims["exp"] == 1_700_000_000 + 300
    if reuse:   # a reused token carries no jti: a reused jti is a replay (digest section 2)
        assert "jti" not in claims
    else:
        assert len(claims["jti"]) == 32 and int(claims["jti"], 16) >= 0


def test_signature_needs_the_secret() -> None:
    token = signed_request(KoreJWTAuth("cid", SECRET)).headers["auth"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-enough-length!!", algorithms=["HS256"])


def test_per_request_mode_gives_each_request_a_fresh_jti() -> None:
    auth = KoreJWTAuth("cid", SECRET, reuse=False)
    jtis = {decode(signed_request(auth).headers["auth"])["jti"] for _ in range(20)}
    assert len(jtis) == 20


def test_reused_token_lasts_until_the_margin_before_exp() -> None:
    clock = Clock(1000.0)
    auth = CountingAuth("cid", SECRET, ttl=300, refresh_margin=60, clock=clock)
    first = auth.token()
    clock.now = 1000.0 + 239.9
    assert auth.token() == first and auth.signed == 1
    clock.now = 1000.0 + 240   # 60 s before exp: re-signed
    second = auth.token()
    assert second != first and auth.signed == 2
    assert decode(second)["exp"] - clock.now == 300   # a full lifetime again
    assert auth.token() == second and auth.signed == 2


def test_a_clock_that_goes_back_re_signs() -> None:
    clock = Clock(5000.0)
    auth = CountingAuth("cid", SECRET, clock=clock)
    auth.token()
    clock.now = 4000.0   # before the token's iat: the server would call it not yet valid
    assert decode(auth.token())["iat"] == 4000 and auth.signed == 2


def test_worker_threads_share_one_token_and_re_sign_it_once() -> None:
    clock = Clock(1000.0)
    auth = CountingAuth("cid", SECRET, clock=clock)
    gate = threading.Barrier(8)

    def many(_: int) -> set[str]:
        gate.wait()
        return {auth.token() for _ in range(200)}

    with ThreadPoolExecutor(8) as pool:
        tokens = set().union(*pool.map(many, range(8)))
    assert len(tokens) == 1 and auth.signed == 1
    clock.now += 300   # stale for every thread at once
    with ThreadPoolExecutor(8) as pool:
        renewed = set().union(*pool.map(many, range(8)))
    assert len(renewed) == 1 and renewed != tokens and auth.signed == 2


def test_refused_reused_token_switches_to_per_request_tokens() -> None:
    auth = KoreJWTAuth("cid", SECRET)
    reused = auth.token()
    assert auth.refused(reused) is True
    assert auth.reuse is False and "jti=per-request" in repr(auth)
    fresh = auth.token()
    assert "jti" in decode(fresh) and auth.token() != fresh
    assert auth.refused(reused) is True   # a worker that sent the old token also resends
    assert auth.refused(fresh) is False   # a per-request token refused: credentials are bad
    assert auth.refused("not a jwt") is False


def test_refresh_margin_must_leave_the_token_a_lifetime() -> None:
    for margin in (300, 301, -1, float("nan")):
        with pytest.raises(AuthError, match="refresh margin"):
            KoreJWTAuth("cid", SECRET, ttl=300, refresh_margin=margin)
    KoreJWTAuth("cid", SECRET, ttl=300, refresh_margin=300, reuse=False)   # unused then


def test_exp_within_one_hour_and_ttl_bounds() -> None:
    auth = KoreJWTAuth("cid", SECRET, ttl=3600, clock=lambda: 1000.0)
    claims = decode(auth.token())
    assert claims["exp"] - claims["iat"] == 3600
    for bad in (0, 3601):
        with pytest.raises(AuthError):
            KoreJWTAuth("cid", SECRET, ttl=bad)


def test_missing_credentials_refused_without_echoing_them() -> None:
    with pytest.raises(AuthError) as caught:
        KoreJWTAuth("", SECRET)
    assert SECRET not in str(caught.value)
    with pytest.raises(AuthError):
        KoreJWTAuth("cid", "")


def test_secret_never_in_repr_or_str() -> None:
    auth = KoreJWTAuth("cid", SECRET)
    for text in (repr(auth), str(auth), f"{auth}", repr(vars(auth).get("client_secret"))):
        assert SECRET not in text
    assert "cid" in repr(auth)
