"""Database engine and sessions: SQLite (WAL, foreign keys, busy timeout) by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from litestar.di import NamedDependency
from sqlalchemy import DateTime, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from server.settings import Settings

# How route handlers ask for the request's database session.
DB = NamedDependency[Session]


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which drops offsets) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """hide_parameters: a failed statement's error names the statement, never the values, which are what people
    typed (a child's words, a phone number) and would otherwise reach the error log."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        # One connection per thread that may use one (Litestar runs sync handlers on anyio's 40 threads) and kept:
        # with the default pool of 5 (+10 overflow), 32 requests at once opened and closed connections all the
        # time, each open running the pragmas below, which cost more than the queries.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15}, hide_parameters=True,
                               pool_size=40, max_overflow=0)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def private_dir(path: Path) -> Path:
    """DATA_DIR holds the children's data and the VAPID key: only the app's own user may enter it, also when an
    older install made it world-readable."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """Create `path` readable and writable by the app's user only (SQLite gives its -wal and -shm files the
    same mode as the database), or close an existing one."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def engine_for(settings: Settings) -> Engine:
    if not settings.database_url:
        private_dir(settings.data_dir)
        private_file(settings.data_dir / "bintang.sqlite3")
    return make_engine(settings.db_url)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE sent through a Session changed. Session.execute is typed as giving a
    Result; for these statements it is a CursorResult, which has the count."""
    return cast(CursorResult[Any], result).rowcount


T = TypeVar("T")


class MissingRow(LookupError):
    """A row another row points at is not there: the database is broken, not the request."""


def existing(session: Session, model: type[T], key: Any) -> T:
    """The row `key` of `model` that must exist (its id came from a foreign key, or was just written): where
    Session.get says None for a missing row, this fails loudly."""
    found = session.get(model, key)
    if found is None:
        raise MissingRow(f"{model.__name__} {key} is missing")
    return found
