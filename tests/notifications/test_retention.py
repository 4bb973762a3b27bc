"""Retention as the worker's duty: one round purges what has expired (sessions, rate-limit counters that hold
addresses, notification jobs long finished) and keeps everything still live."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server import clock, worker
from server.accounts.models import CaseSession, WebSession
from server.models import RateLimitCounter
from server.notifications.models import JobStatus, NotificationJob
from tests.notifications.dispatch_support import person
from tests.support.reports import make_report


def test_one_worker_round_purges_what_expired_and_keeps_what_is_live(app, db, settings):
    now = clock.now()
    konselor = person(db, "konselor")
    report = make_report(app, db).report
    idle = timedelta(minutes=settings.session_idle_minutes)
    too_long = timedelta(hours=settings.session_max_hours)
    db.add_all([
        WebSession(id="web-idle", user_id=konselor.id, created_at=now - idle * 2, last_seen_at=now - idle * 2),
        WebSession(id="web-too-long", user_id=konselor.id, created_at=now - too_long * 2, last_seen_at=now),
        WebSession(id="web-live", user_id=konselor.id, created_at=now, last_seen_at=now),
        CaseSession(id="case-idle", report_id=report.id, created_at=now - idle * 2, last_seen_at=now - idle * 2),
        CaseSession(id="case-too-long", report_id=report.id, created_at=now - too_long * 2, last_seen_at=now),
        CaseSession(id="case-live", report_id=report.id, created_at=now, last_seen_at=now),
        RateLimitCounter(key="code:address:198.51.100.7", window_start=now - timedelta(days=2), count=3),
        RateLimitCounter(key="code:address:198.51.100.8", window_start=now - timedelta(minutes=5), count=3),
        NotificationJob(kind="case_message", recipient_user_id=konselor.id, url="/kasus/1", topic="old",
                        status=JobStatus.SENT, created_at=now - timedelta(days=200), due_at=now - timedelta(days=200)),
        NotificationJob(kind="case_message", recipient_user_id=konselor.id, url="/kasus/1", topic="recent",
                        status=JobStatus.SENT, created_at=now - timedelta(days=3), due_at=now - timedelta(days=3)),
        NotificationJob(kind="reminder_24", recipient_user_id=konselor.id, url="/jadwal", topic="later",
                        status=JobStatus.PENDING, created_at=now - timedelta(days=200), due_at=now + timedelta(days=1)),
    ])
    db.commit()

    worker.tick(app.state.engine, worker.make_sender(settings), settings)

    db.expire_all()
    assert set(db.execute(select(WebSession.id)).scalars()) == {"web-live"}
    assert set(db.execute(select(CaseSession.id)).scalars()) == {"case-live"}
    kept = set(db.execute(select(RateLimitCounter.key)).scalars())
    assert "code:address:198.51.100.8" in kept
    assert "code:address:198.51.100.7" not in kept
    assert set(db.execute(select(NotificationJob.topic)).scalars()) == {"recent", "later"}


def test_failed_attempts_are_purged_once_no_delay_remembers_them(app, db, settings):
    """Failures hold client addresses (and now one row per secret and address): kept only while a delay may
    still count them. They were never purged before."""
    from server.models import AttemptThrottle

    now = clock.now()
    memory = timedelta(hours=max(settings.login_forget_hours, 24))
    db.add_all([
        AttemptThrottle(key="signin:account:konselor|address:198.51.100.7", failures=3,
                        last_failure_at=now - memory - timedelta(minutes=1)),
        AttemptThrottle(key="signin:account:konselor|address:198.51.100.8", failures=3,
                        last_failure_at=now - memory + timedelta(minutes=1)),
    ])
    db.commit()

    purged = worker.purge(app.state.engine, settings)

    assert purged["attempt_throttles"] == 1
    db.expire_all()
    assert set(db.execute(select(AttemptThrottle.key)).scalars()) == {"signin:account:konselor|address:198.51.100.8"}
