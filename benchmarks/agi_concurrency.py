"""N concurrent emulated calls through FastAGI: ivr's server against a bare panoramisk handler.

Both servers run the same script per call (ANSWER, GET VARIABLE, STREAM FILE of a 100 ms
prompt, SET VARIABLE, WAIT FOR DIGIT answered by the caller, HANGUP) against the same Asterisk
emulator in the same process, so the difference is the FastAGI side alone. Prints calls/s,
p50/p95 command round trip (as the handler sees it) and the RSS growth while calls run.

    .venv/bin/python benchmarks/agi_concurrency.py [--calls 10 100 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ivr.telephony.emulator.agi_call import CallOptions, CallProfile
from ivr.telephony.emulator.agi_caller import PressWhenAsked
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.fastagi import LISTEN_BACKLOG, AgiChannel, FastAgiServer

PROMPT_MS = 100
SCRIPT = [
    ("ANSWER",), ("GET VARIABLE", "CALLERID(num)"), ("STREAM FILE", "bench-prompt", ""),
    ("SET VARIABLE", "IVR_STEP", "menu"), ("WAIT FOR DIGIT", "5000"), ("HANGUP",),
]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def ours(rtts: list[tuple[str, float]], n: int) -> tuple[float, int]:
    async def handler(channel: AgiChannel) -> None:
        for command, *args in SCRIPT:
            t0 = time.perf_counter()
            await channel.command(command, *args)
            rtts.append((command, time.perf_counter() - t0))
        await channel.close()

    # one peer (this process) opens all N at once: the admission limits are set above N, as
    # benchmarks/load.py sets IVR_AGI_MAX_CONNECTIONS for `ivr serve`
    limit = max(1000, 2 * n)
    async with FastAgiServer(handler, "127.0.0.1", 0, max_connections=limit, max_per_peer=limit,
                             max_pending_per_peer=limit) as server:
        return await drive(server.port, n)


async def bare_panoramisk(rtts: list[tuple[str, float]], n: int) -> tuple[float, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from panoramisk.fast_agi import Application

    async def route(request: Any) -> None:
        for command, *args in SCRIPT:
            line = " ".join([command, *(f'"{a}"' for a in args)])  # panoramisk does not quote
            t0 = time.perf_counter()
            await request.send_command(line)
            rtts.append((command, time.perf_counter() - t0))

    app = Application()
    app.add_route("bench", route)
    server = await asyncio.start_server(app.handler, "127.0.0.1", 0, backlog=LISTEN_BACKLOG)
    try:
        return await drive(server.sockets[0].getsockname()[1], n)
    finally:
        server.close()


async def drive(port: int, n: int) -> tuple[float, int]:
    """Run n calls at once; returns (seconds, peak RSS growth in KiB)."""
    base, peak = rss_kib(), 0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib() - base)
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    options = CallOptions(dtmf_first_ms=20, dtmf_gap_ms=20, dtmf_tail_ms=0)
    emulators = [
        AgiEmulator(f"agi://127.0.0.1:{port}/bench", profile=CallProfile(answered=True),
                    caller=[PressWhenAsked("1")], options=options,
                    prompts={"bench-prompt": PROMPT_MS * 8}.get)
        for _ in range(n)
    ]
    t0 = time.perf_counter()
    await asyncio.gather(*(e.run() for e in emulators))
    elapsed = time.perf_counter() - t0
    done.set()
    await sampler
    return elapsed, max(peak, rss_kib() - base)


Runner = Callable[[list[tuple[str, float]], int], Awaitable[tuple[float, int]]]


async def measure(runner: Runner, n: int) -> dict[str, float]:
    rtts: list[tuple[str, float]] = []
    elapsed, rss = await runner(rtts, n)
    # STREAM FILE and WAIT FOR DIGIT last as long as the prompt / the caller; the protocol
    # round trip is what the other commands show.
    quick = sorted(r for command, r in rtts if command not in ("STREAM FILE", "WAIT FOR DIGIT"))
    return {
        "calls_s": n / elapsed,
        "p50_ms": statistics.median(quick) * 1000,
        "p95_ms": quick[int(len(quick) * 0.95)] * 1000,
        "rss_mib": rss / 1024,
    }


RUNNERS: dict[str, Runner] = {"ivr": ours, "panoramisk": bare_panoramisk}


def measure_in_child(name: str, n: int) -> dict[str, float]:
    """Each measurement in a fresh process, so one run's heap does not hide the other's."""
    out = subprocess.run(
        [sys.executable, __file__, "--one", name, str(n)], capture_output=True, text=True,
        check=True, timeout=600,
    )
    return dict(json.loads(out.stdout))


def main(sizes: list[int]) -> None:
    print(f"{'calls':>6} {'server':<11} {'calls/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'RSS+ MiB':>9}  ratio calls/s (ivr / panoramisk)")
    for n in sizes:
        a, b = measure_in_child("ivr", n), measure_in_child("panoramisk", n)
        for name, row in (("ivr", a), ("panoramisk", b)):
            print(f"{n:>6} {name:<11} {row['calls_s']:>8.1f} {row['p50_ms']:>8.3f} "
                  f"{row['p95_ms']:>8.3f} {row['rss_mib']:>9.1f}", end="")
            print(f"  {a['calls_s'] / b['calls_s']:.2f}" if name == "panoramisk" else "")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--one", nargs=2, metavar=("SERVER", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(measure(RUNNERS[args.one[0]], int(args.one[1])))))
    else:
        main(args.calls)
