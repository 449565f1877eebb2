"""Initial schema: customers, accounts, requests, interactions, flows, routes, audit log.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Types are written out here rather than imported from models, so this revision never
# changes when the models do.


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _money() -> sa.Numeric[Decimal]:
    return sa.Numeric(precision=12, scale=2)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _customer_fk(table: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["customer_id"],
        ["customers.id"],
        name=op.f(f"fk_{table}_customer_id_customers"),
        ondelete=ondelete,
    )


def _flow_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["flow_id"], ["flows.id"], name=op.f(f"fk_{table}_flow_id_flows"), ondelete="CASCADE"
    )


def _pk(table: str, column: str = "id") -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(column, name=op.f(f"pk_{table}"))


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), unique=False)


def _customers() -> None:
    op.create_table(
        "customers",
        _id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=False),
        sa.Column("preferred_channel", sa.String(length=8), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=32), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.CheckConstraint("language IN ('en', 'ru')", name=op.f("ck_customers_language")),
        sa.CheckConstraint(
            "preferred_channel IN ('voice', 'sms', 'email')",
            name=op.f("ck_customers_preferred_channel"),
        ),
        _pk("customers"),
    )
    _index("customers", "area")
    _index("customers", "name_key")
    op.create_table(
        "customer_phones",
        _id(),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        _customer_fk("customer_phones"),
        _pk("customer_phones"),
        sa.UniqueConstraint(
            "customer_id", "phone", name=op.f("uq_customer_phones_customer_id_phone")
        ),
    )
    _index("customer_phones", "phone")
    op.create_table(
        "accounts",
        _id(),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("balance", _money(), nullable=False),
        sa.Column("bill_limit", _money(), nullable=True),
        sa.Column("forecast", _money(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        _customer_fk("accounts"),
        _pk("accounts"),
        sa.UniqueConstraint("number", name=op.f("uq_accounts_number")),
    )
    _index("accounts", "customer_id")
    op.create_table(
        "requests",
        _id(),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_from", _utc(), nullable=True),
        sa.Column("scheduled_to", _utc(), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        _customer_fk("requests"),
        _pk("requests"),
    )
    _index("requests", "customer_id")


def _interactions() -> None:
    op.create_table(
        "interactions",
        _id(),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.Column("flow_name", sa.String(length=100), nullable=True),
        sa.Column("flow_version", sa.Integer(), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('voice', 'sms', 'email', 'chat')", name=op.f("ck_interactions_channel")
        ),
        _customer_fk("interactions", ondelete="SET NULL"),
        _pk("interactions"),
    )
    _index("interactions", "caller")
    _index("interactions", "customer_id", "started_at")
    _index("interactions", "started_at")


def _flows() -> None:
    op.create_table(
        "flows",
        _id(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _pk("flows"),
        sa.UniqueConstraint("name", name=op.f("uq_flows_name")),
    )
    op.create_table(
        "flow_versions",
        _id(),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("published_at", _utc(), nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'validated', 'published', 'superseded', 'rolled_back')",
            name=op.f("ck_flow_versions_state"),
        ),
        _flow_fk("flow_versions"),
        _pk("flow_versions"),
        sa.UniqueConstraint("flow_id", "version", name=op.f("uq_flow_versions_flow_id_version")),
    )
    published = sa.text("state = 'published'")
    op.create_index(
        "uq_flow_versions_published",
        "flow_versions",
        ["flow_id"],
        unique=True,
        sqlite_where=published,
        postgresql_where=published,
    )
    op.create_table(
        "flow_routes",
        sa.Column("dnis", sa.String(length=32), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        _flow_fk("flow_routes"),
        _pk("flow_routes", "dnis"),
    )
    _index("flow_routes", "flow_id")


def _audit() -> None:
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        _pk("audit_log"),
    )
    _index("audit_log", "at")


def upgrade() -> None:
    _customers()
    _interactions()
    _flows()
    _audit()


def downgrade() -> None:
    # Children first, so foreign keys never point at a dropped table.
    for table in (
        "flow_routes",
        "flow_versions",
        "flows",
        "interactions",
        "requests",
        "accounts",
        "customer_phones",
        "customers",
        "audit_log",
    ):
        op.drop_table(table)
