"""The console under hostile input, over HTTP (issue 13): escaped fragments and server-side name
checks, security headers, CSV cells that cannot become formulas, and sessions that end."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ivr.admin.app import create_app
from ivr.campaigns import reports
from ivr.config import Settings
from ivr.csv_export import defuse
from ivr.store.db import Database
from ivr.store.domain import CampaignSpec
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.customers import CustomerRepository
from ivr.store.repositories.interactions import InteractionRepository
from ivr.store.repositories.tokens import TokenRepository

REPO = Path(__file__).parents[2]
XSS_NAME = "zz<img src=x onerror=alert(3)>"
FORMULA = "=cmd|' /C calc'!A0"
CONSOLE = {"X-IVR-Console": "1", "HX-Request": "true"}


@dataclass
class Site:
    client: httpx.AsyncClient
    db: Database
    tokens: dict[str, str]

    async def login(self, role: str = "operator") -> httpx.Response:
        reply = await self.client.post("/console/login", data={"token": self.tokens[role]})
        assert reply.status_code == 303, reply.text
        return reply

    async def create_campaign(self, name: str) -> httpx.Response:
        return await self.client.post("/console/campaigns", headers=CONSOLE,
                                      data={"name": name, "template": "outage"})


Factory = Callable[..., AbstractAsyncContextManager[Site]]


@pytest.fixture
def site(db: Database) -> Factory:
    """Opens the admin app (console included) on this test's database (SQLite and
    PostgreSQL), with settings."""
    url = db.engine.url.render_as_string(hide_password=False)

    @asynccontextmanager
    async def open_site(**settings: Any) -> AsyncIterator[Site]:
        tokens = TokenRepository(db)
        secrets = {r: tokens.create(f"{r}-1", r)[1] for r in ("viewer", "operator", "admin")}
        app = create_app(Settings(database_url=url, prompts_dir=REPO / "prompts", **settings),
                         db)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://ivr.test") as client:
            yield Site(client, db, secrets)

    return open_site


# --- item 2: reflected XSS ---------------------------------------------------------------------

async def test_a_hostile_campaign_name_is_refused_and_echoed_escaped(site: Factory) -> None:
    async with site() as s:
        await asyncio.to_thread(CampaignRepository(s.db).create, _spec(XSS_NAME))
        await s.login()
        reply = await s.create_campaign(XSS_NAME)
        assert reply.status_code == 422
        assert reply.headers["content-type"].startswith("text/html")
        assert "<img" not in reply.text
        assert "zz&lt;img src=x onerror=alert(3)&gt;" in reply.text
        assert "letters, digits" in reply.text


async def test_a_duplicate_name_answers_409_with_an_escaped_fragment(site: Factory) -> None:
    async with site() as s:
        await s.login()
        assert (await s.create_campaign("north.1")).status_code == 204
        again = await s.create_campaign("north.1")
        assert again.status_code == 409
        assert 'role="alert"' in again.text and "north.1" in again.text


async def test_the_console_accepts_the_same_names_as_the_api(site: Factory) -> None:
    async with site() as s:
        await s.login()
        for good in ("a", "outage_north-2026.12", "x" * 100):
            assert (await s.create_campaign(good)).status_code == 204, good
        for bad in ("x" * 101, "a b", "a/b", "a;b", " ", ""):
            assert (await s.create_campaign(bad)).status_code == 422, repr(bad)


async def test_the_flow_graph_fragment_escapes_the_flow_text(site: Factory) -> None:
    flow = """flow: tiny
language: en
start: ask
nodes:
  ask:
    type: menu
    prompt: ivr/goodbye
    options:
      - say: ["<img src=x onerror=alert(1)>"]
        goto: bye
  bye:
    type: hangup
"""
    async with site() as s:
        await s.login("viewer")
        reply = await s.client.post("/console/flows-graph", headers=CONSOLE,
                                    json={"yaml": flow})
        assert reply.status_code == 200 and "<svg" in reply.text, reply.text
        assert "<img" not in reply.text and "&lt;img src=x onerror=alert(1)&gt;" in reply.text


# --- item 3: CR/LF in a campaign name ----------------------------------------------------------

@pytest.mark.parametrize("name", ["north\r\nX-Evil: 1", "north\n", "north\rx", "a\x00b"])
async def test_control_characters_in_a_name_are_refused_and_nothing_is_stored(
    site: Factory, name: str
) -> None:
    async with site() as s:
        await s.login()
        reply = await s.create_campaign(name)
        assert reply.status_code == 422
        assert "HX-Redirect" not in reply.headers
        assert "letters, digits" in reply.text
        assert await asyncio.to_thread(CampaignRepository(s.db).all) == []


# --- item 4: security headers ------------------------------------------------------------------

async def test_console_pages_carry_the_security_headers(site: Factory) -> None:
    async with site() as s:
        login = await s.client.get("/console/login")
        await s.login()
        for reply in (login, await s.client.get("/console/flows"),
                      await s.client.get("/console/campaigns")):
            assert reply.status_code == 200
            csp = reply.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert "object-src 'none'" in csp
            assert reply.headers["x-frame-options"] == "DENY"
            assert reply.headers["x-content-type-options"] == "nosniff"
            assert reply.headers["referrer-policy"] == "same-origin"
            assert reply.headers["cache-control"] == "no-store"
        static = await s.client.get("/console/static/console.js")
        assert static.headers["x-content-type-options"] == "nosniff"
        assert static.headers.get("cache-control") != "no-store"  # public files may be cached


# --- item 5: CSV formula injection -------------------------------------------------------------

def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_console_report_csvs_defuse_formulas(site: Factory) -> None:
    async with site() as s:
        now = datetime.now(UTC)
        customer = await asyncio.to_thread(CustomerRepository(s.db).add, "Ann", ["+12025550101"])
        for intent in (FORMULA, "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain"):
            await asyncio.to_thread(
                InteractionRepository(s.db).record, "+12025550101", "voice",
                now - timedelta(minutes=5), now - timedelta(minutes=4), "transferred",
                customer_id=customer.id, intent=intent)
        await s.login("viewer")
        for report in ("intents", "transfers", "repeats"):
            reply = await s.client.get(f"/console/reports/{report}.csv")
            assert reply.status_code == 200
            first = {row[0] for row in _cells(reply.text)[1:]}
            assert {"'" + FORMULA, "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx",
                    "plain"} <= first, report
            assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r")
                           for row in _cells(reply.text) for c in row), report


async def test_numbers_in_report_csvs_stay_numbers(site: Factory) -> None:
    async with site() as s:
        now = datetime.now(UTC)
        await asyncio.to_thread(InteractionRepository(s.db).record, "+12025550101", "voice",
                                now - timedelta(minutes=5), now, "self_served", intent="bill")
        await s.login("viewer")
        rows = _cells((await s.client.get("/console/reports/containment.csv")).text)
        assert rows[1][1:] == ["1", "1", "100.0"]


async def test_the_campaign_report_csv_goes_through_the_same_cell_guard(site: Factory) -> None:
    async with site() as s:
        await asyncio.to_thread(CampaignRepository(s.db).create, _spec("north"))
        headers = {"Authorization": f"Bearer {s.tokens['viewer']}"}
        reply = await s.client.get("/api/campaigns/north/report.csv", headers=headers)
        rows = _cells(reply.text)
        assert rows[0][:2] == ["period", "attempted"] and rows[-1][:2] == ["total", "0"]
    built = reports.CampaignReport("c", "draft", None, 0, {}, reports.Counts(FORMULA), [])
    assert _cells(reports.to_csv(built))[1][0] == defuse(FORMULA) == "'" + FORMULA


# --- item 11: console sessions -----------------------------------------------------------------

async def test_the_cookie_is_a_session_id_not_the_api_token(site: Factory) -> None:
    async with site() as s:
        reply = await s.login()
        cookie = s.client.cookies["ivr_session"]
        assert cookie != s.tokens["operator"] and s.tokens["operator"] not in reply.headers[
            "set-cookie"]
        assert "httponly" in reply.headers["set-cookie"].lower()
        assert "samesite=strict" in reply.headers["set-cookie"].lower()


async def _refused(s: Site, cookie: str) -> None:
    s.client.cookies.clear()
    s.client.cookies.set("ivr_session", cookie)  # as a thief with a copy of it would
    page = await s.client.get("/console/flows")
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    api = await s.client.get("/api/flows")
    assert api.status_code == 401


async def test_a_cookie_reused_after_logout_is_refused(site: Factory) -> None:
    async with site() as s:
        await s.login()
        cookie = s.client.cookies["ivr_session"]
        assert (await s.client.get("/console/flows")).status_code == 200
        assert (await s.client.get("/api/flows")).status_code == 200
        out = await s.client.post("/console/logout")
        assert out.status_code == 303
        await _refused(s, cookie)


async def test_a_session_ends_when_its_token_is_revoked(site: Factory) -> None:
    async with site() as s:
        await s.login()
        cookie = s.client.cookies["ivr_session"]
        assert (await s.client.get("/console/flows")).status_code == 200
        tokens = TokenRepository(s.db)
        victim = next(t for t in await asyncio.to_thread(tokens.list) if t.role == "operator")
        await asyncio.to_thread(tokens.revoke, victim.id)
        await _refused(s, cookie)


async def test_a_session_expires_after_its_lifetime(site: Factory) -> None:
    async with site(console_session_seconds=1) as s:
        await s.login()
        cookie = s.client.cookies["ivr_session"]
        await asyncio.sleep(1.2)
        await _refused(s, cookie)


async def test_an_idle_session_expires(site: Factory) -> None:
    async with site(console_idle_seconds=1) as s:
        await s.login()
        cookie = s.client.cookies["ivr_session"]
        await asyncio.sleep(1.2)
        await _refused(s, cookie)


def _spec(name: str) -> CampaignSpec:
    return CampaignSpec(name=name, kind="outage", message="hello")


async def test_a_session_in_use_outlives_the_idle_limit(site: Factory) -> None:
    async with site(console_idle_seconds=2) as s:
        await s.login()
        for _ in range(15):  # 3 s of use, a request every 0.2 s: never 2 s idle
            assert (await s.client.get("/api/flows")).status_code == 200
            await asyncio.sleep(0.2)


async def test_parallel_requests_on_an_ending_session_never_fail(site: Factory) -> None:
    # Polls racing a sign-out (or each other past the idle limit) touch a row another request
    # is deleting: each must still get a clean answer, never a 500.
    async with site(console_idle_seconds=1) as s:
        await s.login()
        cookie = s.client.cookies["ivr_session"]
        await asyncio.sleep(1.2)
        replies = await asyncio.gather(*(s.client.get("/api/flows") for _ in range(20)),
                                       s.client.post("/console/logout"))
        assert {r.status_code for r in replies[:-1]} == {401}
        await s.login()
        live = s.client.cookies["ivr_session"]
        replies = await asyncio.gather(*(s.client.get("/api/flows") for _ in range(20)),
                                       s.client.post("/console/logout"))
        assert {r.status_code for r in replies[:-1]} <= {200, 401}
        await _refused(s, live)
        await _refused(s, cookie)
