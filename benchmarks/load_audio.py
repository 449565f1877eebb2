"""Where a load caller is, from the audio the IVR plays to it (benchmarks/load.py).

With the product's default one AudioSocket per call (`IVR_MEDIA_ONE_SESSION=1`), the console
lines (VERBOSE) that name each prompt are sent only when the held media is released, so a
caller cannot follow the flow by them. It follows it as a person does, by what it hears: the
server streams each rendered prompt byte for byte, so every 20 ms frame of every prompt WAV is
indexed, and a frame heard names its prompt and its place in it. Audio that is in no WAV (text
spoken by TTS) is "speech"; all-zero frames (the server's keepalive) are silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.speech.audio import read_wav
from ivr.telephony.emulator import agi_audiosocket
from ivr.telephony.emulator.audiosocket import FROM_SERVER

FRAME = 320
SPOKEN = "(spoken)"  # audio in no prompt WAV: TTS


class PromptIndex:
    """Every non-silent 20 ms frame of a language's rendered prompts -> (prompt id, index)."""

    def __init__(self, prompts_dir: Path, language: str = "en") -> None:
        self.frames: dict[bytes, tuple[str, int]] = {}
        for wav in sorted((prompts_dir / language).glob("*.wav")):
            pcm = read_wav(wav)
            for index in range(len(pcm) // FRAME):
                frame = pcm[index * FRAME:(index + 1) * FRAME]
                if any(frame):
                    self.frames.setdefault(frame, (f"ivr/{wav.stem}", index))


@dataclass(frozen=True)
class Segment:
    """A stretch of the IVR's audio: a prompt from `start` (loop time), or spoken text."""

    start: float
    prompt: str


class Listener:
    """Follows what one emulated call hears, across its AudioSocket connections."""

    def __init__(self, call: Any, index: PromptIndex) -> None:
        self.media = agi_audiosocket.caller_media(call)
        self.index = index
        self.segments: list[Segment] = []
        self._seen: dict[int, int] = {}  # connection id -> wire events already read
        self._last: tuple[str, int] | None = None  # the prompt frame heard last

    def update(self) -> None:
        """Read what arrived since the last update."""
        for conn in list(self.media.connections):
            wire = conn.wire
            start = self._seen.get(id(conn), 0)
            self._seen[id(conn)] = len(wire)
            for event in wire[start:]:
                if event.direction != FROM_SERVER or not event.message.is_audio:
                    continue
                self._frame(conn._t0 + event.t, event.message.payload)

    def _frame(self, at: float, payload: bytes) -> None:
        if not any(payload):
            return  # silence: neither a new prompt nor the end of one
        found = self.index.frames.get(payload)
        last = self._last
        if found is None:
            if last is None or last[0] != SPOKEN:
                self.segments.append(Segment(at, SPOKEN))
            self._last = (SPOKEN, 0)
            return
        if last is None or last[0] != found[0] or found[1] <= last[1]:
            self.segments.append(Segment(at, found[0]))  # a prompt starts (or starts again)
        self._last = found

    def playing(self, prompt: str, since: int = 0) -> bool:
        """Whether `prompt` was heard starting, among the segments from `since` on."""
        self.update()
        return any(s.prompt == prompt for s in self.segments[since:])

    def next_after(self, at: float) -> float | None:
        """When the first new audio after `at` (loop time) began: the IVR's next action."""
        self.update()
        return next((s.start for s in self.segments if s.start >= at), None)

    def heard(self) -> list[str]:
        self.update()
        return [s.prompt for s in self.segments]
