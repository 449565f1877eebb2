"""A speech turn over EAGI: the caller's audio from fd 3, prompts by STREAM FILE, keys by the
prompt's escape digits and by short WAIT FOR DIGIT polls.

EAGI exists only for a local script (`ivr agi`), so Asterisk can read the prompt files we write.
Asterisk cannot be told to stop a STREAM FILE from the script's side, so speech over a prompt
is recognized from its first frame but the prompt plays on (keys do stop it). Asterisk writes
nothing to fd 3 while the caller's leg sends no frames; silence is supplied after a short gap so
the endpointer still sees the caller stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ivr.speech.audio import FRAME_BYTES
from ivr.telephony.agi import AgiResult
from ivr.telephony.eagi_audio import EagiAudio

KEYS = "0123456789*#"
POLL_MS = 200  # a WAIT FOR DIGIT poll: how late the end of speech may be noticed by AGI
GAP_S = 0.1  # no frame for this long: the caller's leg is silent


class EagiSession:
    """The MediaChannel of one EAGI call (one per `ivr agi` process), reused by every turn."""

    def __init__(self, link: Any, audio: EagiAudio, spool: Path, *,
                 poll_ms: int = POLL_MS, gap_s: float = GAP_S) -> None:
        self.link, self.audio, self.spool = link, audio, spool
        self.poll_ms, self.gap_s = poll_ms, gap_s
        self._keys: asyncio.Queue[str] = asyncio.Queue()
        self._inflight: asyncio.Future[Any] | None = None
        self._prompts = 0
        self._no_prompt = asyncio.Event()
        self._no_prompt.set()

    async def frames(self) -> AsyncIterator[bytes]:
        while True:
            try:
                async with asyncio.timeout(self.gap_s):
                    frame = await self.audio.read_frame()
            except TimeoutError:
                frame = bytes(FRAME_BYTES)
            if not frame:
                return  # fd 3 closed: the call is gone
            yield frame

    async def play(self, pcm: bytes) -> bool:
        self._prompts += 1
        self._no_prompt.clear()  # key polls wait: the prompt's escape digits take keys
        try:
            name = await asyncio.to_thread(self._spooled, pcm)
            result: AgiResult = await self._command("STREAM FILE", name, KEYS)
        finally:
            self._prompts -= 1
            if not self._prompts:
                self._no_prompt.set()
        return result.value == 0

    async def get_digit(self, timeout: float | None = None) -> str | None:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        await asyncio.sleep(0)  # a prompt started in the same turn goes first
        while True:
            await self._no_prompt.wait()
            await self._idle()
            if not self._keys.empty():
                return self._keys.get_nowait()
            if deadline is not None and loop.time() >= deadline:
                return None
            await self._command("WAIT FOR DIGIT", str(self.poll_ms))

    def stop_playback(self) -> None:
        return None  # see the module's note: Asterisk plays the file to its end

    async def finish(self) -> None:
        """Let a poll still in flight end, so the next AGI command is not sent behind it."""
        await self._idle()

    async def _command(self, command: str, *args: str) -> Any:
        await self._idle()
        future = asyncio.ensure_future(self.link.command(command, *args))
        future.add_done_callback(self._take_key)
        self._inflight = future
        # shielded: a turn that ends mid-command leaves it to finish (AGI runs one at a time)
        return await asyncio.shield(future)

    async def _idle(self) -> None:
        while self._inflight is not None and not self._inflight.done():
            await asyncio.wait([self._inflight])

    def _take_key(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            return  # the caller hung up: the awaiting turn sees CallHangup
        value = future.result().value
        if value is not None and value > 0:
            self._keys.put_nowait(chr(value))

    def _spooled(self, pcm: bytes) -> str:
        """The prompt as raw 8 kHz slin that Asterisk can play; named by its content."""
        self.spool.mkdir(parents=True, exist_ok=True)
        path = self.spool / hashlib.sha256(pcm).hexdigest()[:32]
        target = path.with_suffix(".sln")
        if not target.exists():
            partial = path.with_suffix(".tmp")
            partial.write_bytes(pcm)
            partial.replace(target)
        return str(path)


@contextlib.asynccontextmanager
async def eagi_turn(session: EagiSession) -> AsyncIterator[EagiSession]:
    try:
        yield session
    finally:
        await session.finish()  # never raises: a hangup is reported by the turn itself
