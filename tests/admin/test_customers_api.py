"""Customers, journeys, posted interactions, repeat contacts and transfer contexts through
the FastAPI routers, over httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from ivr.admin.routes import customers, interactions
from ivr.calls import make_services
from ivr.config import Settings
from ivr.customers.context import LiveContexts, TransferContext
from ivr.customers.history import ContactHistory
from ivr.flows.runtime import FlowContext
from ivr.store.db import Database
from ivr.store.models import ApiTokenRow, now_utc
from ivr.store.repositories.tokens import TokenRepository, hash_token
from tests.customers.conftest import ANNA_PHONE, NOW, People, add_people

TOKEN = "ivr_test-operator-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def known_token(db: Database, secret: str, role: str) -> None:
    """A token whose secret the test knows (tokens from the CLI are random)."""
    with db.session() as s:
        s.add(ApiTokenRow(name=f"{role}-test", role=role, token_hash=hash_token(secret),
                          created_at=now_utc(), last_used_at=None, revoked_at=None))


def make_app(db: Database) -> FastAPI:
    app = FastAPI()
    app.state.settings = Settings(_env_file=None)
    app.state.db = db
    app.state.live_contexts = LiveContexts(db)
    app.include_router(customers.router)
    app.include_router(interactions.router)
    return app


@pytest.fixture
def people(db: Database) -> People:
    return add_people(db)


@pytest.fixture
async def client(db: Database, people: People) -> AsyncIterator[httpx.AsyncClient]:
    known_token(db, TOKEN, "operator")
    transport = httpx.ASGITransport(app=make_app(db))
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as c:
        yield c


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "x"}])
async def test_requests_without_the_right_token_are_refused(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/api/customers", headers=headers)
    assert response.status_code == 401


async def test_a_viewer_token_may_read_but_not_post_interactions(
    client: httpx.AsyncClient, db: Database
) -> None:
    viewer = {"Authorization": f"Bearer {TokenRepository(db).create('v', 'viewer')[1]}"}
    assert (await client.get("/api/customers", headers=viewer)).status_code == 200
    posted = await client.post("/api/interactions", json={}, headers=viewer)
    assert posted.status_code == 403


async def test_search_finds_by_name_and_phone(client: httpx.AsyncClient, people: People) -> None:
    by_name = await client.get("/api/customers", params={"q": "stone"}, headers=AUTH)
    by_phone = await client.get("/api/customers", params={"q": "0100001"}, headers=AUTH)
    everyone = await client.get("/api/customers", headers=AUTH)

    assert [c["name"] for c in by_name.json()] == ["Bob Stone", "Carol Stone"]
    assert [c["id"] for c in by_phone.json()] == [people.anna.id]
    assert len(everyone.json()) == 4


async def test_one_customer_shows_accounts_and_open_requests(
    client: httpx.AsyncClient, people: People
) -> None:
    response = await client.get(f"/api/customers/{people.bob.id}", headers=AUTH)

    body = response.json()
    assert body["accounts"][0]["over_limit"] is True
    assert (await client.get("/api/customers/999999", headers=AUTH)).status_code == 404


async def test_interaction_posted_by_another_channel_appears_in_the_journey(
    client: httpx.AsyncClient, db: Database, people: People
) -> None:
    await ContactHistory(db).record(ANNA_PHONE, "voice", NOW - timedelta(days=2),
                                    NOW - timedelta(days=2), "transferred",
                                    customer_id=people.anna.id, intent="router")  # fmt: skip
    posted = await client.post(
        "/api/interactions",
        json={
            "channel": "chat", "caller": "+1 555 010 0001", "outcome": "answered",
            "intent": "router", "started_at": (NOW - timedelta(days=1)).isoformat(),
            "transcript": [{"speaker": "customer", "text": "my router blinks red"}],
        },
        headers=AUTH,
    )  # fmt: skip

    assert posted.status_code == 201
    assert posted.json()["customer_id"] == people.anna.id  # found by the phone number
    journey = await client.get(f"/api/customers/{people.anna.id}/journey", headers=AUTH)
    assert [(i["channel"], i["intent"]) for i in journey.json()] == [
        ("chat", "router"), ("voice", "router"),
    ]  # fmt: skip
    assert journey.json()[0]["transcript"][0]["text"] == "my router blinks red"


@pytest.mark.parametrize(
    "body",
    [
        {"channel": "voice", "caller": "x", "outcome": "o", "started_at": NOW.isoformat()},
        {"channel": "sms", "caller": "x", "outcome": "o", "started_at": "2026-03-10T10:00:00"},
        {"channel": "sms", "caller": "x", "outcome": "o", "started_at": NOW.isoformat(),
         "ended_at": (NOW - timedelta(hours=1)).isoformat()},
        {"channel": "sms", "caller": "x", "outcome": "o", "started_at": NOW.isoformat(),
         "customer_id": 999999},
    ],
    ids=["voice-is-not-another-channel", "naive-time", "ends-before-start", "no-such-customer"],
)
async def test_bad_interactions_are_refused(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post("/api/interactions", json=body, headers=AUTH)
    assert response.status_code in (404, 422)


async def test_repeat_contacts_report(
    client: httpx.AsyncClient, db: Database, people: People
) -> None:
    history = ContactHistory(db)
    for days_ago, channel in ((20, "voice"), (9, "sms"), (2, "email")):
        at = NOW - timedelta(days=days_ago)
        await history.record(ANNA_PHONE, channel, at, at, "done", customer_id=people.anna.id,
                             intent="router")  # fmt: skip

    response = await client.get(
        "/api/reports/repeat-contacts",
        params={"days": 12, "window_days": 7, "until": NOW.isoformat()}, headers=AUTH,
    )  # fmt: skip

    body = response.json()
    assert body["rows"] == [
        {"reason": "router", "contacts": 2, "repeats": 1, "customers": 1, "rate": 0.5}
    ]


async def test_live_transfer_context_by_channel_id(db: Database, people: People) -> None:
    known_token(db, TOKEN, "operator")
    app = make_app(db)
    registry: LiveContexts = app.state.live_contexts
    registry.put(TransferContext("PJSIP/ivr-00000007", ANNA_PHONE, customer_id=people.anna.id,
                                 customer_name="Anna Walker", authenticated=True,
                                 auth_method="otp", intent="router",
                                 told=("Your request is scheduled for tomorrow.",)))  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as c:
        found = await c.get("/api/transfers/PJSIP/ivr-00000007", headers=AUTH)
        missing = await c.get("/api/transfers/PJSIP/ivr-00000008", headers=AUTH)

    assert found.status_code == 200
    assert found.json()["authenticated"] is True
    assert found.json()["told"] == ["Your request is scheduled for tomorrow."]
    assert missing.status_code == 404


async def test_a_transfer_context_written_by_one_node_is_read_through_another(
    db: Database, people: People,
) -> None:
    """Two `ivr serve` on one database: the call ran on node a (its flows' services wrote the
    context as the engine does on a transfer), the agent's screen asks node b's API."""
    known_token(db, TOKEN, "operator")
    node_a = make_services(db, Settings(_env_file=None))
    context = TransferContext(
        "PJSIP/ivr-0000000a", ANNA_PHONE, customer_id=people.anna.id, customer_name="Anna Walker",
        authenticated=True, auth_method="otp", intent="billing", told=("Your balance is 5.",),
        interaction_id=None, at=now_utc(), extra={"transfer_to": "queue-agents"})
    await node_a.transferring(FlowContext(caller=ANNA_PHONE, dnis="18005550100",
                                          channel=context.channel_id), context)
    node_b = make_app(db)
    transport = httpx.ASGITransport(app=node_b)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as c:
        found = await c.get(f"/api/transfers/{context.channel_id}", headers=AUTH)

    assert found.status_code == 200, found.text
    assert found.json() == context.to_json()
