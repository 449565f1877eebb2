"""What an agent needs when a caller is transferred: who, authenticated or not, what they
asked for and what the IVR already told them. Set as channel variables on the call, written
into the interaction, and kept (in the database) for the admin API, which reads it by channel
id on any node."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ivr.store.db import Database
from ivr.store.models import now_utc
from ivr.store.repositories.transfers import TransferContextRepository

VALUE_LIMIT = 200  # channel variables are shown on one line of an agent screen
TOLD_SEPARATOR = " | "


def _one_line(text: str, limit: int = VALUE_LIMIT) -> str:
    # The AGI encoder refuses CR/LF; caller-influenced text must never reach it unflattened.
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class TransferContext:
    channel_id: str
    caller: str | None
    customer_id: int | None = None
    customer_name: str | None = None
    authenticated: bool = False
    auth_method: str | None = None  # "otp", "caller_id"
    intent: str | None = None
    told: tuple[str, ...] = ()  # what the IVR said that matters ("request scheduled for ...")
    interaction_id: int | None = None
    language: str = "en"
    at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def channel_variables(self) -> dict[str, str]:
        """IVR_* variables for SET VARIABLE before the transfer (all one-line, bounded)."""
        values = {
            "IVR_CUSTOMER_ID": "" if self.customer_id is None else str(self.customer_id),
            "IVR_CUSTOMER_NAME": self.customer_name or "",
            "IVR_AUTHENTICATED": "yes" if self.authenticated else "no",
            "IVR_AUTH_METHOD": self.auth_method or "",
            "IVR_INTENT": self.intent or "",
            "IVR_TOLD": TOLD_SEPARATOR.join(self.told),
            "IVR_LANGUAGE": self.language,
            "IVR_INTERACTION_ID": "" if self.interaction_id is None else str(self.interaction_id),
        }
        return {name: _one_line(value) for name, value in values.items()}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> TransferContext:
        """The context `to_json` gave (as stored for other nodes to read)."""
        at = body.get("at")
        return cls(
            channel_id=body["channel_id"], caller=body.get("caller"),
            customer_id=body.get("customer_id"), customer_name=body.get("customer_name"),
            authenticated=bool(body.get("authenticated")), auth_method=body.get("auth_method"),
            intent=body.get("intent"), told=tuple(body.get("told") or ()),
            interaction_id=body.get("interaction_id"), language=body.get("language") or "en",
            at=None if at is None else datetime.fromisoformat(at),
            extra=dict(body.get("extra") or {}),
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id, "caller": self.caller,
            "customer_id": self.customer_id, "customer_name": self.customer_name,
            "authenticated": self.authenticated, "auth_method": self.auth_method,
            "intent": self.intent, "told": list(self.told), "language": self.language,
            "interaction_id": self.interaction_id,
            "at": None if self.at is None else self.at.isoformat(), "extra": dict(self.extra),
        }  # fmt: skip


class LiveContexts:
    """Transfer contexts by channel id, kept in the database so that the agent's screen may ask
    any node, not only the one that ran the call; forgotten ``ttl`` seconds after they were put
    (an agent reads the context within moments of the transfer). Synchronous calls: from the
    event loop, run them in a thread (`save`, `find`)."""

    def __init__(
        self, db: Database, ttl: float = 3600.0, clock: Callable[[], datetime] = now_utc
    ) -> None:
        self._repo = TransferContextRepository(db)
        self._ttl = timedelta(seconds=ttl)
        self._clock = clock

    def put(self, context: TransferContext) -> None:
        now = self._clock()
        self._repo.put(context.channel_id, context.to_json(), now + self._ttl, now)

    def get(self, channel_id: str) -> TransferContext | None:
        body = self._repo.get(channel_id, self._clock())
        return None if body is None else TransferContext.from_json(body)

    async def save(self, context: TransferContext) -> None:
        await asyncio.to_thread(self.put, context)

    async def find(self, channel_id: str) -> TransferContext | None:
        return await asyncio.to_thread(self.get, channel_id)
