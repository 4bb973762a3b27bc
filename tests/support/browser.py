"""Helpers for the browser tests: a demo database, the app served on it, signing in and out through the
forms, waiting for the service worker. Their fixtures are in tests/browser/conftest.py."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import Session

from server import migrate
from server.accounts import demo
from server.appointments.demo import seed_demo_schedule
from server.db import make_engine
from tests.servers import app_process

# Quick exit leaves for this address; tests answer it themselves (see `neutral_site`).
NEUTRAL_URL = "https://cuaca.example/hari-ini"
NEUTRAL_PAGE = (
    '<!doctype html><html lang="id"><head><meta charset="utf-8"><title>Cuaca hari ini</title></head>'
    "<body><h1>Cuaca hari ini</h1><p>Cerah berawan.</p></body></html>"
)


def demo_database(directory: Path) -> str:
    """A new SQLite database in `directory`, migrated and seeded with the demo people, service types and
    counselors' weekly hours; returns its URL."""
    url = f"sqlite:///{directory / 'bintang.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        demo.seed_demo(session)
        seed_demo_schedule(session)
        session.commit()
    engine.dispose()
    return url


def serve(database_url: str, data_dir: Path, port: int) -> AbstractContextManager[str]:
    """The app in its own uvicorn process on 127.0.0.1:`port`, until the block ends, quick exit leaving for
    NEUTRAL_URL. A test may serve the same database on the same port again."""
    return app_process(database_url, data_dir, port=port, QUICK_EXIT_URL=NEUTRAL_URL)


def sign_in(page: Page, username: str, password: str = demo.DEMO_PASSWORD) -> Page:
    """Sign in through the form, as a person would, and wait for the page it leads to."""
    page.goto("/masuk")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Masuk", exact=True).click()
    expect(page.get_by_role("link", name="Akun saya", exact=True)).to_be_visible()
    return page


def sign_out(page: Page) -> Page:
    with page.expect_navigation():
        page.get_by_role("button", name="Keluar akun", exact=True).click()
    expect(page.get_by_role("link", name="Masuk", exact=True)).to_be_visible()
    return page


def wait_until_active(page: Page) -> None:
    """Wait until the page's service worker is installed and active. Through a flag rather than by awaiting
    `ready` in evaluate(), which has no time limit and would hang the run if the worker never installed.

    wait_for_function() is given functions, never bare expressions: Playwright re-checks an expression with
    eval() inside the page, which the app's Content-Security-Policy forbids."""
    page.evaluate("() => { navigator.serviceWorker.ready.then(() => { window.workerIsActive = true; }); }")
    page.wait_for_function("() => window.workerIsActive === true")


def wait_until_controlled(page: Page) -> None:
    """Wait for the worker to be active, then load the page again so that the worker serves it."""
    wait_until_active(page)
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
