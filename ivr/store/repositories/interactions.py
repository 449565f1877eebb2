"""Interactions: one row per call, SMS, e-mail or chat, with its path and transcript."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.store.db import Database
from ivr.store.domain import Interaction, Turn, check_aware
from ivr.store.errors import Conflict, NotFound
from ivr.store.models import CHANNELS, InteractionRow, now_utc
from ivr.store.repositories.nodes import NODE_LOST


def _interaction(row: InteractionRow) -> Interaction:
    return Interaction(
        id=row.id,
        customer_id=row.customer_id,
        caller=row.caller,
        channel=row.channel,
        started_at=row.started_at,
        ended_at=row.ended_at,
        flow_name=row.flow_name,
        flow_version=row.flow_version,
        intent=row.intent,
        outcome=row.outcome,
        path=tuple(row.path),
        transcript=tuple(Turn.from_json(t) for t in row.transcript),
        duration_ms=row.duration_ms,
        node=row.node,
        end_reason=row.end_reason,
    )


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, not {channel!r}")


def _duration_ms(started_at: datetime, ended_at: datetime) -> int:
    check_aware(started_at, "started_at")
    check_aware(ended_at, "ended_at")
    if ended_at < started_at:
        raise ValueError(f"interaction ends ({ended_at}) before it starts ({started_at})")
    return int((ended_at - started_at).total_seconds() * 1000)


class InteractionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def start(
        self,
        caller: str,
        channel: str = "voice",
        *,
        customer_id: int | None = None,
        flow_name: str | None = None,
        flow_version: int | None = None,
        started_at: datetime | None = None,
        node: str | None = None,
    ) -> Interaction:
        """Open an interaction when a call (or session) begins; ``finish`` closes it. `node`:
        the `ivr serve` node taking the call, which vouches for it while it is open."""
        _check_channel(channel)
        row = InteractionRow(
            customer_id=customer_id,
            caller=caller,
            channel=channel,
            started_at=check_aware(started_at or now_utc(), "started_at"),
            flow_name=flow_name,
            flow_version=flow_version,
            path=[],
            transcript=[],
            node=node,
        )
        return self._insert(row)

    def identify(self, interaction_id: int, customer_id: int | None) -> Interaction:
        """Attach the customer once the caller is recognised (or detach with None)."""
        with self._db.session() as s:
            row = self._row(s, interaction_id)
            row.customer_id = customer_id
            try:
                s.flush()
            except IntegrityError:
                raise NotFound(f"no customer {customer_id}") from None
            return _interaction(row)

    def finish(
        self,
        interaction_id: int,
        outcome: str,
        intent: str | None = None,
        path: Sequence[str] = (),
        transcript: Sequence[Turn] = (),
        ended_at: datetime | None = None,
    ) -> Interaction:
        """Close an interaction; finishing twice is a Conflict (the first result stands),
        except over a row another node closed as lost: the call's own result is the truth."""
        with self._db.session(write=True) as s:
            row = self._row(s, interaction_id, lock=True)
            if row.ended_at is not None and row.end_reason != NODE_LOST:
                raise Conflict(f"interaction {interaction_id} already finished")
            row.end_reason = None
            end = ended_at or now_utc()
            row.duration_ms = _duration_ms(row.started_at, end)
            row.ended_at = end
            row.outcome = outcome
            row.intent = intent
            row.path = list(path)
            row.transcript = [t.to_json() for t in transcript]
            s.flush()
            return _interaction(row)

    def record(
        self,
        caller: str,
        channel: str,
        started_at: datetime,
        ended_at: datetime,
        outcome: str,
        *,
        customer_id: int | None = None,
        intent: str | None = None,
        path: Sequence[str] = (),
        transcript: Sequence[Turn] = (),
        flow_name: str | None = None,
        flow_version: int | None = None,
    ) -> Interaction:
        """Store a whole finished interaction at once (posted by another channel)."""
        _check_channel(channel)
        row = InteractionRow(
            customer_id=customer_id,
            caller=caller,
            channel=channel,
            started_at=started_at,
            ended_at=ended_at,
            duration_ms=_duration_ms(started_at, ended_at),
            flow_name=flow_name,
            flow_version=flow_version,
            intent=intent,
            outcome=outcome,
            path=list(path),
            transcript=[t.to_json() for t in transcript],
        )
        return self._insert(row)

    def get(self, interaction_id: int) -> Interaction:
        with self._db.session() as s:
            return _interaction(self._row(s, interaction_id))

    def journey(self, customer_id: int, limit: int = 20) -> list[Interaction]:
        """The customer's latest interactions on every channel, newest first."""
        query = (
            select(InteractionRow)
            .where(InteractionRow.customer_id == customer_id)
            .order_by(InteractionRow.started_at.desc(), InteractionRow.id.desc())
            .limit(limit)
        )
        with self._db.session() as s:
            return [_interaction(r) for r in s.scalars(query)]

    def recent_for_customer(self, customer_id: int, since: datetime) -> list[Interaction]:
        """Interactions that started at or after ``since``, newest first."""
        check_aware(since, "since")
        query = (
            select(InteractionRow)
            .where(InteractionRow.customer_id == customer_id, InteractionRow.started_at >= since)
            .order_by(InteractionRow.started_at.desc(), InteractionRow.id.desc())
        )
        with self._db.session() as s:
            return [_interaction(r) for r in s.scalars(query)]

    def _insert(self, row: InteractionRow) -> Interaction:
        try:
            with self._db.session() as s:
                s.add(row)
                s.flush()
                return _interaction(row)
        except IntegrityError:
            raise NotFound(f"no customer {row.customer_id}") from None

    @staticmethod
    def _row(s: Session, interaction_id: int, lock: bool = False) -> InteractionRow:
        query = select(InteractionRow).where(InteractionRow.id == interaction_id)
        if lock:
            query = query.with_for_update()
        row = s.scalars(query).one_or_none()
        if row is None:
            raise NotFound(f"no interaction {interaction_id}")
        return row
