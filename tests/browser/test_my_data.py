"""A parent on a 360 px phone downloads "Unduh data saya" from the account page and asks for a correction; the
pages pass axe, fit the screen and work with the keyboard."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_page_is_usable
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser


def test_a_parent_downloads_their_data_and_asks_for_a_correction(page: Page):
    sign_in(page, "orangtua")
    page.get_by_role("link", name="Akun saya", exact=True).click()
    expect(page.get_by_role("heading", name="Data saya", level=2)).to_be_visible()
    assert_page_is_usable(page)
    with page.expect_download() as download_info:
        page.locator("main").get_by_role("link", name="Unduh data saya").click()
    download = download_info.value
    assert download.suggested_filename == "data-saya.json"
    data = json.loads(open(download.path(), encoding="utf-8").read())
    assert data["account"]["username"] == "orangtua"

    page.get_by_role("link", name="Minta sesuatu tentang data saya").click()
    expect(page.get_by_role("heading", name="Data saya", level=1)).to_be_visible()
    assert_page_is_usable(page)
    page.get_by_label("Ceritakan dengan kata-kata sendiri").fill("Tahun lahir anak saya salah.")
    page.get_by_role("button", name="Kirim permintaan").click()
    expect(page.get_by_text("Pilih apa yang diminta.").first).to_be_visible()
    expect(page.get_by_label("Ceritakan dengan kata-kata sendiri")).to_have_value("Tahun lahir anak saya salah.")
    page.get_by_label("Membetulkan data saya").check()
    page.get_by_role("button", name="Kirim permintaan").click()
    expect(page).to_have_url(re.compile(r"/akun/permintaan-data\?pesan=terkirim$"))
    expect(page.get_by_text("Permintaan sudah diterima.")).to_be_visible()
    expect(page.get_by_text("Menunggu jawaban")).to_be_visible()
    assert_page_is_usable(page)


def test_a_supervisor_reads_the_records_and_answers_a_request_on_a_phone(page: Page):
    sign_in(page, "anak")
    page.goto("/akun/permintaan-data")
    page.get_by_label("Melihat data saya").check()
    page.get_by_label("Ceritakan dengan kata-kata sendiri").fill("Siapa saja yang membaca laporanku?")
    page.get_by_role("button", name="Kirim permintaan").click()
    expect(page.get_by_text("Permintaan sudah diterima.")).to_be_visible()
    page.context.clear_cookies()

    sign_in(page, "supervisor")
    page.goto("/admin")
    page.locator("main").get_by_role("link", name="Pelindungan data").click()
    expect(page.get_by_role("heading", name="Catatan pemrosesan data", level=1)).to_be_visible()
    assert_page_is_usable(page)
    page.get_by_role("navigation", name="Menu pelindungan data").get_by_role("link", name="Permintaan").click()
    expect(page.get_by_role("heading", name="Permintaan atas data", level=1)).to_be_visible()
    assert_page_is_usable(page)
    page.get_by_role("link", name="Melihat data saya").last.click()
    expect(page.get_by_text("Siapa saja yang membaca laporanku?")).to_be_visible()
    assert_page_is_usable(page)
    page.get_by_label("Dipenuhi", exact=True).check()
    page.get_by_label("Jawaban dan alasannya").fill("Hanya konselormu dan supervisor yang membacanya.")
    page.get_by_role("button", name="Simpan keputusan").click()
    expect(page.get_by_text("Keputusan sudah disimpan dan dikirim kepada orang yang meminta.")).to_be_visible()
