"""Contact memory: a customer's journey across channels and repeat contacts by reason."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ivr.store.db import Database
from ivr.store.domain import Interaction, Turn
from ivr.store.repositories.contacts import ContactRepository
from ivr.store.repositories.interactions import InteractionRepository

REPEAT_WINDOW = timedelta(days=7)
NO_REASON = "(none)"


@dataclass(frozen=True, slots=True)
class RepeatContacts:
    """Contacts for one reason in the period, and how many came within the window after an
    earlier contact by the same customer for the same reason (on any channel)."""

    reason: str
    contacts: int
    repeats: int
    customers: int  # customers with at least one repeat

    @property
    def rate(self) -> float:
        return self.repeats / self.contacts if self.contacts else 0.0


def repeat_report(
    interactions: Sequence[Interaction],
    since: datetime,
    window: timedelta = REPEAT_WINDOW,
) -> list[RepeatContacts]:
    """Rows by reason, most repeats first. Interactions before ``since`` count only as the
    earlier contact a later one repeats (pass the window before ``since`` too)."""
    last_seen: dict[tuple[int, str], datetime] = {}
    contacts: dict[str, int] = defaultdict(int)
    repeats: dict[str, int] = defaultdict(int)
    repeaters: dict[str, set[int]] = defaultdict(set)
    for item in sorted(interactions, key=lambda i: (i.started_at, i.id)):
        if item.customer_id is None:
            continue
        reason = item.intent or NO_REASON
        key = (item.customer_id, reason)
        previous = last_seen.get(key)
        last_seen[key] = item.started_at
        if item.started_at < since:
            continue
        contacts[reason] += 1
        if previous is not None and item.started_at - previous <= window:
            repeats[reason] += 1
            repeaters[reason].add(item.customer_id)
    rows = [RepeatContacts(r, n, repeats[r], len(repeaters[r])) for r, n in contacts.items()]
    return sorted(rows, key=lambda row: (-row.repeats, -row.contacts, row.reason))


class ContactHistory:
    """Async face of the interaction repositories (sync sessions run in a thread)."""

    def __init__(self, db: Database) -> None:
        self._interactions = InteractionRepository(db)
        self._contacts = ContactRepository(db)

    async def journey(self, customer_id: int, limit: int = 50) -> list[Interaction]:
        """Every channel, newest first."""
        return await asyncio.to_thread(self._interactions.journey, customer_id, limit)

    async def recent(
        self, customer_id: int, now: datetime, window: timedelta = REPEAT_WINDOW
    ) -> list[Interaction]:
        return await asyncio.to_thread(
            self._interactions.recent_for_customer, customer_id, now - window
        )

    async def record(
        self,
        caller: str,
        channel: str,
        started_at: datetime,
        ended_at: datetime,
        outcome: str,
        *,
        customer_id: int | None = None,
        intent: str | None = None,
        transcript: Sequence[Turn] = (),
    ) -> Interaction:
        """Store a finished contact from another channel (SMS, e-mail, chat)."""
        return await asyncio.to_thread(
            lambda: self._interactions.record(
                caller, channel, started_at, ended_at, outcome,
                customer_id=customer_id, intent=intent, transcript=transcript,
            )
        )  # fmt: skip

    async def repeat_contacts(
        self, since: datetime, until: datetime, window: timedelta = REPEAT_WINDOW
    ) -> list[RepeatContacts]:
        items = await asyncio.to_thread(self._contacts.between, since - window, until)
        return repeat_report(items, since, window)
