"""FlowCatalog routes calls to published versions: a publish applies to the next call, calls
in flight finish on the version they started with."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.flows.catalog import FlowCatalog
from ivr.flows.compiled import CompiledFlow
from ivr.store.db import Database
from ivr.store.repositories.flows import FlowRepository
from tests.flows.conftest import FIXTURES, When, place_call

HOTLINE = (FIXTURES / "good" / "hotline.yaml").read_text()
DNIS = "18005550199"


def _store(db: Database) -> FlowRepository:
    repo = FlowRepository(db)
    repo.create_version("hotline", HOTLINE, "tester", state="validated")
    repo.publish("hotline", 1)
    repo.set_route(DNIS, "hotline")
    repo.create_version("hotline", HOTLINE.replace("v1/", "v2/"), "tester", state="validated")
    return repo


async def test_publish_applies_to_the_next_call_not_to_the_call_in_flight(
    sqlite_url: str,
) -> None:
    db = Database(sqlite_url)
    repo = _store(db)
    catalog = FlowCatalog(db)

    async def pick() -> CompiledFlow:
        flow = await catalog.for_dnis(DNIS)
        assert flow is not None
        return flow

    async def publish_v2() -> None:
        await asyncio.to_thread(repo.publish, "hotline", 2)

    first = await place_call(pick, [When("v1/menu", "1", before=publish_v2)], scale=0.05)
    second = await place_call(pick, [When("v2/menu", "1")], scale=0.05)
    assert first.prompts == ["v1/menu", "v1/after", "v1/bye"]
    assert second.prompts == ["v2/menu", "v2/after", "v2/bye"]
    assert first.result.outcome == second.result.outcome == "self_served"
    db.dispose()


async def test_rollback_applies_to_the_next_call(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    repo = _store(db)
    catalog = FlowCatalog(db)
    repo.publish("hotline", 2)
    assert (await catalog.flow("hotline")).version == 2
    repo.rollback("hotline")
    assert (await catalog.flow("hotline")).version == 1
    db.dispose()


async def test_unrouted_number_gets_the_default_flow_or_none(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    _store(db)
    assert await FlowCatalog(db).for_dnis("999") is None
    assert await FlowCatalog(db).for_dnis(None) is None
    fallback = await FlowCatalog(db, default_flow="hotline").for_dnis("999")
    assert fallback is not None and fallback.name == "hotline" and fallback.version == 1
    db.dispose()


async def test_route_changes_are_seen_after_the_route_ttl(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    repo = _store(db)
    repo.create_version("other", HOTLINE.replace("flow: hotline", "flow: other"), "t", "validated")
    repo.publish("other", 1)
    now = [100.0]
    catalog = FlowCatalog(db, route_ttl=1.0, clock=lambda: now[0])
    assert (await catalog.for_dnis(DNIS)).name == "hotline"  # type: ignore[union-attr]
    repo.set_route(DNIS, "other")
    assert (await catalog.for_dnis(DNIS)).name == "hotline"  # type: ignore[union-attr]
    now[0] += 1.01
    assert (await catalog.for_dnis(DNIS)).name == "other"  # type: ignore[union-attr]
    db.dispose()


async def test_each_version_is_compiled_once(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    _store(db)
    catalog = FlowCatalog(db)
    assert await catalog.flow("hotline") is await catalog.flow("hotline")
    db.dispose()
