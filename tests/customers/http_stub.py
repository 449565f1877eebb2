"""A tiny HTTP/1.1 server on 127.0.0.1 for tests: records every request, answers through a
handler the test sets (slow, failing, garbage...). One request per connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"

    @classmethod
    def of_json(cls, data: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(data).encode())


Handler = Callable[[Received], Awaitable[Reply]]


async def _ok(_: Received) -> Reply:
    return Reply(200, b"{}")


@dataclass
class HttpStub:
    handler: Handler = _ok
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    release: asyncio.Event = field(default_factory=asyncio.Event)  # ends stalled handlers
    port: int = 0
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stall(self, _: Received) -> Reply:
        await self.release.wait()
        return Reply(503, b"")

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            request = await _read_request(reader)
            self.received.append(request)
            self.arrived.put_nowait(request)
            reply = await self.handler(request)
            head = (
                f"HTTP/1.1 {reply.status} X\r\nContent-Type: {reply.content_type}\r\n"
                f"Content-Length: {len(reply.body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + reply.body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up (its budget ran out): nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> Received:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Received(method, path, headers, body)


@contextlib.asynccontextmanager
async def http_stub() -> AsyncIterator[HttpStub]:
    stub = HttpStub()
    server = await asyncio.start_server(stub.serve, "127.0.0.1", 0)
    stub.port = server.sockets[0].getsockname()[1]
    try:
        yield stub
    finally:
        stub.release.set()
        server.close()
        await asyncio.gather(*stub.tasks, return_exceptions=True)
        await server.wait_closed()
