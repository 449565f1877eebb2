"""A recording as a media channel, so files go through the same turn code as calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from ivr.speech.audio import FRAME_BYTES, frames, silence


class FileChannel:
    """Yields a recording's 20 ms frames (unpaced), then `tail_ms` of silence so the endpointer
    sees the caller stop; no keys, prompts are discarded."""

    def __init__(self, pcm: bytes, *, tail_ms: float = 1500.0) -> None:
        self._frames = frames(pcm + silence(tail_ms), FRAME_BYTES)

    async def frames(self) -> AsyncIterator[bytes]:
        for frame in self._frames:
            yield frame
            await asyncio.sleep(0)  # let the recognizer's batches interleave, as on a call

    async def get_digit(self, timeout: float | None = None) -> str | None:
        await asyncio.Event().wait()  # a file never presses keys
        return None

    async def play(self, pcm: bytes) -> bool:
        return True

    def stop_playback(self) -> None:
        return None
