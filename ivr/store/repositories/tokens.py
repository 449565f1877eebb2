"""Admin API tokens: issued once (the secret is shown one time), stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from ivr.store.db import Database
from ivr.store.errors import NotFound
from ivr.store.models import API_ROLES, ApiTokenRow, ConsoleSessionRow, now_utc

TOKEN_PREFIX = "ivr_"


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_of(row: ApiTokenRow) -> ApiToken:
    return ApiToken(row.id, row.name, row.role, row.created_at, row.last_used_at,
                    row.revoked_at is not None)


class TokenRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str, role: str) -> tuple[ApiToken, str]:
        """A new token; returns it with its secret, which is never stored or shown again."""
        if role not in API_ROLES:
            raise ValueError(f"unknown role {role!r}: use one of {', '.join(API_ROLES)}")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiTokenRow(name=name, role=role, token_hash=hash_token(secret),
                          created_at=now_utc(), last_used_at=None, revoked_at=None)
        with self._db.session() as s:
            s.add(row)
            s.flush()
            return token_of(row), secret

    def authenticate(self, secret: str) -> ApiToken | None:
        """The live token with this secret (and mark it used), or None."""
        query = select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(secret))
        with self._db.session() as s:
            row = s.scalars(query).one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            row.last_used_at = now_utc()
            return token_of(row)

    def revoke(self, token_id: int) -> ApiToken:
        with self._db.session() as s:
            row = s.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFound(f"no API token {token_id}")
            row.revoked_at = row.revoked_at or now_utc()
            # Console sessions opened with it end now too (they also check revoked_at).
            s.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.token_id == token_id))
            return token_of(row)

    def list(self) -> list[ApiToken]:
        with self._db.session() as s:
            return [token_of(r) for r in s.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))]
