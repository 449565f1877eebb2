"""Alembic migrations produce exactly the models' schema and undo cleanly, on both engines."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from ivr.store.db import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    needs_upgrade,
    upgrade,
)
from ivr.store.models import Base


def _schema_diffs(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_on_empty_database_matches_models(empty_url: str) -> None:
    upgrade(empty_url)

    assert _schema_diffs(empty_url) == []
    assert _tables(empty_url) == {*Base.metadata.tables, "alembic_version"}


def test_empty_database_has_a_diff_so_the_comparison_can_fail(empty_url: str) -> None:
    upgrade(empty_url)
    downgrade(empty_url, "base")

    diffs = _schema_diffs(empty_url)

    assert {d[1].name for d in diffs if d[0] == "add_table"} == set(Base.metadata.tables)


def test_downgrade_to_base_removes_every_table_and_upgrade_again_works(empty_url: str) -> None:
    upgrade(empty_url)

    downgrade(empty_url, "base")

    assert _tables(empty_url) <= {"alembic_version"}
    assert current_revision(empty_url) is None
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()
    assert _schema_diffs(empty_url) == []


def test_needs_upgrade_is_true_on_fresh_database_and_false_after(empty_url: str) -> None:
    assert needs_upgrade(empty_url) is True

    upgrade(empty_url)

    assert needs_upgrade(empty_url) is False
    assert current_revision(empty_url) == head_revision()
