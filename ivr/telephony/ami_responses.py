"""Results and event streams handed out by the AMI client (ivr.telephony.ami)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from ivr.telephony.ami_codec import Message

EventCallback = Callable[[Message], Awaitable[None] | None]


class Subscribable(Protocol):
    def subscribe(self, callback: EventCallback, pattern: str = "*") -> Callable[[], None]: ...


@dataclass
class AmiResponse:
    """A response and, for list actions, the events up to the ``...Complete`` event."""

    response: Message
    events: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.response.get("Response") or "").lower() in ("success", "goodbye")

    @property
    def message(self) -> str:
        return self.response.get("Message") or ""

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.response.get(key, default)


class Pending:
    def __init__(self, name: str, future: asyncio.Future[AmiResponse]) -> None:
        self.name, self.future = name, future
        self.result: AmiResponse | None = None  # set once a list response started


class EventStream:
    """Async iterator over matching events (``async for ev in client.events("Hangup")``)."""

    def __init__(self, client: Subscribable, pattern: str, maxsize: int) -> None:
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize)
        self._unsubscribe = client.subscribe(self._put, pattern)

    def _put(self, msg: Message) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a slow reader loses events, not the link
            self._queue.put_nowait(msg)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Message:
        return await self._queue.get()

    def close(self) -> None:
        self._unsubscribe()
