"""A push service that answers slowly holds up one send for at most PUSH_TIMEOUT_SECONDS in all, and never an
urgent alert (issue 12). Real HTTP servers on 127.0.0.1 (tests/notifications/local_push.py), one of which
dribbles its answer a byte at a time; the dispatcher is the real `bintang worker` loop in a thread."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace

import pytest
from sqlmodel import Session

from server import worker
from server.notifications import dispatcher, outbox, push
from server.notifications.models import JobStatus, NotificationJob
from server.notifications.push import Device, Outcome
from tests.notifications.dispatch_support import Phone, person
from tests.notifications.local_push import local_push_service, wait_until


@pytest.fixture
def settings(settings):
    return replace(settings, vapid_private_key=push.generate_private_key())


def status_of(engine, job_id: int) -> str:
    with Session(engine) as session:
        return session.get(NotificationJob, job_id).status


def test_a_push_service_that_dribbles_its_answer_is_given_up_when_the_timeout_has_passed_in_all(settings):
    with local_push_service(dribble=0.2) as slow:
        sender = worker.make_sender(replace(settings, push_timeout_seconds=1.0, push_allowed_hosts=(slow.host,)))
        phone = Phone()
        ended: dict[str, object] = {}

        def send() -> None:
            started = time.monotonic()
            ended["outcome"] = sender.send(Device(slow.endpoint("phone"), phone.p256dh, phone.auth), b'{"a":1}',
                                           ttl=60, urgency="normal", topic="t")
            ended["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        thread.join(3.0)
        finished_in_time = not thread.is_alive()
    thread.join(10.0)  # stopping the service above ends a send that was still reading
    assert finished_in_time, "the send still waited for the answer 3 s into a 1 s timeout"
    assert ended["outcome"] == Outcome(0, reason="timeout")
    assert 1.0 <= ended["seconds"] < 2.0
    assert len(slow.arrivals) == 1


@pytest.mark.parametrize("urgency", ["normal", "high"])
def test_an_emergency_alert_leaves_while_a_slow_push_service_still_holds_another_send(
        db, engine, settings, urgency):
    with local_push_service(dribble=2.0) as slow, local_push_service() as fast:
        settings = replace(settings, push_timeout_seconds=30.0, dispatch_interval_seconds=0.1,
                           push_allowed_hosts=(slow.host, fast.host))
        parent, counselor = person(db, "orangtua"), person(db, "konselor")
        db.add(Phone().subscription(slow.endpoint("parent"), user_id=parent.id))
        db.add(Phone().subscription(fast.endpoint("counselor"), user_id=counselor.id))
        # Something ordinary, or another urgent alert, to a device whose push service dribbles its answer.
        [news] = outbox.enqueue(db, "case_status", url="/laporan-saya/7", topic="report-7-reporter",
                                user_ids=[parent.id], urgency=urgency)
        db.commit()
        stop = threading.Event()
        dispatcher_thread = threading.Thread(target=worker.run_until, args=(stop, engine, settings), daemon=True)
        dispatcher_thread.start()
        try:
            assert slow.wait_for(lambda arrivals: len(arrivals) == 1, 10.0), "the slow send never started"

            [alert] = outbox.enqueue(db, "emergency_report", url="/kasus/7", topic="report-7-urgent",
                                     user_ids=[counselor.id], urgency="high")
            db.commit()
            committed = time.monotonic()

            # The behaviour, not a timing a loaded CI machine cannot promise: the alert leaves long
            # before the slow send could end (a quarter of its 30 s timeout), and the slow one is still unanswered.
            deadline = settings.push_timeout_seconds / 4
            assert fast.wait_for(lambda arrivals: len(arrivals) == 1, deadline), \
                "the emergency alert waited behind the slow push service"
            assert fast.arrivals[0].at - committed < deadline
            assert wait_until(lambda: status_of(engine, alert.id) == JobStatus.SENT, deadline)
            assert status_of(engine, news.id) == JobStatus.SENDING  # the slow one is still being answered
        finally:
            stop.set()
            slow.stop()  # ends the slow send at once
            dispatcher_thread.join(15.0)
        assert not dispatcher_thread.is_alive()


# libfaketime (make test-later-clock) breaks CPython's timed waits (a thread in one spins, and 40 threads hashing take
# 2.4 s instead of 0.11 s), so a deadline there measures libfaketime. There the test holds the order only: every
# healthy device has its alert while the black holes' sends are still unanswered.
UNDER_LIBFAKETIME = "libfaketime" in os.environ.get("LD_PRELOAD", "")
BURST_PUSH_TIMEOUT = 60.0


@pytest.mark.both_databases  # many jobs claimed and finished at once, from many threads
def test_twenty_emergencies_at_once_reach_every_healthy_device_while_two_black_holes_still_hang(
        db, engine, settings):
    """Issue 19: a job used to hold its place in the urgent lane until its slowest device timed out, so a burst of
    emergencies to people with a device that never answers kept the alerts of everyone else waiting (20 at once:
    20.5 s with a 10 s push timeout). Each device's send now ends on its own."""
    with local_push_service(silent=True) as hole, local_push_service() as fast:
        settings = replace(settings, push_timeout_seconds=BURST_PUSH_TIMEOUT, dispatch_interval_seconds=0.1,
                           push_allowed_hosts=(hole.host, fast.host))
        counselor, counselor2, supervisor = (person(db, name) for name in ("konselor", "konselor2", "supervisor"))
        # Two devices whose push service takes the request and never answers: the counselor's only one, and the
        # supervisor's old phone beside her healthy one.
        db.add(Phone().subscription(hole.endpoint("counselor"), user_id=counselor.id))
        db.add(Phone().subscription(hole.endpoint("supervisor-old-phone"), user_id=supervisor.id))
        db.add(Phone().subscription(fast.endpoint("supervisor"), user_id=supervisor.id))
        db.add(Phone().subscription(fast.endpoint("counselor2"), user_id=counselor2.id))
        db.commit()
        stop = threading.Event()
        dispatcher_thread = threading.Thread(target=worker.run_until, args=(stop, engine, settings), daemon=True)
        dispatcher_thread.start()
        try:
            alerts = [job for n in range(20) for job in outbox.enqueue(
                db, "emergency_report", url=f"/kasus/{n}", topic=f"report-{n}-urgent",
                user_ids=[counselor.id, supervisor.id, counselor2.id], urgency="high")]
            db.commit()
            committed = time.monotonic()

            # Waits far longer than the promise, so that a failure says how late the alerts were.
            assert fast.wait_for(lambda arrivals: len(arrivals) >= 40, 2 * BURST_PUSH_TIMEOUT), \
                "the healthy devices never got all 40"
            paths = sorted(arrival.head.split(b" ")[1].decode() for arrival in fast.arrivals)
            assert paths == ["/send/counselor2"] * 20 + ["/send/supervisor"] * 20
            worst = max(arrival.at for arrival in fast.arrivals) - committed
            # Before, the alerts behind a black hole waited for its timeout (60 s here) at least. How fast they are
            # now (0.16-0.57 s on a loaded 2-core machine) is a timing, not a promise a busy CI machine can hold: the
            # test holds the behaviour, every healthy alert long before any black-holed send could have ended.
            promise = 2 * BURST_PUSH_TIMEOUT if UNDER_LIBFAKETIME else BURST_PUSH_TIMEOUT / 4
            assert worst < promise, f"the last healthy device got its alert {worst:.1f} s after the emergencies"
            healthy = [job.id for job in alerts if job.recipient_user_id != counselor.id]
            assert wait_until(lambda: all(status_of(engine, job_id) == JobStatus.SENT for job_id in healthy),
                              promise - (time.monotonic() - committed))
            # The black holes hold their own sends, each for its own 60 s, and no one else's: the counselor's alerts
            # are still unanswered, the push service that never answers has its 32 places, and its other 8 sends
            # wait for one.
            assert {status_of(engine, job.id) for job in alerts if job.recipient_user_id == counselor.id} == {
                JobStatus.SENDING}
            assert hole.wait_for(lambda arrivals: len(arrivals) >= dispatcher.SENDS_PER_SERVICE, 5.0)
            assert len(hole.arrivals) == dispatcher.SENDS_PER_SERVICE == 32
        finally:
            stop.set()
            hole.stop()  # ends the sends still waiting for an answer
            dispatcher_thread.join(15.0)
        assert not dispatcher_thread.is_alive()
