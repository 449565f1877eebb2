"""Repositories called from several threads at once (as asyncio.to_thread callers do)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from ivr.store.db import Database
from ivr.store.errors import Conflict
from ivr.store.repositories import FlowRepository, InteractionRepository

T = TypeVar("T")
WORKERS = 6


def _together(count: int, work: Callable[[int], T]) -> list[T | Exception]:
    """Run ``work(i)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def run(i: int) -> T | Exception:
        barrier.wait(timeout=10)
        try:
            return work(i)
        except Exception as exc:  # collected so the test can assert on every outcome
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_create_version_numbers_every_version_once(db: Database) -> None:
    flows = FlowRepository(db)
    flows.create_version("main", "v1", "setup")

    results = _together(WORKERS, lambda i: flows.create_version("main", f"v{i}", f"w{i}"))

    assert not [r for r in results if isinstance(r, Exception)]
    assert [v.version for v in flows.versions("main")] == list(range(1, WORKERS + 2))


def test_concurrent_publishes_leave_exactly_one_published_version(db: Database) -> None:
    flows = FlowRepository(db)
    for i in range(WORKERS):
        flows.create_version("main", f"v{i}", "setup", state="validated")

    results = _together(WORKERS, lambda i: flows.publish("main", i + 1))

    assert not [r for r in results if isinstance(r, Exception)]
    states = [v.state for v in flows.versions("main")]
    assert states.count("published") == 1
    assert states.count("superseded") == WORKERS - 1


def test_concurrent_finish_of_one_interaction_succeeds_exactly_once(db: Database) -> None:
    interactions = InteractionRepository(db)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    opened = interactions.start("+15550100200", started_at=start)

    results = _together(
        WORKERS,
        lambda i: interactions.finish(
            opened.id, f"outcome-{i}", ended_at=start + timedelta(seconds=i + 1)
        ),
    )

    assert sum(isinstance(r, Conflict) for r in results) == WORKERS - 1
    (winner,) = [r for r in results if not isinstance(r, Exception)]
    assert interactions.get(opened.id) == winner
