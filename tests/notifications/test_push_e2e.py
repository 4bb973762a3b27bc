"""Push from end to end against a real local push service (web-push-testing, see tests/pushservice.py): a page
subscribes with the app's VAPID key, a parent books and the counselor answers through the pages, the dispatcher
sends, and the push service, which checks the VAPID signature and decrypts like a browser, gives back what the
phone would show. A subscription the push service calls gone (410) is deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from server import worker
from server.accounts.models import Child
from server.notifications import dispatcher
from server.notifications.models import JobStatus, NotificationJob, PushSubscription
from server.notifications.push import ack_token
from tests.pushservice import PushService, push_service
from tests.support.appointments import (
    book,
    booked_id,
    booking_page,
    counseling,
    day_links,
    form_post,
    fresh,
    person,
    slot_keys,
)
from tests.support.notifications import subscribe, tag

# The local push service checks the VAPID signature's expiry against the real time.
pytestmark = pytest.mark.real_clock

NOTE = "Anak saya sulit tidur sejak dirundung di sekolah."
NEWS = "Bintang Ceria: ada kabar baru untuk Anda"
REMINDER = "Bintang Ceria: ada pengingat untuk Anda"


@pytest.fixture
def push() -> Iterator[PushService]:
    with push_service() as service:
        yield service


@pytest.fixture
def settings(settings, push):
    """The local push service is on 127.0.0.1 over http: only PUSH_ALLOWED_HOSTS lets the app send there."""
    return replace(settings, push_allowed_hosts=(push.host,))


def run_dispatcher(engine, settings, *, now=None) -> dispatcher.Stats:
    """One round of `bintang worker` (at a later `now`, only the dispatcher: reminders come due)."""
    sender = worker.make_sender(settings)
    if now is None:
        return worker.tick(engine, sender, settings)
    return dispatcher.drain(engine, sender, now=now)


def jobs(db, appointment_id: int, kind: str) -> list[NotificationJob]:
    db.expire_all()
    return list(db.execute(select(NotificationJob).where(
        NotificationJob.object_id == appointment_id, NotificationJob.kind == kind).order_by(NotificationJob.id)
    ).scalars())


def parent_books(client, db) -> int:
    """The last time of the last day offered: days away, so that the reminder a day before is still to come."""
    service_type = counseling(db)
    dimas = db.execute(select(Child).where(Child.nickname == "Dimas")).scalar_one()
    last_day = day_links(booking_page(client, service_type))[-1]
    slot = slot_keys(client.get(last_day, headers={"HX-Request": "true"}).text)[-1]
    return booked_id(book(client, service_type, slot=slot, child_id=dimas.id, note=NOTE))


def counselor_confirms(client, db, appointment_id: int) -> None:
    response = form_post(client, f"/jadwal/{appointment_id}/konfirmasi",
                         {"version": fresh(db, appointment_id).version})
    assert response.status_code == 303, response.text


def assert_tells_nothing(messages: list[str], db) -> None:
    """A lock screen may be read by anyone: no person, child, note or service in what the push service got."""
    secrets = [NOTE, "Dimas", "Konseling individu", "Kantor layanan", person(db, "orangtua").display_name,
               person(db, "konselor").display_name, "orangtua", "konselor"]
    for message in messages:
        assert not [secret for secret in secrets if secret.lower() in message.lower()], message


def test_it_pushes_the_request_to_the_counselor_and_the_answer_to_the_parent(as_user, db, engine, settings, push):
    parent, counselor = as_user("orangtua"), as_user("konselor")
    parent_phone, counselor_phone = subscribe(parent, push), subscribe(counselor, push)

    appointment_id = parent_books(parent, db)
    stats = run_dispatcher(engine, settings)
    assert (stats.sent, stats.failed, stats.retried) == (1, 0, 0)
    [requested] = jobs(db, appointment_id, "appointment_requested")
    assert requested.status == JobStatus.SENT
    assert requested.recipient_user_id == person(db, "konselor").id
    assert push.payloads(counselor_phone) == [{
        "title": "Bintang Ceria", "body": NEWS, "url": f"/jadwal/{appointment_id}",
        "tag": tag(settings, requested.topic, counselor_phone)}]
    assert push.messages(parent_phone) == []

    counselor_confirms(counselor, db, appointment_id)
    stats = run_dispatcher(engine, settings)
    assert (stats.sent, stats.failed, stats.retried) == (1, 0, 0)  # the reminders wait for their time
    [confirmed] = jobs(db, appointment_id, "appointment_confirmed")
    assert confirmed.status == JobStatus.SENT
    assert confirmed.topic == f"appt-{appointment_id}-appointment_confirmed"
    [message] = push.messages(parent_phone)
    assert json.loads(message) == {"title": "Bintang Ceria", "body": NEWS, "url": f"/konseling/{appointment_id}",
                                   "tag": tag(settings, confirmed.topic, parent_phone)}
    assert len(push.messages(counselor_phone)) == 1
    assert_tells_nothing(push.messages(parent_phone) + push.messages(counselor_phone), db)
    # Tapping the notification opens a page its reader may see.
    assert parent.get(json.loads(message)["url"]).status_code == 200
    assert counselor.get(f"/jadwal/{appointment_id}").status_code == 200


def test_it_deletes_a_subscription_the_push_service_says_is_gone(as_user, db, engine, settings, push):
    parent, counselor = as_user("orangtua"), as_user("konselor")
    parent_phone, counselor_phone = subscribe(parent, push), subscribe(counselor, push)
    appointment_id = parent_books(parent, db)
    counselor_confirms(counselor, db, appointment_id)
    run_dispatcher(engine, settings)
    assert len(push.messages(parent_phone)) == 1

    push.expire(parent_phone)
    response = form_post(counselor, f"/jadwal/{appointment_id}/batal",
                         {"version": fresh(db, appointment_id).version, "reason": "Konselor sakit."})
    assert response.status_code == 303, response.text
    stats = run_dispatcher(engine, settings)

    assert (stats.claimed, stats.no_device, stats.sent) == (1, 1, 0)
    [cancelled] = jobs(db, appointment_id, "appointment_cancelled")
    assert cancelled.status == JobStatus.NO_DEVICE
    assert cancelled.recipient_user_id == person(db, "orangtua").id
    endpoints = set(db.execute(select(PushSubscription.endpoint)).scalars())
    assert endpoints == {counselor_phone.endpoint}  # only the gone one
    assert len(push.messages(parent_phone)) == 1
    # The in-app list still has it, and nothing is tried again.
    assert "dibatalkan" in parent.get("/notifikasi").text
    assert run_dispatcher(engine, settings).claimed == 0


def test_it_sends_the_reminder_a_day_before_with_the_reminder_text(as_user, db, engine, settings, push):
    parent, counselor = as_user("orangtua"), as_user("konselor")
    parent_phone, counselor_phone = subscribe(parent, push), subscribe(counselor, push)
    appointment_id = parent_books(parent, db)
    counselor_confirms(counselor, db, appointment_id)
    run_dispatcher(engine, settings)
    reminders = jobs(db, appointment_id, "reminder_24h")
    starts_at = fresh(db, appointment_id).starts_at
    assert {job.recipient_user_id for job in reminders} == {person(db, "orangtua").id, person(db, "konselor").id}
    assert all(job.due_at == starts_at - timedelta(hours=24) and job.status == JobStatus.PENDING for job in reminders)

    stats = run_dispatcher(engine, settings, now=reminders[0].due_at + timedelta(minutes=1))

    assert (stats.sent, stats.failed, stats.retried) == (2, 0, 0)
    expected = {"title": "Bintang Ceria", "body": REMINDER, "url": f"/konseling/{appointment_id}"}
    topic = f"appt-{appointment_id}-reminder_24h"
    # The parent's reminder is laddered: it carries its job's id and token for the service worker's "shown"
    # acknowledgement (nothing else); the counselor's is not.
    [parent_job] = [job for job in reminders if job.recipient_user_id == person(db, "orangtua").id]
    ack = {"job": parent_job.id, "t": ack_token(settings.secret_key, parent_job.id)}
    assert push.payloads(parent_phone)[-1] == {**expected, "tag": tag(settings, topic, parent_phone), "ack": ack}
    assert push.payloads(counselor_phone)[-1] == {**expected, "tag": tag(settings, topic, counselor_phone)}
    assert counselor.get(expected["url"]).status_code == 200
    assert [job.status for job in jobs(db, appointment_id, "reminder_24h")] == [JobStatus.SENT] * 2
    assert {job.status for job in jobs(db, appointment_id, "reminder_1h")} == {JobStatus.PENDING}
    assert_tells_nothing(push.messages(parent_phone) + push.messages(counselor_phone), db)
