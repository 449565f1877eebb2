"""A call in the emulator answers a speech menu with real caller audio over AudioSocket."""

from __future__ import annotations

import asyncio
import wave
from array import array
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.call.errors import FeatureUnavailable
from ivr.call.media import MediaPath
from ivr.call.session import PLAYS, SAID, Call, Gathered
from ivr.speech.audio import read_wav, silence
from ivr.speech.endpoint import EndpointConfig
from ivr.telephony.agi import parse_command_line
from ivr.telephony.emulator import agi_audiosocket
from ivr.telephony.emulator.agi_call import CallProfile, wav_prompt_lengths
from ivr.telephony.emulator.agi_caller import At, Audio, Press, Speech, Step
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import (
    AppExecuted,
    CallerAudio,
    CommandReceived,
    PromptPlayed,
)
from ivr.telephony.fastagi import AgiChannel, FastAgiServer
from tests.processes import free_port
from tests.speech.conftest import FIXTURES, PROMPTS
from tests.speech.test_endpoint import line_noise, over_hiss

CALL_TIMEOUT = 30.0
MENU_SECONDS = 65562 / 2 / 8000  # prompts/en/welcome-menu.wav
LENGTHS = wav_prompt_lengths(PROMPTS / "en")
BRANCHES = {"go": "ivr/thank-you", "stop": "ivr/goodbye", "billing": "ivr/thank-you"}


@dataclass
class Outcome:
    gathered: list[Gathered] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)


async def place(
    media: MediaPath | None, steps: Sequence[Step],
    script: Callable[[Call, Outcome], Awaitable[None]], language: str = "en",
) -> tuple[AgiEmulator, Outcome]:  # fmt: skip
    outcome = Outcome()

    async def handler(channel: AgiChannel) -> None:
        call = Call(channel, media=media)
        try:
            await script(call, outcome)
        except FeatureUnavailable as err:
            outcome.errors.append(err)
        await call.hangup()

    async with FastAgiServer(handler, "127.0.0.1", 0) as server:
        emu = AgiEmulator(f"agi://127.0.0.1:{server.port}/ivr", caller=steps,
                          profile=CallProfile(language=language),
                          prompts=lambda name: LENGTHS.get(name.removeprefix("ivr/")))
        await asyncio.wait_for(emu.run(), CALL_TIMEOUT)
    return emu, outcome


def menu(
    phrases: Sequence[str], timeout: float = 4.0
) -> Callable[[Call, Outcome], Awaitable[None]]:
    async def script(call: Call, outcome: Outcome) -> None:
        await call.answer()
        got = await call.gather(prompt="ivr/welcome-menu", mode="both", phrases=phrases,
                                timeout=timeout)
        outcome.gathered.append(got)
        branch = BRANCHES.get(got.text)
        if branch:
            await call.play(branch)

    return script


def prompts_played(emu: AgiEmulator) -> list[str]:
    """The prompts after the menu's own: streamed over AudioSocket (announced on the console
    as "ivr plays: ...") or played by Asterisk (STREAM FILE)."""
    lines = [parse_command_line(e.line.rstrip(b"\n")) for e in emu.events.of(CommandReceived)]
    streamed = [w[1].removeprefix(f"{PLAYS}: ") for w in lines
                if w[0] == "VERBOSE" and w[1].startswith(f"{PLAYS}: ")]
    return [p for p in streamed if p != "ivr/welcome-menu"] + [
        e.name for e in emu.events.of(PromptPlayed)]


async def test_recorded_go_over_the_menu_prompt_barges_in_and_reaches_the_go_branch(
    media: MediaPath,
) -> None:
    said = Audio(0, wav=str(FIXTURES / "commands" / "go_563aa4e6_nohash_2.wav"), after_ms=1000)
    emu, outcome = await place(media, [said], menu(["go", "stop"]))
    assert [(g.mode, g.text) for g in outcome.gathered] == [("speech", "go")]
    assert prompts_played(emu) == ["ivr/thank-you"]
    heard = agi_audiosocket.caller_media(emu.call).connections[0].heard_seconds
    assert 0.8 < heard < MENU_SECONDS - 1.0  # the prompt stopped when the caller spoke


async def test_recorded_stop_reaches_the_stop_branch(media: MediaPath) -> None:
    said = Audio(0, wav=str(FIXTURES / "commands" / "stop_563aa4e6_nohash_2.wav"),
                 after_ms=500)
    emu, outcome = await place(media, [said], menu(["go", "stop"]))
    assert [g.text for g in outcome.gathered] == ["stop"]
    assert prompts_played(emu) == ["ivr/goodbye"]


async def test_caller_saying_billing_reaches_the_billing_branch(media: MediaPath) -> None:
    emu, outcome = await place(media, [Speech(0, text="billing")],
                               menu(["billing", "technical support"]))
    assert [(g.mode, g.text, g.reason) for g in outcome.gathered] == [
        ("speech", "billing", "speech")]
    assert prompts_played(emu) == ["ivr/thank-you"]


async def test_a_key_during_a_speech_menu_is_taken_as_a_key(media: MediaPath) -> None:
    emu, outcome = await place(media, [At(1500), Press("2")], menu(["go", "stop"]))
    assert [(g.mode, g.digits) for g in outcome.gathered] == [("dtmf", "2")]
    heard = agi_audiosocket.caller_media(emu.call).connections[0].heard_seconds
    assert 1.0 < heard < MENU_SECONDS - 1.0  # the key stopped the prompt


async def test_silence_times_out_after_the_whole_prompt(media: MediaPath) -> None:
    emu, outcome = await place(media, [], menu(["go", "stop"], timeout=1.0))
    assert [(g.reason, g.text) for g in outcome.gathered] == [("timeout", "")]
    heard = agi_audiosocket.caller_media(emu.call).connections[0].heard_seconds
    assert heard > MENU_SECONDS - 0.1


async def test_without_a_media_path_speech_is_unavailable_and_nothing_runs() -> None:
    emu, outcome = await place(None, [], menu(["go"]))
    assert len(outcome.errors) == 1 and "media path" in str(outcome.errors[0])
    assert not emu.events.of(AppExecuted)


async def test_a_language_without_a_model_is_unavailable_before_any_audio(
    media: MediaPath,
) -> None:
    emu, outcome = await place(media, [], menu(["ja"]), language="de")
    assert len(outcome.errors) == 1 and "'de'" in str(outcome.errors[0])
    assert not emu.events.of(AppExecuted)


async def test_say_streams_synthesized_speech_to_the_caller(media: MediaPath) -> None:
    async def script(call: Call, outcome: Outcome) -> None:
        await call.say("Your balance is 12 dollars and 50 cents.")

    emu, outcome = await place(media, [], script)
    assert outcome.errors == []
    [app] = emu.events.of(AppExecuted)
    assert app.app == "AudioSocket" and app.result == 0
    heard = agi_audiosocket.caller_media(emu.call).connections[0].heard_seconds
    assert 1.5 < heard < 6.0


async def test_a_doubtful_choice_is_confirmed_by_a_spoken_yes(media: MediaPath) -> None:
    media.confirm_below = 1.0  # every choice is doubtful
    go = Audio(0, wav=str(FIXTURES / "commands" / "go_563aa4e6_nohash_2.wav"), after_ms=500)
    yes = Audio(0, wav=str(FIXTURES / "commands" / "yes_6a27a9bf_nohash_0.wav"), after_ms=1500)
    emu, outcome = await place(media, [go, yes], menu(["go", "stop"]))
    assert [(g.mode, g.text) for g in outcome.gathered] == [("speech", "go")]
    assert prompts_played(emu) == ["ivr/thank-you"]


async def test_a_doubtful_choice_denied_with_no_is_not_taken(media: MediaPath) -> None:
    media.confirm_below = 1.0
    go = Audio(0, wav=str(FIXTURES / "commands" / "go_563aa4e6_nohash_2.wav"), after_ms=500)
    no = Audio(0, wav=str(FIXTURES / "commands" / "no_563aa4e6_nohash_2.wav"), after_ms=1500)
    emu, outcome = await place(media, [go, no], menu(["go", "stop"]))
    assert [(g.mode, g.text, g.reason) for g in outcome.gathered] == [("speech", "", "empty")]
    assert prompts_played(emu) == []


async def test_preload_names_each_language_without_a_model(media: MediaPath) -> None:
    problems = await media.preload(["en", "ru"])
    assert len(problems) == 1 and problems[0].startswith("speech (ru): no speech model for 'ru'")


async def test_prompts_fall_back_to_the_hosts_copies_when_no_audiosocket_connects(
    media: MediaPath, caplog: pytest.LogCaptureFixture,
) -> None:
    media.advertise = f"127.0.0.1:{free_port()}"  # nothing listens there

    async def script(call: Call, outcome: Outcome) -> None:
        await call.answer()
        await call.play("ivr/thank-you")
        await call.play("ivr/goodbye")

    emu, outcome = await place(media, [], script)
    assert outcome.errors == []
    assert [e.name for e in emu.events.of(PromptPlayed)] == ["ivr/thank-you", "ivr/goodbye"]
    assert len(emu.events.of(AppExecuted)) == 1  # one try for the call, not one per prompt
    assert sum("from the Asterisk host from now on" in r.getMessage()
               for r in caplog.records) == 1


async def test_digits_are_spoken_over_audiosocket_not_from_the_hosts_sounds(
    media: MediaPath,
) -> None:
    async def script(call: Call, outcome: Outcome) -> None:
        await call.answer()
        await call.say_digits("4250")

    emu, outcome = await place(media, [], script)
    assert outcome.errors == []
    lines = [parse_command_line(e.line.rstrip(b"\n")) for e in emu.events.of(CommandReceived)]
    assert not [w for w in lines if w[0] == "SAY"]
    assert ["VERBOSE", f"{SAID}: 4 2 5 0", "3"] in lines
    assert agi_audiosocket.caller_media(emu.call).connections[0].heard_seconds > 1.0


async def test_a_click_without_the_voice_detector_still_ends_in_no_input(
    media: MediaPath, tmp_path: Path,
) -> None:
    # Energy alone (vad=False, as without onnxruntime) takes an 80 ms click for a start and
    # drops it 600 ms later as too short for an utterance; the turn then has to time out as if
    # nothing had been said. It used to wait, without a timeout, for the caller to hang up.
    media.endpoint = EndpointConfig(vad=False)
    click = tmp_path / "click.wav"
    with wave.open(str(click), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(array("h", [12000, -12000] * 320).tobytes())  # 80 ms at -9 dBFS

    async def script(call: Call, outcome: Outcome) -> None:
        await call.answer()
        outcome.gathered.append(await call.gather(mode="speech", phrases=["go", "stop"],
                                                  timeout=2.0))

    # well inside the emulator's own limit, so the old code fails here instead of hanging
    emu, outcome = await asyncio.wait_for(
        place(media, [Audio(0, wav=str(click), after_ms=200)], script), 15.0)
    assert [(g.reason, g.text) for g in outcome.gathered] == [("timeout", "")]
    assert len(emu.events.of(CallerAudio)) == 1  # the click was sent within the turn


def noise_wav(path: Path, then: Path | None = None) -> str:
    """2.2 s of a bad line (hiss, hum, clicks, crackle) whose crackle at 1.8 s the voice detector
    hears as a start (probability 0.2-0.5) and the old turn code took for a barge-in; with
    `then`, 0.4 s of silence and that recording after it."""
    pcm = line_noise(10, seed=35)[:8000 * 2 * 22 // 10]
    if then is not None:
        pcm += silence(400) + read_wav(then)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(pcm)
    return str(path)


async def test_line_noise_does_not_cut_the_prompt_but_a_word_after_it_does(
    media: MediaPath, tmp_path: Path,
) -> None:
    # A start may be unsure (a quiet caller after the prompt is still heard); cutting the
    # prompt needs a sure voice, and an unsure start that ends while it plays is taken back.
    noise = Audio(0, wav=noise_wav(tmp_path / "noise.wav"), after_ms=100)
    emu, outcome = await place(media, [noise], menu(["go", "stop"], timeout=1.0))
    assert [(g.reason, g.text) for g in outcome.gathered] == [("timeout", "")]
    heard = agi_audiosocket.caller_media(emu.call).connections[0].heard_seconds
    assert heard > MENU_SECONDS - 0.1  # the whole prompt played
    go = FIXTURES / "commands" / "go_563aa4e6_nohash_2.wav"
    noisy_go = Audio(0, wav=noise_wav(tmp_path / "noisy_go.wav", then=go), after_ms=100)
    emu, outcome = await place(media, [noisy_go], menu(["go", "stop"]))
    assert [(g.mode, g.text) for g in outcome.gathered] == [("speech", "go")]
    heard = agi_audiosocket.caller_media(emu.call).connections[0].heard_seconds
    assert 2.3 < heard < MENU_SECONDS - 0.1  # cut by the word, not by the noise before it


async def test_a_quiet_word_under_the_prompt_is_heard_when_the_prompt_ends(
    media: MediaPath, tmp_path: Path,
) -> None:
    # This "go" at -41 dBFS peak starts the endpointer but never makes the voice detector sure:
    # it does not cut the prompt, and it used to be taken back as line noise and lost. It is
    # kept aside and is the turn's answer once the prompt has ended with nothing said since.
    pcm = over_hiss(read_wav(FIXTURES / "commands" / "go_563aa4e6_nohash_2.wav"))
    path = tmp_path / "quiet_go.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(pcm)
    emu, outcome = await place(media, [Audio(0, wav=str(path), after_ms=100)],
                               menu(["go", "stop"]))
    assert [(g.mode, g.text) for g in outcome.gathered] == [("speech", "go")]
    heard = agi_audiosocket.caller_media(emu.call).connections[0].heard_seconds
    assert heard > MENU_SECONDS - 0.1  # the whole prompt played
