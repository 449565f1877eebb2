"""With FastAGI + AudioSocket nothing has to exist on the Asterisk host: every prompt, spoken
text and apology reaches the caller over AudioSocket, and calls end as they should (issue 15,
defect 1). A prompt that Asterisk cannot find on the keypad path is logged and skipped; it never
turns a self-served call into a failed one."""

from __future__ import annotations

import asyncio
import logging
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ivr.call.media import MediaPath
from ivr.calls import import_flows, make_call_handler
from ivr.config import Settings
from ivr.flows.files import import_dialplans
from ivr.store.db import Database
from ivr.store.demo import load_demo
from ivr.store.repositories.flows import FlowRepository
from ivr.store.repositories.interactions import InteractionRepository
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import Clock
from ivr.telephony.fastagi import FastAgiServer
from tests.auth.conftest import SECRET, code_in
from tests.customers.http_stub import HttpStub
from tests.flows import caller_rig
from tests.flows.audiosocket_rig import MAIN_LINE, Answer, MediaCall, place
from tests.flows.caller_rig import DIALPLANS
from tests.flows.conftest import PROMPT_SAMPLES, SCALE, When, _drive
from tests.speech.conftest import (  # noqa: F401  (fixtures used by name)
    PROMPTS,
    english_pool,
    media,
    speech_cache,
    whisper,
)

MARIA = "+12125550101"  # the demo's known caller (ivr demo load), one account, an open request
gateway = caller_rig.gateway  # the SMS gateway on loopback (one fixture for every caller test)


def seconds(prompt: str) -> float:
    with wave.open(str(PROMPTS / "en" / f"{prompt.removeprefix('ivr/')}.wav"), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


@pytest.fixture
def demo_db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    load_demo(database)
    yield database
    database.dispose()


def make_settings(db: Database, dialplans: Path, gateway: HttpStub) -> Settings:
    return Settings(
        _env_file=None, database_url=str(db.engine.url), dialplans_dir=dialplans,
        prompts_dir=PROMPTS, otp_secret=SECRET, sms_url=gateway.url + "/sms",
    )  # fmt: skip


@pytest.fixture
async def settings(demo_db: Database, gateway: HttpStub) -> AsyncIterator[Settings]:
    made = make_settings(demo_db, DIALPLANS, gateway)
    await import_flows(demo_db, made)
    yield made


def heard_to_the_end(call: MediaCall, prompt: str) -> bool:
    """The prompt was announced and some AudioSocket turn streamed all of it."""
    return prompt in call.announced() and any(
        c.heard_seconds >= seconds(prompt) - 0.05 for c in call.connections())


async def test_known_caller_self_served_by_keys_is_stored_self_served_and_hears_goodbye(
    demo_db: Database, settings: Settings, media: MediaPath,  # noqa: F811
) -> None:
    answers = [Answer("Are you calling about", "2"), Answer("ivr/main-menu", "1"),
               Answer("ivr/billing-menu", "1"), Answer("ivr/main-anything-else", "9")]
    call = await place(demo_db, settings, media, MARIA, answers)
    assert call.interaction.path[-4:] == ("balance", "balance-say", "anything-else", "goodbye")
    assert call.interaction.outcome == "self_served"
    assert call.host_files_asked() == []
    assert heard_to_the_end(call, "ivr/goodbye")


async def test_otp_by_keypad_goes_on_after_the_code(
    demo_db: Database, settings: Settings, media: MediaPath, gateway: HttpStub,  # noqa: F811
) -> None:
    def sms_code() -> str:
        return code_in(str(gateway.received[-1].json()["text"]))

    answers = [Answer("Are you calling about", "2"), Answer("ivr/main-menu", "1"),
               Answer("ivr/billing-menu", "2"), Answer("ivr/auth-enter-code", sms_code),
               Answer("ivr/billing-enter-limit", "150#")]
    call = await place(demo_db, settings, media, MARIA, answers)
    assert call.interaction.path[-3:] == ("verify", "bill-limit", "limit-to-agent")
    assert call.interaction.outcome == "transferred"
    assert call.emu.call.variables["IVR_NEW_LIMIT"] == "150.00"
    assert call.host_files_asked() == []
    assert "ivr/billing-enter-limit" in call.announced()


async def test_technical_problem_apology_reaches_the_caller_over_audiosocket(
    demo_db: Database, media: MediaPath, gateway: HttpStub, tmp_path: Path,  # noqa: F811
) -> None:
    """A flow goes on in a flow that was imported but never published: the engine cannot run
    it, and the caller hears the apology before the line drops."""
    (tmp_path / "front.yaml").write_text(
        "flow: front\nlanguage: en\nroutes: ['18005550100']\nstart: hello\nnodes:\n"
        "  hello: {type: play, prompt: ivr/thank-you, next: elsewhere}\n"
        "  elsewhere: {type: goto, flow: later}\n", encoding="utf-8")
    (tmp_path / "later.yaml").write_text(
        "flow: later\nlanguage: en\nstart: bye\nnodes:\n"
        "  bye: {type: hangup, prompt: ivr/goodbye}\n", encoding="utf-8")
    import_dialplans(demo_db, tmp_path, catalog=PROMPTS / "catalog.yaml")
    FlowRepository(demo_db).publish("front", 1)  # `later` stays unpublished
    call = await place(demo_db, make_settings(demo_db, tmp_path, gateway), media, MARIA)
    assert call.interaction.path == ("hello", "elsewhere")
    assert call.interaction.outcome == "failed"
    assert call.host_files_asked() == []
    assert heard_to_the_end(call, "ivr/sorry-technical-problem")


async def test_a_prompt_missing_on_the_host_is_logged_and_the_call_still_self_serves(
    demo_db: Database, settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    """Keypad path (no AudioSocket): prompts are files on the Asterisk host; one is missing."""
    handler = make_call_handler(demo_db, settings)
    script = [When("ivr/greet-offer", "2"), When("ivr/main-menu", "1"),
              When("ivr/billing-menu", "1"), When("ivr/main-anything-else", "9")]
    caplog.set_level(logging.INFO)
    async with FastAgiServer(handler, "127.0.0.1", 0) as server:
        emu = AgiEmulator(
            f"agi://127.0.0.1:{server.port}/ivr", args=[MAIN_LINE],
            profile=CallProfile(callerid=MARIA), clock=Clock(scale=SCALE),
            prompts=lambda name: None if name == "ivr/goodbye" else PROMPT_SAMPLES,
        )  # fmt: skip
        driver = asyncio.create_task(_drive(emu, script))
        await asyncio.wait_for(emu.run(), 10)
        await asyncio.wait_for(driver, 10)
    stored = InteractionRepository(demo_db).get(int(emu.call.variables["IVR_INTERACTION_ID"]))
    assert stored.path[-2:] == ("anything-else", "goodbye")
    assert stored.outcome == "self_served"
    missing = [r for r in caplog.records
               if r.name.startswith("ivr.") and not r.name.startswith("ivr.telephony.emulator")
               and "ivr/goodbye" in r.getMessage()]  # one line from the IVR, not Asterisk's
    assert len(missing) == 1 and missing[0].levelno == logging.WARNING
    assert "missing on the Asterisk host" in missing[0].getMessage()
