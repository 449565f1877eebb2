"""Idempotency keys of trigger events, and the recipients of an area (outage notices)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ivr.store.db import Database
from ivr.store.errors import Conflict
from ivr.store.models import CustomerRow, EventKeyRow, now_utc


@dataclass(frozen=True)
class Recipient:
    customer_id: int
    name: str
    phone: str | None
    email: str | None
    time_zone: str
    language: str
    preferred_channel: str


class EventRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def seen(self, key: str, fingerprint: str) -> dict[str, Any] | None:
        """The stored result of an event key; Conflict if the key came with another event."""
        with self._db.session() as s:
            row = s.get(EventKeyRow, key)
            if row is None:
                return None
            if row.fingerprint != fingerprint:
                raise Conflict(f"idempotency key {key!r} was used for a different event")
            return dict(row.result)

    def remember(self, key: str, kind: str, fingerprint: str, result: dict[str, Any]) -> bool:
        """Store the key's result; False when a concurrent request stored it first."""
        try:
            with self._db.session(write=True) as s:
                s.add(EventKeyRow(key=key[:200], kind=kind, fingerprint=fingerprint,
                                  result=result, created_at=now_utc()))
            return True
        except IntegrityError:
            return False

    def recipients_in_area(self, area: str) -> list[Recipient]:
        with self._db.session() as s:
            rows = s.scalars(select(CustomerRow).where(CustomerRow.area == area)
                             .options(selectinload(CustomerRow.phones))
                             .order_by(CustomerRow.id))
            return [recipient(r) for r in rows]

    def recipient(self, customer_id: int) -> Recipient | None:
        with self._db.session() as s:
            row = s.get(CustomerRow, customer_id, options=[selectinload(CustomerRow.phones)])
            return None if row is None else recipient(row)


def recipient(row: CustomerRow) -> Recipient:
    return Recipient(
        customer_id=row.id, name=row.name, phone=row.phones[0].phone if row.phones else None,
        email=row.email, time_zone=row.time_zone, language=row.language,
        preferred_channel=row.preferred_channel)
