"""Audit log: who did what to which subject, with a JSON detail."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ivr.store.db import Database
from ivr.store.domain import AuditEntry, check_aware
from ivr.store.models import AuditRow, now_utc


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        detail=dict(row.detail),
    )


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def write(
        self,
        actor: str,
        action: str,
        subject: str,
        detail: Mapping[str, Any] | None = None,
        *,
        at: datetime | None = None,
    ) -> AuditEntry:
        row = AuditRow(
            at=check_aware(at or now_utc(), "at"),
            actor=actor,
            action=action,
            subject=subject,
            detail=dict(detail or {}),
        )
        with self._db.session() as s:
            s.add(row)
            s.flush()
            return _entry(row)

    def list(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries matching every given filter, newest first."""
        query = select(AuditRow)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        if action is not None:
            query = query.where(AuditRow.action == action)
        if subject is not None:
            query = query.where(AuditRow.subject == subject)
        if since is not None:
            check_aware(since, "since")
            query = query.where(AuditRow.at >= since)
        query = query.order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
        with self._db.session() as s:
            return [_entry(r) for r in s.scalars(query)]
