"""One exception family. Library code raises these; only the CLI turns them into exit codes.

Messages are one line, name the file and place where there is one, and never carry a
secret (client secret, JWT): build them from names, ids, statuses and the API's message.
"""

from __future__ import annotations

ERROR, WARNING = "error", "warning"   # the severities of a spec problem (not exceptions)


class ProvisionerError(Exception):
    """Base of every error a user may see. `exit_code` is what the CLI exits with."""

    exit_code = 1


class ConfigError(ProvisionerError):
    """provisioner.yaml, environment variables or command-line options are wrong."""


class SpecError(ProvisionerError):
    """Campaign spec files are invalid (the problems are reported before this is raised)."""


class StateError(ProvisionerError):
    """Recorded state cannot be read, is corrupt, belongs to another target, or is stale."""


class StaleStateError(StateError):
    """Someone else wrote the state (or the specs moved) since it was read or planned."""


class LockError(StateError):
    """The state lock is held by someone else; the message names the holder."""


class ApiError(ProvisionerError):
    """The Kore.ai API answered with an error, or could not be reached.

    `status` is the HTTP status (None when no response arrived); `api_message` is the API's
    own message (`errors[0].msg` or `message`).
    """

    def __init__(self, message: str, *, status: int | None = None, api_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.api_message = api_message


class AuthError(ApiError):
    """The API refused the credentials (401/403), or credentials are missing."""


class AmbiguousError(ApiError):
    """A non-idempotent request may or may not have taken effect (timeout, dropped
    connection after sending, 5xx). The caller must look before trying again."""


class Interrupted(ProvisionerError):
    """The user asked to stop (Ctrl-C: 130, SIGTERM: 143)."""

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code
