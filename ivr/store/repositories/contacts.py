"""Interactions across all customers in a time range, for contact-history reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ivr.store.db import Database
from ivr.store.domain import Interaction, check_aware
from ivr.store.models import InteractionRow
from ivr.store.repositories.interactions import _interaction


class ContactRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def between(self, since: datetime, until: datetime) -> list[Interaction]:
        """Interactions of known customers started in [since, until), oldest first."""
        check_aware(since, "since")
        check_aware(until, "until")
        query = (
            select(InteractionRow)
            .where(InteractionRow.customer_id.is_not(None))
            .where(InteractionRow.started_at >= since, InteractionRow.started_at < until)
            .order_by(InteractionRow.started_at, InteractionRow.id)
        )
        with self._db.session() as s:
            return [_interaction(r) for r in s.scalars(query)]
