"""Frozen domain objects the repositories return (never ORM rows)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
WITHHELD = "withheld"
CLOSED_REQUEST_STATUSES = frozenset({"resolved", "closed", "cancelled"})


def check_e164(phone: str) -> str:
    if not E164.match(phone):
        raise ValueError(f"not an E.164 number: {phone!r} (expected e.g. +15550100)")
    return phone


def check_aware(value: datetime, what: str = "timestamp") -> datetime:
    """Refuse naive datetimes: the store keeps instants, and a naive value has no instant."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} {value.isoformat()} is naive: pass a timezone-aware datetime")
    return value


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    customer_id: int
    number: str
    balance: Decimal
    bill_limit: Decimal | None
    forecast: Decimal | None
    currency: str

    @property
    def over_limit(self) -> bool:
        """True when the forecast bill is above the customer's limit."""
        if self.bill_limit is None or self.forecast is None:
            return False
        return self.forecast > self.bill_limit


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    id: int
    customer_id: int
    kind: str
    title: str
    status: str
    scheduled_from: datetime | None
    scheduled_to: datetime | None
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_REQUEST_STATUSES


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    name: str
    phones: tuple[str, ...]
    language: str
    segment: str
    preferred_channel: str
    email: str | None
    time_zone: str
    area: str | None
    created_at: datetime
    accounts: tuple[Account, ...] = ()
    open_requests: tuple[ServiceRequest, ...] = ()


@dataclass(frozen=True, slots=True)
class NewAccount:
    """An account to create with (or for) a customer."""

    number: str
    balance: Decimal
    bill_limit: Decimal | None = None
    forecast: Decimal | None = None
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class NewRequest:
    """A service request to create with (or for) a customer."""

    kind: str
    title: str
    status: str = "open"
    scheduled_from: datetime | None = None
    scheduled_to: datetime | None = None

    def __post_init__(self) -> None:
        for value in (self.scheduled_from, self.scheduled_to):
            if value is not None:
                check_aware(value, "scheduled time")


@dataclass(frozen=True, slots=True)
class Turn:
    """One line of a transcript: who spoke, what was said, when (ms since the start)."""

    speaker: str
    text: str
    at_ms: int = 0
    node: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"speaker": self.speaker, "text": self.text, "at_ms": self.at_ms}
        if self.node is not None:
            data["node"] = self.node
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Turn:
        node = data.get("node")
        return cls(
            speaker=str(data["speaker"]),
            text=str(data["text"]),
            at_ms=int(data.get("at_ms", 0)),
            node=None if node is None else str(node),
        )


@dataclass(frozen=True, slots=True)
class Interaction:
    id: int
    customer_id: int | None
    caller: str
    channel: str
    started_at: datetime
    ended_at: datetime | None
    flow_name: str | None
    flow_version: int | None
    intent: str | None
    outcome: str | None
    path: tuple[str, ...] = ()
    transcript: tuple[Turn, ...] = ()
    duration_ms: int | None = None

    @property
    def finished(self) -> bool:
        return self.ended_at is not None


@dataclass(frozen=True, slots=True)
class FlowVersion:
    id: int
    flow_name: str
    version: int
    yaml: str
    state: str
    created_at: datetime
    created_by: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OtpCode:
    """A stored one-time code (its hash only) and where it stands."""

    id: int
    customer_id: int
    channel: str
    destination: str
    code_hash: str
    issued_at: datetime
    expires_at: datetime
    attempts: int
    used_at: datetime | None
    locked_at: datetime | None
