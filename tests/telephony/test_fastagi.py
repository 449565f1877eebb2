"""FastAGI server behaviour against a hand-driven fake Asterisk (raw socket) and the emulator:
staying in step on out-of-band HANGUP, errors, cancellation, shutdown, many calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from ivr.telephony.agi import AgiResult, format_environment
from ivr.telephony.emulator.agi_call import CallOptions
from ivr.telephony.emulator.agi_caller import At, Hangup, Press
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import Clock, CommandReceived, SessionClosed
from ivr.telephony.errors import AgiCommandError, AgiEncodeError, CallHangup
from ivr.telephony.fastagi import AgiChannel, FastAgiServer

ENV = format_environment(
    [("network", "yes"), ("network_script", "t?x=1"), ("request", "agi://h/t?x=1"),
     ("channel", "SIP/alice-00000001"), ("callerid", "5551234"), ("arg_1", "one")]
)  # fmt: skip
Handler = Callable[[AgiChannel], Awaitable[None]]


class FakeAsterisk:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def call(cls, port: int) -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(ENV)
        return cls(reader, writer)

    async def expect(self, line: bytes) -> None:
        assert await asyncio.wait_for(self.reader.readline(), 5) == line

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def expect_eof(self) -> None:
        assert await asyncio.wait_for(self.reader.read(), 5) == b""
        self.writer.close()


async def serve(handler: Handler, grace: float = 5.0) -> FastAgiServer:
    server = FastAgiServer(handler, "127.0.0.1", 0, shutdown_grace=grace, close_timeout=1.0)
    await server.start()
    return server


async def test_hangup_while_a_command_waits_raises_and_its_late_reply_is_dropped() -> None:
    seen: list[object] = []

    async def handler(ch: AgiChannel) -> None:
        with pytest.raises(CallHangup):
            await ch.command("WAIT FOR DIGIT", "10000")
        seen.append(await ch.command("GET VARIABLE", "X", allow_dead=True))

    server = await serve(handler)
    ast = await FakeAsterisk.call(server.port)
    await ast.expect(b"WAIT FOR DIGIT 10000\n")
    await ast.send(b"HANGUP\n")
    await ast.expect(b"GET VARIABLE X\n")
    await ast.send(b"200 result=-1\n200 result=1 (x-value)\n")  # owed reply, then ours
    await ast.expect_eof()
    await server.stop()
    assert [r.data for r in seen if isinstance(r, AgiResult)] == ["x-value"]


async def test_environment_reaches_the_handler() -> None:
    envs: list[tuple[str, dict[str, str], list[str]]] = []

    async def handler(ch: AgiChannel) -> None:
        envs.append((ch.env.script, ch.env.query, ch.env.args))

    server = await serve(handler)
    ast = await FakeAsterisk.call(server.port)
    await ast.expect_eof()
    await server.stop()
    assert envs == [("t", {"x": "1"}, ["one"])]


async def test_510_and_520_raise_command_errors_and_the_channel_stays_usable() -> None:
    errors: list[str] = []

    async def handler(ch: AgiChannel) -> None:
        for words in (("FOO",), ("STREAM FILE",)):
            try:
                await ch.command(*words)
            except AgiCommandError as exc:
                errors.append(str(exc))
        assert (await ch.command("NOOP")).value == 0

    server = await serve(handler)
    ast = await FakeAsterisk.call(server.port)
    await ast.expect(b"FOO\n")
    await ast.send(b"510 Invalid or unknown command\n")
    await ast.expect(b"STREAM FILE\n")
    await ast.send(b"520-Invalid command syntax.  Proper usage follows:\nUse it.\n")
    await ast.send(b"520 End of proper usage.\n")
    await ast.expect(b"NOOP\n")
    await ast.send(b"200 result=0\n")
    await ast.expect_eof()
    await server.stop()
    assert "510" in errors[0] and "Use it." in errors[1]


async def test_unsafe_argument_is_refused_before_anything_is_sent() -> None:
    async def handler(ch: AgiChannel) -> None:
        with pytest.raises(AgiEncodeError):
            await ch.command("SET VARIABLE", "NAME", "x\nHANGUP")

    server = await serve(handler)
    ast = await FakeAsterisk.call(server.port)
    await ast.expect_eof()  # nothing but the close
    await server.stop()


async def test_handler_errors_are_logged_and_the_server_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    async def handler(ch: AgiChannel) -> None:
        calls.append(1)
        raise RuntimeError("flow bug")

    server = await serve(handler)
    with caplog.at_level(logging.ERROR, logger="ivr.telephony.fastagi"):
        for _ in range(2):
            ast = await FakeAsterisk.call(server.port)
            await ast.expect_eof()
    await server.stop()
    assert len(calls) == 2
    assert "flow bug" in caplog.text


async def test_asterisk_closing_mid_command_raises_call_hangup() -> None:
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def handler(ch: AgiChannel) -> None:
        try:
            await ch.command("STREAM FILE", "x", "")
        except CallHangup as exc:
            outcome.set_result(exc)

    server = await serve(handler)
    ast = await FakeAsterisk.call(server.port)
    await ast.expect(b'STREAM FILE x ""\n')
    ast.writer.close()
    assert isinstance(await asyncio.wait_for(outcome, 5), CallHangup)
    await server.stop()


async def test_stop_cancels_calls_after_the_grace_and_cancellation_is_not_swallowed() -> None:
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def handler(ch: AgiChannel) -> None:
        started.set()
        try:
            await ch.command("WAIT FOR DIGIT", "-1")
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    server = await serve(handler, grace=0.05)
    ast = await FakeAsterisk.call(server.port)
    await asyncio.wait_for(started.wait(), 5)
    await ast.expect(b"WAIT FOR DIGIT -1\n")
    await asyncio.wait_for(server.stop(), 5)
    assert cancelled == [True]
    assert server.active_calls == 0
    await ast.expect_eof()


async def test_stop_lets_a_live_call_finish_within_the_grace() -> None:
    finished: list[bool] = []

    async def handler(ch: AgiChannel) -> None:
        await ch.command("STREAM FILE", "hello-test", "")
        finished.append(True)

    server = await serve(handler, grace=5.0)
    emu = AgiEmulator(f"agi://127.0.0.1:{server.port}/x", clock=Clock(0.01))
    run = asyncio.create_task(emu.run())
    await emu.events.wait_for(CommandReceived, lambda e: e.line.startswith(b"STREAM"), 5)
    await asyncio.wait_for(server.stop(), 5)
    await asyncio.wait_for(run, 5)
    assert finished == [True]


async def test_many_concurrent_calls_each_get_their_own_digits() -> None:
    got: dict[str, str] = {}

    async def handler(ch: AgiChannel) -> None:
        await ch.command("ANSWER")
        result = await ch.command("GET DATA", "beep", "10000", "3")
        got[ch.env.uniqueid] = result.result

    calls = 300
    async with FastAgiServer(handler, "127.0.0.1", 0) as server:
        emus = []
        for i in range(calls):
            emu = AgiEmulator(
                f"agi://127.0.0.1:{server.port}/many",
                caller=[At(2500), Press(f"{i % 1000:03d}")],  # all calls are in GET DATA
                clock=Clock(0.2),
                options=CallOptions(),
            )
            emu.call.profile.uniqueid = f"u{i}"
            emus.append(emu)
        await asyncio.wait_for(asyncio.gather(*(e.run() for e in emus)), 30)
    assert got == {f"u{i}": f"{i % 1000:03d}" for i in range(calls)}
    assert all(isinstance(e.events.events[-1], SessionClosed) for e in emus)


async def test_emulated_idle_hangup_sets_hung_up_and_wait_hangup_returns() -> None:
    done = asyncio.Event()

    async def handler(ch: AgiChannel) -> None:
        await asyncio.wait_for(ch.wait_hangup(), 5)
        assert ch.hung_up
        done.set()

    async with FastAgiServer(handler, "127.0.0.1", 0) as server:
        emu = AgiEmulator(
            f"agi://127.0.0.1:{server.port}/x", caller=[At(20), Hangup()], clock=Clock(1.0)
        )
        await asyncio.wait_for(emu.run(), 5)
    assert done.is_set()


async def test_a_hangup_in_the_same_write_as_the_environment_still_starts_the_call() -> None:
    """A caller who hangs up at once: the call is handled (and recorded), not dropped."""
    seen: list[bool] = []

    async def handler(ch: AgiChannel) -> None:
        seen.append(ch.hung_up)

    server = await serve(handler)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV + b"HANGUP\n")
    await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await server.stop()
    assert seen == [True]
