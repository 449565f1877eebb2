"""What the AGI emulator saw and did, as typed events (for `ivr call` transcripts and tests),
and the emulator's clock (virtual milliseconds, optionally running faster than real time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

E = TypeVar("E", bound="EmuEvent")


class Clock:
    """Virtual milliseconds since `start()`. With `scale=0.05` one virtual second lasts 50 ms
    of real time, so trace-sized scenarios (prompts of seconds) run quickly in tests."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("clock scale must be positive")
        self.scale = scale
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = asyncio.get_running_loop().time()

    def now(self) -> float:
        loop_now = asyncio.get_running_loop().time()
        if self._t0 is None:
            self._t0 = loop_now
        return (loop_now - self._t0) * 1000.0 / self.scale

    def seconds(self, virtual_ms: float) -> float:
        """Real seconds for a virtual duration."""
        return max(0.0, virtual_ms) * self.scale / 1000.0

    async def sleep(self, virtual_ms: float) -> None:
        await asyncio.sleep(self.seconds(virtual_ms))

    async def sleep_until(self, virtual_ms: float) -> None:
        await self.sleep(virtual_ms - self.now())


@dataclass(frozen=True)
class EmuEvent:
    t_ms: float


@dataclass(frozen=True)
class CommandReceived(EmuEvent):
    line: bytes


@dataclass(frozen=True)
class ReplySent(EmuEvent):
    data: bytes


@dataclass(frozen=True)
class PipelineStall(EmuEvent):
    """Commands sit in Asterisk's stdio buffer and get no reply until more bytes arrive."""

    owed: int


@dataclass(frozen=True)
class Answered(EmuEvent):
    pass


@dataclass(frozen=True)
class PromptPlayed(EmuEvent):
    name: str
    endpos: int
    length: int | None  # None: the file does not exist
    interrupted_by: str | None = None
    hung_up: bool = False


@dataclass(frozen=True)
class DigitPressed(EmuEvent):
    digit: str
    heard: bool  # False: no command was listening, Asterisk threw the digit away


@dataclass(frozen=True)
class CallerAudio(EmuEvent):
    ms: float
    voiced: bool
    text: str = ""


@dataclass(frozen=True)
class VariableSet(EmuEvent):
    name: str
    value: str


@dataclass(frozen=True)
class AppExecuted(EmuEvent):
    app: str
    data: str
    result: int


@dataclass(frozen=True)
class Recorded(EmuEvent):
    path: str
    format: str
    endpos: int
    outcome: str  # "timeout", "silence", "dtmf", "hangup", "writefile"


@dataclass(frozen=True)
class HungUp(EmuEvent):
    by: str  # "caller" or "app"


@dataclass(frozen=True)
class SessionClosed(EmuEvent):
    pass


@dataclass
class EventLog:
    """Every event in order, plus waiting for one (with a timeout) and live subscription."""

    events: list[EmuEvent] = field(default_factory=list)
    _waiters: list[tuple[Callable[[EmuEvent], bool], asyncio.Future[EmuEvent]]] = field(
        default_factory=list
    )
    _queues: list[asyncio.Queue[EmuEvent | None]] = field(default_factory=list)

    def add(self, event: EmuEvent) -> None:
        self.events.append(event)
        for waiter in list(self._waiters):
            predicate, future = waiter
            if not future.done() and predicate(event):
                future.set_result(event)
                self._waiters.remove(waiter)
        for queue in self._queues:
            queue.put_nowait(event)
        if isinstance(event, SessionClosed):
            for queue in self._queues:
                queue.put_nowait(None)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(
        self, kind: type[E], predicate: Callable[[E], bool] = lambda e: True, within: float = 5.0
    ) -> E:
        """Return the first event of `kind` matching `predicate`, past or future."""

        def match(e: EmuEvent) -> bool:
            return isinstance(e, kind) and predicate(e)

        found = next((e for e in self.events if match(e)), None)
        if found is None:
            future: asyncio.Future[EmuEvent] = asyncio.get_running_loop().create_future()
            self._waiters.append((match, future))
            try:
                async with asyncio.timeout(within):
                    found = await future
            finally:
                self._waiters = [w for w in self._waiters if w[1] is not future]
        assert isinstance(found, kind)
        return found

    async def stream(self) -> AsyncIterator[EmuEvent]:
        """Past and future events until the session closes."""
        queue: asyncio.Queue[EmuEvent | None] = asyncio.Queue()
        for event in self.events:
            queue.put_nowait(event)
        if any(isinstance(e, SessionClosed) for e in self.events):
            queue.put_nowait(None)
        self._queues.append(queue)
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            self._queues.remove(queue)


def describe(event: EmuEvent) -> str:
    """One human line for `ivr call` transcripts: `  1234.5 ms  caller presses 1`."""
    return f"{event.t_ms:9.1f} ms  {_text(event)}"


def _text(e: EmuEvent) -> str:
    if isinstance(e, CommandReceived):
        return f"app  > {e.line.decode('utf-8', 'replace')!r}"
    if isinstance(e, ReplySent):
        return f"ast  < {e.data.decode('utf-8', 'replace')!r}"
    if isinstance(e, PromptPlayed):
        if e.length is None:
            return f"prompt {e.name}: no such file"
        how = (f"interrupted by {e.interrupted_by}" if e.interrupted_by
               else "caller hung up" if e.hung_up else "played to the end")  # fmt: skip
        return f"prompt {e.name}: {how} at {e.endpos}/{e.length} samples"
    if isinstance(e, DigitPressed):
        return f"caller presses {e.digit}" + ("" if e.heard else " (nobody listening: lost)")
    if isinstance(e, CallerAudio):
        what = f"says {e.text!r}" if e.text else "talks" if e.voiced else "sends silence"
        return f"caller {what} for {e.ms:.0f} ms"
    if isinstance(e, VariableSet):
        return f"set {e.name}={e.value}"
    if isinstance(e, AppExecuted):
        return f"exec {e.app}({e.data}) -> {e.result}"
    if isinstance(e, Recorded):
        return f"record {e.path}.{e.format}: {e.outcome}, {e.endpos} samples"
    if isinstance(e, HungUp):
        return f"hangup by the {e.by}"
    if isinstance(e, PipelineStall):
        return f"{e.owed} pipelined command(s) stalled in Asterisk's buffer"
    if isinstance(e, Answered):
        return "answered"
    return "session closed" if isinstance(e, SessionClosed) else type(e).__name__
