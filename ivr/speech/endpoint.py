"""Energy-based start and end of speech on 20 ms frames.

Start of speech (for barge-in) is a few consecutive frames clearly above the noise floor that the
voice detector (Silero VAD) calls speech; end of speech is a stretch of trailing silence (default
600 ms) after it. The floor adapts on quiet frames, and on loud ones the detector rejects for a
second, so line noise does not read as talking. With the detector a caller is heard down to
`vad_min_level_db` (quiet callers at -45 dBFS were never heard at the energy-only -50 dBFS floor);
without it (no onnxruntime) energy alone decides, at `min_level_db`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

from ivr.speech import vad
from ivr.speech.audio import FRAME_MS, rms_dbfs

DEFAULT_TRAILING_SILENCE_MS = 600


class Event(Enum):
    NONE = "none"
    START = "start"  # the caller began talking: the turn's speech starts here
    BARGE = "barge"  # after START: the voice is now sure enough to cut a playing prompt
    END = "end"  # the caller stopped: trailing silence reached


@dataclass(frozen=True)
class EndpointConfig:
    trailing_silence_ms: int = DEFAULT_TRAILING_SILENCE_MS
    start_ms: int = 60  # voiced time that counts as the start of speech
    min_speech_ms: int = 120  # energy only: shorter bursts (clicks) are not an utterance
    margin_db: float = 15.0  # how far above the noise floor speech must be
    min_level_db: float = -50.0  # energy only: never call anything quieter than this speech
    initial_floor_db: float = -70.0
    vad: bool = True  # confirm starts with the voice detector (when it can be loaded)
    vad_threshold: float = 0.2  # speech probability that confirms a start (measured: noise
    # bursts peak at 0.13, speech at -45 dBFS is above 0.25 in 99 % of fsdd-dev files)
    vad_lead_in_frames: int = 5  # quiet frames before a candidate the detector hears first
    candidate_gap_ms: int = 300  # dips shorter than this stay within one candidate
    vad_min_level_db: float = -65.0  # with the detector: quieter than this is never speech
    vad_give_up_ms: int = 1000  # a loud stretch the detector rejects this long is line noise
    # Speech probability that makes a start sure enough to cut a prompt (barge-in). A start
    # stays sensitive (`vad_threshold`) so a quiet caller after the prompt is heard; a false
    # barge-in silences the prompt the caller needs, so it wants a surer voice (measured on
    # ten minutes of synthetic line noise: 10 starts at 0.2, none at 0.5).
    barge_threshold: float = 0.5
    # How long after its start a voice may still become sure: a real caller is sure within a
    # few hundred ms, while a line whose hum keeps the endpointer "in speech" (the floor adapts
    # only on quiet frames) drifted past 0.5 after 3 s or more of listening.
    barge_within_ms: int = 1000


class Endpointer:
    """Feed frames in order; `feed` returns START once and then END once per utterance, and
    BARGE in between when the voice becomes sure after its start (`sure` is already True at
    START when it was sure then: a START with `sure` is a barge-in point too)."""

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
        use_vad = self.config.vad and vad.available()
        self._detector = vad.VoiceDetector() if use_vad else None
        self._quiet_ms = float("inf")  # since the last voiced frame
        self._candidate_ms = 0.0
        self._longest_run = 0.0  # the candidate's longest voiced run
        self._lead_in: deque[bytes] = deque(maxlen=self.config.vad_lead_in_frames)
        self.sure = False  # this utterance may cut a prompt (see `barge_threshold`)

    def threshold(self) -> float:
        lowest = self.config.min_level_db if self._detector is None \
            else self.config.vad_min_level_db
        return max(self.floor + self.config.margin_db, lowest)

    def feed(self, frame: bytes) -> Event:
        if self.ended:
            return Event.NONE
        ms = len(frame) / 16.0 or FRAME_MS  # 16 bytes per ms at 8 kHz s16le
        self.elapsed_ms += ms
        level = rms_dbfs(frame)
        voiced = level >= self.threshold()
        if not voiced or self._rejected():
            # slow to rise, quick to fall: speech never drags the floor up much
            rate = 0.3 if level < self.floor else 0.02
            self.floor += (level - self.floor) * rate
        if self.in_speech:
            return self._speech(ms, voiced, frame)
        return self._silence(ms, voiced, frame)

    def _rejected(self) -> bool:
        """A long loud stretch that the detector does not call speech (hum, hiss, music)."""
        return (self._detector is not None and not self.in_speech
                and self._candidate_ms >= self.config.vad_give_up_ms and not self._confirmed())

    def _confirmed(self) -> bool:
        return self._detector is None or \
            self._detector.probability >= self.config.vad_threshold

    def _is_sure(self) -> bool:
        return self._detector is None or \
            self._detector.probability >= self.config.barge_threshold

    def take_back(self) -> None:
        """Forget the current utterance (one that was never sure ended while a prompt played:
        line noise, not a caller) and wait for the next start; the floor and clock go on."""
        self.in_speech = self.ended = self.sure = False
        self.speech_start_ms = self.speech_end_ms = None
        self._voiced_run = self._candidate_ms = self._longest_run = 0.0
        self._quiet_ms = self._silent_run  # the next voiced frame begins a new candidate

    def _run_for_start(self) -> float:
        """Energy alone starts on `start_ms` voiced in a row, then and there. The detector lags
        the sound by a window or two and hears little of a short quiet word before its loud
        frames are over (a "four" at -41 dBFS peak: 140 ms voiced, confirmed only after), so
        with it a candidate that had such a run starts whenever the detector confirms it."""
        return self._voiced_run if self._detector is None else self._longest_run

    def _silence(self, ms: float, voiced: bool, frame: bytes) -> Event:
        # A candidate is voiced frames with dips shorter than `candidate_gap_ms` (a quiet
        # caller's level wavers around the threshold); the detector hears all of it.
        if voiced:
            if self._quiet_ms >= self.config.candidate_gap_ms:
                self._candidate_ms = self._longest_run = 0.0
                if self._detector is not None:  # with the quiet lead-in: the model wants onsets
                    self._detector.reset()
                    for earlier in self._lead_in:
                        self._detector.feed(earlier)
            self._quiet_ms = 0.0
            self._voiced_run += ms
            self._longest_run = max(self._longest_run, self._voiced_run)
        else:  # a start needs `start_ms` voiced in a row: clicks come one or two frames apart
            self._quiet_ms += ms
            self._voiced_run = 0.0
        if self._quiet_ms >= self.config.candidate_gap_ms:
            self._voiced_run = 0.0
            self._lead_in.append(frame)
            return Event.NONE
        self._candidate_ms += ms
        if self._detector is not None:
            self._detector.feed(frame)
        if self._run_for_start() >= self.config.start_ms and self._confirmed():
            self.in_speech = True
            self.speech_start_ms = self.elapsed_ms - self._candidate_ms
            self._speech_ms = self._voiced_run
            self._silent_run = 0.0
            self.sure = self._is_sure()
            return Event.START
        return Event.NONE

    def _speech(self, ms: float, voiced: bool, frame: bytes) -> Event:
        became_sure = False
        start = self.speech_start_ms or 0.0
        if not self.sure and self._detector is not None \
                and self.elapsed_ms - start <= self.config.barge_within_ms:
            # the detector goes on hearing an unsure start, for `barge_within_ms` at most
            self._detector.feed(frame)
            became_sure = self.sure = self._is_sure()
        event = self._speech_event(ms, voiced)
        return Event.BARGE if became_sure and event is Event.NONE else event

    def _speech_event(self, ms: float, voiced: bool) -> Event:
        if voiced:
            self._speech_ms += ms
            self._silent_run = 0.0
            return Event.NONE
        self._silent_run += ms
        if self._silent_run < self.config.trailing_silence_ms:
            return Event.NONE
        # A start the detector confirmed is a voice, however short its loud part: a quiet
        # caller's "seven" at -41 dBFS peak is 80 ms above the threshold, and taking it for a
        # click left the turn waiting for a word that had been said.
        if self._detector is None and self._speech_ms < self.config.min_speech_ms:
            self.in_speech, self._voiced_run = False, 0.0  # a click: keep waiting
            self._quiet_ms = self._silent_run
            return Event.NONE
        self.ended = True
        self.speech_end_ms = self.elapsed_ms - self._silent_run
        return Event.END
