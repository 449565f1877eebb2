"""Several `ivr serve` nodes on one database: each call's row names its node, nodes beat.

Revision ID: 0007_nodes
Revises: 0006_otp_lines
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_nodes"
down_revision: str | None = "0006_otp_lines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("ended_at IS NULL")


def _utc() -> sa.DateTime:  # written out, not imported from models (see 0001)
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("seen_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_nodes")),
    )
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(sa.Column("node", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("end_reason", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_interactions_node"), "interactions", ["node"],
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index(op.f("ix_interactions_node"), table_name="interactions")
    with op.batch_alter_table("interactions") as batch:
        batch.drop_column("end_reason")
        batch.drop_column("node")
    op.drop_table("nodes")
