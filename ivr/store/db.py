"""Engines, sessions and schema revisions for SQLite files and PostgreSQL (psycopg 3).

Sessions are synchronous; async callers run repository calls through ``asyncio.to_thread``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from ivr.store.errors import DatabaseUnreachable, MigrationNeeded

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 3


def normalize_url(url: str) -> str:
    """Route ``postgres://`` and ``postgresql://`` URLs to the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _parse(url: str) -> URL:
    try:
        return make_url(normalize_url(url))
    except ArgumentError as exc:
        raise DatabaseUnreachable(f"invalid database URL {url!r}: {exc}") from None


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def _sqlite_file(parsed: URL) -> Path | None:
    """The file behind a SQLite URL, or None for in-memory and non-SQLite URLs."""
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    try:
        # Foreign keys are off by default in SQLite; WAL lets readers run beside one writer and
        # busy_timeout makes a second writer wait instead of failing at once.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite (file or memory) or PostgreSQL through psycopg 3."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if _sqlite_file(parsed) is None:
            # One shared connection, or each checkout would see its own empty memory database.
            kwargs["poolclass"] = StaticPool
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    # A server that stops answering (not refusing) must not hold a call for the kernel's
    # minutes of SYN retries: give up connecting after CONNECT_TIMEOUT_S unless the URL says.
    connect: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect["connect_timeout"] = CONNECT_TIMEOUT_S
    return create_engine(parsed, pool_pre_ping=True, connect_args=connect)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # Rows are turned into domain objects inside the session, so nothing needs expiring.
    return sessionmaker(bind=engine, expire_on_commit=False)


class Database:
    """An engine plus its session factory; ``session()`` commits on success, rolls back on error."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = normalize_url(url)
        self.engine = engine if engine is not None else make_engine(url)
        self._sessions = session_factory(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A session in one transaction.

        ``write=True`` is for read-then-write work (next version number, state changes): on
        SQLite it takes the write lock up front (BEGIN IMMEDIATE), because a deferred
        transaction that read first cannot upgrade once another writer has committed.
        PostgreSQL gets the same effect from the repositories' SELECT ... FOR UPDATE.
        """
        with self._sessions() as session:
            try:
                if write and self.dialect == "sqlite":
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                yield session
                session.commit()
            except DBAPIError as exc:
                with suppress(DBAPIError):  # a dead connection cannot roll back either
                    session.rollback()
                if _is_outage(exc, self.dialect):
                    raise _unreachable(self.url, exc) from exc
                raise
            except Exception:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({safe_url(self.url)!r})"


# SQLSTATE classes of a database that went away: connection exceptions (08) and an
# operator or crash shutting the server down (57P01-57P03).
_OUTAGE_SQLSTATES = ("08", "57P")


def _is_outage(exc: DBAPIError, dialect: str) -> bool:
    """The database cannot be reached (not: a query was wrong, a lock timed out)."""
    if exc.connection_invalidated:
        return True
    if dialect == "sqlite":
        return "unable to open database file" in str(exc.orig)
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)  # None: the client never got an answer
    return sqlstate is None or str(sqlstate).startswith(_OUTAGE_SQLSTATES)


def _unreachable(url: str, exc: BaseException) -> DatabaseUnreachable:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = reason[0].strip() if reason else type(exc).__name__
    password = _parse(url).password
    if password:
        first = first.replace(str(password), "***")
    fix = (
        "check the file's directory exists or run 'ivr db upgrade'"
        if _parse(url).get_backend_name() == "sqlite"
        else "start the database server or correct the database URL (IVR_DATABASE_URL)"
    )
    return DatabaseUnreachable(f"cannot reach database {safe_url(url)}: {first} ({fix})")


def check_connection(url: str) -> None:
    """Open a connection and run ``SELECT 1``; raise DatabaseUnreachable if that fails."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise _unreachable(url, exc) from None
    finally:
        engine.dispose()


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the migrations shipped in this package (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option, so '%' in passwords needs no escaping.
    config.attributes["url"] = normalize_url(url)
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _prepare_sqlite_dir(url: str) -> None:
    path = _sqlite_file(_parse(url))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (creating a SQLite file's directory first)."""
    _prepare_sqlite_dir(url)
    check_connection(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    check_connection(url)
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at; None for an empty database or a missing SQLite file."""
    path = _sqlite_file(_parse(url))
    if path is not None and not path.exists():
        return None
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise _unreachable(url, exc) from None
    finally:
        engine.dispose()


def needs_upgrade(url: str) -> bool:
    return current_revision(url) != head_revision()


def require_current(url: str) -> None:
    """Raise MigrationNeeded unless the database is at the code's head revision."""
    current, head = current_revision(url), head_revision()
    if current != head:
        raise MigrationNeeded(current, head)
