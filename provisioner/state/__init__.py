"""Recorded state: the `State` model and the backends that store it (docs/state.md).

`open_backend(location, workspace=...)` picks the backend from the location: a
`postgresql://` or `postgres://` URL selects PostgreSQL (psycopg is imported only then),
anything else is a path to a local JSON file.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from provisioner.errors import StateError
from provisioner.state.journal import Commit
from provisioner.state.local import LocalBackend
from provisioner.state.model import RecordedState, State

__all__ = ["Backend", "LocalBackend", "State", "is_postgres", "open_backend"]


class Backend(Protocol):
    """What every state backend offers (docs/architecture.md, "State")."""

    location: str

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[None]: ...
    def read(self) -> State | None: ...
    def read_view(self) -> RecordedState | None: ...
    def write(self, state: State) -> None: ...
    def append(self, state: State) -> Commit: ...
    def import_state(self, state: State) -> None: ...
    def history(self) -> list[dict[str, Any]]: ...
    def restore(self, serial: int) -> State: ...
    def force_unlock(self, lock_id: str) -> dict[str, Any]: ...


def is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def open_backend(location: str, *, workspace: str,
                 on_warning: Callable[[str], None] | None = None) -> Backend:
    """The backend for `location`; `workspace` separates environments in one database."""
    if is_postgres(location):
        try:
            from provisioner.state.postgres import PostgresBackend
        except ModuleNotFoundError as exc:
            if exc.name != "psycopg" and not str(exc.name).startswith("psycopg."):
                raise
            raise StateError("a postgresql:// state needs the PostgreSQL driver, which is not "
                             "installed: pip install 'provisioner[postgres]'") from None
        return PostgresBackend(location, workspace=workspace, on_warning=on_warning)
    return LocalBackend(location, on_warning=on_warning)
