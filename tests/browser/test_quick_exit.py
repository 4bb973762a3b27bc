"""Quick exit whatever the network does: the sign-out's answer late (after the page has gone) or lost, and the
page's own clearing proven without the server's Clear-Site-Data. The child's safety property: after *Keluar
cepat*, Back (and Back again) never shows any page of the app, and nothing the app stored stays on the phone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, BrowserType, Page, Route, expect

from server.accounts.auth import SESSION_COOKIE
from server.app import CSRF_COOKIE
from tests.browser.test_reports import stored_offline
from tests.browser.test_shell import store_something_everywhere, what_is_stored
from tests.support.browser import NEUTRAL_PAGE, NEUTRAL_URL, sign_in, wait_until_controlled

pytestmark = pytest.mark.browser

SIGN_OUT = "**/keluar-cepat"

# In every document of the app, at every frame it would paint: is the page visible? Quick exit hides the page
# (the class `quick-exiting`) before it leaves; a page of the app painted without it is a page Back showed. A
# page restored from the back/forward cache is not a new document, so the check also runs on each pageshow.
_WATCH_FOR_THE_APP = """(() => {
  if (location.origin !== %(origin)s) return;
  const check = () => requestAnimationFrame(() => {
    if (document.body && !document.documentElement.classList.contains("quick-exiting")) {
      window.appPageShown(location.pathname);
    }
  });
  check();
  addEventListener("pageshow", check);
})();"""


def watch_for_the_app(context: BrowserContext, base_url: str) -> list[str]:
    """The paths of the app's pages painted visibly in this context from now on (clear it to start counting)."""
    shown: list[str] = []
    context.expose_binding("appPageShown", lambda _source, path: shown.append(path))
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
    context.add_init_script(_WATCH_FOR_THE_APP % {"origin": repr(origin)})
    return shown


def cookies_named(context: BrowserContext, name: str) -> list[dict]:
    return [cookie for cookie in context.cookies() if cookie["name"].endswith(name)]


def session_cookies(context: BrowserContext) -> list[dict]:
    return cookies_named(context, SESSION_COOKIE)


def wait_until_gone(page: Page, context: BrowserContext, name: str) -> None:
    """Until the phone no longer holds the cookie `name`: the sign-out's answer (Set-Cookie and Clear-Site-Data)
    has reached the browser."""
    for _attempt in range(100):
        if not cookies_named(context, name):
            return
        page.wait_for_timeout(50)  # polling interval while the answer travels, not a fixed wait
    raise AssertionError(f"the phone still holds {cookies_named(context, name)}")


def wait_until_signed_out_here(page: Page, context: BrowserContext) -> None:
    wait_until_gone(page, context, SESSION_COOKIE)


def sign_in_and_use_the_app(page: Page) -> None:
    """A child signed in, three pages of the app in this tab's history, something stored in every kind of
    storage; the last page is where she presses *Keluar cepat*."""
    sign_in(page, "anak")
    page.goto("/konseling")
    page.goto("/akun")
    expect(page.get_by_role("link", name="Akun saya", exact=True)).to_be_visible()
    assert session_cookies(page.context)
    store_something_everywhere(page)


def quick_exit(page: Page, neutral_site: str) -> None:
    page.get_by_role("link", name="Keluar cepat", exact=True).click()
    page.wait_for_url(neutral_site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Cuaca hari ini")


def back_stays_on_the_neutral_site(page: Page, neutral_site: str) -> None:
    # Until the entry is there, not its load: a page restored from the back/forward cache fires no load event.
    page.go_back(wait_until="commit")
    page.wait_for_url(neutral_site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Cuaca hari ini")


def back_twice_stays_on_the_neutral_site(page: Page, neutral_site: str, shown: list[str]) -> None:
    for _press in range(2):
        back_stays_on_the_neutral_site(page, neutral_site)
    assert shown == []


def nothing_is_left(page: Page) -> None:
    """A deliberate visit afterwards: signed out, and nothing the app stored is still there."""
    page.goto("/akun")
    expect(page).to_have_url("/masuk?lanjut=/akun")
    stored = what_is_stored(page)
    assert stored["local"] is None
    assert stored["session"] is None
    assert "cache-uji" not in stored["caches"]
    assert "db-uji" not in stored["databases"]


def test_back_never_shows_the_app_when_the_sign_out_answers_after_the_page_has_gone(
    page: Page, context: BrowserContext, neutral_site: str, live_server: str
):
    """The answer, with its Clear-Site-Data, arrives once the page has left for the neutral site (a slow
    connection): it must not undo what keeps Back from showing the app."""
    shown = watch_for_the_app(context, live_server)
    held: list[Route] = []
    context.route(SIGN_OUT, lambda route: held.append(route))
    sign_in_and_use_the_app(page)

    quick_exit(page, neutral_site)
    assert len(held) == 1
    # Only now does the sign-out reach the server and its answer come back.
    held[0].continue_()
    wait_until_signed_out_here(page, context)

    shown.clear()
    back_twice_stays_on_the_neutral_site(page, neutral_site, shown)
    nothing_is_left(page)


@pytest.mark.parametrize("when", ["at once", "after the page has gone"])
def test_back_never_shows_the_app_and_the_session_ends_when_the_sign_out_is_lost(
    page: Page, context: BrowserContext, neutral_site: str, live_server: str, when: str
):
    """The sign-out never reaches the server (no signal, a dropped connection): Back still leaves at once, and
    the page Back reached sends the sign-out again, so the session the phone still holds ends when the signal
    is back."""
    shown = watch_for_the_app(context, live_server)
    held: list[Route] = []
    drop: Callable[[Route], None] = (lambda route: route.abort("internetdisconnected")) if when == "at once" \
        else (lambda route: held.append(route))
    context.route(SIGN_OUT, drop, times=1)
    sign_in_and_use_the_app(page)

    quick_exit(page, neutral_site)
    for route in held:
        route.abort("connectionreset")
    assert session_cookies(context), "the sign-out was lost, so the phone still holds its session"

    shown.clear()
    back_twice_stays_on_the_neutral_site(page, neutral_site, shown)
    wait_until_signed_out_here(page, context)
    nothing_is_left(page)


def test_a_lost_sign_out_ends_the_session_at_the_next_visit_in_any_tab(
    page: Page, context: BrowserContext, neutral_site: str
):
    """The sign-out never reached the server and nobody presses Back: whoever opens the app next on this phone,
    in this tab or another, finds it signed out, not the child's account."""
    context.route(SIGN_OUT, lambda route: route.abort("internetdisconnected"), times=1)
    sign_in_and_use_the_app(page)
    quick_exit(page, neutral_site)
    assert session_cookies(context), "the sign-out was lost, so the phone still holds its session"

    other_tab = context.new_page()
    other_tab.goto("/akun")
    expect(other_tab).to_have_url("/masuk?lanjut=/akun")
    expect(other_tab.get_by_role("link", name="Akun saya", exact=True)).to_have_count(0)
    assert session_cookies(context) == []
    nothing_is_left(page)


@pytest.mark.parametrize("listing", ["indexedDB.databases", "by name only"])
def test_quick_exit_deletes_the_offline_queue_itself_whatever_the_server_answers(
    page: Page, context: BrowserContext, neutral_site: str, listing: str
):
    """Online, and the server's answer carries no Clear-Site-Data: the report the child wrote without a signal is
    deleted by the page itself, not by the server (with and without indexedDB.databases, which some browsers
    lack)."""
    context.route(SIGN_OUT, lambda route: route.fulfill(status=204))
    page.goto("/lapor")
    wait_until_controlled(page)
    words = "Aku takut pulang ke rumah. rahasia-antrean"
    page.evaluate("""(words) => BintangQueue.save({key: "uji-keluar-cepat", action: "/lapor", savedAt: Date.now(),
                                                   body: new URLSearchParams({child_words: words}).toString()})""",
                  words)
    assert "rahasia-antrean" in stored_offline(page)
    if listing == "by name only":
        page.evaluate("() => { delete IDBFactory.prototype.databases; }")
        assert page.evaluate("() => typeof indexedDB.databases") == "undefined"

    quick_exit(page, neutral_site)

    page.goto("/")
    names = page.evaluate("async () => (await indexedDB.databases()).map((database) => database.name)")
    # Opening the app may make the queue's database again, empty.
    assert "bintang-ceria" not in names or "rahasia-antrean" not in stored_offline(page)
    assert page.evaluate("() => BintangQueue.pending()") == []


@pytest.fixture
def phone_with_back_forward_cache(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any], browser_context_args: dict[str, Any]
) -> Iterator[Page]:
    """A phone's Chromium keeps pages it leaves in the back/forward cache; Playwright turns that off unless told
    not to."""
    browser = browser_type.launch(**browser_type_launch_args, ignore_default_args=["--disable-back-forward-cache"])
    context = browser.new_context(**browser_context_args)
    context.route(NEUTRAL_URL, lambda route: route.fulfill(status=200, content_type="text/html", body=NEUTRAL_PAGE))
    try:
        yield context.new_page()
    finally:
        context.close()
        browser.close()


def test_back_never_shows_a_page_from_the_back_forward_cache_nor_one_loaded_after_a_late_answer(
    phone_with_back_forward_cache: Page, live_server: str
):
    """On a phone Back restores a public page from the back/forward cache, without loading it: it leaves as it is
    shown again (pageshow). The sign-out's answers (quick exit's, and the one the restored page sent again)
    arrive only between the first Back and the second: the next page Back reaches leaves as well."""
    page, context = phone_with_back_forward_cache, phone_with_back_forward_cache.context
    shown = watch_for_the_app(context, live_server)
    restored: list[str] = []
    context.expose_binding("appPageRestored", lambda _source, path: restored.append(path))
    context.add_init_script(
        "addEventListener('pageshow', (event) => { if (event.persisted) window.appPageRestored(location.pathname); });"
    )
    held: list[Route] = []
    context.route(SIGN_OUT, lambda route: held.append(route))
    page.goto("/")
    page.goto("/lapor")
    page.goto("/cek")
    store_something_everywhere(page)
    assert cookies_named(context, CSRF_COOKIE)

    quick_exit(page, NEUTRAL_URL)
    shown.clear()
    back_stays_on_the_neutral_site(page, NEUTRAL_URL)
    # Chromium may decline to keep a page (it evicts under memory pressure, as on a loaded CI machine): then Back
    # loads it anew, which must leave the same way. Either way the page sent the sign-out again as it left.
    assert restored in ([], ["/lapor"])
    assert len(held) == 2
    for route in held:
        route.continue_()
    wait_until_gone(page, context, CSRF_COOKIE)

    back_stays_on_the_neutral_site(page, NEUTRAL_URL)
    assert shown == []
    nothing_is_left(page)
