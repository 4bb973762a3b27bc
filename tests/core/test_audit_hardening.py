"""The audit log as evidence that cannot be rewritten, that keeps no address of people who never signed in, and
that a flood of refused attempts cannot drown."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from server import audit, cli, migrate
from server.accounts import service as accounts
from server.db import make_engine
from server.models import AuditEntry
from server.reports import access
from tests.support.reports import user_named
from tests.support.web import post_form, sign_in

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL

MOMENT = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)


def entries(db: Session, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).scalars())


# --- no address kept for people who never signed in -----------------------------------------------------------


def test_it_keeps_no_address_of_an_anonymous_reporter_or_code_holder(client, make_client, db):
    post_form(client, "/lapor", {
        "reporter_kind": "child", "danger_now": "no", "categories": ["bullying"], "happened_when": "this_week",
        "happened_where": "school", "child_age": "12", "child_words": "Aku diejek terus.", "child_assent": "yes",
        "contact_method": "app"}, token_from="/lapor")
    post_form(make_client(), "/cek", {"code": "AAAA-BBBB-CCCC-DDDD", "pin": "123456"}, token_from="/cek")
    post_form(make_client(), "/masuk", {"username": "tidak-ada", "password": "salah-sekali-123"})
    anonymous = [*entries(db, "report.submitted"), *entries(db, "report.code_failed"), *entries(db, "signin.failed")]
    assert len(anonymous) == 3
    assert all(entry.actor_id is None and entry.ip == "" for entry in anonymous)


def test_the_audit_page_shows_no_address_for_anonymous_entries_but_does_for_staff(client, as_user, db):
    audit.record(db, "report.code_failed", ip="203.0.113.77")
    db.commit()
    supervisor = as_user("supervisor")
    page = supervisor.get("/admin/audit").text
    assert "203.0.113.77" not in page
    assert "IP testclient" in page  # the supervisor's own sign-in keeps its address


def test_the_upgrade_blanks_addresses_already_kept_for_anonymous_entries(engine, db):
    migrate.downgrade(engine, "0005_reports")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_entry (at, actor_id, actor_label, action, object_type, object_id, ip, "
                          "detail) VALUES (:at, NULL, 'anonymous', 'report.submitted', 'report', '1', "
                          "'203.0.113.9', '')"), {"at": MOMENT})
    migrate.upgrade(engine)
    with engine.connect() as conn:
        ips = conn.execute(text("SELECT ip FROM audit_entry WHERE actor_id IS NULL")).scalars().all()
    assert "203.0.113.9" not in ips
    assert set(ips) <= {""}


# --- append-only, however it is asked ------------------------------------------------------------------------


@pytest.mark.only_database("sqlite")  # SQLite's REPLACE conflict resolution
def test_insert_or_replace_cannot_rewrite_an_entry_on_sqlite(db):
    entry = audit.record(db, "report.viewed.staff", actor_label="konselor")
    db.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text("INSERT OR REPLACE INTO audit_entry (id, at, actor_label, action, object_type, object_id, "
                        "ip, detail) VALUES (:id, :at, 'nobody', 'forged', '', '', '', '')"),
                   {"id": entry.id, "at": MOMENT})
    db.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text("REPLACE INTO audit_entry (id, at, actor_label, action, object_type, object_id, ip, detail) "
                        "VALUES (:id, :at, 'nobody', 'forged', '', '', '', '')"), {"id": entry.id, "at": MOMENT})
    db.rollback()
    assert [e.action for e in entries(db, "report.viewed.staff")] == ["report.viewed.staff"]
    assert entries(db, "forged") == []


def test_an_upsert_cannot_rewrite_an_entry(db):
    entry = audit.record(db, "report.viewed.staff", actor_label="konselor")
    db.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text("INSERT INTO audit_entry (id, at, actor_label, action, object_type, object_id, ip, detail) "
                        "VALUES (:id, :at, 'nobody', 'forged', '', '', '', '') "
                        "ON CONFLICT (id) DO UPDATE SET action = 'forged'"), {"id": entry.id, "at": MOMENT})
    db.rollback()
    assert entries(db, "forged") == []


@pytest.fixture
def app_role(database_url, monkeypatch):
    """A login role like the README's `bintang_app`, granted by `bintang grant-app-role`: what the app needs,
    not the tables' owner."""
    role = "bintang_app_" + uuid.uuid4().hex[:8]
    owner = make_engine(database_url)
    with owner.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    try:
        monkeypatch.setenv("DATABASE_URL", database_url)
        cli.main(["grant-app-role", role])
        yield role, make_url(database_url).set(username=role).render_as_string(hide_password=False)
    finally:
        # Roles belong to the whole server, not to the test's database: never leave one behind.
        with owner.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        owner.dispose()


@pytest.mark.only_database("postgresql")  # roles and grants are PostgreSQL's
def test_the_app_role_cannot_disable_the_guard_or_change_the_log_on_postgresql(app_role, settings, make_client):
    role, url = app_role
    as_app = make_engine(url)
    try:
        with as_app.begin() as conn:
            conn.execute(text("INSERT INTO audit_entry (at, actor_label, action, object_type, object_id, ip, detail) "
                              "VALUES (now(), 'tester', 'test.entry', '', '', '', '')"))
        for statement in ("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only",
                          "ALTER TABLE audit_entry DISABLE TRIGGER ALL",
                          "UPDATE audit_entry SET action = 'forged'",
                          "DELETE FROM audit_entry",
                          "TRUNCATE audit_entry"):
            with pytest.raises(DBAPIError, match="must be owner|permission denied"), as_app.begin() as conn:
                conn.execute(text(statement))
        with as_app.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_entry WHERE action = 'test.entry'")).scalar_one() == 1
            assert conn.execute(text("SELECT current_user")).scalar_one() == role
    finally:
        as_app.dispose()
    # And the app does its work as that role: sign-in, a report, a case view, all audited.
    from litestar.testing import TestClient

    from server.app import create_app

    app = create_app(replace(settings, database_url=url))
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as counselor:
        sign_in(counselor, "konselor")
        assert counselor.get("/kasus").status_code == 200
        assert counselor.get("/notifikasi").status_code == 200


@pytest.mark.only_database("postgresql")  # roles and grants are PostgreSQL's
def test_the_app_role_cannot_choose_an_entrys_time_or_put_another_accounts_name_on_it(app_role, db):
    """What the app role writes is stamped by the database: a forged moment becomes the database's own time, and
    an entry that names an account carries that account's name, whatever label was sent."""
    _role, url = app_role
    konselor_id = user_named(db, "konselor").id
    as_app = make_engine(url)
    try:
        with as_app.begin() as conn:
            database_now = conn.execute(text("SELECT statement_timestamp()")).scalar_one()
            conn.execute(text("INSERT INTO audit_entry (at, actor_id, actor_label, action, object_type, object_id, "
                              "ip, detail) VALUES ('2001-01-01 00:00:00', :actor, 'supervisor', 'test.forged', "
                              "'', '', '', '')"), {"actor": konselor_id})
    finally:
        as_app.dispose()
    [entry] = entries(db, "test.forged")
    assert entry.actor_label == "konselor"
    assert abs((entry.at - database_now).total_seconds()) < 60


# --- a flood of refused attempts is one entry per window --------------------------------------------------------


def test_fifty_refused_sign_ins_leave_one_limited_entry_per_window(db, settings, pinned_clock):
    pinned_clock.move_to(MOMENT)
    for _ in range(settings.login_limit_per_account):
        assert not accounts.sign_in(db, settings, username="guru", password="x", ip="198.51.100.1").limited
    for _ in range(50):
        assert accounts.sign_in(db, settings, username="guru", password="x", ip="198.51.100.1").limited
    assert len(entries(db, "signin.limited")) == 1
    # The next window: once the wait is over, one more wrong password starts a longer wait, refused again.
    pinned_clock.move_to(MOMENT + accounts.LIMITED_AUDIT_WINDOW)
    assert not accounts.sign_in(db, settings, username="guru", password="x", ip="198.51.100.1").limited
    for _ in range(3):
        assert accounts.sign_in(db, settings, username="guru", password="x", ip="198.51.100.1").limited
    assert len(entries(db, "signin.limited")) == 2


def test_fifty_refused_code_attempts_leave_one_limited_entry(db, settings, pinned_clock):
    pinned_clock.move_to(MOMENT)
    for _ in range(access.CODE_ATTEMPTS_PER_CODE):
        assert not access.open_with_code(db, settings, code="AAAA-BBBB-CCCC-DDDD", pin="123456",
                                          ip="198.51.100.1")[2]
    for _ in range(50):
        assert access.open_with_code(db, settings, code="AAAA-BBBB-CCCC-DDDD", pin="123456",
                                      ip="198.51.100.1")[2]
    assert len(entries(db, "report.code_limited")) == 1
