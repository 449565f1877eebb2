"""Contact memory over the store (both engines), the greeting service end to end, and the
transfer context."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ivr.customers.context import LiveContexts, TransferContext
from ivr.customers.crm import CallerLookup, SqlCrm
from ivr.customers.history import ContactHistory, repeat_report
from ivr.customers.http_crm import HttpCrm
from ivr.customers.welcome import GreetingService
from ivr.store.db import Database
from ivr.store.models import TransferContextRow
from tests.customers.conftest import ANNA_PHONE, NOW, SHARED_PHONE, STRANGER_PHONE, People
from tests.customers.http_stub import HttpStub, http_stub


async def contact(
    history: ContactHistory, customer_id: int, intent: str, at: datetime, channel: str = "voice"
) -> None:
    await history.record("+15550100001", channel, at, at + timedelta(minutes=2), "done",
                         customer_id=customer_id, intent=intent)  # fmt: skip


async def test_journey_spans_channels_newest_first(db: Database, people: People) -> None:
    history = ContactHistory(db)
    anna = people.anna.id
    await contact(history, anna, "router", NOW - timedelta(days=3), "voice")
    await contact(history, anna, "router", NOW - timedelta(days=2), "sms")
    await contact(history, anna, "billing", NOW - timedelta(days=1), "email")
    await contact(history, people.bob.id, "billing", NOW - timedelta(hours=1), "chat")

    journey = await history.journey(anna)

    assert [(i.channel, i.intent) for i in journey] == [
        ("email", "billing"), ("sms", "router"), ("voice", "router"),
    ]  # fmt: skip


async def test_repeat_contacts_by_reason_count_returns_within_seven_days(
    db: Database, people: People
) -> None:
    history = ContactHistory(db)
    anna, bob, carol = people.anna.id, people.bob.id, people.carol.id
    start = NOW - timedelta(days=30)
    await contact(history, anna, "router", start - timedelta(days=2))  # before the period
    await contact(history, anna, "router", start + timedelta(days=1), "chat")  # repeat (3 d)
    await contact(history, anna, "router", start + timedelta(days=9))  # 8 days later: not
    await contact(history, bob, "billing", start + timedelta(days=5))
    await contact(history, bob, "billing", start + timedelta(days=6), "email")  # repeat
    await contact(history, bob, "billing", start + timedelta(days=7))  # repeat
    await contact(history, carol, "billing", start + timedelta(days=6))

    rows = await history.repeat_contacts(start, NOW)

    table = {r.reason: (r.contacts, r.repeats, r.customers) for r in rows}
    assert table == {"billing": (4, 2, 1), "router": (2, 1, 1)}
    assert rows[0].reason == "billing"
    assert rows[0].rate == 0.5


def test_repeat_report_of_nothing_is_empty() -> None:
    assert repeat_report([], NOW) == []


@pytest.fixture
async def stalled() -> AsyncIterator[HttpStub]:
    async with http_stub() as stub:
        stub.handler = stub.stall
        yield stub


async def test_greeting_service_greets_known_caller_with_repeat_offer(
    db: Database, people: People
) -> None:
    history = ContactHistory(db)
    await contact(history, people.anna.id, "router", NOW - timedelta(days=2), "sms")
    service = GreetingService(CallerLookup(SqlCrm(db)), history, clock=lambda: NOW)

    welcome = await service.welcome(ANNA_PHONE)

    assert welcome.lookup.kind == "known"
    assert welcome.greeting.text == (
        "Good morning, Anna. Your request 'router replacement' is scheduled for tomorrow "
        "between 10 and 12. Are you calling about your router again?"
    )


@pytest.mark.parametrize(
    ("caller", "kind", "greeting"),
    [(STRANGER_PHONE, "unknown", "generic"), ("anonymous", "withheld", "generic"),
     (SHARED_PHONE, "ambiguous", "ambiguous")],
)  # fmt: skip
async def test_greeting_service_for_other_callers(
    db: Database, people: People, caller: str, kind: str, greeting: str
) -> None:
    service = GreetingService(CallerLookup(SqlCrm(db)), ContactHistory(db), clock=lambda: NOW)

    welcome = await service.welcome(caller)

    assert (welcome.lookup.kind, welcome.greeting.kind) == (kind, greeting)
    assert "Anna" not in welcome.greeting.text


async def test_stalled_crm_still_gives_the_generic_greeting_within_a_second(
    db: Database, stalled: HttpStub
) -> None:
    crm = HttpCrm(stalled.url + "/c?phone={phone}")
    service = GreetingService(CallerLookup(crm, budget_ms=300), ContactHistory(db))
    started = time.monotonic()

    welcome = await service.welcome(ANNA_PHONE, language="ru")

    assert time.monotonic() - started < 1.0
    assert welcome.lookup.kind == "unavailable"
    assert welcome.greeting.kind == "generic"
    assert welcome.greeting.text.endswith("Спасибо за звонок.")
    assert len(stalled.received) == 1
    await crm.aclose()


def test_transfer_context_becomes_one_line_channel_variables() -> None:
    context = TransferContext(
        "PJSIP/ivr-00000001", "+15550100001", customer_id=7, customer_name="Anna\r\nWalker",
        authenticated=True, auth_method="otp", intent="router",
        told=("Your request is scheduled for tomorrow.", "x" * 300), interaction_id=42,
    )  # fmt: skip

    variables = context.channel_variables()

    assert variables["IVR_CUSTOMER_NAME"] == "Anna Walker"
    assert variables["IVR_AUTHENTICATED"] == "yes"
    assert variables["IVR_INTENT"] == "router"
    assert variables["IVR_INTERACTION_ID"] == "42"
    assert variables["IVR_TOLD"].startswith("Your request is scheduled for tomorrow. | xxx")
    assert all(len(v) <= 200 and "\n" not in v and "\r" not in v for v in variables.values())
    assert TransferContext("c", None).channel_variables()["IVR_AUTHENTICATED"] == "no"


def test_live_contexts_are_found_by_channel_and_expire(db: Database) -> None:
    start = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    now = [start]
    live = LiveContexts(db, ttl=60, clock=lambda: now[0])
    live.put(TransferContext("PJSIP/a", "+1", told=("told",), at=start, extra={"k": "v"}))

    assert live.get("PJSIP/a") == TransferContext("PJSIP/a", "+1", told=("told",), at=start,
                                                  extra={"k": "v"})
    assert live.get("PJSIP/b") is None
    now[0] = start + timedelta(seconds=60)
    assert live.get("PJSIP/a") is None
    live.put(TransferContext("PJSIP/b", "+2"))  # writing sweeps what has expired
    with db.session() as s:
        assert s.scalars(select(TransferContextRow.channel_id)).all() == ["PJSIP/b"]
