"""The JWT auth object plugged into every request to the Kore.ai API.

Kore.ai's public APIs take an HS256 JWT signed with the JWT app's client secret, with the
claim `appId` (exactly that spelling) set to the client id, sent in a custom `auth` header
(koreai-campaign-apis.md section 2; the create page's "Authorization" row).
"""

from __future__ import annotations

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
    """Sign a fresh token for every request: header `auth: <jwt>`.

    Each token has its own random `jti` (uuid4 hex), because a tenant with "Enforce JTI" on
    rejects a reused `jti` as a replay, and a retried request is a new request to it.
    The secret lives only in a private attribute; repr/str never show it.
    Raises AuthError when the id or secret is empty or `ttl` is outside 1..3600 seconds.
    """

    def __init__(self, client_id: str, client_secret: str, *, ttl: int = 300,
                 subject: str = "provisioner", clock: Callable[[], float] = time.time) -> None:
        if not client_id or not client_secret:
            raise AuthError("credentials: KORE_CLIENT_ID and KORE_CLIENT_SECRET must both be set")
        if not 1 <= ttl <= MAX_TTL:
            raise AuthError(f"credentials: token lifetime must be 1..{MAX_TTL} seconds, not {ttl}")
        self.client_id = client_id
        self.subject = subject
        self.ttl = ttl
        self.__secret = client_secret
        self._clock = clock

    def token(self) -> str:
        """Mint one signed token with a new `jti`."""
        now = int(self._clock())
        claims = {"appId": self.client_id, "sub": self.subject, "iat": now,
                  "exp": now + self.ttl, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.__secret, algorithm="HS256")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["auth"] = self.token()
        return request

    def __repr__(self) -> str:
        return f"KoreJWTAuth(client_id={self.client_id!r}, client_secret=<hidden>, ttl={self.ttl})"

    __str__ = __repr__
