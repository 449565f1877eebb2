"""The parts that carry a call through a database outage, each against a real PostgreSQL
behind a proxy that is cut: the store names the outage, the flow catalog answers from what it
holds, and interactions wait in a bounded queue until the database returns."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text

from ivr.admin.app import create_app
from ivr.config import Settings
from ivr.flows.catalog import FlowCatalog
from ivr.flows.files import import_dialplans
from ivr.flows.interaction_log import InteractionLog
from ivr.store.db import Database
from ivr.store.errors import Conflict, DatabaseUnreachable
from ivr.store.repositories.interactions import InteractionRepository
from ivr.store.repositories.tokens import TokenRepository
from tests.faults.tcp_proxy import TcpProxy

# PostgreSQL only: the proxy stands in front of a database server.
pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("db", ["postgres"], indirect=True)]
DIALPLANS = Path(__file__).parents[2] / "dialplans"


@pytest.fixture
def direct(db: Database) -> Database:
    return db


@pytest.fixture
def proxied(direct: Database) -> Iterator[tuple[TcpProxy, Database]]:
    target = make_url(direct.url)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        db = Database(target.set(port=proxy.port).render_as_string(hide_password=False))
        yield proxy, db
        db.dispose()


def test_a_database_that_went_away_is_database_unreachable_not_a_driver_error(
    proxied: tuple[TcpProxy, Database],
) -> None:
    proxy, db = proxied
    repo = InteractionRepository(db)
    opened = repo.start("+15550000001")
    proxy.down()  # cuts the pooled connection, refuses new ones
    with pytest.raises(DatabaseUnreachable, match="cannot reach database"):
        repo.get(opened.id)
    proxy.up()
    assert repo.get(opened.id).id == opened.id  # no restart needed


def test_a_database_that_stops_answering_is_given_up_on_within_the_connect_timeout(
    proxied: tuple[TcpProxy, Database],
) -> None:
    proxy, db = proxied
    proxy.stall()
    started = time.monotonic()
    with pytest.raises(DatabaseUnreachable):
        InteractionRepository(db).start("+15550000001")
    assert time.monotonic() - started < 30  # CONNECT_TIMEOUT_S is 3; not the kernel's minutes


def test_errors_of_a_reachable_database_are_not_called_an_outage(direct: Database) -> None:
    repo = InteractionRepository(direct)
    opened = repo.start("+15550000001")
    repo.finish(opened.id, "self_served")
    with pytest.raises(Conflict):
        repo.finish(opened.id, "self_served")


async def test_the_catalog_answers_from_the_flows_it_holds_while_the_database_is_down(
    proxied: tuple[TcpProxy, Database], direct: Database,
) -> None:
    await asyncio.to_thread(import_dialplans, direct, DIALPLANS, publish="all")
    proxy, db = proxied
    catalog = FlowCatalog(db, route_ttl=0)
    fresh = await catalog.for_dnis("18005550100")
    proxy.down()
    held = await catalog.for_dnis("18005550100")
    assert fresh is not None and held is fresh
    assert (await catalog.flow("main-ru")).name == "main-ru"  # read at the first call
    with pytest.raises(DatabaseUnreachable):
        await FlowCatalog(db).for_dnis("18005550100")  # holds nothing yet


async def test_interactions_wait_for_the_database_and_are_written_when_it_returns(
    proxied: tuple[TcpProxy, Database], direct: Database,
) -> None:
    proxy, db = proxied
    log = InteractionLog(db, retry=(0.05, 0.2))
    before = await log.open("+15550000002", "main-en", 1)  # opened while up
    proxy.down()
    during = await log.open("+15550000003", "main-en", 1)
    assert before.id is not None and during.id is None
    await log.close(before, "transferred", "billing", ["a", "b"], [])
    await log.close(during, "transferred", None, ["database-outage"], [])
    assert log.pending == 2
    proxy.up()
    async with asyncio.timeout(30):
        while log.pending:  # noqa: ASYNC110 (the retry task empties it; nothing to await)
            await asyncio.sleep(0.05)
    assert InteractionRepository(direct).get(before.id).outcome == "transferred"
    with direct.engine.connect() as conn:
        rows = conn.execute(text("SELECT outcome, flow_name, path FROM interactions "
                                 "WHERE caller = '+15550000003'")).all()
    assert [tuple(r) for r in rows] == [("transferred", "main-en", ["database-outage"])]


async def test_the_queue_is_bounded_and_what_falls_off_is_logged(
    proxied: tuple[TcpProxy, Database], caplog: pytest.LogCaptureFixture,
) -> None:
    proxy, db = proxied
    proxy.down()
    log = InteractionLog(db, limit=2, retry=(60, 60))
    with caplog.at_level(logging.ERROR):
        for n in range(3):
            opened = await log.open(f"+1555000001{n}", "main-en", 1)
            await log.close(opened, "abandoned", None, [f"call-{n}"], [])
    assert log.pending == 2
    assert "not recorded" in caplog.text and "call-0" in caplog.text
    await log.aclose()
    assert log.pending == 0


async def test_the_admin_api_says_503_while_the_database_is_down(
    proxied: tuple[TcpProxy, Database], direct: Database,
) -> None:
    proxy, db = proxied
    secret = TokenRepository(direct).create("viewer-1", "viewer")[1]
    app = create_app(Settings(database_url=db.url), db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://ivr.test") as client:
        proxy.down()
        reply = await client.get("/api/flows", headers={"Authorization": f"Bearer {secret}"})
    assert reply.status_code == 503, reply.text
    assert "5432" not in reply.text and str(proxy.port) not in reply.text  # no internals
