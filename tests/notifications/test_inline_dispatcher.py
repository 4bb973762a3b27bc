"""A single-process install: the app process itself sends notifications and lets lapsed requests go
(DISPATCHER=inline, the default), and with DISPATCHER=off it leaves both to `bintang worker`."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from server import clock
from server.appointments.models import Appointment, AppointmentStatus
from server.notifications import outbox
from server.notifications.models import JobStatus, NotificationJob
from tests.servers import app_process
from tests.support.appointments import appointment_for, counseling, person

DEADLINE = 30.0


def _wait_for(db, condition) -> bool:
    """Poll the database until `condition()` holds or the deadline passes."""
    pause = threading.Event()
    waited = 0.0
    while waited < DEADLINE:
        db.expire_all()
        if condition():
            return True
        pause.wait(0.1)
        waited += 0.1
    return False


def test_the_app_process_sends_due_notifications_and_expires_lapsed_requests(db, database_url, tmp_path):
    parent = person(db, "orangtua")
    [job] = outbox.enqueue(db, "appointment_confirmed", url="/konseling/1", topic="inline", user_ids=[parent.id])
    appointment = appointment_for(db, counseling(db))
    appointment.hold_expires_at = clock.now() - timedelta(minutes=1)
    db.commit()
    with app_process(database_url, tmp_path / "var", DISPATCHER="inline", DISPATCH_INTERVAL_SECONDS="0.1"):
        # No device is subscribed: the job ends `no_device` (it stays in the in-app list).
        assert _wait_for(db, lambda: db.get(NotificationJob, job.id).status == JobStatus.NO_DEVICE)
        assert _wait_for(db, lambda: db.get(Appointment, appointment.id).status == AppointmentStatus.EXPIRED)
        expired_notice = db.execute(select(NotificationJob).where(
            NotificationJob.kind == "appointment_expired", NotificationJob.object_id == appointment.id)).scalars().all()
        assert [j.recipient_user_id for j in expired_notice] == [parent.id]


def test_with_the_dispatcher_off_the_app_leaves_jobs_to_the_worker(db, database_url, tmp_path):
    parent = person(db, "orangtua")
    [job] = outbox.enqueue(db, "appointment_confirmed", url="/konseling/1", topic="off", user_ids=[parent.id])
    db.commit()
    with app_process(database_url, tmp_path / "var", DISPATCHER="off", DISPATCH_INTERVAL_SECONDS="0.1") as base_url:
        import httpx

        # The process is up and serving; a round of the dispatcher would have taken well under this.
        for _ in range(20):
            assert httpx.get(f"{base_url}/healthz").status_code == 200
        db.expire_all()
        assert db.get(NotificationJob, job.id).status == JobStatus.PENDING
