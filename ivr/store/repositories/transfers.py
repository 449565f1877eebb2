"""Transfer contexts by channel: the facts an agent's screen shows for a transferred caller.

The node that ran the call writes them; the agent's screen may ask any node (they share the
database), so they are rows rather than one process's memory. A context is only wanted in the
moments after the transfer: each has an expiry, past which it is not returned, and rows past
their expiry are deleted as new ones are written (no timer needed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from ivr.store.db import Database
from ivr.store.domain import check_aware
from ivr.store.models import TransferContextRow


class TransferContextRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, channel_id: str, body: dict[str, Any], expires_at: datetime,
            now: datetime) -> None:
        """Keep `body` for `channel_id` until `expires_at` (a second transfer of the same
        channel replaces the first)."""
        check_aware(now, "now")
        with self._db.session() as s:
            s.execute(delete(TransferContextRow).where(
                (TransferContextRow.channel_id == channel_id)
                | (TransferContextRow.expires_at <= now)))
            s.add(TransferContextRow(channel_id=channel_id, body=body, expires_at=expires_at))

    def get(self, channel_id: str, now: datetime) -> dict[str, Any] | None:
        check_aware(now, "now")
        query = select(TransferContextRow.body).where(
            TransferContextRow.channel_id == channel_id, TransferContextRow.expires_at > now)
        with self._db.session() as s:
            return s.scalars(query).one_or_none()
