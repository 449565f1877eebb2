"""One-time codes for caller authentication (hashes only).

Revision ID: 0002_auth_otp
Revises: 0001_initial
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_auth_otp"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "otp_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("destination", sa.String(length=320), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", _utc(), nullable=True),
        sa.Column("locked_at", _utc(), nullable=True),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_otp_codes_channel")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_otp_codes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otp_codes")),
    )
    op.create_index(
        op.f("ix_otp_codes_customer_id_issued_at"),
        "otp_codes",
        ["customer_id", "issued_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_otp_codes_customer_id_issued_at"), table_name="otp_codes")
    op.drop_table("otp_codes")
