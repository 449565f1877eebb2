"""Where a turn's frames go: a buffering engine's on the event loop, others on the ASR pool."""

from __future__ import annotations

import threading

from ivr.speech.grammar import Grammar
from ivr.speech.recognizer import Recognizer

FRAME = bytes(320)


class _Stream:
    """An engine stream that notes the thread each call ran on."""

    def __init__(self, threads: list[str]) -> None:
        self.threads = threads
        self.frames = 0

    def accept(self, pcm: bytes) -> str | None:
        self.threads.append(threading.current_thread().name)
        self.frames += 1
        return None

    def finish(self) -> tuple[str, float]:
        return f"{self.frames} frames", 1.0


class _Engine:
    name = "noting"
    language = "en"

    def __init__(self, buffers: bool) -> None:
        self.buffers_frames = buffers
        self.threads: list[str] = []

    def stream(self, grammar: Grammar) -> _Stream:
        return _Stream(self.threads)


async def _turn(engine: _Engine, frames: int) -> str:
    rec = Recognizer(engine, Grammar.free("en"))
    for _ in range(frames):
        await rec.feed(FRAME)
    return (await rec.result()).text


async def test_a_buffering_engine_takes_every_frame_on_the_loop_thread() -> None:
    engine = _Engine(buffers=True)
    assert await _turn(engine, 50) == "50 frames"
    assert set(engine.threads) == {threading.current_thread().name}


async def test_a_decoding_engine_gets_every_frame_off_the_loop() -> None:
    engine = _Engine(buffers=False)
    assert await _turn(engine, 50) == "50 frames"
    assert len(engine.threads) == 50
    assert threading.current_thread().name not in engine.threads
