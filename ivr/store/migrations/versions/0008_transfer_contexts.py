"""Transfer contexts (the agent's screen-pop) in the database, so every node's API answers.

Revision ID: 0008_transfer_contexts
Revises: 0007_nodes
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_transfer_contexts"
down_revision: str | None = "0007_nodes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transfer_contexts",
        sa.Column("channel_id", sa.String(length=200), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_transfer_contexts")),
    )
    op.create_index(op.f("ix_transfer_contexts_expires_at"), "transfer_contexts",
                    ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_transfer_contexts_expires_at"), table_name="transfer_contexts")
    op.drop_table("transfer_contexts")
