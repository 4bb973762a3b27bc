"""No default password in production: `bintang setup-link` makes the first supervisor without a usable password
and prints a one-time link (24 hours, once, only its hash kept) where they set a password and two-factor
sign-in, and are then signed in. Time is pinned; expected codes are computed with pyotp for that moment."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import time_machine
from sqlalchemy import select
from sqlmodel import Session

from server import cli
from server.accounts import auth, service
from server.accounts.models import Role, SetupLink, User
from server.db import make_engine
from server.models import AuditEntry
from server.notifications import push
from tests.support.web import post_form

pytestmark = pytest.mark.both_databases  # a conditional update spends the link: SQLite and PostgreSQL

START = datetime(2026, 12, 2, 1, 0, 10, tzinfo=UTC)
PASSWORD = "bintang-terang-di-banjarbaru"
GONE = "Tautan ini sudah dipakai atau sudah lewat 24 jam, jadi tidak bisa dipakai lagi."


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def now() -> datetime:
    return datetime.now(UTC)


def audited(db, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def new_link(db, username: str = "kepala") -> str:
    _user, token, _created = service.make_setup_link(db, username=username)
    db.commit()
    return f"{service.SETUP_LINK_PATH}?t={token}"


def secret_on(page: str) -> str:
    match = re.search(r'name="secret" value="([A-Z2-7]+)"', page)
    assert match, "no secret on the page"
    return match.group(1)


def send(client, link: str, *, password: str = PASSWORD, repeat: str | None = None, code: str | None = None,
         secret: str | None = None):
    page = client.get(link)
    secret = secret or secret_on(page.text)
    token = parse_qs(urlsplit(link).query)["t"][0]
    return post_form(client, service.SETUP_LINK_PATH, {
        "t": token, "secret": secret, "password": password, "repeat": password if repeat is None else repeat,
        "code": pyotp.TOTP(secret).at(now()) if code is None else code,
    }, token_from=link)


# --- the page and the journey --------------------------------------------------------------------------------


def test_the_link_opens_a_private_page_for_the_password_and_two_factor_sign_in(client, db, clock):
    link = new_link(db)
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Siapkan akun supervisor" in page.text
    assert "Nama pengguna Anda: kepala." in page.text
    assert re.search(r'<svg[^>]*class="qr"', page.text)
    assert 'autocomplete="new-password"' in page.text


def test_password_and_two_factor_sign_the_supervisor_in_and_the_link_is_spent(client, make_client, db, clock):
    link = new_link(db)
    done = send(client, link)
    assert done.status_code == 200
    assert "Akun Anda sudah siap: kata sandi tersimpan dan Anda sudah masuk." in done.text
    assert len(re.findall(r"<li>([A-Z0-9]{5}-[A-Z0-9]{5})</li>", done.text)) == 10
    account = client.get("/akun")
    assert account.status_code == 200
    assert "kepala" in account.text
    assert client.get("/admin").status_code == 200  # a supervisor
    db.expire_all()
    user = db.execute(select(User).where(User.username == "kepala")).scalar_one()
    assert user.has_two_factor
    assert auth.verify_password(user.password_hash, PASSWORD)
    assert audited(db, "account.setup_completed")
    assert audited(db, "account.two_factor_enabled")
    again = make_client().get(link)
    assert again.status_code == 410
    assert GONE in again.text
    resent = send(make_client(), link, secret=user.totp_secret)
    assert resent.status_code == 410
    assert GONE in resent.text
    assert len(audited(db, "account.setup_link_refused")) == 1  # once per address and quarter hour


def test_after_set_up_sign_in_asks_for_the_code_too(client, make_client, db, clock):
    send(client, new_link(db))
    clock.shift(60)
    other = make_client()
    response = post_form(other, "/masuk", {"username": "kepala", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk/kode"


def test_mistakes_are_shown_next_to_their_field_and_spend_nothing(client, db, clock):
    link = new_link(db)
    weak = send(client, link, password="pendek")
    assert weak.status_code == 422
    assert "Kata sandi minimal 10 karakter." in weak.text
    demo = send(client, link, password="ceria-demo-2026")
    assert demo.status_code == 422
    assert "kata sandi demo yang diketahui semua orang" in demo.text
    different = send(client, link, repeat="bintang-redup-di-banjarbaru")
    assert different.status_code == 422
    assert "Kedua kata sandi tidak sama." in different.text
    secret = secret_on(client.get(link).text)
    wrong_code = send(client, link, code="000000", secret=secret)
    assert wrong_code.status_code == 422
    assert "Kode tidak cocok." in wrong_code.text
    assert secret_on(wrong_code.text) == secret  # the QR code stays the one already scanned
    assert client.get("/akun", follow_redirects=False).status_code == 303
    assert send(client, link, secret=secret).status_code == 200


def test_the_link_stops_working_after_24_hours(client, db, clock):
    link = new_link(db)
    clock.shift(timedelta(hours=24) - timedelta(seconds=1))
    assert client.get(link).status_code == 200
    clock.shift(1)
    expired = client.get(link)
    assert expired.status_code == 410
    assert GONE in expired.text
    assert "bintang setup-link" in expired.text
    assert "Siapkan akun supervisor" not in expired.text


def test_an_unknown_link_is_refused_the_same_way(client, clock):
    for link in (f"{service.SETUP_LINK_PATH}?t=bukan-tautan", service.SETUP_LINK_PATH):
        response = client.get(link)
        assert response.status_code == 410
        assert GONE in response.text


def test_a_newer_link_replaces_the_older_one(client, db, clock):
    first = new_link(db)
    second = new_link(db)
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_only_the_tokens_hash_is_kept_and_no_password_works_before_set_up(db, settings, clock):
    user, token, created = service.make_setup_link(db, username="kepala")
    db.commit()
    assert created
    assert user.role == Role.SUPERVISOR
    assert not auth.has_usable_password(user.password_hash)
    stored = db.execute(select(SetupLink.token_hash)).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    for password in ("", "!", auth.UNUSABLE_PASSWORD, PASSWORD):
        result = service.sign_in(db, settings, username="kepala", password=password, ip="198.51.100.1")
        assert result.user is None
        assert result.error == "Nama pengguna atau kata sandi salah."
    assert audited(db, "admin.setup_link_created")[-1].object_id == str(user.id)


# --- the command ---------------------------------------------------------------------------------------------


def _empty_database(tmp_path, monkeypatch, **env: str):
    for name, value in {"DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": "", **env}.items():
        monkeypatch.setenv(name, value)
    cli.main(["migrate"])
    return make_engine(f"sqlite:///{tmp_path / 'var' / 'bintang.sqlite3'}")


def test_the_command_makes_the_first_supervisor_and_prints_the_link_last(tmp_path, monkeypatch, capsys, pinned_clock):
    engine = _empty_database(tmp_path, monkeypatch)
    capsys.readouterr()
    cli.main(["setup-link", "--base-url", "https://bintang.example.go.id/"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert "created supervisor supervisor" in lines[0]
    assert re.fullmatch(r"https://bintang\.example\.go\.id/akun/siapkan\?t=[A-Za-z0-9_-]{43}", lines[-1])
    token = parse_qs(urlsplit(lines[-1]).query)["t"][0]
    with Session(engine) as session:
        user = session.execute(select(User).where(User.role == Role.SUPERVISOR)).scalar_one()
        assert user.username == "supervisor"
        assert not auth.has_usable_password(user.password_hash)
        assert service.setup_link_for(session, token) is not None
    # Run again (the installer runs it every time) while nobody has set a password: a new link, the old one dead.
    cli.main(["setup-link", "--base-url", "https://bintang.example.go.id"])
    again = capsys.readouterr().out.strip().splitlines()
    assert "found supervisor supervisor" in again[0]
    newer = parse_qs(urlsplit(again[-1]).query)["t"][0]
    with Session(engine) as session:
        assert service.setup_link_for(session, token) is None
        assert service.setup_link_for(session, newer) is not None
        assert len(session.execute(select(User)).scalars().all()) == 1
    engine.dispose()


def test_the_command_says_so_and_exits_0_once_a_supervisor_has_a_password(tmp_path, monkeypatch, capsys,
                                                                          pinned_clock):
    engine = _empty_database(tmp_path, monkeypatch)
    cli.main(["setup-link", "--base-url", "https://bintang.example.go.id", "--username", "kepala.dinas"])
    token = parse_qs(urlsplit(capsys.readouterr().out.strip().splitlines()[-1]).query)["t"][0]
    with Session(engine) as session:
        user = session.execute(select(User).where(User.username == "kepala.dinas")).scalar_one()
        user.password_hash = auth.hash_password(PASSWORD)
        session.commit()
    cli.main(["setup-link", "--base-url", "https://bintang.example.go.id", "--username", "kepala.dinas"])
    out = capsys.readouterr().out
    assert "supervisor kepala.dinas already has a password; no setup link made" in out
    assert "?t=" not in out
    with Session(engine) as session:
        assert len(session.execute(select(SetupLink)).scalars().all()) == 1
        assert service.setup_link_for(session, token) is not None  # nothing changed
    engine.dispose()


def test_the_command_refuses_a_name_that_is_not_a_supervisor_and_a_plain_http_address_in_production(
        tmp_path, monkeypatch, capsys, pinned_clock):
    engine = _empty_database(tmp_path, monkeypatch)
    with Session(engine) as session:
        session.add(User(username="guru.satu", display_name="Guru", password_hash="!", role=Role.TEACHER))
        session.commit()
    with pytest.raises(SystemExit) as refused:
        cli.main(["setup-link", "--base-url", "https://bintang.example.go.id", "--username", "guru.satu"])
    assert "guru.satu is not an active supervisor's account" in str(refused.value)
    with pytest.raises(SystemExit) as bad_url:
        cli.main(["setup-link", "--base-url", "bintang.example.go.id"])
    assert "--base-url must be the service's address" in str(bad_url.value)
    monkeypatch.setenv("BINTANG_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("COOKIE_SECURE", "1")
    monkeypatch.setenv("VAPID_PRIVATE_KEY", push.generate_private_key())
    with pytest.raises(SystemExit) as plain:
        cli.main(["setup-link", "--base-url", "http://bintang.example.go.id"])
    assert "must start with https:// in production" in str(plain.value)
    engine.dispose()
