"""A FastAGI flood: many connections each sending a line that never ends, and the memory of the
process under attack, read from /proc (Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

CHUNK = b"agi_network: " + b"x" * 65536  # no newline, ever


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class FloodResult:
    connections: int
    closed_by_server: int  # EOF or reset seen before our own deadline
    sent_mb: float
    peak_rss_mb: float
    seconds: float


async def _one(host: str, port: int, source: str, limit: int, wait: float) -> tuple[bool, int]:
    try:
        reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    except OSError:
        return True, 0  # refused at once: the server did close it
    sent = 0
    try:
        while sent < limit:
            writer.write(CHUNK)
            await writer.drain()
            sent += len(CHUNK)
        async with asyncio.timeout(wait):
            while await reader.read(65536):
                pass
        return True, sent
    except ConnectionError:
        return True, sent
    except TimeoutError:
        return False, sent
    finally:
        writer.close()


async def flood(
    port: int, pid: int, *, connections: int = 200, per_connection: int = 2 << 20,
    source: str = "127.0.0.2", wait: float = 15.0,
) -> FloodResult:
    """Open `connections` at once, each sending up to `per_connection` bytes without a
    newline, then waiting up to `wait` s for the server to close it; sample the server's RSS."""
    peak = rss_mb(pid)
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb(pid))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.02)

    sampler = asyncio.create_task(sample())
    start = time.monotonic()
    results = await asyncio.gather(
        *(_one("127.0.0.1", port, source, per_connection, wait) for _ in range(connections))
    )
    seconds = time.monotonic() - start
    done.set()
    await sampler
    return FloodResult(
        connections, sum(closed for closed, _ in results),
        sum(sent for _, sent in results) / 2**20, peak, seconds,
    )
