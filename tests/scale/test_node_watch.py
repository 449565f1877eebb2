"""NodeWatch, what each `ivr serve` runs to beat and sweep, on SQLite and PostgreSQL: what it
tells the operator when its name is taken by another process or when it was taken for dead."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from ivr.nodes import NodeWatch
from ivr.store.db import Database
from ivr.store.models import now_utc
from ivr.store.repositories import InteractionRepository
from ivr.store.repositories.nodes import NODE_LOST, NodeRepository


def watch(db: Database, name: str) -> NodeWatch:
    return NodeWatch(db, name, heartbeat=60, dead_after=180)  # beats driven by tick()


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_second_process_under_the_same_name_is_an_error_on_the_firsts_beats(
    db: Database, caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = watch(db, "ivr-1"), watch(db, "ivr-1")
    await first.start()
    await second.start()
    try:
        await second.tick()
        assert errors(caplog) == []
        await first.tick()
    finally:
        await first.stop()
        await second.stop()
    [error] = errors(caplog)
    assert "ivr-1" in error and "IVR_DIALER_NAME" in error


async def test_a_node_taken_for_dead_says_so_and_beats_on(
    db: Database, caplog: pytest.LogCaptureFixture,
) -> None:
    node = watch(db, "ivr-1")
    await node.start()
    call = InteractionRepository(db).start("+15550100200", node="ivr-1")
    try:
        [lost] = NodeRepository(db).sweep(now_utc() + timedelta(hours=1), dead_after=180)
        assert lost.closed == 1
        await node.tick()
        await node.tick()
    finally:
        await node.stop()
    [error] = errors(caplog)
    assert "taken for dead" in error
    assert NodeRepository(db).names() == ["ivr-1"]
    assert InteractionRepository(db).get(call.id).end_reason == NODE_LOST
