"""What a greeting node awaits: look the caller up, read their recent contacts, build the
greeting, all within one time budget. A slow CRM or history costs detail, never time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ivr.customers.crm import CallerLookup, LookupResult
from ivr.customers.greeting import Greeting, build_greeting
from ivr.customers.history import ContactHistory
from ivr.store.domain import Interaction
from ivr.store.errors import StoreError
from ivr.store.models import now_utc

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Welcome:
    lookup: LookupResult
    greeting: Greeting


class GreetingService:
    def __init__(
        self,
        lookup: CallerLookup,
        history: ContactHistory | None = None,
        *,
        language: str = "en",
        zone: str | None = None,
        history_budget_ms: int = 150,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self._lookup = lookup
        self._history = history
        self._language = language
        self._zone = zone
        self._history_budget = history_budget_ms / 1000
        self._clock = clock

    async def welcome(self, caller_id: str | None, *, language: str | None = None) -> Welcome:
        """``language``: the line's language, used when the caller is not known."""
        found = await self._lookup.lookup(caller_id)
        now = self._clock()
        recent = await self._recent(found, now)
        greeting = build_greeting(
            found, now, recent=recent, language=language or self._language, zone=self._zone
        )
        return Welcome(found, greeting)

    async def _recent(self, found: LookupResult, now: datetime) -> list[Interaction]:
        customer = found.customer
        if customer is None or self._history is None:
            return []
        try:
            async with asyncio.timeout(self._history_budget):
                return await self._history.recent(customer.id, now)
        except (TimeoutError, StoreError) as err:
            # Without history the caller still gets their name and open item, on time.
            log.warning("contact history skipped: %s", type(err).__name__)
            return []
