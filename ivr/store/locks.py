"""One holder at a time across every node sharing the database, for work that is not one
transaction (the flows import at start-up reads, then writes versions, routes, publishes).

PostgreSQL: a session advisory lock on a connection held for the duration; it is released
when that connection closes, so a node killed while holding it blocks nobody. SQLite: one
file on one machine, where several nodes are not a deployment: nothing to take.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from ivr.store.db import Database

IMPORT_FLOWS = "ivr:import-flows"


@contextmanager
def exclusive(db: Database, name: str) -> Iterator[None]:
    if db.dialect != "postgresql":
        yield
        return
    key = zlib.crc32(name.encode())  # a stable 32-bit key (Python's hash() is salted)
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        conn.commit()  # the lock is the session's, not the transaction's
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()
