"""Helpers for the two-factor tests: the moment they run at (tests/accounts/conftest.py `clock`), enrolling an
account, and the two steps of signing in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp

from server.accounts.demo import DEMO_PASSWORD
from tests.support.web import post_form

START = datetime(2026, 12, 2, 1, 0, 10, tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def secret_on(page: str) -> str:
    match = re.search(r'name="secret" value="([A-Z2-7]+)"', page)
    assert match, "no secret on the enrolment page"
    return match.group(1)


def enrol(client) -> tuple[str, list[str]]:
    """Enrol the signed-in client's account; returns the secret and the recovery codes shown."""
    secret = secret_on(client.get("/akun/dua-langkah").text)
    response = post_form(client, "/akun/dua-langkah", {"secret": secret, "code": pyotp.TOTP(secret).at(now())},
                         token_from="/akun")
    assert response.status_code == 200, response.text
    codes = re.findall(r"<li>([A-Z0-9]{5}-[A-Z0-9]{5})</li>", response.text)
    return secret, codes


def password_step(client, username: str = "konselor", lanjut: str = ""):
    return post_form(client, "/masuk", {"username": username, "password": DEMO_PASSWORD, "lanjut": lanjut},
                     follow_redirects=False)


def code_step(client, code: str):
    return post_form(client, "/masuk/kode", {"code": code}, follow_redirects=False)
