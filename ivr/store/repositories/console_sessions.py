"""Web console sessions: the browser's cookie holds a random id, never the API token.

Only the SHA-256 of the id is stored (like tokens: 256 random bits need no slow hash). A
session lives until its absolute expiry, an idle gap longer than the caller's limit, sign-out,
or the revocation of the token it was opened with, whichever comes first.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update

from ivr.store.db import Database
from ivr.store.models import ApiTokenRow, ConsoleSessionRow, now_utc
from ivr.store.repositories.tokens import ApiToken, hash_token, token_of

REFRESH_PARTS = 20


class ConsoleSessionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def open(self, token_id: int, lifetime: timedelta) -> str:
        """A new session for the token; returns its id (shown to the browser only)."""
        secret = secrets.token_urlsafe(32)
        now = now_utc()
        with self._db.session() as s:
            # Housekeeping on sign-in keeps the table to live sessions without a timer.
            s.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= now))
            s.add(ConsoleSessionRow(token_id=token_id, session_hash=hash_token(secret),
                                    created_at=now, last_seen_at=now, expires_at=now + lifetime))
        return secret

    def resolve(self, secret: str, idle: timedelta) -> ApiToken | None:
        """The live token behind a session id, or None when the session is unknown, expired,
        idle too long or its token revoked (then it is deleted). Both are marked used when
        the last mark is older than 1/REFRESH_PARTS of the idle limit: the idle timeout is
        exact to that fraction, and most requests only read."""
        query = (select(ConsoleSessionRow.id, ConsoleSessionRow.last_seen_at,
                        ConsoleSessionRow.expires_at, ApiTokenRow)
                 .join(ApiTokenRow, ApiTokenRow.id == ConsoleSessionRow.token_id)
                 .where(ConsoleSessionRow.session_hash == hash_token(secret)))
        now = now_utc()
        with self._db.session() as s:
            found = s.execute(query).one_or_none()
            if found is None:
                return None
            session_id, last_seen, expires, token = found
            this = ConsoleSessionRow.id == session_id
            # Statements, not ORM changes: parallel requests (polls racing a sign-out) may
            # delete the row under us, and a statement matching no row is fine there.
            if now >= expires or now - last_seen >= idle or token.revoked_at is not None:
                s.execute(delete(ConsoleSessionRow).where(this))
                return None
            if now - last_seen >= idle / REFRESH_PARTS:  # a poll every second writes rarely
                s.execute(update(ConsoleSessionRow).where(this).values(last_seen_at=now))
                token.last_used_at = now
            return token_of(token)

    def close(self, secret: str) -> None:
        """Sign-out: the id stops working at once, wherever a copy of the cookie is."""
        with self._db.session() as s:
            s.execute(delete(ConsoleSessionRow)
                      .where(ConsoleSessionRow.session_hash == hash_token(secret)))
