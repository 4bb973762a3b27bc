"""Leases renewed job by job, and errors that are nobody's fault of the push service: a batch that outlasts its
lease never sends a job another dispatcher took over, and a job that keeps failing inside the dispatcher ends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server import clock
from server.notifications import dispatcher, outbox
from server.notifications.models import JobStatus, NotificationJob
from server.worker import make_sender
from tests.notifications.dispatch_support import FakeResponse, FakeTransport, person, subscription

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL


def _job(db, endpoint: str) -> int:
    parent = person(db, "orangtua")
    db.add(subscription(endpoint, user_id=parent.id))
    [job] = outbox.enqueue(db, "case_message", url="/laporan-saya/1", topic="lease", user_ids=[parent.id])
    db.commit()
    return job.id


def test_a_job_taken_over_while_waiting_in_a_slow_batch_is_left_to_its_new_holder(db, engine, settings):
    job_id = _job(db, "https://push.example.net/a")
    transport = FakeTransport(lambda _url: FakeResponse(201))
    sender = make_sender(settings, session=transport)
    now = clock.now()
    assert dispatcher.claim(engine, "slow", lease_seconds=60, now=now) == [job_id]
    # The slow dispatcher's batch took longer than its lease; another one took the job over in the meantime.
    later = now + timedelta(seconds=61)
    assert dispatcher.claim(engine, "quick", lease_seconds=60, now=later) == [job_id]
    assert dispatcher.process(engine, sender, job_id, "slow", max_attempts=5, now=later) == "lost"
    assert transport.requests == []
    assert dispatcher.process(engine, sender, job_id, "quick", max_attempts=5, now=later) == JobStatus.SENT
    assert len(transport.requests) == 1


def test_each_job_gets_a_fresh_lease_when_its_turn_comes(db, engine, settings):
    job_id = _job(db, "https://push.example.net/b")
    sender = make_sender(settings, session=FakeTransport(lambda _url: FakeResponse(201)))
    now = clock.now()
    dispatcher.claim(engine, "w", lease_seconds=60, now=now)
    # Its turn comes 50 s into the batch: the lease now runs from then, so nobody may take it for another 60 s.
    assert dispatcher._renew(engine, job_id, "w", 60, now + timedelta(seconds=50))
    assert dispatcher.claim(engine, "other", lease_seconds=60, now=now + timedelta(seconds=100)) == []
    assert dispatcher.process(engine, sender, job_id, "w", max_attempts=5, now=now + timedelta(seconds=100)) == "sent"


def test_a_job_that_keeps_breaking_the_dispatcher_ends_failed_after_the_last_try(db, engine, settings):
    job_id = _job(db, "https://push.example.net/c")

    def broken(_url: str) -> FakeResponse:
        raise RuntimeError("a bug, not the push service")

    # RuntimeError is no requests error: it escapes the sender, as a bug in our own code would.
    sender = make_sender(settings, session=FakeTransport(broken))
    now = clock.now()
    outcomes = []
    for _attempt in range(3):
        stats = dispatcher.dispatch_once(engine, sender, worker="w", max_attempts=3, now=now)
        outcomes.append((stats.claimed, stats.retried, stats.failed))
        now += timedelta(hours=2)
    assert outcomes == [(1, 1, 0), (1, 1, 0), (1, 0, 1)]
    db.expire_all()
    job = db.get(NotificationJob, job_id)
    assert job.status == JobStatus.FAILED
    assert job.last_error == "gave up after 3 tries: internal error"
