"""Hostile FastAGI peers: unterminated lines, endless environments, silent and flooding
connections are refused and closed, and a real call beside them is still served."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ivr.telephony.agi import MAX_ENV_LINES, MAX_LINE, AgiReader, format_environment
from ivr.telephony.errors import AgiProtocolError
from ivr.telephony.fastagi import AgiChannel, FastAgiServer

ENV = format_environment([("network", "yes"), ("channel", "SIP/ok-1"), ("callerid", "5551234")])
ATTACKER = "127.0.0.2"  # Linux answers the whole 127/8 on loopback: a second peer address


def test_a_line_longer_than_the_limit_is_a_protocol_error_not_a_growing_buffer() -> None:
    reader = AgiReader()
    chunk = b"x" * 65536
    with pytest.raises(AgiProtocolError, match="longer than"):
        for _ in range(10 * 1024 * 1024 // len(chunk)):  # 10 MB, no newline
            reader.feed(chunk)
    with pytest.raises(AgiProtocolError):  # stays refused: the stream is out of step
        reader.feed(b"\n")


def test_a_long_reply_line_within_the_limit_is_still_read() -> None:
    reader = AgiReader(expect_environment=False)
    value = "v" * (MAX_LINE - 100)
    [event] = reader.feed(f"200 result=1 ({value})\n".encode())
    assert getattr(event, "data", None) == value


def test_an_environment_with_too_many_lines_is_refused() -> None:
    reader = AgiReader()
    lines = b"".join(b"agi_arg_%d: x\n" % i for i in range(MAX_ENV_LINES + 1))
    with pytest.raises(AgiProtocolError, match="environment"):
        reader.feed(lines)


def test_a_520_usage_block_that_never_ends_is_refused() -> None:
    reader = AgiReader(expect_environment=False)
    reader.feed(b"520-Invalid command syntax.  Proper usage follows:\n")
    with pytest.raises(AgiProtocolError, match="usage"):
        for _ in range(100):
            reader.feed(b"usage line\n" * 1000)


async def _served(server: FastAgiServer, calls: list[str]) -> None:
    """One ordinary call beside the attack: answered and finished."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV)
    assert await asyncio.wait_for(reader.readline(), 5) == b"ANSWER\n"
    writer.write(b"200 result=0\n")
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    await writer.wait_closed()
    calls.append("served")


def _server(**limits: int) -> FastAgiServer:
    async def handler(ch: AgiChannel) -> None:
        await ch.command("ANSWER")

    # A long environment timeout: only the limits under test may close the attacker.
    return FastAgiServer(handler, "127.0.0.1", 0, env_timeout=60, close_timeout=1, **limits)


async def _closed_by_server(reader: asyncio.StreamReader, seconds: float = 10) -> bool:
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(65536):
                pass
    except ConnectionResetError:
        return True
    return True


async def test_ten_megabytes_without_newline_close_the_connection_and_calls_go_on() -> None:
    server = _server()
    await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)

    async def flood() -> None:
        with pytest.raises(ConnectionError):
            for _ in range(160):  # 10 MB in 64 KiB writes
                writer.write(b"agi_network: " + b"x" * 65536)
                await writer.drain()

    flooding = asyncio.create_task(flood())
    calls: list[str] = []
    await _served(server, calls)
    assert await _closed_by_server(reader)  # before the 60 s environment timeout
    await asyncio.wait_for(flooding, 10)
    writer.close()
    await server.stop()
    assert calls == ["served"]


async def test_silent_connections_over_the_per_peer_limit_are_refused_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Under pressure (half of the 6 slots taken), a peer with 2 connections still silent
    # gets no more.
    server = _server(max_connections=6, max_pending_per_peer=2)
    await server.start()
    conns = [await asyncio.open_connection("127.0.0.1", server.port, local_addr=(ATTACKER, 0))
             for _ in range(5)]  # fmt: skip
    with caplog.at_level(logging.WARNING, "ivr.telephony.fastagi"):
        # the 4th and 5th are closed without waiting for any environment timeout
        for reader, _ in conns[3:]:
            assert await _closed_by_server(reader, 5)
        calls: list[str] = []
        await _served(server, calls)  # another peer is not affected
    assert calls == ["served"]
    assert f"refused a connection from {ATTACKER}" in caplog.text
    for _, writer in conns:
        writer.close()
    await server.stop()


async def test_connections_over_the_overall_limit_are_refused() -> None:
    server = _server(max_connections=2)
    await server.start()
    conns = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
    assert await _closed_by_server(conns[2][0], 5)
    for _, writer in conns:
        writer.close()
    calls: list[str] = []
    async with asyncio.timeout(10):
        while server.active_calls:  # noqa: ASYNC110 (the closes reach the server: slots free up)
            await asyncio.sleep(0.05)
    await _served(server, calls)
    assert calls == ["served"]
    await server.stop()


async def test_an_environment_that_never_ends_is_dropped_at_the_timeout() -> None:
    async def handler(ch: AgiChannel) -> None:
        raise AssertionError("no call may start")

    server = FastAgiServer(handler, "127.0.0.1", 0, env_timeout=0.5, close_timeout=1)
    await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"agi_network: yes\n")  # and then nothing
    assert await _closed_by_server(reader, 5)
    writer.close()
    await server.stop()
