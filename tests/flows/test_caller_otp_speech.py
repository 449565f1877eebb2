"""Calls with a media path (AudioSocket, speech engine, TTS): the one-time code said digit by
digit — a real recording (six FSDD digits) recognized and verified by the OTP service (the code
is random in production; here the service is made to issue the recording's digits) — and the
personal greeting spoken by TTS, which the agent is then told about."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest

from ivr.call.media import MediaPath
from ivr.call.session import Call, Turn
from ivr.flows.engine import FlowEngine, FlowRun
from ivr.flows.runner import FlowResult
from ivr.flows.validate import compile_flow
from ivr.store.db import Database
from ivr.telephony.emulator.agi_call import CallProfile, wav_prompt_lengths
from ivr.telephony.emulator.agi_caller import Audio, Step
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.fastagi import AgiChannel, FastAgiServer
from tests.customers.conftest import ANNA_PHONE, NOW, People, add_people
from tests.customers.http_stub import HttpStub
from tests.flows import caller_rig
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
  verify:  # 710190 is heard with every digit over 0.8: not read back (test_code_dialogue.py)
    type: authenticate
    confirm_below: 0.8
    on: {verified: thanks, failed: bye, unavailable: bye}
  thanks: {type: play, prompt: ivr/thank-you, next: bye}
  bye: {type: hangup, prompt: ivr/goodbye}
"""
GREET_FLOW = """
flow: greet-by-voice
language: en
start: hello
calendar: {timezone: America/New_York}
nodes:
  hello: {type: greet, prompt: ivr/welcome-menu, next: agent}
  agent: {type: transfer, queue: agents}
"""


# Fixtures shared by the caller tests (tests/flows/caller_rig.py). Bound as module attributes,
# not imported by name, so every `gateway`/`people` parameter is not an unused import redefined.
gateway, caller_db = caller_rig.gateway, caller_rig.caller_db


@pytest.fixture
def db(caller_db: Database) -> Database:
    return caller_db  # SQLite only here, unlike the project-wide `db`


@pytest.fixture
async def rig(db: Database, gateway: HttpStub) -> AsyncIterator[Rig]:
    made = make_rig(db, gateway)
    yield made
    await made.sms.aclose()


async def voice_call(
    rig: Rig, path: MediaPath, flow_text: str, caller: Sequence[Step],
    beside: Callable[[AgiEmulator], Awaitable[None]] | None = None,
) -> tuple[FlowRun, list[Turn], AgiEmulator]:
    """The call over the emulator; `beside` runs next to the caller's steps (a caller who
    answers turn by turn, tests/flows/test_code_dialogue.py)."""
    flow = compile_flow(flow_text, "voice.yaml")
    runs: list[tuple[FlowRun, list[Turn]]] = []

    async def handler(channel: AgiChannel) -> None:
        call = Call(channel, media=path)
        engine = FlowEngine(flow, rig.services, now=lambda: NOW)
        runs.append((await engine.run(call, FlowResult()), call.turns))

    lengths = wav_prompt_lengths(PROMPTS / "en")
    async with FastAgiServer(handler, "127.0.0.1", 0) as server:
        emu = AgiEmulator(
            f"agi://127.0.0.1:{server.port}/ivr", caller=caller,
            profile=CallProfile(callerid=ANNA_PHONE, language="en"),
            prompts=lambda name: lengths.get(name.removeprefix("ivr/")),
        )  # fmt: skip
        both = [emu.run(), *([beside(emu)] if beside else [])]
        await asyncio.wait_for(asyncio.gather(*both), 120)
    [(run, turns)] = runs
    return run, turns, emu


async def test_known_caller_hears_the_greeting_spoken_and_the_agent_is_told(
    rig: Rig,
    db: Database,
    media: MediaPath,  # noqa: F811
) -> None:
    add_people(db)
    run, turns, emu = await voice_call(rig, media, GREET_FLOW, [])
    said = [t.detail["text"] for t in turns if t.kind == "say"]
    item = "Your request 'router replacement' is scheduled for tomorrow between 10 and 12."
    assert said == [f"Good morning, Anna. {item}"]
    assert "ivr/welcome-menu" not in [t.detail.get("prompt") for t in turns]
    assert emu.call.variables["IVR_TOLD"] == item
    assert run.outcome == "transferred"


async def test_code_said_digit_by_digit_authenticates(
    rig: Rig,
    db: Database,
    media: MediaPath,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people: People = add_people(db)
    monkeypatch.setattr("ivr.auth.otp.secrets.randbelow", lambda _: int(SAID))
    caller = [Audio(0, wav=str(RECORDING), after_ms=500)]
    run, _, _ = await voice_call(rig, media, FLOW, caller)
    assert rig.last_code() == SAID  # what the gateway sent is what the caller says
    assert run.path == ["identify", "verify", "thanks", "bye"]
    assert run.variables["authenticated"] == "yes"
    assert rig.audit(people.anna.id) == ["otp.issued", "otp.sent", "otp.verified"]
