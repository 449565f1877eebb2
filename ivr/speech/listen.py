"""One conversational turn over a media channel: prompt out, speech or keys in.

The prompt plays while every caller frame goes to the endpointer and the recognizer from the
first frame on. Speech during the prompt stops it (barge-in) once the voice detector is sure of
it (the turn's speech still begins at its start); a start never sure that ends while the prompt
plays is taken back and the prompt goes on; it is kept aside, and if the prompt ends with
nothing said since, it is the turn's speech when the recognizer is sure of a word in it (a quiet
caller, not line noise). A key stops the prompt too and switches to key collection. The turn
ends at the endpointing silence, at the expected number of digits, or when nothing was said
within `timeout` of the prompt's end (a start the energy-only endpointer later drops as a click
counts as nothing said).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ivr.speech.digits import complete
from ivr.speech.endpoint import EndpointConfig, Endpointer, Event
from ivr.speech.recognizer import Recognizer, Result
from ivr.telephony.errors import CallHangup

HeardKind = Literal["speech", "dtmf", "timeout"]
ANSWER_WAIT = 1.0  # s after an answer key (a read-back's 1 / 2) for a code that starts with it


class MediaChannel(Protocol):
    """What a turn needs from the transport (AudioSocketSession has exactly this)."""

    def frames(self) -> AsyncIterator[bytes]: ...

    async def get_digit(self, timeout: float | None = None) -> str | None: ...

    async def play(self, pcm: bytes) -> bool: ...

    def stop_playback(self) -> None: ...


@dataclass(frozen=True)
class ListenOptions:
    timeout: float = 5.0  # for the first word or key, from the end of the prompt
    max_speech: float = 15.0
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    barge_in: bool = True
    dtmf: bool = True
    max_digits: int = 1
    inter_digit_timeout: float = 3.0
    finish_on_key: str = "#"
    answer_keys: str = ""  # keys that answer when pressed alone first (a read-back's 1 / 2)
    # A start never sure that ended while the prompt played is kept aside; when the prompt ends
    # with nothing said since, it is the turn's speech if the recognizer is this sure of it
    # (the read-back default, CONFIRM_BELOW): a quiet caller under the prompt is not lost, and
    # line noise the recognizer forces onto a word is not taken for one.
    kept_min_confidence: float = 0.9


@dataclass(frozen=True)
class Heard:
    kind: HeardKind
    reason: str  # endpoint, expected_length, max_speech, max_digits, finish_key, timeout
    text: str = ""
    digits: str = ""
    choice: str | None = None
    confidence: float = 0.0
    barged_in: bool = False
    latency_ms: float = 0.0  # end of speech (endpoint) -> final result
    result: Result | None = None


class _Audio:
    """Consumes caller frames: endpointing, barge-in and recognition, until the turn's end."""

    def __init__(self, channel: MediaChannel, rec: Recognizer | None, opts: ListenOptions) -> None:
        self.channel, self.rec, self.opts = channel, rec, opts
        self.endpointer = Endpointer(opts.endpoint)
        self.started = asyncio.Event()  # set while the endpointer is in speech
        self.taken_back = asyncio.Event()  # a start dropped as a click: the timeout is back
        self.playing = False
        self.barged_in = False
        self.ended_at = 0.0
        self.kept: Recognizer | None = None  # an unsure start taken back under the prompt

    async def run(self) -> str:
        async for frame in self.channel.frames():
            event = self.endpointer.feed(frame)
            if self.rec is not None:
                await self.rec.feed(frame)
            if self.playing and not self.endpointer.sure and self._end_reason(event):
                # never sure while the prompt played (ended, or "in speech" for `max_speech`
                # over a humming line): line noise, not a caller; the prompt goes on and the
                # turn waits for a real start
                self.endpointer.take_back()
                self._forget_noise()
                event = Event.NONE
            if event is Event.START:
                self.kept = None  # a newer start: the kept one was not the caller's answer
                self._on_start()
            elif self.started.is_set() and not self.endpointer.in_speech:
                self._on_taken_back()
            if event in (Event.START, Event.BARGE) and self.endpointer.sure:
                self._on_barge()
            reason = self._end_reason(event)
            if reason:
                self.ended_at = time.perf_counter()
                return reason
        raise CallHangup("the media connection closed during the turn")

    def _forget_noise(self) -> None:
        # the recognizer heard the noise too; words after it are scored without it, and the
        # one that heard it is kept in case it was a quiet caller (see `kept_min_confidence`)
        if self.rec is not None:
            self.kept = self.rec
            self.rec = Recognizer(self.rec.engine, self.rec.grammar)

    def _on_start(self) -> None:
        self.started.set()

    def _on_barge(self) -> None:
        # A start is sensitive (a quiet caller after the prompt is heard); cutting the prompt
        # waits for a sure voice (`barge_threshold`): a false cut silences what the caller needs.
        if self.playing and self.opts.barge_in:
            self.barged_in = True
            self.channel.stop_playback()

    def _on_taken_back(self) -> None:
        # Energy alone (no voice detector) drops a start shorter than `min_speech_ms` once its
        # trailing silence is over; with the detector a start always ends in END. Left set,
        # `started` kept the no-input timeout off and the turn waited for the hangup.
        self.started.clear()
        self.taken_back.set()

    def _end_reason(self, event: Event) -> str:
        if event is Event.END:
            return "endpoint"
        if not self.endpointer.in_speech:
            return ""
        rec = self.rec
        if rec is not None and complete(rec.partial_digits(), rec.grammar.expected_digits):
            return "expected_length"
        start = self.endpointer.speech_start_ms or 0.0
        return "max_speech" if self.endpointer.elapsed_ms - start > self.opts.max_speech * 1000 \
            else ""


async def listen(
    channel: MediaChannel, recognizer: Recognizer | None, prompt: bytes | None,
    opts: ListenOptions | None = None,
) -> Heard:  # fmt: skip
    """Run one turn; CallHangup if the channel closes."""
    opts = opts or ListenOptions()
    audio = _Audio(channel, recognizer, opts)
    tasks: dict[str, asyncio.Task[object]] = {
        "audio": asyncio.ensure_future(audio.run()),
        "taken_back": asyncio.ensure_future(audio.taken_back.wait()),
    }
    if opts.dtmf:
        tasks["key"] = asyncio.ensure_future(channel.get_digit(None))
    if prompt:
        audio.playing = True
        tasks["play"] = asyncio.ensure_future(channel.play(prompt))
    try:
        return await _wait_turn(channel, audio, tasks, opts)
    finally:
        channel.stop_playback()
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)


async def _wait_turn(
    channel: MediaChannel, audio: _Audio,
    tasks: dict[str, asyncio.Task[object]], opts: ListenOptions,
) -> Heard:  # fmt: skip
    loop = asyncio.get_running_loop()
    deadline = None if "play" in tasks else loop.time() + opts.timeout
    while True:
        pending = [t for t in tasks.values() if not t.done()]
        wait = None if deadline is None or audio.started.is_set() else deadline - loop.time()
        if wait is not None and wait <= 0:
            return Heard("timeout", "timeout")
        done, _ = await asyncio.wait(pending, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        if tasks["taken_back"] in done:
            # The deadline stays the one set at the prompt's end, not one from the click: the
            # caller was promised `timeout` from there, and a line that crackles every second
            # would otherwise keep pushing it back, which is the hang this is here to prevent.
            audio.taken_back.clear()
            tasks["taken_back"] = asyncio.ensure_future(audio.taken_back.wait())
        if "play" in tasks and tasks["play"] in done:
            tasks["play"].result()  # a hangup during the prompt surfaces here
            audio.playing = False
            deadline = loop.time() + opts.timeout
            kept = await _kept_speech(audio, opts)
            if kept is not None:
                return kept
        if "key" in tasks and tasks["key"] in done:
            channel.stop_playback()
            return await _keys(channel, str(tasks["key"].result()), opts)
        if tasks["audio"] in done:
            reason = str(tasks["audio"].result())
            channel.stop_playback()
            return await _speech(audio.rec, audio, reason)


async def _kept_speech(audio: _Audio, opts: ListenOptions) -> Heard | None:
    """The unsure start kept under the prompt, as the turn's speech, if nothing came after it
    and the recognizer is sure of a word in it."""
    kept, audio.kept = audio.kept, None
    if kept is None or audio.started.is_set():
        return None
    result = await kept.result()
    if not result.text or result.confidence < opts.kept_min_confidence:
        return None
    return _heard(result, "endpoint", barged_in=False, latency_ms=0.0)


async def _speech(rec: Recognizer | None, audio: _Audio, reason: str) -> Heard:
    if rec is None:
        return Heard("speech", reason, barged_in=audio.barged_in)
    result = await rec.result()
    latency = (time.perf_counter() - audio.ended_at) * 1000
    return _heard(result, reason, barged_in=audio.barged_in, latency_ms=round(latency, 1))


def _heard(result: Result, reason: str, *, barged_in: bool, latency_ms: float) -> Heard:
    return Heard("speech", reason, result.text, result.digits, result.choice, result.confidence,
                 barged_in, latency_ms, result)


async def _keys(channel: MediaChannel, first: str, opts: ListenOptions) -> Heard:
    digits = ""
    key_or_none: str | None = first
    while key_or_none is not None:
        key = key_or_none
        if key == opts.finish_on_key and opts.finish_on_key:
            return Heard("dtmf", "finish_key", digits=digits)
        digits += key
        if len(digits) >= opts.max_digits:
            return Heard("dtmf", "max_digits", digits=digits)
        # an answer key alone answers within a moment; followed by keys, it starts a code
        answer = len(digits) == 1 and key in opts.answer_keys
        key_or_none = await channel.get_digit(ANSWER_WAIT if answer else opts.inter_digit_timeout)
        if answer and key_or_none is None:
            return Heard("dtmf", "max_digits", digits=digits)
    return Heard("dtmf", "timeout", digits=digits)


async def drain(channel: MediaChannel) -> None:
    """Consume frames until the channel closes (used by tests and to keep queues empty)."""
    with contextlib.suppress(CallHangup):
        async for _ in channel.frames():
            pass
