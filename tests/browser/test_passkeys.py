"""Passkeys on a 360 px phone, with Chromium's virtual authenticator (CDP WebAuthn domain: ctap2, internal, a
resident key, user verification): a counselor with two-factor sign-in registers a passkey on "Verifikasi dua
langkah" (password and a recovery code first), signs out, and passes the code step with "Gunakan passkey". Every
page passes axe and fits the screen. WebAuthn wants a secure context and a domain as relying party id, so the
phone visits the live server as http://localhost (a secure context; 127.0.0.1 cannot be a relying party id)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlmodel import Session

from server import clock
from server.accounts import auth, two_factor
from server.accounts.models import Passkey, Role, User
from server.db import make_engine
from server.models import AuditEntry
from tests.browser.helpers import assert_page_is_usable

PASSWORD = "bintang-passkey-banjarbaru"


@pytest.fixture
def phone_on_localhost(browser: Browser, browser_context_args: dict[str, Any], live_server: str) -> Iterator[Page]:
    base = live_server.replace("127.0.0.1", "localhost")
    context = browser.new_context(**{**browser_context_args, "base_url": base,
                                     "viewport": {"width": 360, "height": 640},
                                     "screen": {"width": 360, "height": 640}})
    try:
        yield context.new_page()
    finally:
        context.close()


def counselor_with_two_factor(database_url: str, username: str) -> list[str]:
    """A counselor whose two-factor sign-in is on; returns the recovery codes."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        user = User(username=username, display_name="Konselor Passkey", role=Role.COUNSELOR,
                    password_hash=auth.hash_password(PASSWORD))
        session.add(user)
        session.flush()
        codes = two_factor.enable(session, user, two_factor.new_secret(), 0, clock.now())
        session.commit()
    engine.dispose()
    return codes


def stored(database_url: str, username: str) -> tuple[list[Passkey], list[str]]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        keys = list(session.execute(select(Passkey).where(Passkey.user_id == user.id)).scalars())
        actions = list(session.execute(select(AuditEntry.action).where(AuditEntry.actor_id == user.id)
                                       .order_by(AuditEntry.id)).scalars())
    engine.dispose()
    return keys, actions


def password_step(page: Page, username: str) -> None:
    page.goto("/masuk")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Masuk", exact=True).click()
    expect(page.get_by_role("heading", name="Masukkan kode")).to_be_visible()


def test_a_counselor_registers_a_passkey_and_signs_in_with_it(phone_on_localhost: Page, live_database: str):
    page = phone_on_localhost
    username = "konselor.passkey"
    codes = counselor_with_two_factor(live_database, username)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True}})["authenticatorId"]

    # Signed in with a recovery code (no passkey yet: the code step offers none).
    password_step(page, username)
    expect(page.get_by_role("button", name="Gunakan passkey")).to_have_count(0)
    page.get_by_label("Kode", exact=True).fill(codes[0])
    with page.expect_navigation():
        page.get_by_role("button", name="Masuk", exact=True).click()

    page.goto("/akun/dua-langkah")
    expect(page.get_by_role("heading", name="Passkey")).to_be_visible()
    expect(page.get_by_role("button", name="Daftarkan passkey")).to_be_visible()
    assert_page_is_usable(page)
    page.get_by_label("Nama passkey").fill("Ponsel kantor")
    page.locator("#field-passkey-password").fill(PASSWORD)
    page.locator("#field-passkey-code").fill(codes[1])
    with page.expect_navigation(url="**/akun/dua-langkah?passkey=1"):
        page.get_by_role("button", name="Daftarkan passkey").click()
    expect(page.get_by_text("Passkey sudah didaftarkan.")).to_be_visible()
    expect(page.locator("[data-passkey]")).to_have_text("Ponsel kantor")
    assert_page_is_usable(page)
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert credential["isResidentCredential"] is True

    with page.expect_navigation():
        page.get_by_role("button", name="Keluar akun", exact=True).click()
    password_step(page, username)
    use = page.get_by_role("button", name="Gunakan passkey")
    expect(use).to_be_visible()
    assert_page_is_usable(page)
    with page.expect_navigation():
        use.click()
    expect(page.get_by_role("link", name="Akun saya", exact=True)).to_be_visible()
    assert_page_is_usable(page)

    keys, actions = stored(live_database, username)
    [key] = keys
    used = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"][0]
    assert key.name == "Ponsel kantor"
    assert key.last_used_at is not None
    assert key.sign_count == used["signCount"]
    assert "account.passkey_added" in actions
    assert "account.passkey_used" in actions
    assert actions[-1] == "signin.succeeded"
