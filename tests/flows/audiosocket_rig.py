"""Calls answered as `ivr serve` answers them (make_call_handler with the AudioSocket media
path) from an emulated Asterisk host that has NO sound files: what the caller hears can only
come over AudioSocket, as on a stock Asterisk that nobody copied ivr's prompts to.

The caller is driven by what the IVR announces before each turn (the VERBOSE lines "ivr plays:
<prompt>" / "ivr says: <text>") and keys an answer once that turn's AudioSocket is connected,
over the prompt (barge-in), so a test does not wait for every prompt to end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ivr.call.media import MediaPath
from ivr.calls import make_call_handler
from ivr.config import Settings
from ivr.store.db import Database
from ivr.store.domain import Interaction
from ivr.store.repositories.interactions import InteractionRepository
from ivr.telephony.agi import parse_command_line
from ivr.telephony.emulator import agi_audiosocket
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import CommandReceived
from ivr.telephony.emulator.audiosocket import AudioSocketCaller
from ivr.telephony.fastagi import FastAgiServer

MAIN_LINE = "18005550100"
CALL_TIMEOUT = 60.0
KEY_GAP_S = 0.15  # between keys of one answer (real time: AudioSocket runs in real time)
PLAYS, SAYS = "ivr plays: ", "ivr says: "


def no_files(name: str) -> int | None:
    """The Asterisk host's sounds folder: empty."""
    return None


@dataclass(frozen=True)
class Answer:
    """When the IVR announces a turn whose VERBOSE line contains `heard` (a prompt id or part of
    a spoken text), key `keys` (a callable is read then, e.g. the code just sent) on that turn's
    AudioSocket."""

    heard: str
    keys: str | Callable[[], str] = ""


@dataclass
class MediaCall:
    emu: AgiEmulator
    interaction: Interaction

    def commands(self) -> list[list[str]]:
        return [parse_command_line(e.line.rstrip(b"\n"))
                for e in self.emu.events.of(CommandReceived)]

    def announced(self, label: str = PLAYS) -> list[str]:
        """What the IVR announced with `label` (prompts over AudioSocket, or spoken texts)."""
        return [w[1].removeprefix(label) for w in self.commands()
                if w[0].upper() == "VERBOSE" and w[1].startswith(label)]

    def host_files_asked(self) -> list[list[str]]:
        """Commands that would need a file on the Asterisk host."""
        host = ("STREAM FILE", "CONTROL STREAM FILE", "GET OPTION", "GET DATA")
        return [w for w in self.commands()
                if " ".join(w[:3]).upper().startswith(host)
                or (w[0].upper() == "EXEC" and w[1:2] == ["Playback"])]

    def connections(self) -> list[AudioSocketCaller]:
        return agi_audiosocket.caller_media(self.emu.call).connections


async def _press(emu: AgiEmulator, before: int, answer: Answer) -> None:
    media = agi_audiosocket.caller_media(emu.call)
    while len(media.connections) <= before or media.current is None:
        if emu.call.dead.is_set():
            return
        await asyncio.sleep(0.01)
    keys = answer.keys if isinstance(answer.keys, str) else answer.keys()
    for key in keys:
        emu.press(key)
        await asyncio.sleep(KEY_GAP_S)


async def _drive(emu: AgiEmulator, answers: Sequence[Answer]) -> None:
    todo = list(answers)
    armed: Answer | None = None
    async for event in emu.events.stream():
        if not isinstance(event, CommandReceived):
            continue
        words = parse_command_line(event.line.rstrip(b"\n"))
        if words[0].upper() == "VERBOSE" and todo and todo[0].heard in words[1]:
            armed = todo.pop(0)
        elif armed is not None and words[:2] == ["EXEC", "AudioSocket"]:
            before = len(agi_audiosocket.caller_media(emu.call).connections)
            await _press(emu, before, armed)
            armed = None


async def place(
    db: Database, settings: Settings, media: MediaPath, caller: str,
    answers: Sequence[Answer] = (),
) -> MediaCall:  # fmt: skip
    """One call to the main line; returns once the IVR has stored the interaction."""
    handler = make_call_handler(db, settings, media=media)
    async with FastAgiServer(handler, "127.0.0.1", 0) as server:
        emu = AgiEmulator(
            f"agi://127.0.0.1:{server.port}/ivr", args=[MAIN_LINE],
            profile=CallProfile(callerid=caller, language="en"), prompts=no_files,
        )  # fmt: skip
        driver = asyncio.create_task(_drive(emu, answers))
        try:
            await asyncio.wait_for(emu.run(), CALL_TIMEOUT)
        finally:
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)
    # Leaving the server waits for the runner, which stores the interaction as the call ends.
    interaction_id = int(emu.call.variables["IVR_INTERACTION_ID"])
    return MediaCall(emu, InteractionRepository(db).get(interaction_id))
