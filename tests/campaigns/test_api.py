"""Campaign and event routes over httpx's ASGI transport: CSV import with a rejection report,
state changes, idempotent triggers, outage updates, reports and CSV export (both databases)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from ivr.admin import problems
from ivr.admin.routes import campaigns, events
from ivr.config import Settings
from ivr.store.db import Database
from ivr.store.domain import NewAccount
from ivr.store.models import ApiTokenRow, now_utc
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.customers import CustomerRepository
from ivr.store.repositories.tokens import hash_token

TOKEN = "ivr_test-campaign-operator"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CSV = """phone,name,time_zone,plan
+1 212 555 0100,Ann,America/New_York,gold
not-a-number,Bad,UTC,x
+12125550101,Tz,Mars/Base,x
(212) 555-0102,Local,,silver
+12125550100,Again,UTC,x
,Empty,UTC,x
"""


class Woken:
    def __init__(self) -> None:
        self.count = 0

    def wake(self) -> None:
        self.count += 1


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    with db.session() as s:
        s.add(ApiTokenRow(name="op", role="operator", token_hash=hash_token(TOKEN),
                          created_at=now_utc(), last_used_at=None, revoked_at=None))
    app = FastAPI()
    problems.install(app)
    app.state.settings = Settings(_env_file=None)
    app.state.db = db
    app.state.dialer = Woken()
    app.include_router(campaigns.router)
    app.include_router(events.router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin",
                                 headers=AUTH) as c:
        yield c


async def test_routes_need_a_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/campaigns", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    r = await client.post("/api/events/outage", json={"area": "a", "message": "m"},
                          headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401


async def test_csv_import_reports_each_bad_row_and_imports_the_rest(
        client: httpx.AsyncClient, db: Database) -> None:
    assert (await client.post("/api/campaigns", json={"name": "spring"})).status_code == 201
    r = await client.post("/api/campaigns/spring/import", content=CSV,
                          headers={"Content-Type": "text/csv"})
    assert r.status_code == 200
    body = r.json()
    assert (body["rows"], body["imported"]) == (6, 2)
    assert [(x["line"], x["reason"]) for x in body["rejected"]] == [
        (3, "invalid phone number 'not-a-number'"), (4, "unknown time zone 'Mars/Base'"),
        (6, "duplicate phone number"), (7, "missing phone number")]
    rows = CampaignRepository(db).contacts(CampaignRepository(db).get("spring").id)
    assert [(c.phone, c.time_zone, c.variables) for c in rows] == [
        ("+12125550100", "America/New_York", {"plan": "gold"}),
        ("+12125550102", "UTC", {"plan": "silver"})]


async def test_csv_without_phone_column_imports_nothing(client: httpx.AsyncClient) -> None:
    await client.post("/api/campaigns", json={"name": "c"})
    r = await client.post("/api/campaigns/c/import", content="name\nAnn\n",
                          headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and "phone" in r.json()["detail"]


async def test_campaign_lifecycle_and_live_progress(client: httpx.AsyncClient) -> None:
    await client.post("/api/campaigns", json={"name": "c", "window_start": "09:00"})
    r = await client.post("/api/campaigns/c/contacts",
                          json=[{"phone": "+12125550100"}, {"phone": "12"}])
    assert r.json()["imported"] == 1 and r.json()["rejected"][0]["line"] == 1
    assert (await client.post("/api/campaigns/c/start")).json()["state"] == "running"
    paused = (await client.post("/api/campaigns/c/pause")).json()
    assert (paused["state"], paused["pause_reason"]) == ("paused", "paused by an operator")
    assert (await client.post("/api/campaigns/c/resume")).json()["state"] == "running"
    got = (await client.get("/api/campaigns/c")).json()
    assert got["progress"]["pending"] == 1 and got["window"] == "09:00-21:00"
    assert (await client.post("/api/campaigns/c/cancel")).json()["progress"]["cancelled"] == 1
    assert (await client.post("/api/campaigns/c/start")).status_code == 409


async def test_bill_forecast_over_the_customers_own_limit_queues_one_call(
        client: httpx.AsyncClient, db: Database) -> None:
    repo = CustomerRepository(db)
    repo.add("Bob", ["+12125550111"], accounts=[NewAccount("B-1", Decimal(0), Decimal(70))])
    key = {"Idempotency-Key": "evt-1"}
    body = {"customer": "B-1", "forecast": "84.10"}
    first = (await client.post("/api/events/bill-forecast", json=body, headers=key)).json()
    again = (await client.post("/api/events/bill-forecast", json=body, headers=key)).json()
    assert (first["queued"], first["replayed"]) == (1, False)
    assert (again["queued"], again["replayed"]) == (1, True)
    contacts = CampaignRepository(db).contacts(CampaignRepository(db).get("bill-forecast").id)
    assert len(contacts) == 1 and contacts[0].variables["limit"] == "70.00"
    within = {"customer": "B-1", "forecast": "69"}
    r = await client.post("/api/events/bill-forecast", json=within)
    assert r.json()["queued"] == 0 and r.json()["reason"] == "forecast within the limit"
    r = await client.post("/api/events/bill-forecast", json={**body, "forecast": "1"},
                          headers=key)
    assert r.status_code == 409  # the key was used for another event
    r = await client.post("/api/events/bill-forecast", json={"customer": "nobody",
                                                            "forecast": "5"})
    assert r.status_code == 404 and "nobody" in r.json()["detail"]


async def test_outage_notifies_the_area_and_updates_supersede(
        client: httpx.AsyncClient, db: Database) -> None:
    repo = CustomerRepository(db)
    for i in range(3):
        repo.add(f"N{i}", [f"+1212555012{i}"], area="north")
    repo.add("S", ["+12125550199"], area="south")
    down = {"area": "north", "message": "fibre cut", "eta": "18:00"}
    first = (await client.post("/api/events/outage", json=down)).json()
    same = (await client.post("/api/events/outage", json=down,
                              headers={"Idempotency-Key": "other"})).json()
    update = (await client.post("/api/events/outage", json={**down, "eta": "20:00"})).json()
    assert first["queued"] == 3 and same["queued"] == 0
    assert (update["queued"], update["superseded"]) == (3, 3)
    campaign = CampaignRepository(db).get("outage-north")
    states = sorted((c.state, c.variables["eta"]) for c in CampaignRepository(db).contacts(
        campaign.id))
    assert states == [("cancelled", "18:00")] * 3 + [("pending", "20:00")] * 3


async def test_report_counts_and_csv_export(client: httpx.AsyncClient, db: Database) -> None:
    await client.post("/api/campaigns", json={"name": "r"})
    await client.post("/api/campaigns/r/contacts", json=[{"phone": "+12125550100"}])
    report = (await client.get("/api/campaigns/r/report")).json()
    assert report["contacts"] == 1 and report["totals"]["attempted"] == 0
    assert report["totals"]["reach_rate"] == 0.0
    csv = (await client.get("/api/campaigns/r/report.csv")).text
    assert csv.splitlines()[0].startswith("period,attempted,reached,confirmed")
    assert csv.splitlines()[-1].startswith("total,0,0,0")
