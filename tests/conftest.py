"""Shared fixtures: migrated SQLite and PostgreSQL databases, and a `db` running on both.

PostgreSQL tests use the server at PG_ADMIN_URL (env IVR_TEST_POSTGRES_URL overrides); when it
is unreachable they are skipped, unless IVR_REQUIRE_POSTGRES=1 (CI), where they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from ivr.store.db import Database, normalize_url, upgrade
from ivr.store.models import Base
from tests.processes import IVR, Served, env_for, free_port, run, wait_for_log

# Overridable so a test can point the fixtures at a server that is not there.
PG_ADMIN_URL = os.environ.get("IVR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_unavailable(reason: str) -> None:
    """Skip, or fail when IVR_REQUIRE_POSTGRES=1 says PostgreSQL must be there."""
    message = f"PostgreSQL unavailable at {PG_ADMIN_URL}: {reason}"
    if os.environ.get("IVR_REQUIRE_POSTGRES") == "1":
        pytest.fail(message + " (IVR_REQUIRE_POSTGRES=1)", pytrace=False)
    pytest.skip(message)


def _admin_execute(sql: str) -> None:
    engine = create_engine(normalize_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def create_pg_database() -> str:
    """Create an empty uniquely named database and return its URL (skips if no server)."""
    name = f"ivr_test_{uuid.uuid4().hex[:12]}"
    try:
        _admin_execute(f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        postgres_unavailable(str(exc.orig).strip().splitlines()[0])
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session; each test gets a copy (faster than migrating)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "ivr.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    # Fold the WAL into the main file so copying the one file copies everything.
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """URL of a migrated SQLite file of this test's own."""
    path = tmp_path / "var" / "ivr.db"
    path.parent.mkdir()
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@contextlib.contextmanager
def migrated_pg_database() -> Iterator[str]:
    """URL of a new, migrated PostgreSQL database, dropped on exit."""
    url = create_pg_database()
    try:
        upgrade(url)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a migrated PostgreSQL database created for this test session, dropped after."""
    with migrated_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def _pg_database(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    yield database
    database.dispose()


def _truncate_all(database: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated, empty Database on SQLite and on PostgreSQL (test ids [sqlite]/[postgres])."""
    if request.param == "sqlite":
        database = Database(request.getfixturevalue("sqlite_url"))
        yield database
        database.dispose()
        return
    shared: Database = request.getfixturevalue("_pg_database")
    _truncate_all(shared)
    yield shared


# ---------------------------------------------------------------- `ivr` processes

@pytest.fixture
def ports() -> dict[str, str]:
    return {
        "IVR_AGI_PORT": str(free_port()),
        "IVR_HTTP_PORT": str(free_port()),
        "IVR_AUDIOSOCKET_PORT": str(free_port()),
    }


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    return tmp_path


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra settings for `server`; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
def server(migrated: Path, ports: dict[str, str], server_env: dict[str, str]) -> Iterator[Served]:
    """`ivr serve` started in a migrated folder; its log goes to serve.log (read with
    wait_for_log), so a chatty server never blocks on a full pipe."""
    with (migrated / "serve.log").open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [IVR, "serve"], cwd=migrated, env=env_for(migrated, **ports, **server_env),
            stdout=log, stderr=subprocess.STDOUT, text=True,
        )
    served = Served(proc, ports, migrated)
    yield served
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture
def running(server: Served) -> Served:
    wait_for_log(server.log, "admin API on")
    return server




# ---------------------------------------------------------------- the CI log shows both engines

def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line saying how many database tests ran on each engine (CI must show PostgreSQL)."""
    passed = terminalreporter.stats.get("passed", [])
    counts = {engine: sum(f"[{engine}" in r.nodeid for r in passed)
              for engine in ("sqlite", "postgres")}
    terminalreporter.write_line(
        f"database tests passed: sqlite {counts['sqlite']}, postgres {counts['postgres']}")
