"""CallerServices on emulated calls over FastAGI through the sample flow: the right greeting for
known, unknown, withheld and ambiguous callers, the repeat-contact offer, a stalled HTTP CRM,
and the transfer context (channel variables + the live registry the admin API reads)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from ivr.call.session import Call
from ivr.customers.crm import CallerLookup
from ivr.customers.crm_mapping import parse_fields
from ivr.customers.http_crm import HttpCrm
from ivr.customers.resilience import TtlCache
from ivr.flows.catalog import FlowCatalog
from ivr.flows.files import import_dialplans
from ivr.flows.runner import CallRunner, FlowResult
from ivr.flows.runtime import FlowContext
from ivr.store.db import Database
from ivr.store.repositories.interactions import InteractionRepository
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import Clock, PromptPlayed
from ivr.telephony.fastagi import FastAgiServer
from tests.customers.conftest import (
    ANNA_PHONE,
    NOW,
    OLGA_PHONE,
    SHARED_PHONE,
    STRANGER_PHONE,
    People,
)
from tests.customers.http_stub import HttpStub, http_stub
from tests.flows import caller_rig
from tests.flows.caller_rig import DIALPLANS, Rig, make_rig, sample
from tests.flows.conftest import PROMPT_SAMPLES, SCALE, CallOutcome, When, _drive, place_call

AGENT = When("ivr/main-menu", "0")


# Fixtures shared by the caller tests (tests/flows/caller_rig.py). Bound as module attributes,
# not imported by name, so every `gateway`/`people` parameter is not an unused import redefined.
gateway, caller_db, people = caller_rig.gateway, caller_rig.caller_db, caller_rig.people


@pytest.fixture
def db(caller_db: Database) -> Database:
    return caller_db  # SQLite only here, unlike the project-wide `db`


@pytest.fixture
async def rig(db: Database, gateway: HttpStub, people: People) -> AsyncIterator[Rig]:
    made = make_rig(db, gateway)
    yield made
    await made.sms.aclose()


async def call(rig: Rig, caller: str, *script: When, flow: str = "main-en") -> CallOutcome:
    out = await place_call(sample(flow), script, services=rig.services, caller=caller, now=NOW)
    assert out.error is None, out.error
    assert out.run is not None
    return out


async def test_known_caller_is_greeted_by_name_with_the_open_item_and_the_agent_sees_it(
    rig: Rig, people: People
) -> None:
    out = await call(rig, ANNA_PHONE, AGENT)
    assert out.result.path[:3] == ["identify", "greet-known", "main-menu"]
    assert out.run is not None
    assert out.run.variables["greeting_kind"] == "personal"
    # Without TTS on this call the recorded welcome plays, so the agent is not told that the
    # caller heard about the request (tests/flows/test_caller_otp_speech.py speaks it).
    assert out.prompts[:1] == ["ivr/main-welcome"]
    assert out.variables["IVR_CUSTOMER_ID"] == str(people.anna.id)
    assert out.variables["IVR_CUSTOMER_NAME"] == "Anna Walker"
    assert "IVR_TOLD" not in out.variables
    assert out.variables["IVR_AUTHENTICATED"] == "no"
    assert out.variables["IVR_AUTH_METHOD"] == "caller_id"
    assert out.variables["IVR_TRANSFER_TO"] == "queue-agents"


async def test_russian_customer_gets_the_greeting_in_russian(rig: Rig, people: People) -> None:
    out = await call(rig, OLGA_PHONE, AGENT, flow="main-ru")
    assert out.run is not None and out.run.variables["greeting_kind"] == "personal"
    assert out.variables["IVR_LANGUAGE"] == "ru"
    greeting = await rig.services.greet(FlowContext(caller=OLGA_PHONE), "ru", "Europe/Moscow")
    assert greeting.data["greeting_item"].startswith("Ваша заявка «замена роутера» запланирована")


@pytest.mark.parametrize(
    ("caller", "status", "kind"),
    [
        (STRANGER_PHONE, "unknown", "generic"),
        ("anonymous", "withheld", "generic"),
        (SHARED_PHONE, "ambiguous", "ambiguous"),
    ],
)
async def test_callers_we_cannot_name_get_the_generic_greeting_and_no_customer(
    rig: Rig, caller: str, status: str, kind: str
) -> None:
    out = await call(rig, caller, AGENT)
    assert out.result.path[:3] == ["identify", "greet", "main-menu"]
    assert out.run is not None
    assert out.run.variables["caller_status"] == status
    assert out.run.variables["greeting_kind"] == kind
    assert out.prompts[:1] == ["ivr/main-welcome"]
    assert "IVR_CUSTOMER_ID" not in out.variables
    assert "IVR_CUSTOMER_NAME" not in out.variables


async def test_greeting_text_names_the_known_caller_and_not_the_ambiguous_one(
    rig: Rig, people: People
) -> None:
    known = await rig.services.greet(FlowContext(caller=ANNA_PHONE), "en", "America/New_York")
    shared = await rig.services.greet(FlowContext(caller=SHARED_PHONE), "en", "America/New_York")
    assert known.data["greeting_text"].startswith("Good morning, Anna. Your request")
    assert "Bob" not in shared.data["greeting_text"] and "Carol" not in shared.data["greeting_text"]
    assert "identify yourself" in shared.data["greeting_text"]


def _recent_contact(db: Database, customer_id: int, intent: str) -> None:
    started = NOW - timedelta(days=2)
    InteractionRepository(db).record(
        ANNA_PHONE, "chat", started, started + timedelta(minutes=3), "self_served",
        customer_id=customer_id, intent=intent,
    )  # fmt: skip


async def test_yes_to_the_repeat_contact_offer_goes_straight_to_that_topic(
    rig: Rig, people: People
) -> None:
    _recent_contact(rig.db, people.anna.id, "billing")
    out = await call(rig, ANNA_PHONE, When("ivr/greet-offer", "1"), When("ivr/billing-menu", "0"))
    assert out.result.path[:3] == ["identify", "greet-known", "billing-menu"]
    assert out.result.intent == "billing"
    assert out.run is not None and out.run.variables["offer_intent"] == "billing"
    assert "ivr/main-menu" not in out.prompts


async def test_no_or_silence_after_the_offer_continues_to_the_menu(
    rig: Rig, people: People
) -> None:
    _recent_contact(rig.db, people.anna.id, "outage")
    declined = await call(rig, ANNA_PHONE, When("ivr/greet-offer", "2"), AGENT)
    assert declined.result.path[:3] == ["identify", "greet-known", "main-menu"]
    silent = await call(rig, ANNA_PHONE, AGENT)  # nobody answers the offer
    assert silent.result.path[:3] == ["identify", "greet-known", "main-menu"]
    assert silent.prompts.count("ivr/greet-offer") == 1


async def test_no_offer_for_a_topic_the_flow_has_no_place_for(rig: Rig, people: People) -> None:
    _recent_contact(rig.db, people.anna.id, "agent")
    out = await call(rig, ANNA_PHONE, AGENT)
    assert "ivr/greet-offer" not in out.prompts


async def test_transfer_context_is_published_for_the_agent_screen(rig: Rig, people: People) -> None:
    script = [When("ivr/main-menu", "3"), When("ivr/main-anything-else", "0")]
    out = await call(rig, ANNA_PHONE, *script)
    context = rig.services.live.get(out.call.channel)
    assert context is not None
    assert context.customer_id == people.anna.id
    assert context.intent == "request_status"
    assert context.told[-1] == "request 'router replacement' is scheduled"
    assert context.extra["transfer_to"] == "queue-agents"
    assert out.variables["IVR_TOLD"] == "request 'router replacement' is scheduled"


async def test_stalled_http_crm_still_gives_the_generic_greeting_within_a_second(
    db: Database, gateway: HttpStub, people: People
) -> None:
    async with http_stub() as crm:
        crm.handler = crm.stall  # accepts the request and never answers
        lookup = CallerLookup(
            HttpCrm(crm.url + "/customers?phone={phone}", fields=parse_fields("id=id")),
            budget_ms=300, cache=TtlCache(30.0),
        )  # fmt: skip
        rig = make_rig(db, gateway, lookup=lookup)
        started = time.monotonic()
        greeted: list[float] = []

        async def mark() -> None:
            greeted.append(time.monotonic() - started)

        out = await call(rig, ANNA_PHONE, When("ivr/main-welcome", before=mark), AGENT)
        await rig.sms.aclose()
        request = await asyncio.wait_for(crm.arrived.get(), 5)
    assert request.path.startswith("/customers?phone=")
    assert out.run is not None and out.run.variables["caller_status"] == "unavailable"
    assert out.result.path[:3] == ["identify", "greet", "main-menu"]
    assert greeted and greeted[0] < 1.0  # the promise: no dead air past 1 s


async def _runner_call(rig: Rig, runner: CallRunner, script: list[When]) -> list[str]:
    async with FastAgiServer(runner.handle, "127.0.0.1", 0) as server:
        emu = AgiEmulator(
            f"agi://127.0.0.1:{server.port}/ivr", args=["18005550100"],
            profile=CallProfile(callerid=ANNA_PHONE), clock=Clock(scale=SCALE),
            prompts=lambda name: PROMPT_SAMPLES,
        )  # fmt: skip
        driver = asyncio.create_task(_drive(emu, script))
        await asyncio.wait_for(emu.run(), 10)
        await asyncio.wait_for(driver, 10)
    return [e.name for e in emu.events.events if isinstance(e, PromptPlayed)]


async def test_a_call_is_remembered_and_the_next_call_is_offered_the_same_topic(
    rig: Rig, people: People
) -> None:
    # The runner stamps interactions with the real time; the greeting looks back from a minute
    # ahead, so both calls are in its past.
    rig.clock.now = datetime.now(UTC) + timedelta(minutes=1)
    import_dialplans(rig.db, DIALPLANS, publish="missing")

    async def unused(call: Call, result: FlowResult) -> None:
        raise AssertionError("main-en should answer")

    runner = CallRunner(rig.db, FlowCatalog(rig.db), rig.services, ("unused", unused))
    first = await _runner_call(
        rig, runner, [When("ivr/main-menu", "2"), When("ivr/main-anything-else", hangup=True)]
    )
    assert "ivr/greet-offer" not in first
    stored = InteractionRepository(rig.db).get(1)
    assert (stored.customer_id, stored.intent) == (people.anna.id, "outage")

    second = await _runner_call(
        rig, runner, [When("ivr/greet-offer", "1"), When("ivr/main-anything-else", hangup=True)]
    )
    assert "ivr/main-menu" not in second  # straight to the outage status
    again = InteractionRepository(rig.db).get(2)
    assert again.path[:3] == ("identify", "greet-known", "outage")
