"""Errors raised by the storage layer; the CLI and HTTP layer turn them into one clear line."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error this package raises."""


class DatabaseUnreachable(StoreError):
    """The database server or file cannot be opened (message names the URL, never the password)."""


class MigrationNeeded(StoreError):
    """The database schema is older (or newer) than the code expects."""

    def __init__(self, current: str | None, head: str | None) -> None:
        self.current = current
        self.head = head
        super().__init__(
            f"database is at revision {current or 'none (empty)'}, code needs {head}: "
            "run 'ivr db upgrade'"
        )


class NotFound(StoreError):
    """The row asked for does not exist."""


class Conflict(StoreError):
    """The change would break a uniqueness or state rule (duplicate, wrong flow state...)."""
