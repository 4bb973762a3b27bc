"""Passkeys as a second way through staff's two-factor sign-in, against a software authenticator
(tests/accounts/soft_authenticator.py): registering needs two-factor sign-in, the password and a code; a challenge
works once and only for five minutes; a signature count that does not grow is refused; another account's passkey
is refused; removing is one's own only; turning two-factor sign-in off removes the passkeys; everything audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from server.accounts.models import Passkey, WebAuthnChallenge
from server.models import AuditEntry
from tests.accounts.soft_authenticator import SoftPasskey
from tests.support.two_factor import enrol, now, password_step
from tests.support.web import csrf_token, post_form

pytestmark = pytest.mark.both_databases

ORIGIN = "http://127.0.0.1:8000"  # the test clients' base URL: the relying party is 127.0.0.1


def audited(db, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def passkeys(db) -> list[Passkey]:
    db.expire_all()
    return list(db.execute(select(Passkey).order_by(Passkey.id)).scalars())


def post_json(client, path: str, body: dict):
    return client.post(path, json=body, headers={"X-CSRFToken": csrf_token(client, "/")})


def start(client, *, code: str, password: str = "ceria-demo-2026", name: str = "Ponsel kantor"):
    return post_form(client, "/akun/dua-langkah/passkey/mulai",
                     {"password": password, "code": code, "passkey_name": name}, token_from="/akun")


def register(client, codes: list[str], key: SoftPasskey) -> None:
    response = start(client, code=codes.pop())
    assert response.status_code == 200, response.text
    options = json.loads(response.json()["options"])
    done = post_json(client, "/akun/dua-langkah/passkey", {"credential": key.create(options), "name": "Ponsel kantor"})
    assert done.status_code == 200, done.text
    assert done.json() == {"next": "/akun/dua-langkah?passkey=1"}, done.text


def signin_options(client) -> dict:
    response = post_json(client, "/masuk/passkey/opsi", {})
    assert response.status_code == 200, response.text
    return json.loads(response.json()["options"])


@pytest.fixture
def enrolled(as_user, clock):
    konselor = as_user("konselor")
    secret, codes = enrol(konselor)
    return konselor, secret, codes


def test_a_passkey_is_registered_after_the_password_and_a_code_and_then_signs_in(enrolled, make_client, db):
    konselor, _secret, codes = enrolled
    key = SoftPasskey(ORIGIN)
    register(konselor, codes, key)
    [stored] = passkeys(db)
    assert stored.name == "Ponsel kantor"
    assert stored.sign_count == 0
    assert len(audited(db, "account.passkey_added")) == 1
    page = konselor.get("/akun/dua-langkah?passkey=1")
    assert "Passkey sudah didaftarkan." in page.text
    assert "Ponsel kantor" in page.text

    phone = make_client()
    assert password_step(phone).headers["location"] == "/masuk/kode"
    assert "Gunakan passkey" in phone.get("/masuk/kode").text
    response = post_json(phone, "/masuk/passkey", {"credential": key.get(signin_options(phone))})
    assert response.status_code == 200
    assert response.json() == {"next": "/"}
    assert "Akun saya" in phone.get("/").text
    assert passkeys(db)[0].sign_count == 1
    [used] = audited(db, "account.passkey_used")
    assert json.loads(used.detail) == {"passkey_id": stored.id}
    assert json.loads(audited(db, "signin.succeeded")[-1].detail)["second_step"] == "passkey"


def test_registering_needs_the_password_and_a_code(enrolled, db):
    konselor, _secret, codes = enrolled
    wrong = start(konselor, code=codes[0], password="bukan-kata-sandinya")
    assert wrong.status_code == 422
    assert wrong.json()["errors"]["password"] == "Kata sandi salah."
    no_code = start(konselor, code="")
    assert no_code.status_code == 422
    assert no_code.json()["errors"]["code"] == "Tulis kode 6 angka dari aplikasi autentikator, atau satu kode cadangan."
    assert db.execute(select(WebAuthnChallenge)).first() is None


def test_registering_needs_two_factor_sign_in_first(as_user, db):
    response = start(as_user("konselor"), code="123456")
    assert response.status_code == 422
    assert response.json()["errors"]["form"] == "Aktifkan verifikasi dua langkah dengan aplikasi autentikator dulu."


def test_a_registration_challenge_works_once(enrolled, db):
    konselor, _secret, codes = enrolled
    options = json.loads(start(konselor, code=codes.pop()).json()["options"])
    key = SoftPasskey(ORIGIN)
    credential = key.create(options)
    assert post_json(konselor, "/akun/dua-langkah/passkey", {"credential": credential}).status_code == 200
    again = post_json(konselor, "/akun/dua-langkah/passkey", {"credential": SoftPasskey(ORIGIN).create(options)})
    assert again.status_code == 422
    assert again.json()["error"] == "Waktunya sudah habis atau permintaan ini sudah dipakai. Coba lagi."
    assert len(passkeys(db)) == 1


def test_a_sign_in_challenge_expires_after_five_minutes_and_works_once(enrolled, make_client, db, clock):
    konselor, _secret, codes = enrolled
    key = SoftPasskey(ORIGIN)
    register(konselor, codes, key)
    phone = make_client()
    password_step(phone)
    options = signin_options(phone)
    clock.shift(timedelta(minutes=4))
    password_step(phone)  # a fresh password step: only the challenge is old now
    clock.shift(timedelta(minutes=1, seconds=1))
    late = post_json(phone, "/masuk/passkey", {"credential": key.get(options)})
    assert late.status_code == 422
    assert late.json()["error"] == "Waktunya sudah habis atau permintaan ini sudah dipakai. Coba lagi."
    assert "Akun saya" not in phone.get("/").text
    password_step(phone)
    options = signin_options(phone)
    assert post_json(phone, "/masuk/passkey", {"credential": key.get(options)}).status_code == 200
    other = make_client()
    password_step(other)
    signin_options(other)
    replay = post_json(other, "/masuk/passkey", {"credential": key.get(options)})
    assert replay.status_code == 422
    assert replay.json()["error"] == "Waktunya sudah habis atau permintaan ini sudah dipakai. Coba lagi."
    assert "Akun saya" not in other.get("/").text


def test_a_signature_count_that_goes_back_is_refused_as_a_copied_passkey(enrolled, make_client, db):
    konselor, _secret, codes = enrolled
    key = SoftPasskey(ORIGIN)
    register(konselor, codes, key)
    phone = make_client()
    password_step(phone)
    assert post_json(phone, "/masuk/passkey", {"credential": key.get(signin_options(phone), count=7)}).status_code == 200
    copy = make_client()
    password_step(copy)
    refused = post_json(copy, "/masuk/passkey", {"credential": key.get(signin_options(copy), count=7)})
    assert refused.status_code == 422
    assert refused.json()["error"] == "Passkey tidak cocok. Coba lagi, atau pakai kode dari aplikasi."
    assert passkeys(db)[0].sign_count == 7
    assert len(audited(db, "signin.passkey_failed")) == 1
    assert "Akun saya" not in copy.get("/").text


def test_another_accounts_passkey_does_not_sign_in(enrolled, as_user, make_client, db, clock):
    konselor, _secret, codes = enrolled
    key = SoftPasskey(ORIGIN)
    register(konselor, codes, key)
    supervisor = as_user("supervisor")
    _s, supervisor_codes = enrol(supervisor)
    register(supervisor, supervisor_codes, SoftPasskey(ORIGIN))
    phone = make_client()
    password_step(phone, "supervisor")
    refused = post_json(phone, "/masuk/passkey", {"credential": key.get(signin_options(phone))})
    assert refused.status_code == 422
    assert refused.json()["error"] == "Passkey ini tidak terdaftar untuk akun Anda."
    assert "Akun saya" not in phone.get("/").text


def test_without_the_password_step_there_are_no_options_and_no_sign_in(make_client):
    stranger = make_client()
    options = post_json(stranger, "/masuk/passkey/opsi", {})
    assert options.status_code == 422
    assert options.json()["error"] == "Waktu untuk memasukkan kode sudah habis. Masuk lagi dari awal."
    assert post_json(stranger, "/masuk/passkey", {"credential": {}}).status_code == 422


def test_only_ones_own_passkey_is_removed_and_turning_two_factor_off_removes_them_all(enrolled, as_user, db):
    konselor, secret, codes = enrolled
    register(konselor, codes, SoftPasskey(ORIGIN))
    register(konselor, codes, SoftPasskey(ORIGIN))
    first, second = passkeys(db)
    supervisor = as_user("supervisor")
    enrol(supervisor)
    response = post_form(supervisor, f"/akun/dua-langkah/passkey/{first.id}/hapus", {}, token_from="/akun",
                         follow_redirects=False)
    assert response.status_code == 303
    assert len(passkeys(db)) == 2
    assert audited(db, "account.passkey_removed") == []
    response = post_form(konselor, f"/akun/dua-langkah/passkey/{first.id}/hapus", {}, token_from="/akun",
                         follow_redirects=False)
    assert response.status_code == 303
    assert "Passkey sudah dihapus." in konselor.get(response.headers["location"]).text
    assert [p.id for p in passkeys(db)] == [second.id]
    assert len(audited(db, "account.passkey_removed")) == 1
    off = post_form(konselor, "/akun/dua-langkah/matikan",
                    {"password": "ceria-demo-2026", "code": pyotp.TOTP(secret).at(now() + timedelta(seconds=30))},
                    token_from="/akun", follow_redirects=False)
    assert off.status_code == 303
    assert passkeys(db) == []
