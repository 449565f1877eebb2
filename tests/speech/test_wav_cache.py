"""Prompt WAVs from memory while unchanged, read again once re-rendered."""

from __future__ import annotations

import os
import wave
from pathlib import Path

from ivr.speech.wav_cache import read_wav_cached


def write_wav(path: Path, samples: bytes) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(samples)


async def test_an_unchanged_prompt_is_read_once_and_a_rerendered_one_again(
        tmp_path: Path) -> None:
    path = tmp_path / "menu.wav"
    write_wav(path, b"\x01\x00" * 800)
    first = await read_wav_cached(path)
    assert first == b"\x01\x00" * 800
    assert await read_wav_cached(path) is first  # the same bytes: no second read
    write_wav(path, b"\x02\x00" * 1600)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a later render
    assert await read_wav_cached(path) == b"\x02\x00" * 1600
