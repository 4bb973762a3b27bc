"""Test fixtures: a fresh, migrated, demo-seeded database for every test, on SQLite, and for the tests where the
database itself is under test (marked `both_databases`) again on PostgreSQL when TEST_DATABASE_URL is set; the
app on top of it through Litestar's test client; the clock pinned (see `pinned_clock`)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from argon2 import PasswordHasher, profiles
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from server import clock, migrate, process_cache
from server.accounts import auth, demo, two_factor
from server.app import CSRF_COOKIE, create_app
from server.db import engine_for, make_engine
from server.settings import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])

# Every test without a browser runs at this moment unless it moves the clock: Tuesday 1 December 2026, 09.17 WITA
# (off the half hours that slots start on).
PINNED_NOW = datetime(2026, 12, 1, 1, 17, tzinfo=UTC)

# Argon2 is slow on purpose. The tests hash and verify with its cheapest parameters: the hashes are still real
# argon2id hashes, checked the same way, only cheaper to make.
auth._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
auth._DUMMY_HASH = auth._hasher.hash("no such account")
two_factor._recovery_hasher = auth._hasher


BROWSER_TESTS = Path(__file__).parent / "browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser is a browser test, whether or not its module says so: `-m "not browser"`
    (the quick loop, the later-clock runs under libfaketime) must never start Chromium."""
    for item in items:
        if BROWSER_TESTS in item.path.parents and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """SQLite for every database test; PostgreSQL as well for those marked `both_databases` (constraints,
    locking, SQL that differs between the two)."""
    if "database_url" in metafunc.fixturenames:
        markers = {marker.name: marker for marker in metafunc.definition.iter_markers()}
        if "only_database" in markers:
            wanted = markers["only_database"].args[0]
            backends = [wanted] if wanted in BACKENDS else []  # none: pytest reports it skipped, with the reason
        else:
            backends = BACKENDS if "both_databases" in markers else ["sqlite"]
        metafunc.parametrize("database_url", backends, indirect=True)


@pytest.fixture(autouse=True)
def pinned_clock(request: pytest.FixtureRequest) -> Iterator[time_machine.Coordinates | None]:
    """The app reads the time through server/clock.py; here it is pinned at PINNED_NOW (not ticking), so that
    fixtures and the code they test agree on "now" and no test depends on today's date. A test moves it with
    `pinned_clock.move_to(...)` or `.shift(...)`. Tests marked `real_clock` (they talk to another process
    that keeps the real time) and browser tests are left on the real clock."""
    process_cache.forget_all()
    clock.use_zone("WITA")  # the default region's (Kota Banjarbaru); a test that tries another zone sets it
    if request.node.get_closest_marker("real_clock") or request.node.get_closest_marker("browser"):
        yield None
        return
    with time_machine.travel(PINNED_NOW, tick=False) as traveller:
        yield traveller


def _seed(engine: Engine) -> None:
    migrate.upgrade(engine)
    with time_machine.travel(PINNED_NOW, tick=False), Session(engine) as session:
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
    worker_template = None
    if TEST_DATABASE_URL:
        # The database CI made for this run becomes the template each test's database is copied from. Under
        # pytest-xdist each worker makes its own template beside it: two workers copying one template at once
        # would each find the other's copy "being accessed by other users".
        template = make_url(TEST_DATABASE_URL).database
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            worker_template = f"{template}_{worker}"
            admin = _pg_admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{worker_template}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{worker_template}"'))
            admin.dispose()
            template = worker_template
        engine = make_engine(_pg_url(template))
        _seed(engine)
        engine.dispose()
        templates["postgresql"] = template
    yield templates
    if worker_template:
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{worker_template}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, database_templates: dict[str, str], tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(database_templates["sqlite"], path)
        yield f"sqlite:///{path}"
        return
    with postgres_database("bintang_t_", template=database_templates["postgresql"]) as url:
        yield url


@contextmanager
def postgres_database(prefix: str, template: str = "") -> Iterator[str]:
    """A database of its own on the test PostgreSQL server (a copy of `template`, else empty), dropped after."""
    name = prefix + uuid.uuid4().hex[:12]
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return replace(Settings(), database_url=database_url, data_dir=tmp_path / "var", dispatcher="off")


_apps: dict[Settings, Litestar] = {}


@pytest.fixture
def app(settings: Settings) -> Iterator[Litestar]:
    """The app for these settings on this test's own database. Building an app (routes, signatures, templates)
    takes most of a second, so one app is kept per kind of settings and given each test's database and settings
    in turn; nothing else in it outlives a test."""
    key = replace(settings, database_url="", data_dir=Path("/"))
    app = _apps.get(key)
    if app is None:
        app = _apps[key] = create_app(settings)
    else:
        app.state.settings, app.state.engine = settings, engine_for(settings)
    yield app
    app.state.engine.dispose()


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


_csrf_of: weakref.WeakKeyDictionary[TestClient, tuple[str | None, str]] = weakref.WeakKeyDictionary()


def csrf_token(client: TestClient, path: str = "/masuk") -> str:
    """The token this client's forms carry. The first time (and whenever the CSRF cookie changed) a page is
    loaded, so that the cookie is set, and the token is read from its form; after that it is remembered."""
    cookie = client.cookies.get(CSRF_COOKIE)
    remembered = _csrf_of.get(client)
    if cookie is not None and remembered is not None and remembered[0] == cookie:
        return remembered[1]
    response = client.get(path)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', response.text)
    assert match, f"no CSRF token on {path}"
    _csrf_of[client] = (client.cookies.get(CSRF_COOKIE), match.group(1))
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict[str, object], *, token_from: str = "/masuk", **kwargs):
    return client.post(path, data={"_csrf_token": csrf_token(client, token_from), **data}, **kwargs)


def sign_in(client: TestClient, username: str, password: str = demo.DEMO_PASSWORD) -> TestClient:
    response = post_form(client, "/masuk", {"username": username, "password": password}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def as_user(make_client):
    """`as_user("konselor")` gives a test client signed in as that demo person."""

    def factory(username: str) -> TestClient:
        return sign_in(make_client(), username)

    return factory
