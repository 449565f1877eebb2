"""AuditRepository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.store.db import Database
from ivr.store.repositories import AuditRepository

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def audit(db: Database) -> AuditRepository:
    return AuditRepository(db)


def test_write_stores_actor_action_subject_and_json_detail(audit: AuditRepository) -> None:
    entry = audit.write(
        "alice", "flow.publish", "flow:main", {"version": 3, "note": "привет"}, at=T0
    )

    assert audit.list() == [entry]
    assert entry.detail == {"version": 3, "note": "привет"}
    assert entry.at == T0


def test_list_is_newest_first_and_filters_combine(audit: AuditRepository) -> None:
    audit.write("alice", "flow.publish", "flow:main", at=T0)
    audit.write("bob", "flow.publish", "flow:billing", at=T0 + timedelta(minutes=1))
    audit.write("alice", "flow.rollback", "flow:main", at=T0 + timedelta(minutes=2))

    assert [e.action for e in audit.list()] == ["flow.rollback", "flow.publish", "flow.publish"]
    assert [e.actor for e in audit.list(action="flow.publish")] == ["bob", "alice"]
    assert [e.action for e in audit.list(actor="alice", subject="flow:main")] == [
        "flow.rollback",
        "flow.publish",
    ]
    assert [e.actor for e in audit.list(since=T0 + timedelta(minutes=1))] == ["alice", "bob"]
    assert len(audit.list(limit=2)) == 2
    assert audit.list(actor="nobody") == []


def test_write_without_detail_stores_empty_mapping(audit: AuditRepository) -> None:
    entry = audit.write("system", "db.upgrade", "schema")

    assert entry.detail == {}
    assert entry.at.tzinfo is not None
