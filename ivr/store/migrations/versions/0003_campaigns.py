"""Outbound campaigns: campaigns, their contacts, call attempts, do-not-call list, event keys.

Revision ID: 0003_campaigns
Revises: 0002_auth_otp
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_campaigns"
down_revision: str | None = "0002_auth_otp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("prompts", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("pause_reason", sa.String(length=200), nullable=True),
        sa.Column("paused_by", sa.String(length=16), nullable=True),
        sa.Column("window_start", sa.Integer(), nullable=False),
        sa.Column("window_end", sa.Integer(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_seconds", sa.JSON(), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("max_channels", sa.Integer(), nullable=False),
        sa.Column("calls_per_second", sa.Float(), nullable=False),
        sa.Column("default_time_zone", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=32), nullable=True),
        sa.Column("last_event", sa.String(length=64), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'running', 'paused', 'cancelled', 'completed')",
            name=op.f("ck_campaigns_state"),
        ),
        sa.CheckConstraint("window_start < window_end", name=op.f("ck_campaigns_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "dnc_numbers",
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("added_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_dnc_numbers")),
    )
    op.create_table(
        "event_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_event_keys")),
    )
    op.create_table(
        "campaign_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", _utc(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("fallback", sa.String(length=16), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('voice', 'sms', 'email')", name=op.f("ck_campaign_contacts_channel")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'dialing', 'done', 'failed', 'cancelled')",
            name=op.f("ck_campaign_contacts_state"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_contacts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_campaign_contacts_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_contacts")),
        sa.UniqueConstraint(
            "campaign_id", "dedupe_key", name=op.f("uq_campaign_contacts_campaign_id_dedupe_key")
        ),
    )
    op.create_index(
        op.f("ix_campaign_contacts_campaign_id_state"),
        "campaign_contacts",
        ["campaign_id", "state"],
        unique=False,
    )
    op.create_index(
        op.f("ix_campaign_contacts_state_next_at"),
        "campaign_contacts",
        ["state", "next_at"],
        unique=False,
    )
    op.create_table(
        "call_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("dialer", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("amd", sa.String(length=16), nullable=True),
        sa.Column("response", sa.String(length=16), nullable=True),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("answered_at", _utc(), nullable=True),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.CheckConstraint(
            "state IN ('originating', 'answered', 'ended')", name=op.f("ck_call_attempts_state")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_call_attempts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["campaign_contacts.id"],
            name=op.f("fk_call_attempts_contact_id_campaign_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_attempts")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_call_attempts_channel_id")),
        sa.UniqueConstraint(
            "contact_id", "attempt_no", name=op.f("uq_call_attempts_contact_id_attempt_no")
        ),
    )
    op.create_index(
        op.f("ix_call_attempts_campaign_id_started_at"),
        "call_attempts",
        ["campaign_id", "started_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_call_attempts_phone_started_at"),
        "call_attempts",
        ["phone", "started_at"],
        unique=False,
    )
    op.create_index(op.f("ix_call_attempts_state"), "call_attempts", ["state"], unique=False)
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_index(op.f("ix_call_attempts_state"), table_name="call_attempts")
    op.drop_index(op.f("ix_call_attempts_phone_started_at"), table_name="call_attempts")
    op.drop_index(op.f("ix_call_attempts_campaign_id_started_at"), table_name="call_attempts")
    op.drop_table("call_attempts")
    op.drop_index(op.f("ix_campaign_contacts_state_next_at"), table_name="campaign_contacts")
    op.drop_index(op.f("ix_campaign_contacts_campaign_id_state"), table_name="campaign_contacts")
    op.drop_table("campaign_contacts")
    op.drop_table("event_keys")
    op.drop_table("dnc_numbers")
    op.drop_table("campaigns")
    # ### end Alembic commands ###
