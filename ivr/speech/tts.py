"""Text to 8 kHz speech with espeak-ng (+ sox to resample), cached by content hash.

The same voice settings render the static prompt catalogue (`ivr prompts render`) and dynamic
text on demand, so a call sounds like one voice. Synthesis runs as a subprocess: on the event
loop it is awaited with asyncio's subprocess API, never blocking.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ivr.speech.audio import read_wav, wav_bytes_to_pcm, write_wav
from ivr.speech.errors import TtsError

VOICES = {"en": "en-us", "ru": "ru"}
SPEED_WPM = 150
INSTALL_HINT = "apt-get install espeak-ng sox"


@dataclass(frozen=True)
class Voice:
    language: str
    speed: int = SPEED_WPM

    @property
    def espeak_voice(self) -> str:
        return VOICES.get(self.language, self.language)

    def key(self, text: str) -> str:
        raw = f"espeak-ng|{self.espeak_voice}|{self.speed}|{text}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]


def available() -> bool:
    return shutil.which("espeak-ng") is not None


def _espeak_argv(voice: Voice, text: str, out: Path) -> list[str]:
    if shutil.which("espeak-ng") is None:
        raise TtsError(f"espeak-ng is not installed: {INSTALL_HINT}")
    # "--" keeps text that starts with "-" from being read as an option
    return ["espeak-ng", "-v", voice.espeak_voice, "-s", str(voice.speed), "-w", str(out),
            "--", text]


def _sox_argv(src: Path, dst: Path) -> list[str]:
    return ["sox", str(src), "-r", "8000", "-c", "1", "-b", "16", str(dst)]


def render_file(text: str, voice: Voice, dst: Path) -> None:
    """Synchronous render to an 8 kHz mono 16-bit WAV (CLI and prompt catalogue)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        _run(_espeak_argv(voice, text, raw))
        if shutil.which("sox"):
            _run(_sox_argv(raw, dst))
        else:
            write_wav(dst, read_wav(raw))


def _run(argv: list[str]) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as err:
        raise TtsError(f"{argv[0]} failed: {err}") from None


class Tts:
    """On-demand synthesis with a content-hash cache of rendered WAVs in `cache_dir`."""

    def __init__(self, cache_dir: Path, *, speed: int = SPEED_WPM) -> None:
        self.cache_dir = cache_dir
        self.speed = speed

    def path_for(self, text: str, language: str) -> Path:
        return self.cache_dir / f"{Voice(language, self.speed).key(text)}.wav"

    def synthesize(self, text: str, language: str) -> bytes:
        """8 kHz s16le for `text` (synchronous; renders once, then reads the cache)."""
        path = self.path_for(text, language)
        if not path.exists():
            render_file(text, Voice(language, self.speed), path)
        return read_wav(path)

    async def synthesize_async(self, text: str, language: str) -> bytes:
        path = self.path_for(text, language)
        if path.exists():
            return await asyncio.to_thread(read_wav, path)
        voice = Voice(language, self.speed)
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.wav"
            await _run_async(_espeak_argv(voice, text, raw))
            if shutil.which("sox"):
                out = Path(tmp) / "8k.wav"
                await _run_async(_sox_argv(raw, out))
                data = await asyncio.to_thread(out.read_bytes)
            else:
                data = await asyncio.to_thread(raw.read_bytes)
        pcm = wav_bytes_to_pcm(data)
        await asyncio.to_thread(_store, path, pcm)
        return pcm


def _store(path: Path, pcm: bytes) -> None:
    """Write then rename: a call reading the cache never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{id(pcm)}.tmp")
    write_wav(partial, pcm)
    partial.replace(path)


async def _run_async(argv: list[str]) -> None:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await proc.communicate()
    except OSError as exc:
        raise TtsError(f"{argv[0]} failed: {exc}") from None
    if proc.returncode != 0:
        raise TtsError(f"{argv[0]} failed ({proc.returncode}): {err.decode(errors='replace')}")
