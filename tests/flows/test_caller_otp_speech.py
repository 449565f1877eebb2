"""The one-time code said digit by digit: a real recording (six FSDD digits) streamed over
AudioSocket into an emulated call, recognized by the speech engine, verified by the OTP service.

The code is random in production; here the service is made to issue the recording's digits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from ivr.call.media import MediaPath
from ivr.call.session import Call
from ivr.flows.engine import FlowEngine, FlowRun
from ivr.flows.runner import FlowResult
from ivr.flows.validate import compile_flow
from ivr.store.db import Database
from ivr.telephony.emulator.agi_call import CallProfile, wav_prompt_lengths
from ivr.telephony.emulator.agi_caller import Audio
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.fastagi import AgiChannel, FastAgiServer
from tests.customers.conftest import ANNA_PHONE, NOW, People, add_people
from tests.customers.http_stub import HttpStub, http_stub
from tests.flows.caller_rig import Rig, make_rig
from tests.speech.conftest import (  # noqa: F401  (fixtures used by name)
    FIXTURES,
    PROMPTS,
    english_pool,
    media,
    speech_cache,
    whisper,
)

RECORDING = FIXTURES / "otp6" / "otp_000_jackson.wav"
SAID = "710190"  # tests/fixtures/speech/README.md
FLOW = """
flow: otp-by-voice
language: en
start: identify
defaults: {input: both}
nodes:
  identify: {type: lookup, by: caller, on: {found: verify, not_found: bye, ambiguous: bye}}
  verify: {type: authenticate, on: {verified: thanks, failed: bye, unavailable: bye}}
  thanks: {type: play, prompt: ivr/thank-you, next: bye}
  bye: {type: hangup, prompt: ivr/goodbye}
"""


@pytest.fixture
async def gateway() -> AsyncIterator[HttpStub]:
    async with http_stub() as stub:
        yield stub


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    yield database
    database.dispose()


@pytest.fixture
async def rig(db: Database, gateway: HttpStub) -> AsyncIterator[Rig]:
    made = make_rig(db, gateway)
    yield made
    await made.sms.aclose()


async def test_code_said_digit_by_digit_authenticates(
    rig: Rig,
    db: Database,
    media: MediaPath,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people: People = add_people(db)
    monkeypatch.setattr("ivr.auth.otp.secrets.randbelow", lambda _: int(SAID))
    flow = compile_flow(FLOW, "otp-by-voice.yaml")
    runs: list[FlowRun] = []

    async def handler(channel: AgiChannel) -> None:
        engine = FlowEngine(flow, rig.services, now=lambda: NOW)
        runs.append(await engine.run(Call(channel, media=media), FlowResult()))

    lengths = wav_prompt_lengths(PROMPTS / "en")
    async with FastAgiServer(handler, "127.0.0.1", 0) as server:
        emu = AgiEmulator(
            f"agi://127.0.0.1:{server.port}/ivr", caller=[Audio(0, wav=str(RECORDING),
            after_ms=500)], profile=CallProfile(callerid=ANNA_PHONE, language="en"),
            prompts=lambda name: lengths.get(name.removeprefix("ivr/")),
        )  # fmt: skip
        await asyncio.wait_for(emu.run(), 60)
    assert rig.last_code() == SAID  # what the gateway sent is what the caller says
    [run] = runs
    assert run.path == ["identify", "verify", "thanks", "bye"]
    assert run.variables["authenticated"] == "yes"
    assert rig.audit(people.anna.id) == ["otp.issued", "otp.sent", "otp.verified"]
