"""Fuzzing the FastAGI reader: whatever bytes a peer sends, in whatever chunks, the reader only
ever raises AgiProtocolError, never holds more than one line, and the server never hangs."""

from __future__ import annotations

import asyncio
import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.telephony.agi import MAX_LINE, AgiReader, format_environment
from ivr.telephony.errors import AgiProtocolError, TelephonyError
from ivr.telephony.fastagi import AgiChannel, FastAgiServer

ENV = format_environment([("network", "yes"), ("channel", "SIP/fuzz-1")])
# Lines that look like AGI, so the fuzzer reaches the parsers and not only the line splitter.
PIECES = st.sampled_from([
    b"agi_network: yes\n", b"agi_arg_1: x\n", b"\n", b"200 result=", b"1", b"-1", b" (", b")",
    b" endpos=", b"9" * 5000, b"510 Invalid\n", b"511 dead\n", b"520-usage\n", b"520 End\n",
    b"HANGUP\n", b"\r\n", "²".encode(), "٣".encode(), b"\xff\xfe", b"\x00",
])  # fmt: skip
# Long runs without a newline are drawn as a length (a 70 kB example would not print usefully).
STREAMS = st.lists(st.binary(max_size=300) | PIECES | st.integers(60_000, 70_000), max_size=40)


def _bytes(chunks: list[bytes | int]) -> list[bytes]:
    return [b"x" * c if isinstance(c, int) else c for c in chunks]


def _feed_all(reader: AgiReader, chunks: list[bytes]) -> None:
    try:
        for chunk in chunks:
            reader.feed(chunk)
            assert reader.buffered <= MAX_LINE
    except AgiProtocolError:
        pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STREAMS, st.booleans())
def test_any_bytes_give_events_or_a_protocol_error_and_bounded_memory(
    chunks: list[bytes | int], expect_environment: bool
) -> None:
    _feed_all(AgiReader(expect_environment=expect_environment), _bytes(chunks))


@settings(max_examples=200, deadline=None)
@given(STREAMS)
def test_after_a_valid_environment_any_replies_are_events_or_a_protocol_error(
    chunks: list[bytes | int],
) -> None:
    reader = AgiReader()
    assert len(reader.feed(ENV)) == 1
    _feed_all(reader, _bytes(chunks))


async def _one_connection(port: int, data: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        writer.write_eof()
        await writer.drain()
        async with asyncio.timeout(10):  # the server answers or closes: it never hangs
            while await reader.read(65536):
                pass
    except ConnectionError:
        pass
    finally:
        writer.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STREAMS, st.booleans())
def test_the_server_survives_any_bytes_over_a_real_socket(
    chunks: list[bytes | int], with_environment: bool
) -> None:
    failures: list[BaseException] = []

    async def handler(ch: AgiChannel) -> None:
        try:
            await ch.command("ANSWER")
            await ch.command("NOOP")
        except TelephonyError:  # a hangup, a 510/520 reply, a protocol error: typed
            raise
        except Exception as err:  # anything else is a finding
            failures.append(err)
            raise

    async def run() -> None:
        server = FastAgiServer(handler, "127.0.0.1", 0, env_timeout=2, close_timeout=1)
        await server.start()
        try:
            data = (ENV if with_environment else b"") + b"".join(_bytes(chunks))
            await _one_connection(server.port, data)
        finally:
            await server.stop()

    errors = _Errors()
    logging.getLogger().addHandler(errors)
    try:
        asyncio.run(run())
    finally:
        logging.getLogger().removeHandler(errors)
    assert failures == [] and errors.records == []


class _Errors(logging.Handler):
    """ERROR records (a reader task dying of an untyped exception, a handler failing)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())
