"""KoreJWTAuth: claims, per-request jti, header, and the secret staying private."""

from __future__ import annotations

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


def test_token_claims_and_header() -> None:
    auth = KoreJWTAuth("cs-client-1", SECRET, clock=lambda: 1_700_000_000.0)
    request = signed_request(auth)
    token = request.headers["auth"]
    assert "Authorization" not in request.headers
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = decode(token)
    assert claims["appId"] == "cs-client-1"
    assert claims["sub"] == "provisioner"
    assert claims["iat"] == 1_700_000_000
    assert claims["exp"] == 1_700_000_000 + 300
    assert len(claims["jti"]) == 32 and int(claims["jti"], 16) >= 0


def test_signature_needs_the_secret() -> None:
    token = signed_request(KoreJWTAuth("cid", SECRET)).headers["auth"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-enough-length!!", algorithms=["HS256"])


def test_each_request_gets_a_fresh_jti() -> None:
    auth = KoreJWTAuth("cid", SECRET)
    jtis = {decode(signed_request(auth).headers["auth"])["jti"] for _ in range(20)}
    assert len(jtis) == 20


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
