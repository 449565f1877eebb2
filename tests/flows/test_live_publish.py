"""Publishing while calls are live: calls in progress finish on the version they started with,
the next call gets the new one (production path: CallRunner + FlowCatalog over FastAGI)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.call.session import Call
from ivr.flows.catalog import FlowCatalog
from ivr.flows.files import import_dialplans
from ivr.flows.runner import CallRunner, FlowResult
from ivr.flows.store_services import StoreServices
from ivr.store.db import Database
from ivr.store.repositories.flows import FlowRepository
from ivr.store.repositories.interactions import InteractionRepository
from ivr.telephony.agi import parse_command_line
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import Clock, CommandReceived, VariableSet
from ivr.telephony.fastagi import FastAgiServer
from tests.flows.conftest import PROMPT_SAMPLES, SCALE, When, _drive

DIALPLANS = Path(__file__).parents[2] / "dialplans"
LIVE_CALLS = 50


async def unused(call: Call, result: FlowResult) -> None:
    raise AssertionError("main-en is published; the fallback must not answer")


def prompt_length(name: str) -> int:
    # The main menu plays for an hour of virtual time (36 s real), so every caller is still
    # listening to it while the test waits for all of them to arrive; the key cuts it short.
    return PROMPT_SAMPLES * 1800 if name == "ivr/main-menu" else PROMPT_SAMPLES


def after_menu(emu: AgiEmulator) -> str:
    """The prompt the IVR started right after the caller pressed 1 in the main menu (the
    caller hangs up as it starts, so it is read from the commands, not from what was heard)."""
    names = [parse_command_line(e.line.rstrip(b"\n"))[2] for e in emu.events.of(CommandReceived)
             if e.line.upper().startswith((b"STREAM FILE", b"GET OPTION"))]
    return names[names.index("ivr/main-menu") + 1]


def interaction_id(emu: AgiEmulator) -> int:
    return int(next(e.value for e in emu.events.of(VariableSet) if e.name == "IVR_INTERACTION_ID"))


async def test_publish_during_50_live_calls_applies_only_to_the_next_call(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    import_dialplans(db, DIALPLANS, publish="missing")
    flows = FlowRepository(db)
    v1 = flows.published("main-en")
    assert v1 is not None
    v2_text = v1.yaml.replace("prompt: ivr/billing-menu ", "prompt: ivr/billing-no-match ")
    assert v2_text != v1.yaml
    v2 = flows.set_state("main-en", flows.create_version("main-en", v2_text, "test").version,
                         "validated")
    runner = CallRunner(db, FlowCatalog(db), StoreServices(db), ("unused", unused))

    arrived = 0
    published = asyncio.Event()

    async def at_menu_then_wait_for_publish() -> None:
        nonlocal arrived
        arrived += 1
        if arrived == LIVE_CALLS:
            await asyncio.to_thread(flows.publish, "main-en", v2.version)
            published.set()
        await published.wait()

    def emulator(port: int, n: int) -> AgiEmulator:
        return AgiEmulator(
            f"agi://127.0.0.1:{port}/ivr", args=["18005550100"],
            profile=CallProfile(callerid=f"+1555999{n:04d}"), clock=Clock(scale=SCALE),
            prompts=prompt_length,
        )

    script = [When("ivr/main-menu", "1", before=at_menu_then_wait_for_publish),
              When(None, hangup=True)]
    async with FastAgiServer(runner.handle, "127.0.0.1", 0) as server:
        live = [emulator(server.port, n) for n in range(LIVE_CALLS)]
        drivers = [asyncio.create_task(_drive(e, script)) for e in live]
        await asyncio.wait_for(asyncio.gather(*(e.run() for e in live)), 60)
        later = emulator(server.port, LIVE_CALLS)
        driver = asyncio.create_task(_drive(later, [When("ivr/main-menu", "1"),
                                                     When(None, hangup=True)]))
        await asyncio.wait_for(later.run(), 30)
        for task in [*drivers, driver]:
            task.cancel()
    assert [after_menu(e) for e in live] == ["ivr/billing-menu"] * LIVE_CALLS
    assert after_menu(later) == "ivr/billing-no-match"
    stored = InteractionRepository(db)
    assert {stored.get(interaction_id(e)).flow_version for e in live} == {v1.version}
    assert stored.get(interaction_id(later)).flow_version == v2.version
    db.dispose()
