"""One emulated caller of load.py: its call, its keys, and the IVR's reactions it times.

Asterisk's side through `ivr.phone.make_emulator` (FastAGI and AudioSocket, 20 ms frames in real
time); see load.py for the mix of callers and what each kind does.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load_audio import Listener, PromptIndex
from load_otp import CodeInbox
from load_procs import SharedCount
from load_server import ROOT, Server

from ivr.phone import make_emulator, prompt_lookup
from ivr.telephony.agi import parse_command_line
from ivr.telephony.emulator import agi_audiosocket
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import CommandReceived
from ivr.telephony.emulator.audiosocket_media import load_wav

SPEECH = ROOT.parent / "shared" / "speech" / "commands-dev"
MAIN_LINE, KNOWN = "18005550100", "+12125550101"
REACT_S = 3.0
SPEECH_REACT_S = 8.0  # the endpoint (600 ms of silence) and Whisper on a shared CPU
CALL_LIMIT_S = 60.0
END_WAIT_S = 15.0  # after the last key, for the IVR to say goodbye and hang up
LISTEN_POLL_S, REACT_POLL_S = 0.05, 0.02  # (reactions are timed from the events, not polls)
# (the prompt that asks, the keys, what the IVR must say or play next)
KEYS = [("ivr/main-menu", "2", "outage"), ("ivr/main-anything-else", "9", "goodbye")]
OTP_KEYS = [("ivr/main-menu", "1", "billing-menu"), ("ivr/billing-menu", "2", "auth-enter-code")]
OTP_CODE_AT, OTP_LIMIT_AT = "ivr/auth-enter-code", "ivr/billing-enter-limit"
OTP_PATH = ["main-menu", "billing-menu", "auth-enter-code", "billing-enter-limit",
            "billing-connecting"]
CODE_WAIT_S = 20.0  # for the SMS or e-mail to reach the caller
AGAIN = ("ivr/main-anything-else", "1", "main-menu")  # back round the main menu (--rounds)
IN_FLIGHT = SharedCount()  # calls placed and not ended yet, over every generator process
_INDEX: list[PromptIndex] = []


def prompt_index() -> PromptIndex:
    if not _INDEX:
        _INDEX.append(PromptIndex(ROOT / "prompts", "en"))
    return _INDEX[0]


@dataclass
class Result:
    kind: str
    key_ms: list[float] = field(default_factory=list)
    speech_ms: list[float] = field(default_factory=list)
    lost: int = 0
    off_path: bool = False
    seconds: float = 0.0
    error: str = ""
    heard: list[str] = field(default_factory=list)  # the IVR's announcements, for --show-off
    interaction: str | None = None


class Caller:
    """One call: presses its keys when each menu plays and times the IVR's reactions.

    It knows where it is by the prompts it hears (load_audio.py: with the default held media
    the console lines come only when the media is released); once the call has ended, the
    console lines (all sent by then, in order) must show the expected path."""

    def __init__(self, server: Server, kind: str, speech: Path | None,
                 otp: tuple[CodeInbox, str] | None = None, rounds: int = 1) -> None:
        """`otp`: where this caller's code arrives, and its customer's number (kind otp);
        `rounds`: times round the main menu."""
        self.kind, self.speech, self.otp = kind, speech, otp
        self.keys = [KEYS[0], AGAIN] * (rounds - 1) + KEYS
        self.limit_s = CALL_LIMIT_S + 15.0 * (rounds - 1)
        url = f"agi://127.0.0.1:{server.ports['IVR_AGI_PORT']}/ivr"
        caller_id = KNOWN if kind == "known" else f"+1312555{random.randrange(10**4):04d}"
        if otp is not None:
            caller_id = otp[1]
        self.emu: AgiEmulator = make_emulator(
            url, caller_id=caller_id, dnis=MAIN_LINE, steps=[],
            prompts=prompt_lookup(ROOT / "prompts", "en"))
        self.listener = Listener(self.emu.call, prompt_index())
        self.mark = 0  # segments heard before the last key: the next prompt comes after them
        self.result = Result(kind)

    def commands(self) -> list[tuple[float, list[str]]]:
        return [(e.t_ms, parse_command_line(e.line.rstrip(b"\n")))
                for e in self.emu.events.of(CommandReceived)]

    def announced(self) -> list[str]:
        return [w[1] for _, w in self.commands() if w and w[0].upper() == "VERBOSE"]

    async def run(self) -> Result:
        started = time.monotonic()
        call = asyncio.ensure_future(self.emu.run())
        IN_FLIGHT.add(1)
        try:
            async with asyncio.timeout(self.limit_s):
                await self._drive(call)
        except TimeoutError:
            self.result.error = "call over its time limit"
        except Exception as err:  # a benchmark reports, never stops
            self.result.error = f"{type(err).__name__}: {err}"
        finally:
            self.emu.hangup()
            try:
                async with asyncio.timeout(10):
                    await asyncio.gather(call, return_exceptions=True)
            except TimeoutError:
                call.cancel()
            IN_FLIGHT.add(-1)
        self.result.seconds = time.monotonic() - started
        self.result.heard = self.announced()
        if self.kind != "anytime" and not self.result.error and not _in_order(
                self.result.heard, OTP_PATH if self.kind == "otp" else _path(self.keys)):
            self.result.off_path = True
        if self.result.off_path:
            self.result.heard += ["| heard:", *self.listener.heard()]
        self.result.interaction = self.emu.call.variables.get("IVR_INTERACTION_ID")
        return self.result

    async def _drive(self, call: asyncio.Future[Any]) -> None:
        if self.kind == "anytime":
            await asyncio.sleep(random.uniform(0.0, 9.0))
            self.emu.press("2")
            await asyncio.sleep(8.0)
            return
        if self.kind == "otp":
            await self._otp_path(call)
        else:
            for prompt, key, _ in self.keys:
                speaks = self.kind == "speech" and key == "9" and self.speech is not None
                if not await self._step(prompt, key, call, speaks=speaks):
                    return
        async with asyncio.timeout(END_WAIT_S):  # goodbye or the transfer, then the IVR hangs up
            await asyncio.gather(call, return_exceptions=True)

    async def _step(self, prompt: str, keys: str, call: asyncio.Future[Any], *,
                    speaks: bool = False) -> bool:
        """At `prompt`, key `keys` (or say the recording): the reaction to the last key is
        timed. False (the call is off its path) when the prompt never plays or nothing reacts."""
        if not await self._until_playing(prompt, call):
            self.result.off_path = True
            return False
        for key in keys[:-1]:  # within a gather: no reaction is due until the last key
            self.emu.press(key)
            await asyncio.sleep(0.15)
        acted = await (self._speak() if speaks else self._press(keys[-1]))
        if acted is None:
            self.result.lost += 1
            self.result.off_path = True
            return False
        return True

    async def _otp_path(self, call: asyncio.Future[Any]) -> None:
        assert self.otp is not None
        inbox, phone = self.otp
        for prompt, key, _ in OTP_KEYS:
            if not await self._step(prompt, key, call):
                return
        code = await inbox.code_for(phone, CODE_WAIT_S)
        if code is None:
            self.result.error = "no one-time code arrived"
            self.result.off_path = True
            return
        if await self._step(OTP_CODE_AT, code, call):
            await self._step(OTP_LIMIT_AT, "50#", call)

    async def _until_playing(self, prompt: str, call: asyncio.Future[Any]) -> bool:
        """Wait until `prompt` is heard starting (after the last key) on a live connection."""
        media = self.listener.media
        while not call.done():
            if self.listener.playing(prompt, self.mark) and media.current is not None:
                return True
            await asyncio.sleep(LISTEN_POLL_S)
        return False

    async def _reaction(self, within: float = REACT_S) -> float | None:
        """ms from now to the IVR's next action: new audio (another prompt, spoken text), an
        AGI command, or the end of the AudioSocket connection; None after `within` s."""
        loop, clock = asyncio.get_running_loop(), self.emu.call.clock
        since, since_ms = loop.time(), clock.now()
        self.mark = len(self.listener.segments)
        connection = self.listener.media.current
        while loop.time() < since + within:
            await asyncio.sleep(REACT_POLL_S)
            took = [(heard - since) * 1000 for heard in [self.listener.next_after(since)]
                    if heard is not None]
            took += [t - since_ms for t, _ in self.commands() if t >= since_ms]
            if connection is not None and connection.ended.is_set():
                took.append(clock.now() - since_ms)  # (noticed at this poll)
            if took:
                return max(0.0, min(took))
        return None

    async def _press(self, key: str) -> float | None:
        self.emu.press(key)
        took = await self._reaction()
        if took is not None:
            self.result.key_ms.append(took)
        return took

    async def _speak(self) -> float | None:
        assert self.speech is not None
        media = self.listener.media
        if media.current is not None:  # a speaker waits for the question, then answers
            await agi_audiosocket.prompt_finished(media.current)
        await media.speak(load_wav(self.speech))
        took = await self._reaction(SPEECH_REACT_S)
        if took is not None:
            self.result.speech_ms.append(took)
        return took


def _path(keys: list[tuple[str, str, str]]) -> list[str]:
    steps = [step for prompt, _, expect in keys
             for step in (prompt.removeprefix("ivr/"), expect)]
    # a step that leads back to the main menu expects the menu the next step starts at: once
    return [step for i, step in enumerate(steps) if i == 0 or step != steps[i - 1]]


def _in_order(said: list[str], steps: list[str]) -> bool:
    """Whether the console lines mention each step, in this order."""
    lines = iter(said)
    return all(any(step in line for line in lines) for step in steps)
