"""Energy-based start and end of speech on 20 ms frames.

Start of speech (for barge-in) is a few consecutive frames clearly above the noise floor; end of
speech is a stretch of trailing silence (default 600 ms) after it. The floor adapts on quiet
frames, so line noise does not read as talking.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ivr.speech.audio import FRAME_MS, rms_dbfs

DEFAULT_TRAILING_SILENCE_MS = 600


class Event(Enum):
    NONE = "none"
    START = "start"  # the caller began talking (barge-in point)
    END = "end"  # the caller stopped: trailing silence reached


@dataclass(frozen=True)
class EndpointConfig:
    trailing_silence_ms: int = DEFAULT_TRAILING_SILENCE_MS
    start_ms: int = 60  # voiced time that counts as the start of speech
    min_speech_ms: int = 120  # shorter bursts (clicks) are not an utterance
    margin_db: float = 15.0  # how far above the noise floor speech must be
    min_level_db: float = -50.0  # never call anything quieter than this speech
    initial_floor_db: float = -70.0


class Endpointer:
    """Feed frames in order; `feed` returns START once and then END once per utterance."""

    def __init__(self, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self.floor = self.config.initial_floor_db
        self.in_speech = False
        self.ended = False
        self.elapsed_ms = 0.0
        self.speech_start_ms: float | None = None
        self.speech_end_ms: float | None = None
        self._voiced_run = 0.0
        self._silent_run = 0.0
        self._speech_ms = 0.0

    def threshold(self) -> float:
        return max(self.floor + self.config.margin_db, self.config.min_level_db)

    def feed(self, frame: bytes) -> Event:
        if self.ended:
            return Event.NONE
        ms = len(frame) / 16.0 or FRAME_MS  # 16 bytes per ms at 8 kHz s16le
        self.elapsed_ms += ms
        level = rms_dbfs(frame)
        voiced = level >= self.threshold()
        if not voiced:
            # slow to rise, quick to fall: speech never drags the floor up much
            rate = 0.3 if level < self.floor else 0.02
            self.floor += (level - self.floor) * rate
        return self._speech(ms, voiced) if self.in_speech else self._silence(ms, voiced)

    def _silence(self, ms: float, voiced: bool) -> Event:
        self._voiced_run = self._voiced_run + ms if voiced else 0.0
        if self._voiced_run >= self.config.start_ms:
            self.in_speech = True
            self.speech_start_ms = self.elapsed_ms - self._voiced_run
            self._speech_ms = self._voiced_run
            self._silent_run = 0.0
            return Event.START
        return Event.NONE

    def _speech(self, ms: float, voiced: bool) -> Event:
        if voiced:
            self._speech_ms += ms
            self._silent_run = 0.0
            return Event.NONE
        self._silent_run += ms
        if self._silent_run < self.config.trailing_silence_ms:
            return Event.NONE
        if self._speech_ms < self.config.min_speech_ms:
            self.in_speech, self._voiced_run = False, 0.0  # a click: keep waiting
            return Event.NONE
        self.ended = True
        self.speech_end_ms = self.elapsed_ms - self._silent_run
        return Event.END
