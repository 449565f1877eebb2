"""One-time codes remember the calling line that asked for them (backoff per line).

Revision ID: 0006_otp_lines
Revises: 0005_console_sessions
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_otp_lines"
down_revision: str | None = "0005_console_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("otp_codes") as batch:
        batch.add_column(sa.Column("line", sa.String(length=160), nullable=True))
    op.create_index(op.f("ix_otp_codes_line_issued_at"), "otp_codes", ["line", "issued_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_otp_codes_line_issued_at"), table_name="otp_codes")
    with op.batch_alter_table("otp_codes") as batch:
        batch.drop_column("line")
