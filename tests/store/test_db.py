"""Engines, sessions, revisions and connection checks in ivr.store.db."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.store.db import (
    Database,
    check_connection,
    current_revision,
    head_revision,
    make_engine,
    needs_upgrade,
    normalize_url,
    require_current,
    safe_url,
    upgrade,
)
from ivr.store.errors import DatabaseUnreachable, MigrationNeeded
from ivr.store.repositories import AuditRepository


def _closed_port() -> int:
    # Bind then close: nothing listens there afterwards, so connecting is refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///var/ivr.db", "sqlite:///var/ivr.db"),
    ],
)
def test_normalize_url_routes_postgres_to_psycopg3(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_safe_url_masks_password() -> None:
    assert safe_url("postgresql://ivr:s3cret@db:5432/ivr") == (
        "postgresql+psycopg://ivr:***@db:5432/ivr"
    )


def test_sqlite_engine_enables_foreign_keys_wal_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    finally:
        engine.dispose()


def test_session_commits_on_success_and_rolls_back_on_error(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    audit = AuditRepository(db)
    audit.write("alice", "kept", "x")
    with pytest.raises(RuntimeError), db.session() as session:
        session.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, subject, detail) "
                "VALUES ('2026-01-01 00:00:00', 'bob', 'lost', 'x', '{}')"
            )
        )
        raise RuntimeError("boom")
    assert [e.action for e in audit.list()] == ["kept"]
    db.dispose()


def test_upgrade_creates_missing_parent_directory_of_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "ivr.db"

    upgrade(f"sqlite:///{path}")

    assert path.exists()
    assert not needs_upgrade(f"sqlite:///{path}")


def test_current_revision_of_missing_sqlite_file_is_none_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "absent.db"

    assert current_revision(f"sqlite:///{path}") is None
    assert not path.exists()


def test_require_current_names_both_revisions_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(MigrationNeeded) as caught:
        require_current(f"sqlite:///{tmp_path / 'fresh.db'}")

    assert str(caught.value) == (
        f"database is at revision none (empty), code needs {head_revision()}: run 'ivr db upgrade'"
    )


def test_require_current_passes_on_migrated_database(sqlite_url: str) -> None:
    require_current(sqlite_url)


def test_check_connection_succeeds_on_reachable_database(sqlite_url: str) -> None:
    check_connection(sqlite_url)


def test_check_connection_on_wrong_port_is_unreachable_without_password() -> None:
    url = f"postgresql://ivr:TopSecret42@127.0.0.1:{_closed_port()}/ivr"

    with pytest.raises(DatabaseUnreachable) as caught:
        check_connection(url)

    message = str(caught.value)
    assert "TopSecret42" not in message
    assert "\n" not in message
    assert "ivr:***@127.0.0.1" in message
    assert "correct the database URL" in message


def test_upgrade_on_unreachable_server_raises_database_unreachable() -> None:
    with pytest.raises(DatabaseUnreachable):
        upgrade(f"postgresql://ivr:pw@127.0.0.1:{_closed_port()}/ivr")


def test_sqlite_file_in_missing_directory_is_unreachable(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnreachable, match="cannot reach database sqlite:///"):
        check_connection(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")


def test_upgrade_works_from_any_directory_with_relative_sqlite_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    upgrade("sqlite:///var/ivr.db")

    assert (tmp_path / "var" / "ivr.db").exists()
    assert current_revision("sqlite:///var/ivr.db") == head_revision()


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://", "postgresql+psycopg://"])
def test_every_postgres_url_spelling_connects_through_psycopg3(pg_url: str, scheme: str) -> None:
    url = scheme + pg_url.split("://", 1)[1]

    check_connection(url)
    assert not needs_upgrade(url)
    assert Database(url).engine.dialect.driver == "psycopg"
