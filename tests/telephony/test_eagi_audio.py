"""EAGI fd-3 reader: pipes, sockets and regular files, without blocking the loop."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from ivr.telephony.eagi_audio import EagiAudio, frame_bytes_for


def test_frame_sizes_follow_eagi_audio_format() -> None:
    assert frame_bytes_for("") == 320
    assert frame_bytes_for("slin") == 320
    assert frame_bytes_for("slin16") == 640
    with pytest.raises(ValueError):
        frame_bytes_for("gsm")


async def test_pipe_frames_come_through_and_eof_ends_the_iteration() -> None:
    r, w = os.pipe()
    reader = EagiAudio(r, closefd=True)
    os.write(w, bytes(range(200)) + bytes(120))
    assert await asyncio.wait_for(reader.read_frame(), timeout=5) == bytes(range(200)) + bytes(120)
    os.write(w, b"\x01" * 174)
    assert await asyncio.wait_for(reader.read_frame(), timeout=5) == b"\x01" * 174
    os.close(w)
    assert [f async for f in reader] == []
    reader.close()


async def test_a_read_never_returns_more_than_one_frame() -> None:
    r, w = os.pipe()
    os.write(w, bytes(640 * 2 + 100))
    os.close(w)
    reader = EagiAudio(r, frame_bytes=640, closefd=True)
    assert [len(f) async for f in reader] == [640, 640, 100]
    reader.close()


async def test_waiting_for_audio_does_not_block_the_loop() -> None:
    r, w = os.pipe()
    reader = EagiAudio(r, closefd=True)
    pending = asyncio.create_task(reader.read_frame())
    ticked = asyncio.Event()
    asyncio.get_running_loop().call_soon(ticked.set)
    await asyncio.wait_for(ticked.wait(), timeout=5)  # the loop kept running while it waited
    assert not pending.done()
    os.write(w, bytes(320))
    assert len(await asyncio.wait_for(pending, timeout=5)) == 320
    os.close(w)
    reader.close()


async def test_cancelling_a_pending_read_leaves_the_reader_usable() -> None:
    r, w = os.pipe()
    reader = EagiAudio(r, closefd=True)
    pending = asyncio.create_task(reader.read_frame())
    await asyncio.sleep(0)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    os.write(w, b"ab")
    assert await asyncio.wait_for(reader.read_frame(), timeout=5) == b"ab"
    os.close(w)
    reader.close()


async def test_socket_and_file_objects_work_too(tmp_path: Path) -> None:
    left, right = socket.socketpair()
    with left, right:
        reader = EagiAudio(left.fileno())
        right.sendall(bytes(320))
        assert len(await asyncio.wait_for(reader.read_frame(), timeout=5)) == 320
    path = tmp_path / "audio.raw"
    path.write_bytes(bytes(700))
    with path.open("rb") as handle:
        frames = [len(f) async for f in EagiAudio(handle)]
    assert frames == [320, 320, 60]
