"""/statistik on a phone: the page passes axe, fits the screen, works with the keyboard, its charts raise no
CSP violation, and a filter swaps the numbers in place."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.helpers import assert_page_is_usable

pytestmark = pytest.mark.browser


def test_a_supervisor_reads_the_statistics_on_a_phone(page: Page):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.set_viewport_size({"width": 360, "height": 640})  # the smallest screen the service is built for
    sign_in(page, "supervisor")
    page.get_by_role("link", name="Statistik", exact=True).click()
    expect(page.get_by_role("heading", name="Statistik", level=1)).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    assert_page_is_usable(page)
    page.get_by_label("Bulan", exact=True).select_option("3")
    expect(page).to_have_url(re.compile(r"bulan=3"))
    expect(page.locator("#stats-results h2")).to_contain_text("Maret")
    page.get_by_role("link", name="Ekspor kasus").click()
    expect(page.get_by_role("heading", name="Ekspor kasus", level=1)).to_be_visible()
    assert_page_is_usable(page)
    assert errors == []
