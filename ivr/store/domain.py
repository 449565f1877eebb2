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
# The largest id or count a column holds: PostgreSQL's `integer` (SQLite's is wider). A larger
# value from outside is refused before a query, where the driver would fail instead.
DB_INT_MAX = 2**31 - 1


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
    node: str | None = None  # the `ivr serve` node that took the call
    end_reason: str | None = None  # node_lost: closed by another node, the call's own is unknown

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
    line: str | None = None  # the calling line that asked for it; None: sent by an agent


# ---------------------------------------------------------------- outbound campaigns

# Outcomes a retry interval can be set for; anything else that fails is retried as "failed".
RETRY_OUTCOMES = ("busy", "no-answer", "congestion", "machine", "failed", "callback", "unknown")
DEFAULT_RETRY_SECONDS: dict[str, int] = {
    "busy": 600, "no-answer": 1800, "congestion": 300, "machine": 7200, "failed": 3600,
    "callback": 3600, "unknown": 600,
}


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """What a new campaign needs; the defaults are the compliant ones (08:00-21:00, 3 a day)."""

    name: str
    kind: str = "custom"
    message: str = ""
    prompts: tuple[str, ...] = ()
    window_start: int = 8 * 60  # minutes after local midnight, in the contact's time zone
    window_end: int = 21 * 60
    holidays: tuple[str, ...] = ()  # ISO dates (local) when nobody is called
    max_attempts: int = 3
    retry_seconds: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RETRY_SECONDS))
    daily_cap: int = 3  # calls per recipient (phone) per 24 h, across all campaigns
    priority: int = 0
    max_channels: int = 10
    calls_per_second: float = 5.0
    default_time_zone: str = "UTC"
    area: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.window_start < self.window_end <= 24 * 60:
            raise ValueError("calling window: need 0 <= start < end <= 24:00")
        if self.max_attempts < 1 or self.daily_cap < 1 or self.max_channels < 1:
            raise ValueError("max_attempts, daily_cap and max_channels must be at least 1")
        if self.calls_per_second <= 0:
            raise ValueError("calls_per_second must be positive")
        unknown = set(self.retry_seconds) - set(RETRY_OUTCOMES)
        if unknown:
            raise ValueError(f"unknown retry outcome {sorted(unknown)[0]!r}")


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    kind: str
    message: str
    prompts: tuple[str, ...]
    state: str
    pause_reason: str | None
    paused_by: str | None
    window_start: int
    window_end: int
    holidays: tuple[str, ...]
    max_attempts: int
    retry_seconds: dict[str, int]
    daily_cap: int
    priority: int
    max_channels: int
    calls_per_second: float
    default_time_zone: str
    area: str | None
    created_at: datetime
    updated_at: datetime

    def retry_after(self, outcome: str) -> int:
        merged = {**DEFAULT_RETRY_SECONDS, **self.retry_seconds}
        return int(merged.get(outcome, merged["failed"]))


@dataclass(frozen=True, slots=True)
class NewContact:
    phone: str  # E.164
    name: str = ""
    time_zone: str = "UTC"
    email: str | None = None
    language: str = "en"
    channel: str = "voice"  # preferred channel: voice, sms or email
    variables: dict[str, str] = field(default_factory=dict)
    customer_id: int | None = None
    dedupe_key: str | None = None  # defaults to the phone number

    def __post_init__(self) -> None:
        check_e164(self.phone)


@dataclass(frozen=True, slots=True)
class CampaignContact:
    id: int
    campaign_id: int
    phone: str
    name: str
    email: str | None
    time_zone: str
    language: str
    channel: str
    variables: dict[str, str]
    state: str
    result: str | None
    attempts: int
    next_at: datetime
    fallback: str | None
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class CallAttempt:
    id: int
    campaign_id: int
    contact_id: int
    attempt_no: int
    phone: str
    channel_id: str
    dialer: str
    state: str
    outcome: str | None
    amd: str | None
    response: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class DialClaim:
    """A contact the dialer now holds: its attempt row is committed as 'originating'."""

    contact: CampaignContact
    attempt: CallAttempt | None  # None for contacts who prefer SMS/e-mail (no call is made)
    campaign: Campaign
