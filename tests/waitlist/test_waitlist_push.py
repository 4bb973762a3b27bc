"""The waiting list's offer from end to end against the real local push service (web-push-testing, see
tests/pushservice.py): a parent's phone subscribes, the parent joins the list from the booking page, the counselor
cancels a session, the worker's round offers the time and sends it. The push arrives once, in neutral words, and
opens the offer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from server import clock, worker
from server.appointments.models import Appointment, AppointmentStatus, ServiceType, WeeklyHours
from server.appointments.slots import free_slots
from server.notifications.models import JobStatus, NotificationJob
from server.waitlist.models import EntryStatus, WaitlistEntry
from tests.pushservice import PushService, push_service
from tests.support.appointments import person
from tests.support.notifications import subscribe, tag
from tests.support.web import post_form

# The local push service checks the VAPID signature's expiry against the real time.
pytestmark = pytest.mark.real_clock

NEWS = "Bintang Ceria: ada kabar baru untuk Anda"
SERVICE_NAME = "Pendampingan keluarga"


@pytest.fixture
def push() -> Iterator[PushService]:
    with push_service() as service:
        yield service


@pytest.fixture
def settings(settings, push):
    """The test runs on the real clock, at any hour: offers are not held back for the night here."""
    return replace(settings, push_allowed_hosts=(push.host,), waitlist_quiet_hours=False)


@pytest.fixture
def full_service(db) -> ServiceType:
    """One counselor, one hour a day for this service, every hour of its two-day window booked."""
    service_type = ServiceType(name=SERVICE_NAME, duration_minutes=60, buffer_after_minutes=0, min_notice_hours=0,
                               max_days_ahead=2)
    db.add(service_type)
    db.flush()
    counselor = person(db, "konselor")
    db.add_all(WeeklyHours(counselor_id=counselor.id, weekday=day, starts=time(9), ends=time(10),
                           service_type_id=service_type.id) for day in range(7))
    db.flush()
    found = free_slots(db, service_type, now=clock.now(), days=4)
    for slot in [slot for day in found.values() for slot in day]:
        db.add(Appointment(counselor_id=counselor.id, service_type_id=service_type.id, starts_at=slot.starts_at,
                           ends_at=slot.ends_at, block_start=slot.starts_at, block_end=slot.ends_at,
                           status=AppointmentStatus.CONFIRMED))
    db.commit()
    return service_type


def test_the_first_in_line_is_pushed_the_offer_once_in_neutral_words(as_user, db, engine, settings, push,
                                                                     full_service):
    parent, counselor = as_user("orangtua"), as_user("konselor")
    phone = subscribe(parent, push)
    booking = parent.get(f"/konseling?layanan={full_service.id}")
    assert booking.status_code == 200
    assert "Masuk daftar tunggu" in booking.text
    joined = post_form(parent, "/daftar-tunggu", {"layanan": full_service.id}, token_from="/konseling",
                       follow_redirects=False)
    assert joined.status_code == 303

    sender = worker.make_sender(settings)
    worker.tick(engine, sender, settings)
    assert push.messages(phone) == []  # nothing is free yet

    booked = db.execute(select(Appointment).where(Appointment.status == AppointmentStatus.CONFIRMED)
                        .order_by(Appointment.starts_at.desc())).scalars().first()
    cancelled = post_form(counselor, f"/jadwal/{booked.id}/batal", {"version": booked.version, "reason": "Sakit"},
                          token_from="/jadwal", follow_redirects=False)
    assert cancelled.status_code == 303, cancelled.text

    worker.tick(engine, sender, settings)
    worker.tick(engine, sender, settings)  # a second round sends nothing again
    db.expire_all()
    entry = db.execute(select(WaitlistEntry)).scalar_one()
    assert entry.status == EntryStatus.OFFERED
    [job] = db.execute(select(NotificationJob).where(NotificationJob.kind == "waitlist_offer")).scalars().all()
    assert job.status == JobStatus.SENT
    assert push.payloads(phone) == [{"title": "Bintang Ceria", "body": NEWS, "url": f"/daftar-tunggu/{entry.id}",
                                     "tag": tag(settings, job.topic, phone)}]
    [message] = push.messages(phone)
    for secret in (SERVICE_NAME, "konseling", "daftar tunggu", person(db, "konselor").display_name, "orangtua"):
        assert secret.lower() not in message.lower().replace("/daftar-tunggu/", "")
    # Tapping it opens the offer, for its owner only.
    offer = parent.get(f"/daftar-tunggu/{entry.id}")
    assert offer.status_code == 200
    assert "Ambil waktu ini" in offer.text
    assert db.get(Appointment, entry.offer_appointment_id).starts_at == booked.starts_at
    assert entry.offer_expires_at <= clock.now() + timedelta(minutes=30)
