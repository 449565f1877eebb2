"""Caller media for the emulator: WAV loading, real-time 20 ms pacing, and EAGI's fd-3 feed.

Asterisk writes one frame per 20 ms (320 bytes of s16le at 8 kHz, 640 for slin16) and the last
frame of a file is short; these helpers reproduce that for AudioSocket and for EAGI's fd 3.
"""

from __future__ import annotations

import asyncio
import os
import sys
import wave
from array import array
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from ivr.telephony.audiosocket import resample

FRAME_INTERVAL = 0.020
EAGI_FD = 3


def load_wav(path: str | Path, rate: int = 8000) -> bytes:
    """A 16-bit PCM WAV as mono s16le at ``rate`` (channels averaged, linear resampling)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
        channels, src_rate = wav.getnchannels(), wav.getframerate()
        data = wav.readframes(wav.getnframes())
    if channels > 1:
        samples = array("h", data)
        mono = array("h", (sum(samples[i:i + channels]) // channels
                           for i in range(0, len(samples), channels)))
        data = mono.tobytes()
    return resample(data, src_rate, rate)


def split_frames(data: bytes, size: int) -> list[bytes]:
    """Fixed-size frames; the last one keeps whatever is left, like Asterisk's last frame."""
    return [data[i:i + size] for i in range(0, len(data), size)]


async def paced(frames: Sequence[bytes], interval: float = FRAME_INTERVAL) -> AsyncIterator[bytes]:
    """Yield frames on an absolute schedule (frame i at start + i*interval): no drift."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index, frame in enumerate(frames):
        delay = start + index * interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield frame


def eagi_argv(argv: Sequence[str], audio_fd: int) -> list[str]:
    """Wrap a command so the child finds the pipe ``audio_fd`` on fd 3, as under EAGI().

    subprocess cannot renumber descriptors (and dash refuses fds above 9), so a tiny Python
    trampoline moves it and execs the command; start it with ``pass_fds=(audio_fd,)``.
    """
    if audio_fd == EAGI_FD:
        return list(argv)
    trampoline = (
        "import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); os.close(fd); "
        "os.execvp(sys.argv[2], sys.argv[2:])"
    )
    return [sys.executable, "-c", trampoline, str(audio_fd), *argv]


async def feed_eagi_audio(
    fd: int,
    pcm: bytes,
    *,
    frame_bytes: int = 320,
    interval: float = FRAME_INTERVAL,
    close: bool = True,
) -> int:
    """Write caller audio to the write end of an fd-3 pipe, one write per 20 ms frame.

    Returns the bytes written; stops early if the reader went away. ``close`` gives the child EOF
    at the end; without it ``fd`` stays open for more audio.
    """
    loop = asyncio.get_running_loop()
    pipe = os.fdopen(fd if close else os.dup(fd), "wb", buffering=0)
    transport, _ = await loop.connect_write_pipe(asyncio.BaseProtocol, pipe)
    written = 0
    try:
        async for frame in paced(split_frames(pcm, frame_bytes), interval):
            if transport.is_closing():
                break
            transport.write(frame)
            written += len(frame)
    finally:
        transport.close()
    return written
