"""How the emulator answers a refused request: the documented `{"errors": [{msg, code}]}`
shape (koreai-campaign-apis.md section 3).

`Reject` is internal control flow of the emulator (raised by a check, turned into an HTTP
answer by the server); it never leaves the emulator, so it is not part of
`provisioner.errors`.
"""

from __future__ import annotations

from typing import Any

# Section 3: what the platform answers for a bad token or wrong bot/app id.
INVALID_JWT = "Invalid JWT token"
INVALID_CREDENTIALS = "Invalid SDK credentials"
RATE_LIMITED = "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."


class Reject(Exception):
    """Answer `status` with one error entry per message, each carrying `code`."""

    def __init__(self, status: int, messages: str | list[str], code: int | None = None) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages))
        self.status = status
        self.code = status if code is None else code

    def body(self) -> dict[str, Any]:
        return errors_body(self.messages, self.code)


def errors_body(messages: list[str], code: int) -> dict[str, Any]:
    return {"errors": [{"msg": message, "code": code} for message in messages]}


def invalid_jwt() -> Reject:
    return Reject(401, INVALID_JWT, 4002)


def invalid_credentials() -> Reject:
    return Reject(401, INVALID_CREDENTIALS, 4002)


def not_found(what: str = "Resource not found") -> Reject:
    return Reject(404, what)


def validation(messages: list[str]) -> Reject:
    """412 with the specific problems (section 3: "Validation errors/ Invalid arguments")."""
    return Reject(412, messages or ["Validation errors/ Invalid arguments"], 412)
