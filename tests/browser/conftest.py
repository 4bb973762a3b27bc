"""Browser tests: the real app, served by uvicorn on a fresh demo database, driven by Debian's Chromium as a
Pixel 7. Every browser suite uses these: `live_server` (the base URL), `live_database` (the URL of the database
it serves), `neutral_site` (where quick exit goes, answered locally because the network is closed), `other_phone`
(a second phone), and from tests/support/browser.py `sign_in(page, username)`, `sign_out(page)` and
`wait_until_controlled(page)` (the service worker serves the page). Every page opens on a 360 × 640 phone (the
smallest screen the service is built for) and is checked for fit after each load and htmx swap (`fit_watch`,
tests/browser/fit.py); a test fails at its end if any page did not fit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from tests.browser.fit import FIT_CHECK, FIT_WATCH
from tests.servers import free_port
from tests.support.browser import (
    NEUTRAL_PAGE,
    NEUTRAL_URL,
    demo_database,
    serve,
)


@pytest.fixture(scope="session")
def live_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="session")
def live_database(live_directory: Path) -> str:
    """The URL of the database `live_server` serves, for tests that check what reached the server."""
    return demo_database(live_directory)


@pytest.fixture(scope="session")
def live_server(live_directory: Path, live_database: str) -> Iterator[str]:
    with serve(live_database, live_directory, free_port()) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


@pytest.fixture(scope="session")
def browser_context_args(
    browser_context_args: dict[str, Any], playwright: Playwright, live_server: str
) -> dict[str, Any]:
    # A Pixel 7 (touch, its user agent and pixel density) with the smallest screen the service is built for.
    return {**browser_context_args, **playwright.devices["Pixel 7"], "viewport": {"width": 360, "height": 640},
            "base_url": live_server}


@pytest.fixture(autouse=True)
def fit_violations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every browser context a test opens (the `page` fixture's and any `browser.new_context()`) checks each page
    it loads, and each htmx swap, for fit (tests/browser/fit.py); what the pages report, and what the pages still
    open show when their context closes, is collected here and fails the test at its end. A test that shows the
    check a page that does not fit on purpose empties the list itself."""
    found: list[dict[str, Any]] = []
    original_new_context = Browser.new_context

    def watched_new_context(browser: Browser, *args: Any, **kwargs: Any) -> BrowserContext:
        context = original_new_context(browser, *args, **kwargs)
        context.expose_binding("__bcFitReport", lambda _source, report: found.append(report))
        context.add_init_script(script=FIT_WATCH)
        close = context.close

        def check_then_close(*close_args: Any, **close_kwargs: Any) -> None:
            # What the last page shows now, after whatever the test did without loading a page.
            for page in context.pages:
                try:
                    remaining = page.evaluate(f"() => (window.__bcFitCheck || ({FIT_CHECK}))()")
                except Exception:  # noqa: BLE001 - a page that is gone or mid-navigation has nothing to show
                    continue
                if remaining:
                    found.append({"url": page.url, "when": "end of test", "found": remaining})
            close(*close_args, **close_kwargs)

        context.close = check_then_close  # type: ignore[method-assign]
        return context

    monkeypatch.setattr(Browser, "new_context", watched_new_context)
    yield found
    assert not found, "pages that do not fit a 360 px phone:\n" + "\n".join(
        f"{report['url']} ({report['when']}): {problem}" for report in found for problem in report["found"])


@pytest.fixture
def other_phone(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    """A second Pixel 7 with its own cookies and storage: another person's phone."""
    context = browser.new_context(**browser_context_args)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def neutral_site(context: BrowserContext) -> str:
    """The neutral site quick exit goes to, answered by the test; returns its URL."""
    context.route(
        NEUTRAL_URL, lambda route: route.fulfill(status=200, content_type="text/html", body=NEUTRAL_PAGE)
    )
    return NEUTRAL_URL
