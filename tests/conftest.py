"""Test fixtures: a fresh, migrated, demo-seeded database for every test, on SQLite and (when
TEST_DATABASE_URL is set) again on PostgreSQL; the app on top of it through Litestar's test client."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from server import migrate, process_cache
from server.accounts import auth, demo
from server.app import create_app
from server.db import make_engine
from server.settings import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])

_real_hash_password = auth.hash_password


@cache
def _cached_hash(password: str) -> str:
    return _real_hash_password(password)


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 is slow on purpose; tests hash each distinct password once and reuse it."""
    monkeypatch.setattr(auth, "hash_password", _cached_hash)
    process_cache.forget_all()


def _seed(engine: Engine) -> None:
    migrate.upgrade(engine)
    with Session(engine) as session:
        demo.seed_demo(session)
        session.commit()


def _pg_admin_engine() -> Engine:
    url = make_url(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def _pg_url(database: str) -> str:
    url = make_url(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return url.set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated and seeded database per backend, copied for each test."""
    templates: dict[str, str] = {}
    sqlite_path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{sqlite_path}")
    _seed(engine)
    engine.dispose()
    templates["sqlite"] = str(sqlite_path)
    if TEST_DATABASE_URL:
        # The database CI made for this run becomes the template each test's database is copied from.
        engine = make_engine(TEST_DATABASE_URL)
        _seed(engine)
        engine.dispose()
        templates["postgresql"] = make_url(TEST_DATABASE_URL).database
    yield templates


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, database_templates: dict[str, str], tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(database_templates["sqlite"], path)
        yield f"sqlite:///{path}"
        return
    name = "bintang_t_" + uuid.uuid4().hex[:12]
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{database_templates["postgresql"]}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return replace(Settings(), database_url=database_url, data_dir=tmp_path / "var", dispatcher="off")


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
def engine(app: Litestar) -> Engine:
    return app.state.engine


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient]:
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def make_client(app: Litestar) -> Iterator:
    """More clients on the same app: one per person in a test."""
    clients: list[TestClient] = []

    def factory() -> TestClient:
        test_client = TestClient(app=app, base_url="http://127.0.0.1:8000")
        test_client.__enter__()
        clients.append(test_client)
        return test_client

    yield factory
    # Litestar deadlocks when the first of several lifespans on one app shuts down first: close newest first.
    for test_client in reversed(clients):
        test_client.__exit__(None, None, None)


def csrf_token(client: TestClient, path: str = "/masuk") -> str:
    """Load a page so the CSRF cookie is set, and return the token its forms carry."""
    response = client.get(path)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', response.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict[str, object], *, token_from: str = "/masuk", **kwargs):  # noqa: ANN201
    return client.post(path, data={"_csrf_token": csrf_token(client, token_from), **data}, **kwargs)


def sign_in(client: TestClient, username: str, password: str = demo.DEMO_PASSWORD) -> TestClient:
    response = post_form(client, "/masuk", {"username": username, "password": password}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def as_user(make_client):  # noqa: ANN001, ANN201
    """`as_user("konselor")` gives a test client signed in as that demo person."""

    def factory(username: str) -> TestClient:
        return sign_in(make_client(), username)

    return factory
