"""`EXEC AudioSocket <uuid>,<host:port>` in the AGI emulator: the call's media goes to a real
AudioSocket server, like Asterisk's AudioSocket() application.

While the app runs, the caller's line sends a 20 ms frame every 20 ms (silence unless the
scripted caller is speaking), keys go as 0x03 messages, and whatever the server plays is kept
per connection (`CallerMedia.connections`). The app returns 0 when the server ends the session
(0x00 or close) and -1 when the caller hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path

from ivr.telephony.emulator.agi_call import EmulatedCall
from ivr.telephony.emulator.audiosocket import FROM_SERVER, AudioSocketCaller
from ivr.telephony.emulator.audiosocket_media import FRAME_INTERVAL, load_wav
from ivr.telephony.errors import CallHangup

FRAME_BYTES = 320  # 20 ms of 8 kHz s16le
PROMPT_GAP_S = 0.3  # the server's audio stopped this long ago: its prompt has ended
NO_PROMPT_S = 1.0  # nothing played this long after connecting: the server is just listening
POLL_S = 0.05
CALLER_VOICES = {"en": "en-us", "ru": "ru"}
_media: weakref.WeakKeyDictionary[EmulatedCall, CallerMedia] = weakref.WeakKeyDictionary()


class CallerMedia:
    """The caller's audio line for one emulated call, across its AudioSocket connections."""

    def __init__(self) -> None:
        self.connections: list[AudioSocketCaller] = []
        self.connected = asyncio.Event()
        self._speech = bytearray()
        self._drained = asyncio.Event()
        self._drained.set()

    @property
    def current(self) -> AudioSocketCaller | None:
        return self.connections[-1] if self.connected.is_set() else None

    async def speak(self, pcm: bytes) -> None:
        """Queue 8 kHz s16le to be sent; returns once sent, or when the connection ends."""
        self._speech += pcm
        self._drained.clear()
        await self._drained.wait()

    def _next_frame(self) -> bytes:
        if not self._speech:
            return bytes(FRAME_BYTES)
        frame = bytes(self._speech[:FRAME_BYTES])
        del self._speech[:FRAME_BYTES]
        if not self._speech:
            self._drained.set()
        return frame.ljust(FRAME_BYTES, b"\0")

    def drop_speech(self) -> None:
        self._speech.clear()
        self._drained.set()

    async def pump(self, caller: AudioSocketCaller) -> None:
        """One frame per 20 ms on an absolute schedule, as long as the connection lives."""
        loop = asyncio.get_running_loop()
        start, index = loop.time(), 0
        while not caller.ended.is_set():
            delay = start + index * FRAME_INTERVAL - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if caller.ended.is_set():
                break
            await caller.stream_frames([self._next_frame()])
            index += 1


def caller_media(call: EmulatedCall) -> CallerMedia:
    if call not in _media:
        _media[call] = CallerMedia()
    return _media[call]


def enable(call: EmulatedCall) -> None:
    """Make `EXEC AudioSocket` connect (unless a test installed its own hook)."""
    call.app_hooks.setdefault("audiosocket", audiosocket_app)


async def audiosocket_app(call: EmulatedCall, data: str) -> int:
    try:
        session_id, target = data.split(",")[:2]
        host, _, port = target.rpartition(":")
        caller = AudioSocketCaller(host, int(port), uuid.UUID(session_id))
        await caller.connect()
    except (ValueError, OSError):
        return -1  # Asterisk: bad arguments or no server -> the app fails
    media = caller_media(call)
    media.connections.append(caller)
    media.connected.set()
    try:
        return await _run(call, media, caller)
    finally:
        media.connected.clear()
        media.drop_speech()


async def prompt_finished(caller: AudioSocketCaller) -> None:
    """Return once the server has played its prompt and gone quiet (or played nothing for a
    while): when a person who waits for the question would answer."""
    loop = asyncio.get_running_loop()
    opened = loop.time()
    while not caller.ended.is_set():
        # the last voiced frame, on the connection's clock (a held connection is older than
        # this question: its first prompts must not count as this one)
        voiced = next((w.t for w in reversed(caller.wire) if w.direction == FROM_SERVER
                       and w.message.is_audio and any(w.message.payload)), None)
        last = caller.started_at + voiced + FRAME_INTERVAL if voiced is not None else None
        if last is not None and last > opened - PROMPT_GAP_S:
            if loop.time() - last >= PROMPT_GAP_S:
                return
        elif loop.time() - opened >= NO_PROMPT_S:
            return
        await asyncio.sleep(POLL_S)


async def _run(call: EmulatedCall, media: CallerMedia, caller: AudioSocketCaller) -> int:
    call.ask_gate = lambda: prompt_finished(caller)
    try:
        return await _stream(call, media, caller)
    finally:
        call.ask_gate = None


async def _stream(call: EmulatedCall, media: CallerMedia, caller: AudioSocketCaller) -> int:
    with call.listening() as keys:
        tasks = [asyncio.ensure_future(media.pump(caller)),
                 asyncio.ensure_future(_forward_keys(keys, caller))]
        ended = asyncio.ensure_future(caller.ended.wait())
        dead = asyncio.ensure_future(call.dead.wait())
        try:
            await asyncio.wait({ended, dead}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in [*tasks, ended, dead]:
                task.cancel()
            await asyncio.gather(*tasks, ended, dead, return_exceptions=True)
    if call.dead.is_set():
        await caller.hangup()
        return -1
    return 0


async def _forward_keys(keys: asyncio.Queue[str], caller: AudioSocketCaller) -> None:
    while True:
        digit = await keys.get()
        with contextlib.suppress(CallHangup):
            caller.send_dtmf(digit)


async def synthesize(text: str, language: str) -> bytes | None:
    """The caller's voice for a `Speech` step: espeak-ng, 8 kHz; None if it is not installed."""
    if shutil.which("espeak-ng") is None:
        return None
    voice = CALLER_VOICES.get(language, language or "en-us")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "say.wav"
        proc = await asyncio.create_subprocess_exec(
            "espeak-ng", "-v", voice, "-w", str(out), "--", text,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        if await proc.wait() != 0:
            return None
        return await asyncio.to_thread(load_wav, out)
