"""The test PostgreSQL server (TEST_DATABASE_URL): its admin connection, a URL for one of its databases, and a
database of a test's own on it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def pg_admin_engine() -> Engine:
    url = make_url(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def pg_url(database: str) -> str:
    url = make_url(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return url.set(database=database).render_as_string(hide_password=False)


@contextmanager
def postgres_database(prefix: str, template: str = "") -> Iterator[str]:
    """A database of its own on the test PostgreSQL server (a copy of `template`, else empty), dropped after."""
    name = prefix + uuid.uuid4().hex[:12]
    admin = pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
