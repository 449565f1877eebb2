"""Codes by dialogue (issue 14): a spoken one-time code with a doubtful digit is read back,
repaired by the caller saying it again, or replaced by keys pressed over the read-back; a
code heard surely is taken without one. Real Whisper, real recordings (otp6/ in
tests/fixtures/speech: nicolas's 230665 is heard as 230365, its 4th digit at 0.39), calls over
the emulator and AudioSocket; the OTP service is made to issue the recording's digits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from ivr.call.media import MediaPath
from ivr.call.session import Turn
from ivr.store.db import Database
from ivr.telephony.emulator import agi_audiosocket
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.audiosocket import AudioSocketCaller
from ivr.telephony.emulator.audiosocket_media import load_wav
from tests.customers.conftest import add_people
from tests.flows.caller_rig import Rig
from tests.flows.test_caller_otp_speech import (  # noqa: F401  (fixtures used by name)
    caller_db,
    db,
    gateway,
    rig,
    voice_call,
)
from tests.speech.conftest import (  # noqa: F401  (fixtures used by name)
    FIXTURES,
    english_pool,
    media,
    speech_cache,
    whisper,
)

DOUBTFUL = FIXTURES / "otp6" / "otp_016_nicolas.wav"  # 230665, heard 230365
AGAIN = FIXTURES / "otp6" / "otp_016_nicolas_again.wav"  # 230665 said again, other recordings
RIGHT_BUT_UNSURE = FIXTURES / "otp6" / "otp_001_nicolas.wav"  # 300059, three digits under 0.2
SURE = FIXTURES / "otp6" / "otp_000_jackson.wav"  # 710190, every digit above 0.8
FLOW = """
flow: otp-by-voice
language: en
start: identify
defaults: {input: both}
nodes:
  identify: {type: lookup, by: caller, on: {found: verify, not_found: bye, ambiguous: bye}}
  verify:
    type: authenticate
    confirm: auto
    confirm_below: 0.6
    max_tries: 2
    on: {verified: thanks, failed: bye, unavailable: bye}
  thanks: {type: play, prompt: ivr/thank-you, next: bye}
  bye: {type: hangup, prompt: ivr/goodbye}
"""
Answer = Callable[[AgiEmulator], Awaitable[None]]


async def _turn(emu: AgiEmulator, number: int) -> AudioSocketCaller:
    """The call's `number`-th AudioSocket connection (1 = the first), once it is open."""
    line = agi_audiosocket.caller_media(emu.call)
    while len(line.connections) < number or line.current is not line.connections[number - 1]:
        if emu.call.dead.is_set():
            raise AssertionError(f"the call ended before AudioSocket turn {number}")
        await asyncio.sleep(0.02)
    return line.connections[number - 1]


def caller(*answers: tuple[int, str, str]) -> Answer:
    """A caller who, on AudioSocket turn N, says a recording once the question has been asked
    ("say", path) or presses keys one second into it, over the prompt ("keys", digits)."""

    async def run(emu: AgiEmulator) -> None:
        line = agi_audiosocket.caller_media(emu.call)
        for number, how, what in answers:
            connection = await _turn(emu, number)
            if how == "say":
                await agi_audiosocket.prompt_finished(connection)
                await line.speak(await asyncio.to_thread(load_wav, what))
            else:
                await asyncio.sleep(1.0)
                for digit in what:
                    emu.call.press(digit)
                    await asyncio.sleep(0.15)

    return run


def read_backs(turns: list[Turn]) -> list[str]:
    return [t.detail["text"] for t in turns if t.kind == "say"]


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def issue(code: str) -> None:
        monkeypatch.setattr("ivr.auth.otp.secrets.randbelow", lambda _: int(code))

    return issue


async def test_a_read_back_repairs_a_wrong_digit(
    rig: Rig, db: Database, media: MediaPath, issued: Callable[[str], None],  # noqa: F811
) -> None:
    people = add_people(db)
    issued("230665")
    answers = caller((1, "say", str(DOUBTFUL)), (2, "say", str(AGAIN)), (3, "keys", "1"))
    run, turns, _ = await voice_call(rig, media, FLOW, [], answers)
    # said again over the read-back: the two hearings weighed together give 230665
    assert read_backs(turns) == [
        "I heard 2 3 0 3 6 5. Press 1 if that is right, or say it again.",
        "I heard 2 3 0 6 6 5. Press 1 if that is right, or say it again.",
    ]
    assert run.variables["authenticated"] == "yes"
    # the wrong reading never reached the OTP service: no failed attempt on the customer
    assert rig.audit(people.anna.id) == ["otp.issued", "otp.sent", "otp.verified"]


async def test_keys_pressed_during_a_read_back_replace_the_spoken_code(
    rig: Rig, db: Database, media: MediaPath, issued: Callable[[str], None],  # noqa: F811
) -> None:
    people = add_people(db)
    issued("230665")
    answers = caller((1, "say", str(DOUBTFUL)), (2, "keys", "230665"))
    run, turns, _ = await voice_call(rig, media, FLOW, [], answers)
    assert read_backs(turns) == [
        "I heard 2 3 0 3 6 5. Press 1 if that is right, or say it again."]
    assert run.variables["authenticated"] == "yes"
    assert rig.audit(people.anna.id) == ["otp.issued", "otp.sent", "otp.verified"]


async def test_1_pressed_during_a_read_back_accepts_the_code_read(
    rig: Rig, db: Database, media: MediaPath, issued: Callable[[str], None],  # noqa: F811
) -> None:
    add_people(db)
    issued("300059")
    run, turns, _ = await voice_call(rig, media, FLOW, [],
                                     caller((1, "say", str(RIGHT_BUT_UNSURE)), (2, "keys", "1")))
    assert read_backs(turns) == [
        "I heard 3 0 0 0 5 9. Press 1 if that is right, or say it again."]
    assert run.variables["authenticated"] == "yes"


async def test_after_max_tries_spoken_codes_the_caller_is_asked_for_keys(
    rig: Rig, db: Database, media: MediaPath, issued: Callable[[str], None],  # noqa: F811
) -> None:
    people = add_people(db)
    issued("230665")
    answers = caller((1, "say", str(DOUBTFUL)), (2, "say", str(AGAIN)), (3, "keys", "230665"))
    flow = FLOW.replace("max_tries: 2", "max_tries: 1")
    run, turns, _ = await voice_call(rig, media, flow, [], answers)
    assert read_backs(turns) == [
        "I heard 2 3 0 3 6 5. Press 1 if that is right, or say it again."]
    played = [t.detail.get("prompt") for t in turns if t.kind == "play"]
    assert "ivr/please-use-keypad" in played  # the second spoken code is not listened to
    assert run.variables["authenticated"] == "yes"
    assert rig.audit(people.anna.id) == ["otp.issued", "otp.sent", "otp.verified"]


async def test_a_code_heard_surely_is_not_read_back(
    rig: Rig, db: Database, media: MediaPath, issued: Callable[[str], None],  # noqa: F811
) -> None:
    add_people(db)
    issued("710190")
    run, turns, _ = await voice_call(rig, media, FLOW, [], caller((1, "say", str(SURE))))
    assert read_backs(turns) == []
    assert run.path == ["identify", "verify", "thanks", "bye"]
    assert run.variables["authenticated"] == "yes"
