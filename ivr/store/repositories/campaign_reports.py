"""Raw rows for campaign reports, streamed so memory stays flat in the campaign's size."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select

from ivr.store.db import Database
from ivr.store.models import CallAttemptRow, CampaignContactRow

AttemptFacts = tuple[datetime, int, str | None, str | None, str | None]


class CampaignReportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def attempts(self, campaign_id: int) -> Iterator[AttemptFacts]:
        """(started_at, contact_id, outcome, amd, response) of every attempt."""
        with self._db.session() as s:
            query = (select(CallAttemptRow.started_at, CallAttemptRow.contact_id,
                            CallAttemptRow.outcome, CallAttemptRow.amd, CallAttemptRow.response)
                     .where(CallAttemptRow.campaign_id == campaign_id)
                     .order_by(CallAttemptRow.started_at)
                     .execution_options(yield_per=2000))
            for row in s.execute(query):
                yield row[0], row[1], row[2], row[3], row[4]

    def contact_counts(self, campaign_id: int) -> dict[tuple[str, str | None, str | None], int]:
        """(state, result, fallback) -> number of contacts."""
        with self._db.session() as s:
            rows = s.execute(
                select(CampaignContactRow.state, CampaignContactRow.result,
                       CampaignContactRow.fallback, func.count())
                .where(CampaignContactRow.campaign_id == campaign_id)
                .group_by(CampaignContactRow.state, CampaignContactRow.result,
                          CampaignContactRow.fallback)).all()
        return {(str(a), b, c): int(n) for a, b, c, n in rows}
