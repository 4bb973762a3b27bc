"""Each device's send ends on its own (issue 19): a job counts as sent the moment one of the person's devices has
it, whatever another device's push service still takes; a push service that never answers holds only its own
places in the pool; and a dispatcher that stops starts no send that had not started and gives the job back."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlmodel import Session

from server import clock
from server.notifications import dispatcher, outbox, push
from server.notifications.models import JobStatus, NotificationJob
from server.worker import make_sender
from tests.notifications.dispatch_support import FakeResponse, FakeTransport, person, subscription
from tests.notifications.local_push import wait_until

HEALTHY = "https://push.example.net/send/healthy"
STUCK = "https://stuck.example.org/send/old-phone"


@pytest.fixture
def settings(settings):
    return replace(settings, vapid_private_key=push.generate_private_key())


def job_now(engine, job_id: int) -> NotificationJob:
    with Session(engine) as session:
        return session.get(NotificationJob, job_id)


@pytest.mark.both_databases  # claims, leases and finishes from several threads
def test_a_job_is_sent_the_moment_one_device_has_it_and_the_slow_one_is_noted_when_it_ends(db, engine, settings):
    counselor = person(db, "konselor")
    db.add(subscription(STUCK, user_id=counselor.id))
    db.add(subscription(HEALTHY, user_id=counselor.id))
    [job] = outbox.enqueue(db, "emergency_report", url="/kasus/7", topic="report-7-urgent",
                           user_ids=[counselor.id], urgency="high")
    db.commit()
    answer_now = threading.Event()

    def answer(url: str) -> FakeResponse | Exception:
        if url == STUCK:
            answer_now.wait(30)  # a push service that does not answer (until the test lets it time out)
            return TimeoutError("no answer")
        return FakeResponse(201)

    sender = make_sender(settings, session=FakeTransport(answer))
    ended: list[str] = []
    worker = threading.Thread(target=lambda: ended.append(
        dispatcher.process(engine, sender, job.id, "w", max_attempts=5)), daemon=True)
    assert dispatcher.claim(engine, "w", now=clock.now()) == [job.id]
    worker.start()
    try:
        # Sent while the other device's send is still waiting: the alert is not held by it.
        assert wait_until(lambda: job_now(engine, job.id).status == JobStatus.SENT, 10.0)
        assert worker.is_alive()
        sent = job_now(engine, job.id)
        assert (sent.last_error, sent.lease_until, sent.sent_at) == ("", None, clock.now())
    finally:
        answer_now.set()
    worker.join(10)
    assert ended == [JobStatus.SENT]
    assert job_now(engine, job.id).last_error == "1/2 devices"


def test_a_push_service_that_never_answers_holds_only_its_own_places():
    started: list[str] = []
    release = threading.Event()
    pool = dispatcher.SendPool(limit=8, per_service=2)

    def send(name: str) -> None:
        started.append(name)
        if name.startswith("stuck"):
            release.wait(30)

    try:
        for n in range(5):
            pool.submit("https://stuck.example.org:", lambda n=n: send(f"stuck-{n}"), lambda: None)
        for n in range(5):
            pool.submit("https://push.example.net:", lambda n=n: send(f"healthy-{n}"), lambda: None)
        assert wait_until(lambda: len(started) == 7, 5.0)
        assert sorted(started) == ["healthy-0", "healthy-1", "healthy-2", "healthy-3", "healthy-4",
                                   "stuck-0", "stuck-1"]  # three stuck sends wait for their service's places
    finally:
        release.set()
    assert pool.wait_idle(5.0)
    assert sorted(started)[-3:] == ["stuck-2", "stuck-3", "stuck-4"]


@pytest.mark.both_databases
def test_a_stopping_dispatcher_starts_no_waiting_send_and_gives_its_job_back_at_once(db, engine, settings):
    parent = person(db, "orangtua")
    db.add(subscription(HEALTHY, user_id=parent.id))
    [job] = outbox.enqueue(db, "case_message", url="/laporan-saya/1", topic="report-1-reporter", user_ids=[parent.id])
    db.commit()
    transport = FakeTransport(lambda _url: FakeResponse(201))
    stop = threading.Event()
    release = threading.Event()
    # The pool's one place is taken by another send, so this job's send waits; then the dispatcher is stopped.
    pool = dispatcher.SendPool(limit=1, stop=stop)
    pool.submit("https://other.example.net:", lambda: release.wait(30), lambda: None)
    claimed = dispatcher.claim(engine, "w", now=clock.now())
    flights, endings = dispatcher._start_claimed(engine, make_sender(settings, session=transport), pool, claimed,
                                                 "w", max_attempts=5, lease_seconds=60, now=None, stopping=stop)
    assert (len(flights), endings) == (1, [])
    pool.halt()
    assert flights[0].done.wait(5.0)
    release.set()
    assert flights[0].ending == "released"
    assert transport.requests == []
    given_back = job_now(engine, job.id)
    assert (given_back.status, given_back.claimed_by, given_back.lease_until, given_back.attempts,
            given_back.last_error) == (JobStatus.PENDING, "", None, 0, "released: dispatcher stopped")
    assert dispatcher.claim(engine, "another", now=clock.now()) == [job.id]  # at once, by anyone
