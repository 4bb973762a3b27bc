"""The supervisor's "Kesehatan layanan" on a 360 px phone: green while the app's dispatcher runs, and red, with the
banner on every supervisor page, in a service whose dispatcher is off and no worker runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from tests.browser.helpers import assert_page_is_usable
from tests.servers import app_process, free_port
from tests.support.browser import demo_database, sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 640}


def test_a_supervisor_reads_that_all_is_well_on_a_small_phone(page: Page):
    page.set_viewport_size(PHONE)
    sign_in(page, "supervisor")
    page.goto("/admin")
    page.locator("main").get_by_role("link", name="Kesehatan layanan").first.click()
    expect(page).to_have_url(re.compile(r"/admin/kesehatan$"))
    expect(page.get_by_role("heading", name="Kesehatan layanan", level=1)).to_be_visible()
    expect(page.get_by_text("Semua pemeriksaan baik. Layanan berjalan seperti seharusnya.")).to_be_visible()
    expect(page.locator("[data-dispatcher]")).to_have_text(re.compile(r"^Berjalan: terakhir aktif "))
    assert_page_is_usable(page)


def test_a_stopped_dispatcher_shows_red_on_every_supervisor_page(browser: Browser, playwright: Playwright,
                                                                 tmp_path: Path):
    database = demo_database(tmp_path)
    with app_process(database, tmp_path, port=free_port(), DISPATCHER="off") as base_url:
        context = browser.new_context(**{**playwright.devices["Pixel 7"], "viewport": PHONE}, base_url=base_url)
        try:
            page = context.new_page()
            sign_in(page, "supervisor")
            page.goto("/admin")
            banner = page.get_by_role("link", name="Layanan bermasalah: Pengirim pemberitahuan. Lihat Kesehatan layanan.")
            expect(banner).to_be_visible()
            assert_page_is_usable(page)
            banner.click()
            expect(page.get_by_role("heading", name="Kesehatan layanan", level=1)).to_be_visible()
            expect(page.get_by_text("Ada yang perlu segera ditangani", exact=False)).to_be_visible()
            expect(page.get_by_role("row", name=re.compile("Pengirim pemberitahuan Bermasalah"))).to_be_visible()
            assert_page_is_usable(page)
        finally:
            context.close()
