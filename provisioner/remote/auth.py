"""The JWT auth object plugged into every request to the Kore.ai API.

Kore.ai's public APIs take an HS256 JWT signed with the JWT app's client secret, with the
claim `appId` (exactly that spelling) set to the client id, sent in a custom `auth` header
(koreai-campaign-apis.md section 2; the create page's "Authorization" row).
"""

from __future__ import annotations

import threading
import time
import uuid
import warnings
from collections.abc import Callable

import jwt
import requests
from requests.auth import AuthBase

from provisioner.errors import AuthError

# Section 2 of the digest: when a token carries `jti`, the platform requires `exp` to be at
# most one hour ahead ("if "jti" claim "exp" must be <= 1 hour(s)").
MAX_TTL = 3600

# PyJWT >= 2.10 warns when an HMAC key is under 32 bytes. The key is the secret the tenant
# issued, not ours to choose, and a warning per request would flood the output. A global
# filter, not `catch_warnings`, because that context manager is not thread-safe.
_SHORT_KEY_WARNING = getattr(getattr(jwt, "warnings", None), "InsecureKeyLengthWarning", None)


def quiet_short_key_warning() -> None:
    """Silence PyJWT's short-HMAC-key warning (also used by the emulator, which verifies
    tokens signed with whatever secret the tenant issued)."""
    if _SHORT_KEY_WARNING is not None:
        warnings.filterwarnings("ignore", category=_SHORT_KEY_WARNING)


quiet_short_key_warning()


class KoreJWTAuth(AuthBase):
    """Sign the `auth: <jwt>` header of every request, reusing one token or one per request.

    Decision (issue 13; koreai-campaign-apis.md section 2): the documented payload is just
    `{"sub": "<any>", "appId": "<Client ID>"}`, and the SDK security page says "when a `jti`
    is present, `exp` must be within 1 hour and a reused `jti` is rejected as a replay".
    So a token meant for reuse carries NO `jti` (a reused one would be a replay by
    definition); it is shared by every worker thread until `refresh_margin` seconds before
    its `exp`, then re-signed once, under a lock. A tenant whose JWT app has "Enforce JTI"
    on may refuse a token without `jti`: `reuse=False` (config `jti: per-request`) signs a
    fresh token with its own random `jti` for every request instead, as the digest's
    [INFER] advises ("it never reuses a `jti`"). And when the API answers 401 to a reused
    token anyway, `refused()` switches this object to per-request tokens for good and lets
    the client resend once (a 401 means the call was not executed).

    The secret lives only in a private attribute; repr/str never show it.
    Raises AuthError when the id or secret is empty, `ttl` is outside 1..3600 seconds, or
    `refresh_margin` leaves a reused token no lifetime.
    """

    def __init__(self, client_id: str, client_secret: str, *, ttl: int = 300,
                 subject: str = "provisioner", clock: Callable[[], float] = time.time,
                 reuse: bool = True, refresh_margin: float = 60.0) -> None:
        if not client_id or not client_secret:
            raise AuthError("credentials: KORE_CLIENT_ID and KORE_CLIENT_SECRET must both be set")
        if not 1 <= ttl <= MAX_TTL:
            raise AuthError(f"credentials: token lifetime must be 1..{MAX_TTL} seconds, not {ttl}")
        if reuse and not 0 <= refresh_margin < ttl:
            raise AuthError(f"credentials: refresh margin must be 0..{ttl - 1} seconds "
                            f"(under the token lifetime), not {refresh_margin}")
        self.client_id = client_id
        self.subject = subject
        self.ttl = ttl
        self.reuse = reuse
        self.refresh_margin = refresh_margin
        self.__secret = client_secret
        self._clock = clock
        self._lock = threading.Lock()
        # (token, signed at, renew at); replaced whole, so a reader without the lock sees
        # either the old triple or the new one, never a mix
        self._shared: tuple[str, float, float] | None = None

    def token(self) -> str:
        """The token for the next request: the shared one while it is fresh (re-signed under
        the lock when not), or a new one with its own `jti` in per-request mode."""
        if not self.reuse:
            return self._sign(self._clock(), jti=True)
        shared = self._shared
        if shared is not None and shared[1] <= self._clock() < shared[2]:
            return shared[0]
        with self._lock:   # one thread re-signs; the others then find the new token
            now = self._clock()
            shared = self._shared
            if shared is None or not shared[1] <= now < shared[2]:
                # a clock that went back before `iat` also re-signs
                renew_at = int(now) + self.ttl - self.refresh_margin   # margin before `exp`
                shared = (self._sign(now, jti=False), now, renew_at)
                self._shared = shared
            return shared[0]

    def refused(self, token: str) -> bool:
        """The API answered 401 to a request carrying `token`. True when sending it again
        with a new token may help, i.e. `token` was a reused one (it has no `jti`): this
        object then signs a fresh token per request from now on. False for a per-request
        token: the credentials themselves were refused, and resending cannot help."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        if "jti" in claims:
            return False
        with self._lock:
            self.reuse, self._shared = False, None
        return True

    def _sign(self, now: float, *, jti: bool) -> str:
        moment = int(now)
        claims: dict[str, str | int] = {"appId": self.client_id, "sub": self.subject,
                                        "iat": moment, "exp": moment + self.ttl}
        if jti:
            claims["jti"] = uuid.uuid4().hex
        return jwt.encode(claims, self.__secret, algorithm="HS256")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["auth"] = self.token()
        return request

    def __repr__(self) -> str:
        mode = "reuse" if self.reuse else "per-request"
        return (f"KoreJWTAuth(client_id={self.client_id!r}, client_secret=<hidden>, "
                f"ttl={self.ttl}, jti={mode})")

    __str__ = __repr__
