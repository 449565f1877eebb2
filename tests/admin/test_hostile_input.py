"""Hostile input to the admin API (issue 13, item 9): every malformed request is a 4xx problem
body {title, status, detail}, never a 500, on SQLite and PostgreSQL, through the real app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from ivr.admin.app import create_app
from ivr.config import Settings
from ivr.store.db import Database
from ivr.store.domain import NewAccount
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.customers import CustomerRepository
from ivr.store.repositories.tokens import TokenRepository

REPO = Path(__file__).parents[2]
HUGE = "30295153020377319342080"  # 23 digits: past every database integer
JUST_OVER = str(2**31)  # one past PostgreSQL's `integer`, the type of every id column
TINY = "flow: tiny\nlanguage: en\nstart: bye\nnodes:\n  bye:\n    type: hangup\n"
JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv"}


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    secret = TokenRepository(db).create("admin-1", "admin")[1]
    CustomerRepository(db).add("Bob", ["+12125550111"],
                               accounts=[NewAccount("B-1", Decimal(0), Decimal(70))])
    app = create_app(Settings(_env_file=None, prompts_dir=REPO / "prompts"), db)
    # raise_app_exceptions=False: a crash is seen as the 500 a client would get.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin",
                                 headers={"Authorization": f"Bearer {secret}"}) as c:
        assert (await c.post("/api/campaigns", json={"name": "spring"})).status_code == 201
        saved = await c.post("/api/flows/tiny/versions", json={"yaml": TINY})
        assert saved.status_code == 201
        yield c


def assert_problem(response: httpx.Response, *words: str) -> dict[str, Any]:
    """A 4xx with the problem shape and a message naming what was wrong."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    for word in words:
        assert word in body["detail"], body
    return body


@pytest.mark.parametrize("path", [
    f"/api/customers/{HUGE}", f"/api/customers/{JUST_OVER}", f"/api/customers/{HUGE}/journey",
    f"/api/customers?offset={HUGE}", "/api/customers?offset=-1", "/api/customers?limit=-50",
    f"/api/flows/tiny/versions/{HUGE}", f"/api/flows/tiny/versions/{JUST_OVER}",
    f"/api/flows/tiny/diff?a={HUGE}&b=1", f"/api/flows/tiny/diff?a=1&b={JUST_OVER}",
])  # fmt: skip
async def test_ids_and_offsets_beyond_the_database_integer_are_refused(
    client: httpx.AsyncClient, path: str
) -> None:
    assert_problem(await client.get(path))


@pytest.mark.parametrize("path", [
    "/api/campaigns/a%00b", "/api/campaigns/a%00b/report", "/api/flows/a%00b",
    "/api/customers?q=a%00b",
])  # fmt: skip
async def test_nul_in_a_path_or_query_is_refused(client: httpx.AsyncClient, path: str) -> None:
    assert_problem(await client.get(path), "NUL")


@pytest.mark.parametrize("body", [
    '{"customer": "B-1", "forecast": NaN}',
    '{"customer": "B-1", "forecast": 1e999}',
    '{"customer": "B-1", "forecast": -Infinity}',
    '{"customer": "B-1", "forecast": "NaN"}',
    '{"customer": "B-1", "forecast": "1e999"}',
    '{"customer": "B-1", "forecast": 80, "limit": -50}',
    '{"customer": "B-1", "forecast": 80, "limit": Infinity}',
    '{"customer": "' + "1" * 5000 + '", "forecast": 80}',
    '{"customer": ' + "1" * 5000 + ', "forecast": 80}',
    '{"customer": "B-1\\u0000", "forecast": 80}',
])  # fmt: skip
async def test_bill_forecast_refuses_non_finite_negative_and_oversized_values(
    client: httpx.AsyncClient, body: str
) -> None:
    assert_problem(await client.post("/api/events/bill-forecast", content=body, headers=JSON))


async def test_a_numeric_customer_past_the_id_range_is_an_unknown_customer(
    client: httpx.AsyncClient,
) -> None:
    body = {"customer": "99999999999", "forecast": "80"}
    response = await client.post("/api/events/bill-forecast", json=body)
    assert response.status_code == 404
    assert_problem(response, "99999999999")


@pytest.mark.parametrize("field", ["area", "message", "eta", "event_id"])
@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800", "\\udfff"])
async def test_outage_text_with_nul_or_a_lone_surrogate_is_refused(
    client: httpx.AsyncClient, field: str, bad: str
) -> None:
    body = {"area": "north", "message": "fibre cut", field: "x"}
    text = json.dumps(body).replace('"x"', f'"a{bad}b"')
    response = await client.post("/api/events/outage", content=text, headers=JSON)
    assert_problem(response, field)


@pytest.mark.parametrize(("path", "body"), [
    ("/api/campaigns", {"name": "big", "priority": int(HUGE)}),
    ("/api/campaigns", {"name": "big", "max_channels": int(HUGE)}),
    ("/api/campaigns", {"name": "big", "kind": "k" * 5000}),
    ("/api/campaigns", {"name": "big", "default_time_zone": "Z" * 5000}),
    ("/api/campaigns", {"name": "big", "retry_seconds": {"busy": int(HUGE)}}),
    ("/api/campaigns/spring/contacts", [{"phone": "+12125550100", "name": "n" * 5000}]),
    ("/api/campaigns/spring/contacts", [{"phone": "+12125550100", "variables": {"a": "\x00"}}]),
    ("/api/interactions", {"channel": "sms", "caller": "x", "customer_id": int(HUGE),
                           "started_at": "2026-01-01T00:00:00Z", "outcome": "answered"}),
    ("/api/flows/tiny/publish", {"version": int(HUGE)}),
    ("/api/flows/tiny/simulate", {"version": int(HUGE)}),
    ("/api/flows/validate", {"yaml": "flow: a\x00"}),
])  # fmt: skip
async def test_bodies_with_oversized_numbers_or_text_are_refused(
    client: httpx.AsyncClient, path: str, body: Any
) -> None:
    assert_problem(await client.post(path, json=body))


async def test_calls_per_second_must_be_finite(client: httpx.AsyncClient) -> None:
    text = '{"name": "fast", "calls_per_second": 1e999}'
    assert_problem(await client.post("/api/campaigns", content=text, headers=JSON),
                   "calls_per_second")


@pytest.mark.parametrize("body", [
    b'{"yaml": "Zo\xeb"}',  # Latin-1 inside JSON
    b'\xff\xfe{\x00"\x00y\x00',  # UTF-16
    b'{"yaml": ',  # cut short
])  # fmt: skip
async def test_undecodable_or_broken_json_is_a_problem_body(
    client: httpx.AsyncClient, body: bytes
) -> None:
    assert_problem(await client.post("/api/flows/validate", content=body, headers=JSON))


async def test_the_validation_error_handler_survives_input_it_cannot_echo(
    client: httpx.AsyncClient,
) -> None:
    """Bytes that are not UTF-8, NaN, a 5 000-digit number: the 422 names the field, and
    never echoes the input (which crashed the handler itself)."""
    response = await client.post("/api/campaigns/spring/contacts", content=b'[{"phone": 1e999}]',
                                 headers=JSON)
    body = assert_problem(response, "phone")
    assert body["errors"][0]["loc"] == ["body", 0, "phone"]
    assert "input" not in body["errors"][0]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
async def test_csv_in_utf16_or_with_a_bom_is_imported(
    client: httpx.AsyncClient, db: Database, encoding: str
) -> None:
    text = "phone,name\n+12125550100,Zoë\n"
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        data = "\ufeff".encode(encoding) + data  # what Excel's "Unicode text" writes
    r = await client.post("/api/campaigns/spring/import", content=data, headers=CSV)
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 1
    repo = CampaignRepository(db)
    assert [c.name for c in repo.contacts(repo.get("spring").id)] == ["Zoë"]


async def test_csv_with_a_declared_charset_is_decoded_with_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    data = "phone,name\n+12125550100,Zoë\n".encode("latin-1")
    r = await client.post("/api/campaigns/spring/import", content=data,
                          headers={"Content-Type": "text/csv; charset=latin-1"})
    assert r.status_code == 200, r.text
    repo = CampaignRepository(db)
    assert [c.name for c in repo.contacts(repo.get("spring").id)] == ["Zoë"]


@pytest.mark.parametrize(("data", "content_type", "words"), [
    ("phone,name\n+12125550100,Zoë\n".encode("latin-1"), "text/csv", ("UTF-8", "byte 0xeb")),
    (b"phone\n+12125550100\x00\n", "text/csv", ("NUL",)),
    (b"phone\n+12125550100\n", "text/csv; charset=no-such-codec", ("no-such-codec",)),
])  # fmt: skip
async def test_csv_that_cannot_be_read_is_refused_with_a_reason(
    client: httpx.AsyncClient, data: bytes, content_type: str, words: tuple[str, ...]
) -> None:
    r = await client.post("/api/campaigns/spring/import", content=data,
                          headers={"Content-Type": content_type})
    assert_problem(r, *words)


@pytest.mark.parametrize(("path", "body"), [
    ("/api/campaigns", {"name": "yes", "priority": True}),
    ("/api/campaigns", {"name": "yes", "calls_per_second": True}),
    ("/api/campaigns", {"name": "ts", "holidays": [1767225600]}),
    ("/api/flows/tiny/publish", {"version": True}),
    ("/api/interactions", {"channel": "sms", "caller": "x", "started_at": 1767225600,
                           "outcome": "answered"}),
    ("/api/flows/tiny/simulate", {"inputs": ["wav:/etc/hostname"]}),
])  # fmt: skip
async def test_values_of_the_wrong_kind_are_not_coerced(
    client: httpx.AsyncClient, path: str, body: Any
) -> None:
    """true is not 1, a number is not a date, and a simulated caller cannot open server files."""
    response = await client.post(path, json=body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("until", ["0.5", "0001-01-02T00:00:00Z", "9999-12-31T23:59:59-23:59"])
async def test_repeat_contacts_until_is_an_iso_instant_in_range(
    client: httpx.AsyncClient, until: str
) -> None:
    """A number was read as a timestamp; year 1 minus the period overflowed (a 500)."""
    response = await client.get("/api/reports/repeat-contacts", params={"until": until})
    assert_problem(response, "until")


@pytest.mark.parametrize(("started", "ended", "word"), [
    ("0001-01-01T00:00:00+00:01", None, "started_at"),  # year 0 in UTC: crashed
    ("1999-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "24 days"),  # ms overflow the column
])  # fmt: skip
async def test_interaction_times_the_store_cannot_hold_are_refused(
    client: httpx.AsyncClient, started: str, ended: str | None, word: str
) -> None:
    body = {"channel": "sms", "caller": "x", "outcome": "answered", "started_at": started,
            "ended_at": ended}
    assert_problem(await client.post("/api/interactions", json=body), word)


async def test_a_405_lists_every_method_of_the_url(client: httpx.AsyncClient) -> None:
    """Starlette named only the first matching route: DELETE /api/campaigns said 'Allow: GET'."""
    response = await client.delete("/api/campaigns")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert_problem(response)
    report = await client.post("/api/campaigns/spring/report")
    assert report.status_code == 405 and report.headers["allow"] == "GET"


async def test_the_report_csv_of_a_campaign_named_in_any_script_downloads(
    client: httpx.AsyncClient,
) -> None:
    """An outage in area 'север' makes campaign 'outage-север'; its name in the header crashed."""
    outage = await client.post("/api/events/outage", json={"area": "север", "message": "cut"})
    assert outage.status_code == 200, outage.text
    response = await client.get("/api/campaigns/outage-север/report.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert "filename*=UTF-8''outage-%D1%81%D0%B5%D0%B2%D0%B5%D1%80-report.csv" in disposition
