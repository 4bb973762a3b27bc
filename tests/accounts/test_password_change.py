"""/akun/kata-sandi: changing one's own password on the account page."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from server.accounts.demo import DEMO_PASSWORD
from server.models import AuditEntry
from tests.support.web import post_form, sign_in

NEW = "layang-layang di sawah"


def change(client, current: str, new: str, repeat: str | None = None):
    data = {"current": current, "new": new, "repeat": new if repeat is None else repeat}
    return post_form(client, "/akun/kata-sandi", data, token_from="/akun", follow_redirects=False)


def test_it_changes_the_password_and_ends_other_sessions(as_user, make_client, db):
    other_device = as_user("guru")
    client = as_user("guru")
    response = change(client, DEMO_PASSWORD, NEW)
    assert response.status_code == 303
    assert response.headers["location"] == "/akun?tersimpan=1"
    page = client.get("/akun?tersimpan=1")
    assert page.status_code == 200
    assert "Kata sandi baru sudah disimpan." in page.text
    assert other_device.get("/akun", follow_redirects=False).status_code == 303
    assert sign_in(make_client(), "guru", NEW)
    old = post_form(make_client(), "/masuk", {"username": "guru", "password": DEMO_PASSWORD})
    assert old.status_code == 422
    assert db.execute(select(AuditEntry).where(AuditEntry.action == "account.password_changed")).first()


def test_it_refuses_a_wrong_current_password_next_to_its_field(as_user, make_client):
    client = as_user("guru")
    response = change(client, "bukan-kata-sandinya", NEW)
    assert response.status_code == 422
    assert "Kata sandi sekarang salah." in response.text
    assert 'href="#field-current"' in response.text
    assert NEW not in response.text
    assert post_form(make_client(), "/masuk", {"username": "guru", "password": NEW}).status_code == 422


def test_wrong_current_passwords_count_toward_the_sign_in_delays(as_user, make_client, app):
    """A stolen session is no way to guess the password without delays: its browser waits at sign-in too. The
    wait is that browser's, so the owner signing in from another browser is not kept out (issue 19)."""
    settings = app.state.settings
    with time_machine.travel(datetime(2026, 12, 2, 1, 0, tzinfo=UTC), tick=False) as clock:
        client = as_user("guru")
        for _ in range(settings.login_limit_per_account):
            assert change(client, "bukan-kata-sandinya", NEW).status_code == 422
        refused = change(client, DEMO_PASSWORD, NEW)
        assert refused.status_code == 429
        assert f"coba lagi dalam {settings.login_delay_seconds} detik" in refused.text
        signin = post_form(client, "/masuk", {"username": "guru", "password": DEMO_PASSWORD})
        assert signin.status_code == 429
        assert "coba lagi dalam" in signin.text
        owner = post_form(make_client(), "/masuk", {"username": "guru", "password": DEMO_PASSWORD},
                          follow_redirects=False)
        assert owner.status_code == 303
        clock.shift(settings.login_delay_seconds)
        assert change(client, DEMO_PASSWORD, NEW).status_code == 303


def test_it_refuses_a_weak_new_password(as_user):
    client = as_user("guru")
    short = change(client, DEMO_PASSWORD, "pendek")
    assert short.status_code == 422
    assert "Kata sandi minimal 10 karakter." in short.text
    common = change(client, DEMO_PASSWORD, "password123")
    assert common.status_code == 422
    assert "Kata sandi ini terlalu umum dan mudah ditebak." in common.text


def test_it_refuses_the_public_demo_password_as_a_new_password(as_user, app):
    client = as_user("guru")
    change(client, DEMO_PASSWORD, NEW)
    response = change(client, NEW, DEMO_PASSWORD)
    assert response.status_code == 422
    assert "Kata sandi ini adalah kata sandi demo yang diketahui semua orang." in response.text


def test_it_refuses_two_new_passwords_that_differ(as_user):
    client = as_user("guru")
    response = change(client, DEMO_PASSWORD, NEW, repeat=NEW + "!")
    assert response.status_code == 422
    assert "Kedua kata sandi baru tidak sama." in response.text


def test_it_is_only_for_people_signed_in(client):
    response = post_form(client, "/akun/kata-sandi", {"current": DEMO_PASSWORD, "new": NEW, "repeat": NEW})
    assert response.status_code == 401
    page = client.get("/akun", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/masuk?lanjut=/akun"
