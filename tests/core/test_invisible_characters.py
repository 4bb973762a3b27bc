"""A NUL byte or another character no one types, in any form, is refused next to its field in plain words with
everything else kept, and nothing is stored: PostgreSQL refuses NUL in text, and before this the booking note, a
counselor's reason, time away, holidays, service types, new accounts and sign-in names gave a 500 there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server import clock
from server.accounts.models import User
from server.appointments.models import Appointment, AvailabilityException, ServiceType
from server.i18n import LOCAL
from server.models import Holiday
from tests.support.appointments import appointment_for, book, counseling, form_post
from tests.support.web import post_form

pytestmark = pytest.mark.both_databases  # PostgreSQL is where NUL broke the write

UNREADABLE = "Ada tanda tak terlihat di isian ini"


def count(db, model) -> int:
    db.expire_all()
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_booking_note_with_a_nul_byte_is_refused_next_to_it_and_kept(as_user, db):
    service_type = counseling(db)
    response = book(as_user("anak"), service_type, note="Aku\x00 takut pulang")
    assert response.status_code == 422
    assert UNREADABLE in response.text
    assert 'href="#field-note"' in response.text
    assert "takut pulang" in response.text
    assert count(db, Appointment) == 0


def test_a_counselors_reason_with_a_control_character_is_refused_and_the_appointment_unchanged(as_user, db):
    service_type = counseling(db)
    appointment = appointment_for(db, service_type)
    response = form_post(as_user("konselor"), f"/jadwal/{appointment.id}/tolak",
                         {"version": appointment.version, "reason": "Penuh\x00"})
    assert response.status_code == 422
    assert UNREADABLE in response.text
    db.expire_all()
    assert db.get(Appointment, appointment.id).status == appointment.status


def test_time_away_with_a_nul_byte_in_its_note_is_refused(as_user, db):
    day = clock.now().astimezone(LOCAL).date() + timedelta(days=3)
    response = form_post(as_user("konselor"), "/jadwal/ketersediaan/pengecualian", {
        "away_from": f"{day}T00:00", "away_until": f"{day + timedelta(days=1)}T00:00", "away_reason": "training",
        "away_note": "Pelatihan\x00"})
    assert response.status_code == 422
    assert UNREADABLE in response.text
    assert count(db, AvailabilityException) == 0


def test_a_holiday_line_with_a_nul_byte_is_refused_by_its_number(as_user, db):
    before = count(db, Holiday)
    response = form_post(as_user("supervisor"), "/jadwal/libur", {
        "kind": "libur_nasional", "lines": "2027-01-01, Tahun Baru\n2027-03-20, Nyepi\x00"})
    assert response.status_code == 422
    assert "Baris 2: ada tanda tak terlihat" in response.text
    assert count(db, Holiday) == before


def test_a_service_type_named_with_a_nul_byte_is_refused_next_to_the_name(as_user, db):
    before = count(db, ServiceType)
    response = form_post(as_user("supervisor"), "/jadwal/jenis-layanan/baru", {
        "name": "Konseling\x00", "description": "", "duration_minutes": "60", "mode": "phone", "place": "",
        "buffer_before_minutes": "0", "buffer_after_minutes": "15", "min_notice_hours": "24",
        "max_days_ahead": "30", "needs_confirmation": "1"})
    assert response.status_code == 422
    assert UNREADABLE in response.text
    assert 'href="#field-name"' in response.text
    assert count(db, ServiceType) == before


def test_a_new_account_whose_name_holds_a_nul_byte_is_refused(as_user, db):
    before = count(db, User)
    response = form_post(as_user("supervisor"), "/admin/pengguna/baru", {
        "username": "orangbaru", "display_name": "Ibu\x00 Sari", "role": "parent",
        "password": "sangat-rahasia-sekali-2026"})
    assert response.status_code == 422
    assert UNREADABLE in response.text
    assert count(db, User) == before


def test_a_sign_in_name_with_a_nul_byte_is_a_wrong_sign_in_not_a_500(client):
    response = post_form(client, "/masuk", {"username": "supervisor\x00", "password": "apa saja"},
                         follow_redirects=False)
    assert response.status_code == 422
    assert "Nama pengguna atau kata sandi salah" in response.text


def test_the_requesters_cancellation_reason_with_a_nul_byte_is_refused_and_the_appointment_stays(as_user, db):
    service_type = counseling(db, min_notice_hours=0)
    appointment = appointment_for(db, service_type)
    response = form_post(as_user("orangtua"), f"/konseling/{appointment.id}/batal",
                         {"version": appointment.version, "reason": "Sakit\x00"})
    assert response.status_code == 422
    assert UNREADABLE in response.text
    db.expire_all()
    assert db.get(Appointment, appointment.id).status == appointment.status
