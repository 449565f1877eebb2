"""ORM rows. Only the repositories use them; everything else sees the dataclasses in domain.py.

Every schema change here needs an Alembic revision in ``migrations/versions``; a test compares
the migrated schema with this metadata on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CHANNELS = ("voice", "sms", "email", "chat")
PREFERRED_CHANNELS = ("voice", "sms", "email")
LANGUAGES = ("en", "ru")
FLOW_STATES = ("draft", "validated", "published", "superseded", "rolled_back")


def now_utc() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite keeps no zone, so reads get UTC attached."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


Money = Numeric(12, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: Money,
        dict[str, Any]: JSON,
    }


class CustomerRow(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(_in("language", LANGUAGES), name="language"),
        CheckConstraint(_in("preferred_channel", PREFERRED_CHANNELS), name="preferred_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Case-folded name, so search ignores case for Cyrillic too (SQLite's lower() is ASCII-only).
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    language: Mapped[str] = mapped_column(String(8))
    segment: Mapped[str] = mapped_column(String(32))
    preferred_channel: Mapped[str] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(320))
    time_zone: Mapped[str] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime]

    phones: Mapped[list[PhoneRow]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="PhoneRow.id"
    )
    accounts: Mapped[list[AccountRow]] = relationship(
        cascade="all, delete-orphan", order_by="AccountRow.id"
    )
    requests: Mapped[list[RequestRow]] = relationship(
        cascade="all, delete-orphan", order_by="RequestRow.id"
    )


class PhoneRow(Base):
    """A customer's E.164 number; the same number may belong to several customers."""

    __tablename__ = "customer_phones"
    __table_args__ = (UniqueConstraint("customer_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(16), index=True)

    customer: Mapped[CustomerRow] = relationship(back_populates="phones")


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(32), unique=True)
    balance: Mapped[Decimal]
    bill_limit: Mapped[Decimal | None]
    forecast: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3))


class RequestRow(Base):
    """A service request (technician visit, billing dispute...) open or closed."""

    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    scheduled_from: Mapped[datetime | None]
    scheduled_to: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class InteractionRow(Base):
    __tablename__ = "interactions"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        Index(None, "customer_id", "started_at"),
        # Open calls per node: what a survivor closes when a node stops beating.
        Index(None, "node", sqlite_where=text("ended_at IS NULL"),
              postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    caller: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    flow_name: Mapped[str | None] = mapped_column(String(100))
    flow_version: Mapped[int | None]
    intent: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    path: Mapped[list[str]] = mapped_column(JSON)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    duration_ms: Mapped[int | None]
    # The `ivr serve` node that took the call (None: another channel, `ivr agi`, older rows);
    # while the call is open, the node's heartbeat in `nodes` vouches for it.
    node: Mapped[str | None] = mapped_column(String(64))
    end_reason: Mapped[str | None] = mapped_column(String(32))  # e.g. node_lost


class NodeRow(Base):
    """One running `ivr serve` (IVR_DIALER_NAME): its heartbeat, from its own clock."""

    __tablename__ = "nodes"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]


class TransferContextRow(Base):
    """What the agent's screen shows for a transferred call, by channel: written by the node
    that ran the call, read through any node's API until ``expires_at``."""

    __tablename__ = "transfer_contexts"

    channel_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    body: Mapped[dict[str, Any]]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class FlowRow(Base):
    __tablename__ = "flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime]


class FlowVersionRow(Base):
    __tablename__ = "flow_versions"
    __table_args__ = (
        UniqueConstraint("flow_id", "version"),
        CheckConstraint(_in("state", FLOW_STATES), name="state"),
        # At most one published version per flow, enforced by the database itself.
        Index(
            "uq_flow_versions_published",
            "flow_id",
            unique=True,
            sqlite_where=text("state = 'published'"),
            postgresql_where=text("state = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    version: Mapped[int]
    yaml: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[datetime | None]


class FlowRouteRow(Base):
    """Which flow answers a dialled number (DNIS)."""

    __tablename__ = "flow_routes"

    dnis: Mapped[str] = mapped_column(String(32), primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    updated_at: Mapped[datetime]


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]]


OTP_CHANNELS = ("sms", "email")


class OtpCodeRow(Base):
    """A one-time code: only its keyed hash is kept, never the digits."""

    __tablename__ = "otp_codes"
    __table_args__ = (
        CheckConstraint(_in("channel", OTP_CHANNELS), name="channel"),
        Index(None, "customer_id", "issued_at"),
        Index(None, "line", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    # Masked (e.g. +1******0123), enough for the audit trail and an agent, useless to an attacker.
    destination: Mapped[str] = mapped_column(String(320))
    code_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int]
    used_at: Mapped[datetime | None]
    locked_at: Mapped[datetime | None]
    # Who asked for it: the calling line (caller ID and channel endpoint), for the backoff
    # that falls on the line that kills codes; None when an agent sent it.
    line: Mapped[str | None] = mapped_column(String(160))


API_ROLES = ("viewer", "operator", "admin")


class ApiTokenRow(Base):
    """An admin API token: only the SHA-256 of the secret is kept (tokens are 256-bit random,
    so a fast hash is enough; nothing to brute-force)."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_in("role", API_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


# ---------------------------------------------------------------- outbound campaigns

CAMPAIGN_STATES = ("draft", "running", "paused", "cancelled", "completed")
CONTACT_STATES = ("pending", "dialing", "done", "failed", "cancelled")
ATTEMPT_STATES = ("originating", "answered", "ended")
CONTACT_CHANNELS = ("voice", "sms", "email")


class CampaignRow(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(_in("state", CAMPAIGN_STATES), name="state"),
        CheckConstraint("window_start < window_end", name="window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    prompts: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    # Why a campaign is paused, and by whom ('user' or 'system': system pauses lift by themselves).
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    paused_by: Mapped[str | None] = mapped_column(String(16))
    window_start: Mapped[int]  # minutes after local midnight
    window_end: Mapped[int]
    holidays: Mapped[list[str]] = mapped_column(JSON)
    max_attempts: Mapped[int]
    retry_seconds: Mapped[dict[str, Any]]
    daily_cap: Mapped[int]
    priority: Mapped[int]
    max_channels: Mapped[int]
    calls_per_second: Mapped[float] = mapped_column(Float)
    default_time_zone: Mapped[str] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(32))
    last_event: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CampaignContactRow(Base):
    """One recipient of a campaign; `state` + lease make the dialer's state machine."""

    __tablename__ = "campaign_contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "dedupe_key"),
        CheckConstraint(_in("state", CONTACT_STATES), name="state"),
        CheckConstraint(_in("channel", CONTACT_CHANNELS), name="channel"),
        Index(None, "state", "next_at"),
        Index(None, "campaign_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(8))
    variables: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int]
    next_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    fallback: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime]


class CallAttemptRow(Base):
    """One Originate. Written as 'originating' before the action is sent; (contact, attempt_no)
    is unique, so the same attempt can never be dialled twice."""

    __tablename__ = "call_attempts"
    __table_args__ = (
        UniqueConstraint("contact_id", "attempt_no"),
        CheckConstraint(_in("state", ATTEMPT_STATES), name="state"),
        Index(None, "phone", "started_at"),
        Index(None, "campaign_id", "started_at"),
        Index(None, "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_contacts.id", ondelete="CASCADE")
    )
    attempt_no: Mapped[int]
    phone: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(64), unique=True)
    dialer: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    hangup_cause: Mapped[int | None]
    amd: Mapped[str | None] = mapped_column(String(16))
    response: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class DncRow(Base):
    """Do-not-call list, checked when a contact is about to be dialled."""

    __tablename__ = "dnc_numbers"

    phone: Mapped[str] = mapped_column(String(16), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime]


class EventKeyRow(Base):
    """An idempotency key of a trigger event and what it did, replayed for a repeated key."""

    __tablename__ = "event_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class ConsoleSessionRow(Base):
    """A web console sign-in: the browser holds a random id, we keep its SHA-256. It ends at
    ``expires_at``, after an idle gap, at sign-out (row deleted) or when its token is revoked."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True
    )
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
