"""Two-factor sign-in for counselors and supervisors: enrolment with a QR code drawn on the server, ten
one-time recovery codes, sign-in in two steps, a supervisor's requirement and reset, and the grace period in
production. Time is pinned, and the expected codes are computed with pyotp for the pinned moment."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from server.accounts import service
from server.accounts.demo import DEMO_PASSWORD
from server.accounts.models import RecoveryCode, User
from server.models import AuditEntry
from tests.support.two_factor import code_step, enrol, now, password_step, secret_on
from tests.support.web import post_form, sign_in

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL

def audited(db, action: str) -> list[AuditEntry]:
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_the_enrolment_page_draws_the_qr_code_inline_and_shows_the_secret_as_text(as_user, clock):
    response = as_user("konselor").get("/akun/dua-langkah")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    secret = secret_on(response.text)
    assert re.search(r'<svg[^>]*class="qr"', response.text)
    assert "<img" not in response.text
    assert " ".join(secret[i:i + 4] for i in range(0, 32, 4)) in response.text
    assert "Pindai kode QR" in response.text


def test_enrolment_needs_a_current_code_and_keeps_the_secret_when_the_code_is_wrong(as_user, db, clock):
    client = as_user("konselor")
    secret = secret_on(client.get("/akun/dua-langkah").text)
    wrong = post_form(client, "/akun/dua-langkah", {"secret": secret, "code": "000000"}, token_from="/akun")
    assert wrong.status_code == 422
    assert "Kode tidak cocok." in wrong.text
    assert secret_on(wrong.text) == secret
    assert not db.execute(select(User).where(User.username == "konselor")).scalar_one().has_two_factor


def test_enrolment_shows_ten_recovery_codes_once_and_stores_them_hashed(as_user, db, clock):
    client = as_user("konselor")
    _secret, codes = enrol(client)
    assert len(codes) == len(set(codes)) == 10
    stored = db.execute(select(RecoveryCode.code_hash)).scalars().all()
    assert len(stored) == 10
    assert not set(codes) & set(stored)
    again = client.get("/akun/dua-langkah")
    assert again.status_code == 200
    assert not any(code in again.text for code in codes)
    assert "Kode cadangan yang belum dipakai: 10." in again.text
    assert audited(db, "account.two_factor_enabled")


def test_sign_in_takes_the_password_then_a_code_and_the_half_way_state_grants_nothing(as_user, make_client, clock):
    enrol(as_user("konselor"))
    clock.shift(60)
    client = make_client()
    first = password_step(client, lanjut="/kasus")
    assert first.status_code == 303
    assert first.headers["location"] == "/masuk/kode"
    for path in ("/akun", "/kasus", "/akun/dua-langkah"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/masuk?"), path
    page = client.get("/masuk/kode")
    assert page.status_code == 200
    assert "aplikasi autentikator" in page.text


def test_the_right_code_finishes_the_sign_in_and_goes_where_the_person_was_going(as_user, make_client, db, clock):
    secret, _codes = enrol(as_user("konselor"))
    clock.shift(60)
    client = make_client()
    password_step(client, lanjut="/kasus")
    response = code_step(client, pyotp.TOTP(secret).at(now()))
    assert response.status_code == 303
    assert response.headers["location"] == "/kasus"
    assert client.get("/akun").status_code == 200
    assert audited(db, "signin.succeeded")[-1].detail == '{"second_step": "app"}'


def test_a_code_is_accepted_one_step_late_but_not_two_and_never_twice(as_user, make_client, clock):
    secret, _codes = enrol(as_user("konselor"))
    totp = pyotp.TOTP(secret)
    clock.shift(120)
    client = make_client()
    password_step(client)
    assert code_step(client, totp.at(now() - timedelta(seconds=60))).status_code == 422
    late = totp.at(now() - timedelta(seconds=30))
    assert code_step(client, late).status_code == 303
    again = make_client()
    password_step(again)
    response = code_step(again, late)
    assert response.status_code == 422
    assert "Kode salah atau sudah dipakai." in response.text


def test_a_recovery_code_works_once_and_its_use_is_audited(as_user, make_client, db, clock):
    _secret, codes = enrol(as_user("konselor"))
    clock.shift(60)
    client = make_client()
    password_step(client)
    assert code_step(client, codes[3].lower().replace("-", " ")).status_code == 303
    entry = audited(db, "account.recovery_code_used")[-1]
    assert '"left": 9' in entry.detail
    other = make_client()
    password_step(other)
    assert code_step(other, codes[3]).status_code == 422


def test_wrong_codes_slow_the_next_attempt_down_and_the_right_one_works_after_the_wait(as_user, make_client, app,
                                                                                       clock):
    settings = app.state.settings
    secret, _codes = enrol(as_user("konselor"))
    clock.shift(60)
    client = make_client()
    password_step(client)
    for _ in range(settings.login_limit_per_account):
        assert code_step(client, "000000").status_code == 422
    waiting = code_step(client, pyotp.TOTP(secret).at(now()))
    assert waiting.status_code == 429
    assert f"coba lagi dalam {settings.login_delay_seconds} detik" in waiting.text
    clock.shift(settings.login_delay_seconds)
    assert code_step(client, pyotp.TOTP(secret).at(now())).status_code == 303


def test_the_code_step_expires_and_needs_a_password_step(as_user, make_client, clock):
    secret, _codes = enrol(as_user("konselor"))
    stranger = make_client()
    assert stranger.get("/masuk/kode", follow_redirects=False).headers["location"] == "/masuk"
    assert code_step(stranger, pyotp.TOTP(secret).at(now())).status_code == 422
    client = make_client()
    password_step(client)
    clock.shift(6 * 60)
    response = code_step(client, pyotp.TOTP(secret).at(now()))
    assert response.status_code == 422
    assert "Waktu untuk memasukkan kode sudah habis." in response.text
    assert client.get("/akun", follow_redirects=False).status_code == 303


def test_only_counselors_and_supervisors_enrol(as_user):
    assert as_user("guru").get("/akun/dua-langkah").status_code == 403


def test_a_supervisor_can_require_two_factor_and_staff_are_sent_to_set_it_up(as_user, make_client, db, clock):
    supervisor = as_user("supervisor")
    response = post_form(supervisor, "/admin/layanan/dua-langkah", {"required": "ya"}, token_from="/admin/layanan",
                         follow_redirects=False)
    assert response.status_code == 303
    assert "Wajib untuk semua konselor dan supervisor sejak" in supervisor.get("/admin/layanan").text
    assert audited(db, "admin.two_factor_required")
    counselor = password_step(make_client(), lanjut="/kasus")
    assert counselor.status_code == 303
    assert counselor.headers["location"] == "/akun/dua-langkah"
    teacher = password_step(make_client(), "guru", lanjut="/laporan-saya")
    assert teacher.headers["location"] == "/laporan-saya"


def test_a_supervisor_can_reset_a_staff_members_two_factor(as_user, make_client, db, clock):
    counselor = as_user("konselor")
    enrol(counselor)
    person = db.execute(select(User).where(User.username == "konselor")).scalar_one()
    supervisor = as_user("supervisor")
    assert "Aktif sejak" in supervisor.get(f"/admin/pengguna/{person.id}").text
    response = post_form(supervisor, f"/admin/pengguna/{person.id}/dua-langkah/atur-ulang", {},
                         token_from="/admin/layanan", follow_redirects=False)
    assert response.status_code == 303
    assert audited(db, "admin.two_factor_reset")[-1].object_id == str(person.id)
    assert counselor.get("/akun", follow_redirects=False).status_code == 303
    assert db.execute(select(RecoveryCode)).first() is None
    assert password_step(make_client()).headers["location"] == "/"


def test_a_supervisor_cannot_reset_their_own_two_factor(as_user, db):
    supervisor = as_user("supervisor")
    me = db.execute(select(User).where(User.username == "supervisor")).scalar_one()
    response = post_form(supervisor, f"/admin/pengguna/{me.id}/dua-langkah/atur-ulang", {},
                         token_from="/admin/layanan")
    assert response.status_code == 422
    assert "Minta supervisor lain." in response.text


def test_one_can_turn_it_off_with_the_password_and_a_current_code_when_it_is_not_required(as_user, make_client,
                                                                                         db, clock):
    """The password alone turned it off on the old code: a stolen session and password must not be enough."""
    client = as_user("konselor")
    secret, _codes = enrol(client)
    clock.shift(60)
    wrong = post_form(client, "/akun/dua-langkah/matikan", {"password": "bukan-ini-sandinya",
                                                            "code": pyotp.TOTP(secret).at(now())}, token_from="/akun")
    assert wrong.status_code == 422
    assert "Kata sandi salah." in wrong.text
    no_code = post_form(client, "/akun/dua-langkah/matikan", {"password": DEMO_PASSWORD}, token_from="/akun")
    assert no_code.status_code == 422
    assert "Tulis kode 6 angka dari aplikasi autentikator, atau satu kode cadangan." in no_code.text
    wrong_code = post_form(client, "/akun/dua-langkah/matikan", {"password": DEMO_PASSWORD, "code": "000000"},
                           token_from="/akun")
    assert wrong_code.status_code == 422
    assert "Kode salah atau sudah dipakai." in wrong_code.text
    assert not audited(db, "account.two_factor_disabled")
    right = post_form(client, "/akun/dua-langkah/matikan", {"password": DEMO_PASSWORD,
                                                            "code": pyotp.TOTP(secret).at(now())},
                      token_from="/akun", follow_redirects=False)
    assert right.status_code == 303
    assert audited(db, "account.two_factor_disabled")
    assert sign_in(make_client(), "konselor")


def test_a_recovery_code_also_turns_it_off(as_user, db, clock):
    client = as_user("konselor")
    _secret, codes = enrol(client)
    right = post_form(client, "/akun/dua-langkah/matikan", {"password": DEMO_PASSWORD, "code": codes[0]},
                      token_from="/akun", follow_redirects=False)
    assert right.status_code == 303
    assert not db.execute(select(User).where(User.username == "konselor")).scalar_one().has_two_factor


def test_enabling_it_signs_the_account_out_everywhere_else(as_user, db, clock):
    """The other browser, signed in with the password alone, stayed signed in on the old code."""
    elsewhere = as_user("konselor")
    here = as_user("konselor")
    enrol(here)
    assert elsewhere.get("/akun", follow_redirects=False).status_code == 303
    page = here.get("/akun")
    assert page.status_code == 200
    assert "Akun saya" in page.text


def test_fifty_refused_code_step_attempts_leave_one_limited_entry(as_user, make_client, app, db, clock):
    """The code step wrote one signin.limited entry per refused attempt on the old code; the others one a window."""
    enrol(as_user("konselor"))
    clock.shift(60)
    client = make_client()
    password_step(client)
    for _ in range(app.state.settings.login_limit_per_account):
        assert code_step(client, "000000").status_code == 422
    for _ in range(50):
        refused = code_step(client, "000000")
        assert refused.status_code == 429
        assert "coba lagi dalam" in refused.text
    assert len(audited(db, "signin.limited")) == 1


# --- the grace period in production, through the service with `now=` --------------------------------------


@pytest.fixture
def production(settings):
    return replace(settings, env="production")


def counselor(db) -> User:
    return db.execute(select(User).where(User.username == "konselor")).scalar_one()


def test_in_production_staff_without_it_are_signed_in_and_sent_to_set_it_up_within_the_grace_period(db, production):
    moment = counselor(db).created_at + timedelta(days=production.two_factor_grace_days - 1)
    result = service.sign_in(db, production, username="konselor", password=DEMO_PASSWORD, ip="t", now=moment)
    assert result.user is not None
    assert result.enrol


def test_in_production_staff_without_it_are_refused_after_the_grace_period_and_told_whom_to_ask(db, production):
    moment = counselor(db).created_at + timedelta(days=production.two_factor_grace_days, seconds=1)
    result = service.sign_in(db, production, username="konselor", password=DEMO_PASSWORD, ip="t", now=moment)
    assert result.user is None
    assert result.refused
    assert "Minta supervisor layanan mengatur ulang verifikasi dua langkah" in result.error
    assert db.execute(select(AuditEntry).where(AuditEntry.action == "signin.two_factor_missing")).first()
    teacher = service.sign_in(db, production, username="guru", password=DEMO_PASSWORD, ip="t", now=moment)
    assert teacher.user is not None
    assert not teacher.enrol


def test_a_reset_starts_a_new_grace_period_and_switching_the_requirement_on_does_not(db, production):
    """In production it is required of staff from the account's creation: switching it on again at day 100 gave
    every counselor a fresh grace period on the old code."""
    from server.accounts import two_factor

    late = counselor(db).created_at + timedelta(days=100)
    two_factor.set_required(db, True, late)
    within = service.sign_in(db, production, username="konselor", password=DEMO_PASSWORD, ip="t",
                             now=late + timedelta(days=1))
    assert within.user is None
    assert within.refused
    two_factor.disable(db, counselor(db), reset_at=late + timedelta(days=30))
    after_reset = service.sign_in(db, production, username="konselor", password=DEMO_PASSWORD, ip="t",
                                  now=late + timedelta(days=31))
    assert after_reset.user is not None
    assert after_reset.enrol


def test_outside_production_demo_accounts_keep_signing_in_without_it(db, settings):
    moment = counselor(db).created_at + timedelta(days=365)
    result = service.sign_in(db, settings, username="konselor", password=DEMO_PASSWORD, ip="t", now=moment)
    assert result.user is not None
    assert not result.enrol


def test_in_production_the_sign_in_page_refuses_them_after_the_grace_period_and_says_whom_to_ask(settings, db):
    from litestar.testing import TestClient

    from server.app import create_app
    from server.notifications import push

    production = replace(settings, env="production", secret_key="k" * 40, cookie_secure=True,
                         vapid_private_key=push.generate_private_key())
    later = counselor(db).created_at + timedelta(days=production.two_factor_grace_days, minutes=1)
    with time_machine.travel(later, tick=False):
        with TestClient(app=create_app(production), base_url="https://127.0.0.1:8000") as client:
            response = post_form(client, "/masuk", {"username": "konselor", "password": DEMO_PASSWORD})
            assert response.status_code == 403
            assert "Minta supervisor layanan mengatur ulang verifikasi dua langkah akun Anda" in response.text
            assert "bc_session" not in response.headers.get("set-cookie", "")
            assert client.get("/akun", follow_redirects=False).status_code == 303


def test_switching_the_requirement_off_and_on_again_gives_no_new_grace_period(db, settings):
    """The grace counts from the first time it was required of the account; on the old code it counted from the
    latest switch."""
    from server.accounts import two_factor
    from server.admin import service as admin

    first = counselor(db).created_at + timedelta(days=3)
    boss = db.execute(select(User).where(User.username == "supervisor")).scalar_one()
    actor = admin.Actor(boss.id, boss.username, "t")
    admin.set_two_factor_required(db, True, actor, now=first)
    db.commit()
    ends = two_factor.requirement_for(db, settings, counselor(db)).grace_ends
    assert ends == first + timedelta(days=settings.two_factor_grace_days)
    admin.set_two_factor_required(db, False, actor, now=first + timedelta(days=20))
    admin.set_two_factor_required(db, True, actor, now=first + timedelta(days=21))
    db.commit()
    db.expire_all()
    assert two_factor.requirement_for(db, settings, counselor(db)).grace_ends == ends


def test_a_session_opened_within_the_grace_period_ends_with_it(settings, db):
    """In production, a session opened ten minutes before the grace period ended stayed valid after it on the old
    code, though the same person would have been refused at sign-in."""
    from litestar.testing import TestClient

    from server.app import create_app
    from server.notifications import push

    production = replace(settings, env="production", secret_key="k" * 40, cookie_secure=True,
                         vapid_private_key=push.generate_private_key())
    grace_ends = counselor(db).created_at + timedelta(days=production.two_factor_grace_days)
    with time_machine.travel(grace_ends - timedelta(minutes=10), tick=False) as clock:
        with TestClient(app=create_app(production), base_url="https://127.0.0.1:8000") as client:
            signed_in = post_form(client, "/masuk", {"username": "konselor", "password": DEMO_PASSWORD},
                                  follow_redirects=False)
            assert signed_in.status_code == 303
            assert signed_in.headers["location"] == "/akun/dua-langkah"
            assert client.get("/akun").status_code == 200
            clock.move_to(grace_ends + timedelta(minutes=1))  # well within the session's idle time
            ended = client.get("/akun", follow_redirects=False)
            assert ended.status_code == 303
            assert ended.headers["location"].startswith("/masuk")


# --- recovery codes at rest ---------------------------------------------------------------------------------


def test_recovery_codes_are_stored_as_salted_argon2_hashes(as_user, db, clock):
    """They were unsalted SHA-256 on the old code: about 49 bits, all tried in minutes from a stolen backup."""
    import hashlib

    from server.accounts import two_factor

    _secret, codes = enrol(as_user("konselor"))
    stored = db.execute(select(RecoveryCode.code_hash)).scalars().all()
    assert len(stored) == 10
    assert all(value.startswith("$argon2id$") for value in stored)
    digests = {hashlib.sha256(two_factor.normalise(code).encode()).hexdigest() for code in codes}
    assert not digests & set(stored)


def test_recovery_codes_stored_before_the_migration_keep_working(tmp_path, pinned_clock):
    """Migration 0012 hashes each stored SHA-256 again with argon2, so nobody has to print new codes."""
    import hashlib

    from alembic import command
    from sqlalchemy import text
    from sqlmodel import Session

    from server import migrate
    from server.accounts import two_factor
    from server.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(migrate.alembic_config(engine), "0011_job_event_at")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO user_account (id, username, display_name, password_hash, role, active, created_at,"
            " totp_secret, two_factor_enabled_at) VALUES (1, 'lama', 'Lama', 'x', 'counselor', 1,"
            " '2026-11-01 00:00:00.000000', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', '2026-11-02 00:00:00.000000')"))
        for code in ("ABCDE-FGHJK", "23456-789AB"):
            digest = hashlib.sha256(two_factor.normalise(code).encode()).hexdigest()
            conn.execute(text("INSERT INTO recovery_code (user_id, code_hash) VALUES (1, :h)"), {"h": digest})
    migrate.upgrade(engine)
    with Session(engine) as session:
        user = session.get(User, 1)
        stored = session.execute(select(RecoveryCode.code_hash)).scalars().all()
        assert all(value.startswith("$argon2id$") for value in stored)
        assert two_factor.use_recovery_code(session, user, two_factor.normalise("abcde fghjk"), now())
        assert not two_factor.use_recovery_code(session, user, two_factor.normalise("ABCDE-FGHJK"), now())
        assert not two_factor.use_recovery_code(session, user, two_factor.normalise("ZZZZZ-ZZZZZ"), now())
        assert two_factor.recovery_codes_left(session, 1) == 1
    engine.dispose()
