"""The first supervisor's one-time link on a 360 px phone: link → password → two-factor sign-in → signed in, each
page passing axe, the screen's width and the keyboard; the spent link then says so in plain Indonesian."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from server.accounts import service
from server.db import make_engine
from tests.browser.helpers import assert_page_is_usable


@pytest.fixture
def small_phone(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    """A 360×640 phone, the smallest screen the service is built for."""
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 360, "height": 640},
                                     "screen": {"width": 360, "height": 640}})
    try:
        yield context.new_page()
    finally:
        context.close()


def setup_link(database_url: str, username: str) -> str:
    engine = make_engine(database_url)
    with Session(engine) as session:
        _user, token, _created = service.make_setup_link(session, username=username)
        session.commit()
    engine.dispose()
    return f"{service.SETUP_LINK_PATH}?t={token}"


def test_the_first_supervisor_sets_a_password_and_two_factor_and_is_signed_in(small_phone: Page,
                                                                                 live_database: str):
    page = small_phone
    link = setup_link(live_database, "kepala.layanan")
    page.goto(link)
    expect(page.get_by_role("heading", name="Siapkan akun supervisor")).to_be_visible()
    expect(page.get_by_text("Nama pengguna Anda: kepala.layanan.")).to_be_visible()
    assert_page_is_usable(page)
    page.get_by_label("Kata sandi baru", exact=True).fill("bintang-terang-di-banjarbaru")
    page.get_by_label("Ulangi kata sandi baru", exact=True).fill("bintang-terang-di-banjarbaru")
    secret = page.locator("[data-secret]").inner_text().replace(" ", "")
    page.get_by_label("Kode 6 angka").fill(pyotp.TOTP(secret).at(datetime.now(UTC)))
    with page.expect_navigation():
        page.get_by_role("button", name="Simpan dan masuk").click()
    expect(page.get_by_text("Akun Anda sudah siap: kata sandi tersimpan dan Anda sudah masuk.")).to_be_visible()
    expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
    assert_page_is_usable(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Saya sudah menyimpan kode cadangan").click()
    expect(page.get_by_role("link", name="Akun saya", exact=True)).to_be_visible()
    response = page.goto(link)
    assert response is not None
    assert response.status == 410
    expect(page.get_by_text("Tautan ini sudah dipakai atau sudah lewat 24 jam, jadi tidak bisa dipakai lagi.")) \
        .to_be_visible()
    assert_page_is_usable(page)
