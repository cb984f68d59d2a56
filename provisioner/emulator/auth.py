"""Credential checks of every documented call: the JWT in the `auth` header, the `iid` and
`accountId` headers, the `accountId` query parameter and the streamId in the path.

Rules (koreai-campaign-apis.md section 2; sdk-security page quoted in section 3):
- HS256 only, signed with the client secret; `alg: none` and every other algorithm refused;
- the claim is spelled exactly `appId` and equals the client id;
- `exp`, when present, must be in the future and at most one hour after `iat` (or now);
- a `jti`, when present, may be used once: reuse is "possibly a replay";
- with `require_jti` (the JWT app's "Enforce JTI" option, section 2) a token without a `jti`
  is an invalid JWT. Off by default: the documented payload has no `jti`.
The token is sent bare in `auth` (no `Bearer ` prefix): anything else is an invalid JWT.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Mapping
from typing import Any

import jwt

from provisioner.remote.auth import quiet_short_key_warning
from provisioner.emulator.reply import Reject, invalid_credentials, invalid_jwt

quiet_short_key_warning()  # the tenant's secret may be short; say nothing per request

MAX_LIFETIME = 3600
REPLAY = "error verifying the jwt: possibly a replay"
TOO_LONG = 'error verifying the jwt: if "jti" claim "exp" must be <= 1 hour(s)'


class Verifier:
    """Checks one request's credentials against the emulator's configured identity."""

    def __init__(self, *, stream_id: str, account_id: str, client_id: str,
                 client_secret: str, require_jti: bool = False) -> None:
        self.stream_id = stream_id
        self.account_id = account_id
        self.client_id = client_id
        self.require_jti = self._initial_require_jti = require_jti
        self._secret = client_secret
        self._seen_jti: set[str] = set()
        self._expiries: list[tuple[float, str]] = []   # heap of (exp, jti) in _seen_jti
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the secret, even in a debugger or traceback
        return f"Verifier(stream_id={self.stream_id!r}, client_id={self.client_id!r})"

    def check(self, headers: Mapping[str, str], path_stream_id: str,
              query: Mapping[str, list[str]], *, account_query_required: bool = True) -> None:
        """Raise `Reject` (401, or 412 for a missing query parameter) unless credentials hold."""
        self.check_token(headers.get("auth"))
        if headers.get("iid") != self.stream_id or path_stream_id != self.stream_id:
            raise invalid_credentials()
        if headers.get("accountId") != self.account_id:
            raise invalid_credentials()
        values = query.get("accountId")
        if values is None:
            if account_query_required:
                raise Reject(412, "accountId query parameter is required")
            return
        if values != [self.account_id]:
            raise invalid_credentials()

    def check_token(self, token: str | None) -> dict[str, Any]:
        """The verified claims of `token`; raises `Reject` (401) when it does not hold."""
        if not token:
            raise invalid_jwt()
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"],
                                options={"require": ["appId"], "verify_aud": False})
        except jwt.PyJWTError:
            raise invalid_jwt() from None
        if claims.get("appId") != self.client_id:
            raise invalid_jwt()
        self._check_lifetime(claims)
        self._check_replay(claims)
        return claims

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        if "exp" not in claims:
            return
        start = claims.get("iat", time.time())
        if not isinstance(start, int | float) or claims["exp"] - start > MAX_LIFETIME:
            raise Reject(401, TOO_LONG)

    def _check_replay(self, claims: dict[str, Any]) -> None:
        jti = claims.get("jti")
        if jti is None:
            if self.require_jti:
                raise invalid_jwt()
            return
        with self._lock:
            self._forget_expired(time.time())
            if str(jti) in self._seen_jti:
                raise Reject(401, REPLAY)
            self._seen_jti.add(str(jti))
            heapq.heappush(self._expiries, (float(claims.get("exp", float("inf"))), str(jti)))

    def _forget_expired(self, now: float) -> None:
        """Drop tokens that expired (they can no longer be replayed anyway), oldest first:
        a heap, so a request costs the same however many tokens are remembered."""
        while self._expiries and self._expiries[0][0] <= now:
            self._seen_jti.discard(heapq.heappop(self._expiries)[1])

    def reset(self) -> None:
        with self._lock:
            self._seen_jti.clear()
            self._expiries.clear()
            self.require_jti = self._initial_require_jti


def unverified_claims(token: str | None) -> dict[str, Any] | None:
    """The claims of a token without checking it, for the request log (claims hold no
    secret; the token itself is never logged)."""
    if not token:
        return None
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
