"""The recognizer service: an engine interface, one model per language per process, and a
per-turn Recognizer that feeds 20 ms frames to the engine off the event loop.

Engines are synchronous and CPU-bound (Vosk, CTranslate2, PocketSphinx release the GIL), so all
their calls run on one shared thread pool; a call turn gets one stream, reused for the turn.
An engine whose streams only keep the audio until `finish` (Whisper) says so with
`buffers_frames = True`: its frames are then taken on the loop, since a thread hop per 20 ms
frame costs more than the append (under 1 000 calls it was the loop's third cost, issue 12).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

from ivr.speech.audio import FRAME_BYTES
from ivr.speech.digits import to_digits
from ivr.speech.errors import SpeechError
from ivr.speech.grammar import Grammar


@dataclass(frozen=True)
class Result:
    """A final (or partial) hypothesis. `choice` is the grammar's key for the phrase said."""

    text: str
    confidence: float
    digits: str = ""
    choice: str | None = None
    final: bool = True
    engine: str = ""
    ms: float = 0.0  # engine time for the final result after the last frame
    # one probability per digit of `digits` (all equal to `confidence` when the engine scores
    # the utterance as a whole): which digits to doubt when a code is read back
    digit_confidence: tuple[float, ...] = ()
    # per digit, the scorer's belief in each of 0-9 (summing to 1), when it weighs them all:
    # a second hearing of a code is weighed against the first with them
    digit_beliefs: tuple[tuple[float, ...], ...] = ()


class EngineStream(Protocol):
    """One utterance at a time: feed 8 kHz s16le, take partial text, finish for the final."""

    def accept(self, pcm: bytes) -> str | None: ...

    def finish(self) -> tuple[str, float]: ...


class Engine(Protocol):
    name: str
    language: str

    def stream(self, grammar: Grammar) -> EngineStream: ...


EngineLoader = Callable[[str], Engine]

_workers = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2),
                              thread_name_prefix="ivr-asr")


def executor() -> ThreadPoolExecutor:
    return _workers


class ModelPool:
    """Engines loaded once per language and shared by every call; loads run in a thread."""

    def __init__(self, loader: EngineLoader) -> None:
        self._loader = loader
        self._engines: dict[str, Engine] = {}
        self._failed: dict[str, Exception] = {}
        self._lock = threading.Lock()

    def get_sync(self, language: str) -> Engine:
        """The language's engine; a load that failed is not retried on every call."""
        with self._lock:
            if language in self._failed:
                raise self._failed[language]
            if language not in self._engines:
                try:
                    self._engines[language] = self._loader(language)
                except SpeechError as err:
                    self._failed[language] = err
                    raise
            return self._engines[language]

    async def get(self, language: str) -> Engine:
        if language in self._engines:
            return self._engines[language]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_workers, self.get_sync, language)

    def loaded(self) -> dict[str, Engine]:
        return dict(self._engines)


def interpret(text: str, confidence: float, grammar: Grammar, engine: str,
              word_confidence: tuple[float, ...] = (),
              word_beliefs: tuple[tuple[float, ...], ...] = ()) -> Result:
    digits = to_digits(text) if grammar.kind in ("digits", "free") else ""
    each = word_confidence if len(word_confidence) == len(digits) else (confidence,) * len(digits)
    return Result(text.strip(), round(confidence, 3), digits, grammar.match(text), True, engine,
                  digit_confidence=tuple(round(p, 3) for p in each),
                  digit_beliefs=word_beliefs if len(word_beliefs) == len(digits) else ())


def _finish(stream: EngineStream, grammar: Grammar, engine: str) -> Result:
    """The stream's final result; engines that score words one by one (Whisper) leave each
    word's probability in `word_confidence` and its beliefs in `word_beliefs`."""
    started = time.perf_counter()
    text, confidence = stream.finish()
    each = tuple(getattr(stream, "word_confidence", ()))
    beliefs = tuple(getattr(stream, "word_beliefs", ()))
    result = interpret(text, confidence, grammar, engine, each, beliefs)
    return replace(result, ms=round((time.perf_counter() - started) * 1000, 1))


class Recognizer:
    """One call turn's recognizer: frames go in as they arrive, in order, never on the loop.

    Frames are batched while the previous batch is in the engine, so a slow engine never makes
    the event loop wait and the stream is built once for the whole turn.
    """

    def __init__(self, engine: Engine, grammar: Grammar) -> None:
        self.engine = engine
        self.grammar = grammar
        self.partial = ""
        self._stream: EngineStream | None = None
        self._pending: list[bytes] = []
        self._busy: asyncio.Future[None] | None = None
        self._inline = bool(getattr(engine, "buffers_frames", False))

    async def _ensure(self) -> EngineStream:
        if self._stream is None:
            loop = asyncio.get_running_loop()
            self._stream = await loop.run_in_executor(_workers, self.engine.stream, self.grammar)
        return self._stream

    async def feed(self, frame: bytes) -> None:
        """Queue a frame; queued frames go to the engine together unless a batch is in there."""
        if self._inline:
            if self._stream is None:
                self._stream = self.engine.stream(self.grammar)
            self.partial = self._stream.accept(frame) or self.partial
            return
        self._pending.append(frame)
        if self._busy is None or self._busy.done():
            self._busy = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        stream = await self._ensure()
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending, []
            partial = await loop.run_in_executor(_workers, accept_frames, stream, batch)
            if partial:
                self.partial = partial

    async def result(self) -> Result:
        """The final result of everything fed so far."""
        if self._busy is not None:
            await self._busy
        await self._drain()
        stream = await self._ensure()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_workers, _finish, stream, self.grammar,
                                          self.engine.name)

    def partial_digits(self) -> str:
        return to_digits(self.partial) if self.grammar.kind == "digits" else ""


def accept_frames(stream: EngineStream, frames: list[bytes]) -> str | None:
    """Frame by frame even when they arrive in a batch: an engine's own endpointing then sees
    the same 20 ms steps however the batches fell, so results do not depend on timing."""
    partial = None
    for frame in frames:
        partial = stream.accept(frame) or partial
    return partial


def transcribe_pcm(engine: Engine, grammar: Grammar, pcm: bytes) -> Result:
    """Synchronous recognition of a whole recording in 20 ms frames (benchmarks)."""
    stream = engine.stream(grammar)
    accept_frames(stream, [pcm[i:i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)])
    return _finish(stream, grammar, engine.name)


def clamp_confidence(value: float) -> float:
    return 0.0 if math.isnan(value) else max(0.0, min(1.0, value))
