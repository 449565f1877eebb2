"""Shared helpers: campaigns with test-friendly defaults, the emulated PBX with FastAGI notify."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ivr.campaigns.scheduler import first_call
from ivr.store.db import Database
from ivr.store.domain import Campaign, CampaignSpec, NewContact
from ivr.store.repositories.campaigns import CampaignRepository

NOON_UTC = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
ALL_DAY = {"window_start": 0, "window_end": 24 * 60}
NO_WAIT = {k: 0 for k in ("busy", "no-answer", "congestion", "machine", "failed", "callback",
                          "unknown")}


def phone(i: int) -> str:
    return f"+1555{i:07d}"


def make_campaign(db: Database, name: str = "c1", contacts: Sequence[NewContact] = (),
                  state: str = "running", now: datetime | None = NOON_UTC, **spec: Any,
                  ) -> Campaign:
    repo = CampaignRepository(db)
    options: dict[str, Any] = {**ALL_DAY, "retry_seconds": dict(NO_WAIT), "daily_cap": 100,
                               "max_channels": 50, "calls_per_second": 1000.0, **spec}
    campaign = repo.create(CampaignSpec(name=name, message="Hello $name", **options))
    if contacts:
        repo.add_contacts(campaign.id, list(contacts), first_call, now)
    if state != "draft":
        repo.set_state(name, "running")
        if state == "paused":
            repo.set_state(name, "paused")
    return repo.get(name)


def contacts(n: int, start: int = 1, **kw: Any) -> list[NewContact]:
    return [NewContact(phone=phone(i), name=f"n{i}", **kw) for i in range(start, start + n)]


async def until(predicate: Any, timeout: float = 10.0, every: float = 0.02) -> None:
    """Poll a (sync) condition until true; for DB state written by background tasks."""
    async def loop() -> None:
        while True:
            if await asyncio.to_thread(predicate):
                return
            await asyncio.sleep(every)  # the state is in the database: nothing to wait on
    await asyncio.wait_for(loop(), timeout)
