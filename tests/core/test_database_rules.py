"""Rules the database itself keeps, checked on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from server import audit, migrate, ratelimit
from server.models import AuditEntry
from tests.support.database import execute_and_commit

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL


def test_the_audit_log_refuses_updates_and_deletes(db):
    audit.record(db, "test.entry", actor_label="tester")
    db.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        execute_and_commit(db, update(AuditEntry).values(action="forged"))
    db.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        execute_and_commit(db, delete(AuditEntry))
    db.rollback()
    assert db.execute(text("SELECT count(*) FROM audit_entry WHERE action = 'test.entry'")).scalar_one() == 1


def test_rate_limit_counts_atomically_per_window(db):
    window = timedelta(minutes=15)
    now = datetime(2026, 11, 30, 1, 2, tzinfo=UTC)
    assert [ratelimit.hit(db, "k", window, now) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.count(db, "k", window, now) == 3
    assert ratelimit.count(db, "k", window, now + window) == 0
    ratelimit.reset(db, "k")
    assert ratelimit.count(db, "k", window, now) == 0


def test_times_come_back_aware_and_in_utc(db):
    entry = audit.record(db, "test.time")
    db.commit()
    db.expire_all()
    stored = db.get(AuditEntry, entry.id)
    assert stored.at.tzinfo is not None
    assert stored.at.utcoffset() == timedelta(0)


def test_migrations_reach_head_and_match_the_models(engine):
    migrate.upgrade(engine)
    migrate.check(engine)
