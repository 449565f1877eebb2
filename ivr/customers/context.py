"""What an agent needs when a caller is transferred: who, authenticated or not, what they
asked for and what the IVR already told them. Set as channel variables on the call, written
into the interaction, and kept in a live registry the admin API reads by channel id."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
    """Transfer contexts by channel id, forgotten ``ttl`` seconds after they were put (an agent
    reads the context within moments of the transfer) and bounded in number."""

    def __init__(
        self, ttl: float = 3600.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, TransferContext]] = OrderedDict()

    def put(self, context: TransferContext) -> None:
        self._items[context.channel_id] = (self._clock() + self._ttl, context)
        self._items.move_to_end(context.channel_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, channel_id: str) -> TransferContext | None:
        item = self._items.get(channel_id)
        if item is None:
            return None
        if self._clock() >= item[0]:
            del self._items[channel_id]
            return None
        return item[1]

    def remove(self, channel_id: str) -> None:
        self._items.pop(channel_id, None)
