"""Settings that must not be mistyped into weaker ones, and what COOKIE_SECURE=1 promises the browser: HTTPS only
(HSTS) and cookies that carry the __Host- prefix, so no other site or plain-HTTP page can plant or read them."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.settings import SettingsError, from_env
from tests.support.reports import report_fields
from tests.support.web import post_form

STRONG_KEY = "k" * 48


@pytest.mark.parametrize("value", ["Production", "prod", "PRODUCTION", "production ", "staging", ""])
def test_an_unknown_bintang_env_is_refused_not_taken_for_development(value):
    with pytest.raises(SettingsError, match="BINTANG_ENV"):
        from_env({"BINTANG_ENV": value, "SECRET_KEY": STRONG_KEY, "COOKIE_SECURE": "1"})


def test_the_two_known_environments_are_accepted():
    assert from_env({"BINTANG_ENV": "development"}).env == "development"
    assert from_env({"BINTANG_ENV": "production", "SECRET_KEY": STRONG_KEY, "COOKIE_SECURE": "1",
                     "VAPID_PRIVATE_KEY": "a-key"}).is_production


@pytest.fixture
def secure_client(settings):
    app = create_app(replace(settings, cookie_secure=True))
    with TestClient(app=app, base_url="https://127.0.0.1:8000") as client:
        yield client


def test_with_secure_cookies_every_response_asks_for_https_only(secure_client):
    for path in ("/", "/masuk", "/lapor", "/tidak-ada"):
        assert secure_client.get(path).headers["strict-transport-security"] == "max-age=31536000", path


def test_without_secure_cookies_no_hsts_is_sent(client):
    assert "strict-transport-security" not in client.get("/").headers


def test_with_secure_cookies_the_session_and_csrf_cookies_carry_the_host_prefix_and_work(secure_client):
    page = secure_client.get("/masuk")
    csrf = page.headers["set-cookie"]
    assert csrf.startswith("__Host-bc_csrf=")
    assert "Secure" in csrf
    assert "Path=/" in csrf
    assert "Domain" not in csrf
    signed_in = post_form(secure_client, "/masuk", {"username": "konselor", "password": "ceria-demo-2026"},
                          follow_redirects=False)
    assert signed_in.status_code == 303
    session = signed_in.headers["set-cookie"]
    assert session.startswith("__Host-bc_session=")
    assert "Secure" in session
    assert "Path=/" in session
    assert secure_client.get("/kasus").status_code == 200  # the middleware reads the prefixed cookie
    out = post_form(secure_client, "/keluar-akun", {}, token_from="/", follow_redirects=False)
    assert "__Host-bc_session=" in out.headers["set-cookie"]
    assert "Secure" in out.headers["set-cookie"]
    assert secure_client.get("/kasus", follow_redirects=False).status_code in (303, 401, 404)


def test_with_secure_cookies_the_case_code_cookie_carries_the_host_prefix_and_works(secure_client):
    receipt = post_form(secure_client, "/lapor", report_fields(), token_from="/lapor")

    code, pin = re.findall(r'<output class="receipt__code" data-copy>([^<]+)</output>', receipt.text)
    opened = post_form(secure_client, "/cek", {"code": code, "pin": pin}, token_from="/cek", follow_redirects=False)
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith("__Host-bc_case=")
    assert "Secure" in cookie
    assert "Path=/" in cookie
    assert "data-reporter-status" in secure_client.get("/cek/laporan").text
    assert secure_client.get("/konseling").status_code == 200
    left = post_form(secure_client, "/cek/keluar", {}, token_from="/cek/laporan", follow_redirects=False)
    assert "__Host-bc_case=" in left.headers["set-cookie"]
    assert "Secure" in left.headers["set-cookie"]
    after = secure_client.get("/cek/laporan", follow_redirects=False)
    assert after.status_code == 303
    assert after.headers["location"] == "/masuk?lanjut=/cek/laporan"
