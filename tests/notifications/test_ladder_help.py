"""Helping people keep push working: the notification settings page tells a person whose last two pushed reminders
were never acknowledged as shown by their phone (the service worker's POST /push/tampil) how to keep Android's
battery settings from putting the browser to sleep; one shown push is enough to take the note away again, and
nobody else sees it. (The iPhone's Home Screen note is switched on in the browser: tests/browser/test_ladder.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server import clock
from server.notifications import ladder
from server.notifications.models import JobStatus, NotificationJob
from tests.support.appointments import appointment_for, counseling, form_post, person

NOTE = "Dua pengingat terakhir tidak tampil di HP Anda."
STEP = 'Baterai, lalu "Tidak dibatasi"'


def parents_pushes(db) -> list[NotificationJob]:
    db.expire_all()
    return list(db.execute(select(NotificationJob).where(
        NotificationJob.ladder, NotificationJob.recipient_user_id == person(db, "orangtua").id)
        .order_by(NotificationJob.due_at)).scalars())


def send(db, job: NotificationJob, sent_at) -> None:
    db.execute(update(NotificationJob).where(NotificationJob.id == job.id)
               .values(status=JobStatus.SENT, sent_at=sent_at))
    db.commit()


@pytest.mark.both_databases  # the query orders by sent_at and compares timestamps: both databases
def test_two_pushed_reminders_unshown_in_a_row_bring_the_battery_note(as_user, db, pinned_clock):
    appointment_for(db, counseling(db), confirmed=True)
    first, second = parents_pushes(db)
    parent = as_user("orangtua")
    assert NOTE not in parent.get("/notifikasi/pengaturan").text

    # One push not shown: not yet.
    send(db, first, clock.now() - timedelta(hours=3))
    page = parent.get("/notifikasi/pengaturan")
    assert page.status_code == 200
    assert NOTE not in page.text

    # The second is sent but its wait (LADDER_PUSH_WAIT_MINUTES, 30) has not run out: not yet either.
    send(db, second, clock.now() - timedelta(minutes=10))
    assert NOTE not in parent.get("/notifikasi/pengaturan").text

    # Both went unshown past their wait: the note with the battery steps.
    pinned_clock.shift(timedelta(minutes=25))
    page = parent.get("/notifikasi/pengaturan")
    assert page.status_code == 200
    assert "Pengingat di HP belum terbuka" in page.text
    assert NOTE in page.text
    assert STEP in page.text
    assert "data-battery-note" in page.text

    # The counselor, whose own pushes are not laddered, and another parent see nothing of it.
    assert "data-battery-note" not in as_user("konselor").get("/notifikasi/pengaturan").text
    assert "data-battery-note" not in as_user("guru").get("/notifikasi/pengaturan").text

    # The phone showed the latest push: the note goes.
    assert ladder.acknowledge_shown(db, second.id)
    db.commit()
    page = parent.get("/notifikasi/pengaturan")
    assert page.status_code == 200
    assert "data-battery-note" not in page.text


def test_the_note_is_in_english_for_english_readers(as_user, db, pinned_clock):
    appointment_for(db, counseling(db), confirmed=True)
    for job in parents_pushes(db):
        send(db, job, clock.now() - timedelta(hours=1))
    parent = as_user("orangtua")
    assert form_post(parent, "/bahasa", {"bahasa": "en"}).status_code == 303
    page = parent.get("/notifikasi/pengaturan")
    assert page.status_code == 200
    assert "Your last two reminders did not show on your phone." in page.text
