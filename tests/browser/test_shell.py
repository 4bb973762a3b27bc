"""The app shell on a phone: accessible pages that fit the screen, quick exit, the service worker, offline,
installability, and signing in and out."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import Session

from server import service_info
from server.db import make_engine
from tests.servers import free_port
from tests.support.browser import demo_database, serve, sign_in, sign_out, wait_until_active, wait_until_controlled

pytestmark = pytest.mark.browser

PUBLIC_PAGES = ["/", "/masuk", "/offline"]


def assert_no_axe_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def store_something_everywhere(page: Page) -> None:
    page.evaluate(
        """async () => {
          localStorage.setItem("catatan", "rahasia");
          sessionStorage.setItem("catatan", "rahasia");
          const cache = await caches.open("cache-uji");
          await cache.put("/catatan", new Response("rahasia"));
          await new Promise((resolve, reject) => {
            const request = indexedDB.open("db-uji", 1);
            request.onupgradeneeded = () => request.result.createObjectStore("catatan");
            request.onsuccess = () => { request.result.close(); resolve(); };
            request.onerror = () => reject(request.error);
          });
        }"""
    )


def what_is_stored(page: Page) -> dict[str, object]:
    return page.evaluate(
        """async () => ({
          local: localStorage.getItem("catatan"),
          session: sessionStorage.getItem("catatan"),
          caches: await caches.keys(),
          databases: (await indexedDB.databases()).map((database) => database.name),
        })"""
    )


# --- pages -------------------------------------------------------------------------------------------------


def test_it_shows_the_home_page_with_quick_exit_and_emergency_numbers_without_script_errors(page: Page):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kamu tidak sendiri")
    expect(page.get_by_role("link", name="Keluar cepat", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="112", exact=True).first).to_be_visible()
    wait_until_active(page)
    assert errors == []


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_it_has_no_accessibility_violations(page: Page, path: str):
    page.goto(path)
    assert_no_axe_violations(page)


def test_the_account_page_has_no_accessibility_violations(page: Page):
    sign_in(page, "orangtua")
    page.goto("/akun")
    assert_no_axe_violations(page)


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, "/akun"])
def test_nothing_is_wider_than_a_small_phone(page: Page, path: str):
    page.set_viewport_size({"width": 360, "height": 640})
    if path == "/akun":
        sign_in(page, "supervisor")
    page.goto(path)
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], widths


def test_it_signs_in_and_out_through_the_form(page: Page):
    sign_in(page, "konselor")
    page.goto("/akun")
    expect(page.get_by_text("Konselor Rina")).to_be_visible()
    sign_out(page)
    page.goto("/akun")
    expect(page).to_have_url("/masuk?lanjut=/akun")


# --- quick exit --------------------------------------------------------------------------------------------


def test_quick_exit_by_the_button_leaves_for_the_neutral_site_and_back_does_not_return(
    page: Page, neutral_site: str
):
    page.goto("/")
    page.goto("/masuk")
    page.get_by_role("link", name="Keluar cepat", exact=True).click()
    page.wait_for_url(neutral_site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Cuaca hari ini")

    page.go_back()
    page.wait_for_url(neutral_site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Cuaca hari ini")


def test_quick_exit_by_pressing_shift_three_times(page: Page, neutral_site: str):
    page.goto("/")
    page.goto("/masuk")
    page.get_by_label("Nama pengguna").focus()
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(neutral_site)
    page.go_back()
    page.wait_for_url(neutral_site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Cuaca hari ini")


def test_typing_between_the_shift_presses_is_not_a_quick_exit(page: Page, neutral_site: str):
    page.goto("/masuk")
    page.get_by_label("Nama pengguna").focus()
    for key in ("Shift", "Shift", "Shift+A", "Shift", "a"):
        page.keyboard.press(key)
    expect(page.locator("html")).not_to_contain_class("quick-exiting")
    expect(page).to_have_url("/masuk")
    expect(page.get_by_label("Nama pengguna")).to_have_value("Aa")


def test_quick_exit_signs_out_and_clears_what_the_app_stored(page: Page, neutral_site: str):
    sign_in(page, "anak")
    store_something_everywhere(page)
    page.get_by_role("link", name="Keluar cepat", exact=True).click()
    page.wait_for_url(neutral_site)

    # Typing the address again is a deliberate visit: the site works, signed out, with nothing left behind.
    page.goto("/akun")
    expect(page).to_have_url("/masuk?lanjut=/akun")
    stored = what_is_stored(page)
    assert stored["local"] is None
    assert stored["session"] is None
    assert "cache-uji" not in stored["caches"]
    assert "db-uji" not in stored["databases"]


# --- service worker and offline ----------------------------------------------------------------------------


def test_the_service_worker_controls_the_page_after_a_reload(page: Page):
    page.goto("/")
    wait_until_controlled(page)
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")


def test_offline_a_page_not_visited_yet_shows_the_offline_page(page: Page, context: BrowserContext):
    page.goto("/")
    wait_until_controlled(page)
    context.set_offline(True)
    page.goto("/masuk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tidak ada sambungan internet")
    expect(page.get_by_role("link", name="112", exact=True).first).to_be_visible()
    expect(page.get_by_role("link", name="Keluar cepat", exact=True)).to_be_visible()


def test_offline_a_public_page_already_visited_is_still_shown(page: Page, context: BrowserContext):
    page.goto("/")
    wait_until_controlled(page)
    context.set_offline(True)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kamu tidak sendiri")


def test_a_signed_in_page_is_never_kept_on_the_phone(page: Page, context: BrowserContext):
    page.goto("/")
    wait_until_controlled(page)
    sign_in(page, "guru")
    page.goto("/akun")
    expect(page.get_by_text("Guru BK Sari")).to_be_visible()
    kept = page.evaluate(
        """async () => {
          const urls = [];
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
          }
          return urls;
        }"""
    )
    assert kept, kept
    assert not [url for url in kept if "/akun" in url], kept

    context.set_offline(True)
    page.goto("/akun")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tidak ada sambungan internet")
    expect(page.get_by_text("Guru BK Sari")).to_have_count(0)


# --- install -----------------------------------------------------------------------------------------------


def test_the_manifest_has_everything_installing_needs(page: Page, context: BrowserContext):
    page.goto("/")
    wait_until_controlled(page)
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest["errors"] == []
    # Test browsers run in an incognito-like profile, where no browser offers to install anything.
    errors = [error["errorId"] for error in cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]]
    assert set(errors) <= {"in-incognito"}, errors
    icons = page.evaluate(
        """async () => {
          const manifest = await (await fetch("/manifest.webmanifest")).json();
          const sizes = await Promise.all(manifest.icons.map(async (icon) => {
            const image = new Image();
            image.src = icon.src;
            await image.decode();
            return [icon.purpose, image.naturalWidth, icon.sizes];
          }));
          return sizes;
        }"""
    )
    assert icons == [["any", 192, "192x192"], ["any", 512, "512x512"], ["maskable", 512, "512x512"]]


# --- updates -----------------------------------------------------------------------------------------------


def test_a_new_version_waits_until_the_person_chooses_to_update(
    browser: Browser, browser_context_args: dict[str, Any], tmp_path: Path
):
    """The worker's version follows the emergency numbers, so changing one is a new release for the phone."""
    database_url = demo_database(tmp_path)
    port = free_port()
    with browser.new_context(**{**browser_context_args, "base_url": f"http://127.0.0.1:{port}"}) as context:
        page = context.new_page()
        with serve(database_url, tmp_path, port):
            page.goto("/")
            wait_until_controlled(page)
            old_caches = page.evaluate("caches.keys()")

        engine = make_engine(database_url)
        with Session(engine) as session:
            service_info.save(session, replace(service_info.load(session), city_hotline="0511-4772000"))
            session.commit()
        engine.dispose()

        with serve(database_url, tmp_path, port):
            banner = page.locator("#update-banner")
            expect(banner).to_be_hidden()
            page.evaluate("navigator.serviceWorker.getRegistration().then((found) => found.update())")
            expect(banner).to_be_visible()
            # Until the person agrees, the new worker waits and the old one stays in charge, caches and all.
            assert page.evaluate("navigator.serviceWorker.getRegistration().then((found) => found.waiting !== null)")
            assert set(old_caches) <= set(page.evaluate("caches.keys()"))
            expect(page.get_by_role("link", name="0511-4772000", exact=True)).to_have_count(0)
            with page.expect_navigation():
                banner.get_by_role("button", name="Muat ulang", exact=True).click()
            expect(page.get_by_role("link", name="0511-4772000", exact=True).first).to_be_visible()
            expect(banner).to_be_hidden()
            # "activated" comes only after the worker's activate step, which deletes the old version's caches.
            page.wait_for_function("() => navigator.serviceWorker.controller?.state === 'activated'")
            assert not set(old_caches) & set(page.evaluate("caches.keys()"))


def test_quick_exit_without_a_connection_still_clears_the_phone_and_back_does_not_return(
    page: Page, context: BrowserContext, neutral_site: str
):
    """Without a connection the server cannot answer with Clear-Site-Data: the page clears on its own."""
    page.goto("/")
    wait_until_controlled(page)
    page.goto("/masuk")
    store_something_everywhere(page)
    context.set_offline(True)
    page.get_by_role("link", name="Keluar cepat", exact=True).click()
    page.wait_for_url(neutral_site)

    context.set_offline(False)
    page.go_back()
    page.wait_for_url(neutral_site)
    page.goto("/")
    stored = what_is_stored(page)
    assert stored["local"] is None
    assert stored["session"] is None
    assert "cache-uji" not in stored["caches"]
    assert "db-uji" not in stored["databases"]
