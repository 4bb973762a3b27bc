"""The ladder's pages: a person agrees to WhatsApp/SMS reminders for their own number on their account's
notification settings (a child on their own account; nobody for another); the counselor sees how each reminder
went and the call to make; supervisors see the share of sessions whose reminder reached someone, per month."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from server import worker
from server.accounts.models import Child
from server.accounts.visitor import Visitor
from server.appointments.models import Appointment, CallTask
from server.notifications import consent, dispatcher, push
from server.notifications.models import ChannelConsent, NotificationJob
from tests.messaging import StandIn, messaging_stand_in
from tests.notifications.dispatch_support import FakeResponse, FakeTransport
from tests.support.appointments import (
    appointment_for,
    book,
    booked_id,
    booking_page,
    counseling,
    form_post,
    person,
)


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    with messaging_stand_in() as service:
        yield service


@pytest.fixture
def settings(settings, stand_in):
    return replace(settings, vapid_private_key=push.generate_private_key(), **stand_in.whatsapp_settings,
                   **stand_in.sms_settings)


def consents(db) -> list[ChannelConsent]:
    db.expire_all()
    return list(db.execute(select(ChannelConsent).order_by(ChannelConsent.id)).scalars())


def test_a_parent_agrees_for_their_own_number_and_can_change_their_mind(as_user, db):
    parent = as_user("orangtua")
    assert "Pengingat lewat WhatsApp atau SMS" in parent.get("/notifikasi/pengaturan").text

    wrong = form_post(parent, "/notifikasi/nomor", {"nomor": "0511 477212", "saluran": ["whatsapp"]})
    assert wrong.status_code == 422
    assert "WhatsApp perlu nomor HP" in wrong.text
    assert 'value="0511 477212"' in wrong.text
    assert consents(db) == []

    saved = form_post(parent, "/notifikasi/nomor", {"nomor": "0812-3456-7890", "saluran": ["whatsapp", "sms"]})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/notifikasi/pengaturan?nomor=1#nomor"
    [row] = consents(db)
    assert (row.user_id, row.phone, row.whatsapp, row.sms, row.show_service_name) == (
        person(db, "orangtua").id, "+6281234567890", True, True, False)
    page = parent.get("/notifikasi/pengaturan?nomor=1").text
    assert "Pilihan Anda sudah disimpan." in page
    assert "0812-3456-7890" in page

    # Nothing ticked: withdrawn, with when and how; the history stays.
    assert form_post(parent, "/notifikasi/nomor", {"nomor": "0812-3456-7890"}).status_code == 303
    [row] = consents(db)
    assert row.withdrawn_at is not None
    assert row.withdrawn_how == "person"
    assert consent.current(db, user_id=person(db, "orangtua").id, report_id=None) is None


def test_a_child_ticks_it_on_their_own_account_and_nobody_else_does(as_user, make_client, db):
    child = as_user("anak")
    page = child.get("/notifikasi/pengaturan").text
    assert "kamu" in page.lower()
    assert "Nomor HP-mu sendiri" in page
    assert form_post(child, "/notifikasi/nomor", {"nomor": "0813 1111 2222", "saluran": ["whatsapp"]}).status_code == 303
    [row] = consents(db)
    assert row.user_id == person(db, "anak").id
    assert row.whatsapp
    assert not row.sms

    # The parent's form records the parent's own agreement only; the child's is left as the child made it.
    parent = as_user("orangtua")
    form_post(parent, "/notifikasi/nomor", {"nomor": "0812 3456 7890", "saluran": ["sms"]})
    child_row, parent_row = consents(db)
    assert child_row.withdrawn_at is None
    assert child_row.phone == "+6281311112222"
    assert parent_row.user_id == person(db, "orangtua").id

    # Nobody signed in: refused, nothing written.
    refused = make_client().post("/notifikasi/nomor", data={"nomor": "0812 9999 0000", "saluran": "sms"},
                          follow_redirects=False)
    assert refused.status_code in (401, 403)
    assert len(consents(db)) == 2


def test_the_counselor_sees_how_the_reminder_went_and_the_call_to_make(as_user, db, engine, settings, stand_in,
                                                                       pinned_clock):
    appointment = appointment_for(db, counseling(db), confirmed=True)
    consent.agree(db, Visitor(user=person(db, "orangtua")), number="0812 3456 7890", whatsapp=True, sms=False)
    db.commit()
    transport = FakeTransport(lambda _url: FakeResponse(201, {}, "Created"))
    root = db.execute(select(NotificationJob).where(NotificationJob.ladder,
                                                    NotificationJob.kind == "reminder_24h")).scalar_one()
    for moment in (root.due_at, root.due_at + timedelta(minutes=1), root.due_at + timedelta(hours=2),
                   appointment.starts_at - timedelta(hours=3)):
        pinned_clock.move_to(moment)
        worker.climb_ladder(engine, settings, now=moment)
        dispatcher.drain(engine, worker.make_sender(settings, session=transport), now=moment)

    counselor = as_user("konselor")
    page = counselor.get(f"/jadwal/{appointment.id}").text
    assert 'data-rung="push:no_device"' in page
    assert 'data-rung="whatsapp:sent"' in page
    assert 'data-rung="sms:no_device"' in page
    assert "tidak ada yang sampai — telepon" in page
    assert "Telepon untuk memastikan" in page
    assert 'href="tel:+6281234567890"' in page
    schedule = counselor.get(f"/jadwal?minggu={appointment.starts_at.date().isoformat()}").text
    assert "data-call-task" in schedule
    assert "0812-3456-7890" in schedule

    # Another counselor sees neither the page nor can mark the call.
    colleague = as_user("konselor2")
    assert colleague.get(f"/jadwal/{appointment.id}").status_code == 404
    assert form_post(colleague, f"/jadwal/{appointment.id}/ditelepon", {}).status_code == 404
    db.expire_all()
    assert db.execute(select(CallTask)).scalar_one().done_at is None

    done = form_post(counselor, f"/jadwal/{appointment.id}/ditelepon", {})
    assert done.status_code == 303
    assert "Tercatat: peminta sudah ditelepon." in counselor.get(done.headers["location"]).text
    db.expire_all()
    assert db.execute(select(CallTask)).scalar_one().done_at is not None

    supervisor = as_user("supervisor")
    month = appointment.starts_at.strftime("%Y-%m")
    admin = supervisor.get("/admin/pemberitahuan").text
    assert f'data-reach="{month}"' in admin
    assert "0%" in admin


def test_the_booker_agrees_when_booking(as_user, db):
    service_type = counseling(db)
    dimas = db.execute(select(Child).where(Child.nickname == "Dimas")).scalar_one()
    parent = as_user("orangtua")
    assert "Ingatkan saya lewat WhatsApp atau SMS" in booking_page(parent, service_type)

    wrong = book(parent, service_type, child_id=dimas.id, pengingat=["whatsapp"], pengingat_nomor="12")
    assert wrong.status_code == 422
    assert 'value="12"' in wrong.text
    assert "Nomor Indonesia diawali 08" in wrong.text
    assert db.execute(select(Appointment)).first() is None
    assert consents(db) == []

    appointment_id = booked_id(book(parent, service_type, child_id=dimas.id, pengingat=["whatsapp", "sms"],
                                    pengingat_nomor="0812 3456 7890"))
    [row] = consents(db)
    assert (row.user_id, row.phone, row.whatsapp, row.sms) == (person(db, "orangtua").id, "+6281234567890", True, True)
    assert db.get(Appointment, appointment_id) is not None

    # Not ticked: no agreement is made or changed by a booking.
    booked_id(book(parent, service_type, child_id=dimas.id, pengingat_nomor="0813 0000 1111"))
    assert len(consents(db)) == 1
    assert consents(db)[0].withdrawn_at is None
