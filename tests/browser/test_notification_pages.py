"""The notification pages on a phone (Pixel 7): the in-app list, the device settings and the supervisors'
delivery page pass axe, fit the screen and work with the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_page_is_usable
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser


def test_a_parent_reads_the_list_and_the_device_settings_on_a_phone(page: Page):
    sign_in(page, "orangtua")
    page.get_by_role("link", name="Pemberitahuan", exact=True).click()
    expect(page.get_by_role("heading", name="Pemberitahuan", level=1)).to_be_visible()
    assert_page_is_usable(page)
    page.get_by_role("link", name="Pengaturan pemberitahuan").click()
    expect(page.get_by_role("heading", name="Pengaturan pemberitahuan", level=1)).to_be_visible()
    # The card tells this phone's state once push.js has looked (headless Chromium: push is possible, off).
    expect(page.get_by_role("button", name="Nyalakan pemberitahuan")).to_be_visible()
    assert_page_is_usable(page)


def test_a_supervisor_reads_how_delivery_goes_on_a_phone(page: Page):
    sign_in(page, "supervisor")
    page.goto("/admin")
    page.locator("main").get_by_role("link", name="Pemberitahuan").first.click()
    expect(page).to_have_url(re.compile(r"/admin/pemberitahuan$"))
    expect(page.get_by_role("heading", name="Pemberitahuan", level=1)).to_be_visible()
    expect(page.get_by_text("Perangkat terdaftar")).to_be_visible()
    assert_page_is_usable(page)
