"""One discreet push inviting the booker to rate an attended session: only when they agreed on the appointment's
page (off by default), written with the attendance, never in the quiet hours, saying only "ada pesan baru", and
not sent once the session was rated or the consent withdrawn. End to end against the local push service
(web-push-testing, tests/pushservice.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.appointments import service as appointments
from server.i18n import LOCAL
from tests.support.aftercare import attend, invites
from tests.support.appointments import appointment_for, counseling, form_post, fresh, person
from tests.support.reports import audit_entries


def wita(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL).astimezone(UTC)


# --- consent, and when the invitation is due (clock pinned) ---------------------------------------------------


def test_consent_is_off_by_default_and_no_invitation_is_written_without_it(as_user, db):
    appointment = appointment_for(db, counseling(db), started=True)
    page = as_user("orangtua").get(f"/konseling/{appointment.id}")
    assert page.status_code == 200
    assert "Kirimi saya satu pemberitahuan untuk menilai sesi ini" in page.text
    assert 'id="field-rating_invite" type="checkbox" name="rating_invite" value="1" aria-describedby' in page.text
    attend(db, appointment)
    assert fresh(db, appointment.id).rating_invite is False
    assert invites(db, appointment.id) == []


def test_the_booker_agrees_and_the_invitation_is_written_once_with_the_attendance(as_user, db):
    appointment = appointment_for(db, counseling(db), started=True)
    parent = as_user("orangtua")
    response = form_post(parent, f"/konseling/{appointment.id}/penilaian", {"rating_invite": "1"})
    assert response.status_code == 303
    assert "Pilihan pemberitahuan penilaian sudah disimpan." in parent.get(response.headers["location"]).text
    assert fresh(db, appointment.id).rating_invite is True
    assert len(audit_entries(db, "appointment.rating_invite_changed")) == 1
    assert invites(db, appointment.id) == []  # nothing before the session was attended

    attend(db, appointment)
    [job] = invites(db, appointment.id)
    assert (job.recipient_user_id, job.url, job.object_type) == (person(db, "orangtua").id,
                                                                 f"/penilaian/{appointment.id}", "rating_invite")
    with pytest.raises(appointments.BookingError):  # attendance is recorded once: so is the invitation
        attend(db, appointment)
    db.rollback()
    assert len(invites(db, appointment.id)) == 1


def test_attendance_recorded_late_in_the_evening_invites_at_seven_in_the_morning(as_user, db, pinned_clock):
    appointment = appointment_for(db, counseling(db), started=True)
    form_post(as_user("orangtua"), f"/konseling/{appointment.id}/penilaian", {"rating_invite": "1"})
    pinned_clock.move_to(wita(2026, 12, 1, 22, 40))
    attend(db, appointment)
    [job] = invites(db, appointment.id)
    assert job.due_at == wita(2026, 12, 2, 7, 0)


def test_only_the_booker_may_give_consent(as_user, db, make_client):
    appointment = appointment_for(db, counseling(db), started=True)
    stranger = as_user("guru")
    response = form_post(stranger, f"/konseling/{appointment.id}/penilaian", {"rating_invite": "1"})
    assert response.status_code == 404
    signed_out = form_post(make_client(), f"/konseling/{appointment.id}/penilaian", {"rating_invite": "1"})
    assert signed_out.status_code in (401, 403)
    assert fresh(db, appointment.id).rating_invite is False
    assert audit_entries(db, "appointment.rating_invite_changed") == []
