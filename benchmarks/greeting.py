"""Greeting latency: caller lookup + contact history + greeting text (+ TTS when espeak-ng is
installed), p50/p95 with cold and warm caches, against the bare repository lookup.

The demo company (50 customers with requests, bills and call history) is loaded into a fresh
SQLite file; every call greets a random demo number. "cold" empties the lookup cache (and uses
a fresh TTS cache) before each call; "warm" has both primed. Target: p95 <= 300 ms warm.

    .venv/bin/python benchmarks/greeting.py [--calls 200] [--tts-calls 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from ivr.customers.crm import CallerLookup, SqlCrm
from ivr.customers.history import ContactHistory
from ivr.customers.resilience import TtlCache
from ivr.customers.welcome import GreetingService
from ivr.store.db import Database, upgrade
from ivr.store.demo import load_demo
from ivr.store.repositories.customers import CustomerRepository

TARGET_P95_MS = 300.0
Step = Callable[[str], Awaitable[object]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def timed(step: Step, numbers: list[str], calls: int, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    samples = []
    for _ in range(calls):
        number = rng.choice(numbers)
        started = time.perf_counter()
        await step(number)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def tts_step(
    service: GreetingService, lookup: CallerLookup, cache_root: Path, cold: bool
) -> Step | None:
    try:
        from ivr.speech import tts
    except ImportError:
        return None
    if not tts.available():
        return None
    counter = iter(range(1_000_000))

    async def step(number: str) -> None:
        folder = cache_root / (f"cold-{next(counter)}" if cold else "warm")
        if cold:
            lookup.cache.clear()
        welcome = await service.welcome(number)
        await tts.Tts(folder).synthesize_async(welcome.greeting.text, welcome.greeting.language)

    return step


async def run(calls: int, tts_calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database(url)
        load_demo(db)
        repo = CustomerRepository(db)
        numbers = [p for c in repo.page(limit=200) for p in c.phones]
        lookup = CallerLookup(SqlCrm(db), cache=TtlCache(3600))
        service = GreetingService(lookup, ContactHistory(db), history_budget_ms=1000)

        async def bare(number: str) -> None:
            await asyncio.to_thread(repo.find_by_phone, number)

        async def cold(number: str) -> None:
            lookup.cache.clear()
            await service.welcome(number)

        async def warm(number: str) -> None:
            await service.welcome(number)

        for number in numbers:  # prime the warm cache
            await service.welcome(number)
        rows: list[tuple[str, list[float]]] = [
            ("bare repository lookup", await timed(bare, numbers, calls)),
            ("greeting, cold cache", await timed(cold, numbers, calls)),
            ("greeting, warm cache", await timed(warm, numbers, calls)),
        ]
        for label, is_cold in (("greeting + TTS, cold", True), ("greeting + TTS, warm", False)):
            step = tts_step(service, lookup, Path(tmp) / "tts", is_cold)
            if step is None:
                print(f"({label}: skipped, espeak-ng or ivr.speech.tts not available)")
                continue
            if not is_cold:
                await timed(step, numbers, len(numbers) * 3)  # render every greeting once
            rows.append((label, await timed(step, numbers, tts_calls)))
        db.dispose()
    report(rows)


def report(rows: list[tuple[str, list[float]]]) -> None:
    base = statistics.median(rows[0][1])
    print(f"{'scenario':<26} {'calls':>6} {'p50 ms':>8} {'p95 ms':>8} {'p50 / bare':>11}")
    for label, samples in rows:
        p50, p95 = statistics.median(samples), percentile(samples, 0.95)
        print(f"{label:<26} {len(samples):>6} {p50:>8.2f} {p95:>8.2f} {p50 / base:>11.1f}")
    warm = [s for label, s in rows if label.endswith("warm")]
    verdict = "met" if all(percentile(s, 0.95) <= TARGET_P95_MS for s in warm) else "MISSED"
    print(f"target p95 <= {TARGET_P95_MS:.0f} ms warm: {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--tts-calls", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.tts_calls))
