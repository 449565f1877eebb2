"""The sample flows in dialplans/ on a real call, with the database-backed services, and the
CallRunner writing the interaction for an engine-run call."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from ivr.call.session import Call
from ivr.flows.catalog import FlowCatalog
from ivr.flows.compiled import CompiledFlow
from ivr.flows.files import import_dialplans
from ivr.flows.runner import CallRunner, FlowResult
from ivr.flows.store_services import StoreServices
from ivr.flows.validate import compile_flow
from ivr.store.db import Database
from ivr.store.domain import NewAccount, NewRequest
from ivr.store.repositories.customers import CustomerRepository
from ivr.store.repositories.interactions import InteractionRepository
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import Clock, CommandReceived
from ivr.telephony.fastagi import FastAgiServer
from tests.flows.conftest import PROMPT_SAMPLES, SCALE, When, _drive, place_call

DIALPLANS = Path(__file__).parents[2] / "dialplans"
CALLER = "+15550100001"


def sample(name: str) -> CompiledFlow:
    path = DIALPLANS / f"{name}.yaml"
    return compile_flow(path.read_text(encoding="utf-8"), str(path))


def add_customer(db: Database, area: str = "north") -> int:
    return CustomerRepository(db).add(
        "Ada Lovelace", [CALLER], area=area, segment="vip",
        accounts=[NewAccount("12345678", Decimal("42.50"))],
        requests=[NewRequest("repair", "Meter replacement", status="scheduled")],
    ).id  # fmt: skip


def said(out_events: Sequence[object]) -> list[bytes]:
    return [e.line for e in out_events if isinstance(e, CommandReceived) and b"SAY" in e.line]


async def test_main_en_known_caller_hears_balance_then_ends_self_served(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    add_customer(db)
    script = [
        When("ivr/main-menu", "1"),
        When("ivr/billing-menu", "1"),
        When("ivr/main-anything-else", "9"),
    ]
    out = await place_call(sample("main-en"), script, services=StoreServices(db), caller=CALLER)
    assert out.result.path == [
        "identify", "greet-known", "main-menu", "billing-menu", "balance", "balance-say",
        "anything-else", "goodbye",
    ]  # fmt: skip
    assert out.result.outcome == "self_served"
    assert out.result.intent == "billing_balance"
    assert said(out.events) == [b'SAY DIGITS 4250 ""']
    assert out.prompts.count("ivr/please-use-keypad") == 1
    db.dispose()


async def test_main_en_outage_and_request_status(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    add_customer(db)
    services = StoreServices(db, outages={"north": "6 pm"})
    script = [
        When("ivr/main-menu", "2"),
        When("ivr/main-anything-else", "1"),
        When("ivr/main-menu", "3"),
        When("ivr/main-anything-else", "9"),
    ]
    out = await place_call(sample("main-en"), script, services=services, caller=CALLER)
    assert "outage-say" in out.result.path and "request-say" in out.result.path
    assert out.run is not None
    assert out.run.variables["outage_eta"] == "6 pm"
    assert out.run.variables["request_title"] == "Meter replacement"
    db.dispose()


async def test_main_en_agent_passes_what_was_learned_with_vip_priority(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    customer_id = add_customer(db)
    script = [When("ivr/main-menu", "1"), When("ivr/billing-menu", "0")]
    new_york_morning = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    out = await place_call(
        sample("main-en"), script, services=StoreServices(db), caller=CALLER, now=new_york_morning
    )
    assert out.result.outcome == "transferred"
    assert out.variables["IVR_TRANSFER_TO"] == "queue-agents"
    assert out.variables["IVR_PRIORITY"] == "8"
    assert out.variables["IVR_CUSTOMER_ID"] == str(customer_id)
    assert out.variables["IVR_INTENT"] == "billing"
    assert out.variables["IVR_SKILL"] == "billing"
    db.dispose()


async def test_main_ru_after_hours_agent_offers_a_callback(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    services = StoreServices(db)
    saturday_night = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)  # 22:00 in Moscow
    script = [When("ivr/main-menu", "0"), When("ivr/main-after-hours", "1")]
    out = await place_call(
        sample("main-ru"), script, services=services, now=saturday_night, caller=CALLER
    )
    assert out.result.path[-4:] == ["after-hours", "callback", "callback-ok", "goodbye"]
    assert out.result.outcome == "self_served"
    assert services.callbacks == [CALLER]
    db.dispose()


async def test_runner_writes_the_interaction_of_an_engine_run_call(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    import_dialplans(db, DIALPLANS, publish="missing")

    async def unused(call: Call, result: FlowResult) -> None:
        raise AssertionError("the published main-en flow should answer, not the fallback")

    runner = CallRunner(db, FlowCatalog(db), StoreServices(db), ("unused", unused))
    async with FastAgiServer(runner.handle, "127.0.0.1", 0) as server:
        emu = AgiEmulator(
            f"agi://127.0.0.1:{server.port}/ivr", args=["18005550100"],
            profile=CallProfile(callerid=CALLER), clock=Clock(scale=SCALE),
            prompts=lambda name: PROMPT_SAMPLES,
        )  # fmt: skip
        driver = asyncio.create_task(_drive(emu, [When("ivr/main-menu", hangup=True)]))
        await asyncio.wait_for(emu.run(), 10)
        await asyncio.wait_for(driver, 10)
    # Leaving the server waits for the runner, which writes the interaction as the call ends.
    interactions = InteractionRepository(db)
    stored = interactions.get(1)
    assert stored.outcome == "abandoned"
    assert stored.path == ("identify", "greet", "main-menu")
    assert stored.flow_name == "main-en"
    assert stored.flow_version == 1
    db.dispose()
