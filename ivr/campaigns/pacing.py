"""Calls-per-second pacing: each Originate takes the next free slot, 1/rate apart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Pacer:
    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        """Book the next slot; returns how long to wait for it."""
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        return slot - now

    async def wait(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


class Pacers:
    """One pacer for the whole dialer (the trunk) and one per campaign; a call waits for both."""

    def __init__(self, rate: float) -> None:
        self.trunk = Pacer(rate)
        self._campaigns: dict[int, Pacer] = {}

    async def wait(self, campaign_id: int, rate: float) -> None:
        pacer = self._campaigns.get(campaign_id)
        if pacer is None or abs(pacer.interval - 1.0 / rate) > 1e-9:
            pacer = self._campaigns[campaign_id] = Pacer(rate)
        delay = max(pacer.reserve(), self.trunk.reserve())
        if delay > 0:
            await asyncio.sleep(delay)
