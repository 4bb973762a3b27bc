"""Test fixtures: a fresh, migrated, demo-seeded database for every test, on SQLite, and for the tests where the
database itself is under test (marked `both_databases`) again on PostgreSQL when TEST_DATABASE_URL is set; the
app on top of it through Litestar's test client; the clock pinned (see `pinned_clock`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import time_machine
from argon2 import PasswordHasher, profiles
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from server import clock, migrate, process_cache
from server.accounts import auth, demo, two_factor
from server.app import create_app
from server.db import engine_for, make_engine
from server.settings import Settings
from tests.support.clock import PINNED_NOW
from tests.support.postgres import TEST_DATABASE_URL, pg_admin_engine, pg_url, postgres_database
from tests.support.web import sign_in

BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])

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
            admin = pg_admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{worker_template}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{worker_template}"'))
            admin.dispose()
            template = worker_template
        engine = make_engine(pg_url(template))
        _seed(engine)
        engine.dispose()
        templates["postgresql"] = template
    yield templates
    if worker_template:
        admin = pg_admin_engine()
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


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return replace(Settings(), database_url=database_url, data_dir=tmp_path / "var", dispatcher="off",
                   statistics_warm=False)


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


@pytest.fixture
def as_user(make_client):
    """`as_user("konselor")` gives a test client signed in as that demo person."""

    def factory(username: str) -> TestClient:
        return sign_in(make_client(), username)

    return factory
