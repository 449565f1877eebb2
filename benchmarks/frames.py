"""Prompt streaming cost: 20 ms AudioSocket frames per CPU-second of the server (issue 12, item 3).

N AudioSocket sessions each play the same prompt at once from our AudioSocketServer (this
process); Asterisk's side is N plain connections in a child process that read every frame and
note when it came. Printed per N: frames sent, wall and CPU seconds of this process (user +
system, all threads) while they played, frames per CPU-second (= frames/s one core sustains),
and how late frames reached the caller against the session's own 20 ms clock, set by its
earliest frame (p50/p99/max ms). The reference row is the least a Python server can do: one
task per session that sleeps to the next 20 ms mark and writes the frame (no barge-in, no
keepalive, no hang-up check).

    .venv/bin/python benchmarks/frames.py [--sessions 200 1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

from ivr.telephony import audiosocket as codec
from ivr.telephony.audiosocket_server import AudioSocketServer, AudioSocketSession

FRAME = 320  # 20 ms of 8 kHz s16le
INTERVAL = 0.020


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- Asterisk's side (child process) ------------------------------------------------------------

async def _listen(port: int, key: str, frames: int, late: list[float]) -> None:
    """Counts bytes, not messages (parsing 50 000 frames/s here would make the caller the
    bottleneck). Each read's newest whole frame is timed against the session's own 20 ms clock,
    set by its earliest frame (so a late first read does not shift the rest)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(codec.encode(codec.uuid_message(uuid.UUID(key))))
    loop, received, size = asyncio.get_running_loop(), 0, 3 + FRAME
    behind: list[float] = []  # arrival minus the frame's place on a 20 ms clock from 0
    while received < frames * size and (data := await reader.read(65536)):
        received += len(data)
        behind.append(loop.time() - (received // size - 1) * INTERVAL)
    start = min(behind)
    late.extend((t - start) * 1000 for t in behind)
    writer.close()


async def _callers(port: int, frames: int) -> None:
    late: list[float] = []
    keys = json.loads(sys.stdin.readline())
    await asyncio.gather(*(_listen(port, key, frames, late) for key in keys))
    print(json.dumps(late))


# --- our side --------------------------------------------------------------------------------

Player = Callable[[AudioSocketSession, bytes], Awaitable[object]]


async def _ours(session: AudioSocketSession, pcm: bytes) -> object:
    return await session.play(pcm)


async def _bare(session: AudioSocketSession, pcm: bytes) -> object:
    writer = session._writer  # the reference writes to the socket itself
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index, offset in enumerate(range(0, len(pcm), FRAME)):
        delay = start + index * INTERVAL - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        writer.write(codec.encode_message(codec.Kind.SLIN8, pcm[offset:offset + FRAME]))
    return True


async def run(sessions: int, seconds: float, player: Player) -> dict[str, float]:
    pcm = bytes([1, 0]) * int(8000 * seconds)  # non-zero: the caller tells it from keepalive
    frames = len(pcm) // FRAME
    keys = [uuid.uuid4() for _ in range(sessions)]
    async with AudioSocketServer(keepalive=None) as server:  # prompt bytes only
        child = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--child", str(server.port), str(frames),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert child.stdin is not None
        child.stdin.write((json.dumps([str(k) for k in keys]) + "\n").encode())
        got = [await server.wait_session(key, 60) for key in keys]
        cpu, wall = cpu_seconds(), time.monotonic()
        await asyncio.gather(*(player(session, pcm) for session in got))
        cpu, wall = cpu_seconds() - cpu, time.monotonic() - wall
        out, _ = await child.communicate()
        for session in got:
            await session.hangup()
    late = sorted(json.loads(out))
    return {"frames": float(frames * sessions), "cpu": cpu, "wall": wall,
            "p50": statistics.median(late), "p99": late[int(0.99 * (len(late) - 1))],
            "max": late[-1]}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        asyncio.run(_callers(int(sys.argv[2]), int(sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(f"{'sessions':>8} {'player':>10} {'frames':>8} {'wall s':>6} {'CPU s':>6} "
          f"{'frames/CPU-s':>12} "
          f"{'late p50/p99/max ms':>20}")
    for n in args.sessions:
        rows = {}
        for name, player in (("ivr", _ours), ("bare", _bare)):
            row = rows[name] = asyncio.run(run(n, args.seconds, player))
            late = f"{row['p50']:.1f}/{row['p99']:.1f}/{row['max']:.0f}"
            print(f"{n:>8} {name:>10} {row['frames']:>8.0f} {row['wall']:>6.2f} {row['cpu']:>6.2f} "
                  f"{row['frames'] / row['cpu']:>12.0f} {late:>20}", flush=True)
        ratio = (rows["ivr"]["frames"] / rows["ivr"]["cpu"]) / (
            rows["bare"]["frames"] / rows["bare"]["cpu"])
        print(f"{'':>8} {'ratio':>10} {'':>8} {'':>6} {'':>6} {ratio:>12.2f}")


if __name__ == "__main__":
    main()
