"""The HTTP CRM adapter against a real HTTP server on loopback: mapping, auth header,
slow, failing and garbage answers, and the circuit breaker."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from ivr.customers.crm import CallerLookup
from ivr.customers.crm_mapping import parse_fields
from ivr.customers.errors import CrmConfigError
from ivr.customers.http_crm import HttpCrm, parse_header
from ivr.customers.resilience import CircuitBreaker, TtlCache
from tests.customers.http_stub import Handler, HttpStub, Received, Reply, http_stub

ANNA = {
    "customer_id": "17",
    "contact": {"full_name": "Anna Walker", "lang": "en"},
    "phones": ["+15550100001"],
    "time_zone": "America/New_York",
    "accounts": [{"number": "A-1", "balance": 20, "bill_limit": "70", "forecast": 84}],
    "requests": [
        {"title": "router replacement", "status": "scheduled",
         "scheduled_from": "2026-03-11T10:00:00-04:00",
         "scheduled_to": "2026-03-11T12:00:00-04:00"},
        {"title": "old", "status": "closed"},
    ],
}  # fmt: skip
FIELDS = "id=customer_id, name=contact.full_name, language=contact.lang"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def stub() -> AsyncIterator[HttpStub]:
    async with http_stub() as server:
        yield server


def lookup_for(stub: HttpStub, *, budget_ms: int = 300, breaker: CircuitBreaker | None = None,
               cache_ttl: float = 0.0) -> CallerLookup:  # fmt: skip
    crm = HttpCrm(
        stub.url + "/customers?phone={phone}",
        headers=parse_header("Authorization: Bearer crm-token"),
        fields=parse_fields(FIELDS),
    )
    return CallerLookup(crm, budget_ms=budget_ms, breaker=breaker, cache=TtlCache(cache_ttl))


def answer(reply: Reply) -> Handler:
    async def handler(_: Received) -> Reply:
        return reply

    return handler


async def test_known_customer_is_read_through_the_field_mapping(stub: HttpStub) -> None:
    stub.handler = answer(Reply.of_json([ANNA]))

    result = await lookup_for(stub).lookup("+15550100001")

    assert result.kind == "known"
    anna = result.customer
    assert anna is not None
    assert (anna.id, anna.name, anna.language) == (17, "Anna Walker", "en")
    assert anna.accounts[0].over_limit is True
    assert anna.accounts[0].forecast == Decimal(84)
    assert [r.title for r in anna.open_requests] == ["router replacement"]
    assert anna.open_requests[0].scheduled_from == datetime(2026, 3, 11, 14, tzinfo=UTC)
    request = stub.received[0]
    assert request.path == "/customers?phone=%2B15550100001"
    assert request.headers["authorization"] == "Bearer crm-token"


async def test_not_found_and_empty_list_mean_unknown(stub: HttpStub) -> None:
    lookup = lookup_for(stub)
    stub.handler = answer(Reply(404, b"no such customer"))
    assert (await lookup.lookup("+15550100001")).kind == "unknown"
    stub.handler = answer(Reply.of_json({"customers": []}))
    assert (await lookup.lookup("+15550100001")).kind == "unknown"


async def test_two_customers_for_one_number_are_ambiguous(stub: HttpStub) -> None:
    other = {**ANNA, "customer_id": 18, "contact": {"full_name": "Carl Walker"}}
    stub.handler = answer(Reply.of_json({"customers": [ANNA, other]}))

    result = await lookup_for(stub).lookup("+15550100001")

    assert result.kind == "ambiguous"
    assert [c.id for c in result.customers] == [17, 18]


async def test_stalled_crm_gives_unavailable_within_the_budget(stub: HttpStub) -> None:
    stub.handler = stub.stall
    started = time.monotonic()

    result = await lookup_for(stub, budget_ms=300).lookup("+15550100001")

    assert time.monotonic() - started < 1.0
    assert result.kind == "unavailable"
    assert len(stub.received) == 1  # the request did go out; the answer never came


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, b"{}"),
        Reply(200, b"<html>oops</html>", "text/html"),
        Reply(200, b"\xff\xfe garbage"),
        Reply.of_json(["not a customer"]),
        Reply.of_json([{"customer_id": "x17", "contact": {"full_name": "A"}}]),
        Reply.of_json([{**ANNA, "accounts": [{"number": "A-1", "forecast": "lots"}]}]),
        Reply.of_json([{**ANNA, "requests": [{"title": "t", "scheduled_from": "tomorrow"}]}]),
        Reply.of_json(42),
    ],
    ids=["http-500", "html", "bytes", "list-of-text", "bad-id", "bad-money", "bad-time", "number"],
)
async def test_failing_or_garbage_answers_give_unavailable(stub: HttpStub, reply: Reply) -> None:
    stub.handler = answer(reply)

    result = await lookup_for(stub).lookup("+15550100001")

    assert result.kind == "unavailable"
    assert len(stub.received) == 1


async def test_unreachable_crm_gives_unavailable() -> None:
    async with http_stub() as gone:
        url = gone.url
    crm = HttpCrm(url + "/c/{digits}")
    assert (await CallerLookup(crm).lookup("+15550100001")).kind == "unavailable"


async def test_breaker_opens_after_failures_then_half_opens_and_closes(stub: HttpStub) -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, reset_after=30, clock=clock)
    lookup = lookup_for(stub, breaker=breaker)
    stub.handler = answer(Reply(500))
    for _ in range(3):
        assert (await lookup.lookup("+15550100001")).kind == "unavailable"
    assert str(breaker.state) == "open"

    assert (await lookup.lookup("+15550100001")).kind == "unavailable"
    assert len(stub.received) == 3  # open: the CRM was not asked

    clock.now += 30
    assert str(breaker.state) == "half_open"
    stub.handler = answer(Reply.of_json([ANNA]))
    assert (await lookup.lookup("+15550100001")).kind == "known"
    assert len(stub.received) == 4
    assert str(breaker.state) == "closed"


async def test_cached_answer_survives_a_crm_outage(stub: HttpStub) -> None:
    lookup = lookup_for(stub, cache_ttl=30)
    stub.handler = answer(Reply.of_json([ANNA]))
    await lookup.lookup("+15550100001")
    stub.handler = answer(Reply(500))

    result = await lookup.lookup("+15550100001")

    assert (result.kind, result.cached, len(stub.received)) == ("known", True, 1)


def test_bad_settings_are_refused_with_a_clear_message() -> None:
    with pytest.raises(CrmConfigError, match=r"no \{phone\}"):
        HttpCrm("http://crm/customers")
    with pytest.raises(CrmConfigError, match="ours=theirs"):
        parse_fields("nickname=nick")
    with pytest.raises(CrmConfigError, match="Name: value"):
        parse_header("Bearer abc")


async def test_client_passed_in_is_used(stub: HttpStub) -> None:
    stub.handler = answer(Reply.of_json(ANNA))
    async with httpx.AsyncClient(headers={"X-Api-Key": "k"}) as client:
        crm = HttpCrm(stub.url + "/c/{digits}", fields=parse_fields(FIELDS), client=client)
        found = await crm.find_by_phone("+15550100001")
    assert [c.id for c in found] == [17]
    assert stub.received[0].path == "/c/15550100001"
    assert stub.received[0].headers["x-api-key"] == "k"
