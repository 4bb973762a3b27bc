"""/jadwal/ketersediaan (a counselor's weekly hours and time away), and the supervisors' pages: service types
and public holidays. Every invalid form comes back with 422, the message next to the field and what was typed;
every change is audited."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from server import clock
from server.appointments.models import AvailabilityException, ServiceType, WeeklyHours
from server.appointments.slots import free_slots
from server.i18n import LOCAL
from server.models import AuditEntry, Holiday
from tests.support.appointments import appointment_for, counseling, error_for, form_post, person, slot_keys


def _audited(db, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def _hours(db, username: str) -> list[tuple[int, time, time]]:
    db.expire_all()
    return [(h.weekday, h.starts, h.ends) for h in db.execute(
        select(WeeklyHours).where(WeeklyHours.counselor_id == person(db, username).id)).scalars()]


# --- weekly hours and time away ----------------------------------------------------------------------------


def test_it_lets_a_counselor_add_and_remove_weekly_hours(as_user, db):
    client = as_user("konselor2")
    response = form_post(client, "/jadwal/ketersediaan/jam", {"weekday": "2", "starts": "13:00", "ends": "15:30"})
    assert response.status_code == 303
    assert _hours(db, "konselor2") == [(2, time(13), time(15, 30))]
    html = client.get(response.headers["location"]).text
    assert "Rabu, 13.00–15.30 WITA" in html
    assert "Jam kerja sudah ditambahkan." in html
    assert _audited(db, "availability.hours_added")[0].actor_id == person(db, "konselor2").id
    row = db.execute(select(WeeklyHours)).scalar_one()
    assert form_post(client, f"/jadwal/ketersediaan/jam/{row.id}/hapus", {}).status_code == 303
    assert _hours(db, "konselor2") == []
    assert _audited(db, "availability.hours_removed")


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"weekday": "1", "starts": "14:00", "ends": "10:00"}, "ends", "sesudah jam mulai"),
    ({"weekday": "1", "starts": "08:15", "ends": "10:00"}, "starts", "tepat atau setengah"),
    ({"weekday": "1", "starts": "pagi", "ends": "10:00"}, "starts", "Tulis jam"),
    ({"weekday": "9", "starts": "08:00", "ends": "10:00"}, "weekday", "Pilih hari"),
    ({"weekday": "1", "starts": "08:00", "ends": "10:00", "service_type_id": "999"}, "service_type_id",
     "Pilih layanan"),
])
def test_it_validates_weekly_hours_next_to_the_field_and_keeps_the_values(as_user, db, fields, field, message):
    response = form_post(as_user("konselor2"), "/jadwal/ketersediaan/jam", fields)
    assert response.status_code == 422
    assert message in error_for(response.text, field)
    assert f'value="{fields["starts"]}"' in response.text
    assert _hours(db, "konselor2") == []


def test_it_refuses_weekly_hours_that_overlap_the_same_day(as_user, db):
    client = as_user("konselor2")
    form_post(client, "/jadwal/ketersediaan/jam", {"weekday": "0", "starts": "08:00", "ends": "12:00"})
    response = form_post(client, "/jadwal/ketersediaan/jam", {"weekday": "0", "starts": "11:00", "ends": "13:00"})
    assert response.status_code == 422
    assert "bertumpuk" in error_for(response.text, "starts")


def test_hours_limited_to_one_service_type_offer_only_that_service(as_user, db):
    service_type = counseling(db)
    phone = ServiceType(name="Konseling telepon", mode="phone", min_notice_hours=0)
    db.add(phone)
    db.commit()
    client = as_user("konselor2")
    for weekday in range(7):
        form_post(client, "/jadwal/ketersediaan/jam", {"weekday": weekday, "starts": "17:00", "ends": "19:00",
                                                       "service_type_id": phone.id})
    konselor2 = person(db, "konselor2").id
    assert not free_slots(db, service_type, now=clock.now(), counselor_id=konselor2)
    assert free_slots(db, phone, now=clock.now(), counselor_id=konselor2)


def test_it_records_leave_in_wita_and_those_slots_are_no_longer_offered(as_user, db):
    service_type = counseling(db)
    day = clock.now().astimezone(LOCAL).date() + timedelta(days=3)
    counselor = as_user("konselor")
    response = form_post(counselor, "/jadwal/ketersediaan/pengecualian", {
        "away_from": f"{day}T00:00", "away_until": f"{day + timedelta(days=1)}T00:00", "away_reason": "training",
        "away_note": "Pelatihan konseling trauma"})
    assert response.status_code == 303
    away = db.execute(select(AvailabilityException)).scalar_one()
    assert away.starts_at == datetime.combine(day, time(0), tzinfo=LOCAL).astimezone(UTC)
    assert away.reason == "training"
    assert _audited(db, "availability.exception_added")
    html = as_user("anak").get(f"/konseling?layanan={service_type.id}&hari={day}").text
    # The day on leave is not in the row of days; the page falls back to the first free day.
    assert f"hari={day}" not in html
    keys = slot_keys(html)
    assert keys
    assert all(datetime.fromtimestamp(int(k), UTC).astimezone(LOCAL).date() != day for k in keys)
    assert len(keys) > 1  # every time of the day shown instead, not just the first found
    html = counselor.get("/jadwal/ketersediaan").text
    assert "Pelatihan" in html
    assert "Pelatihan konseling trauma" in html
    assert form_post(counselor, f"/jadwal/ketersediaan/pengecualian/{away.id}/hapus", {}).status_code == 303
    assert db.execute(select(AvailabilityException)).first() is None


def test_it_warns_when_leave_falls_on_booked_sessions(as_user, db):
    appointment = appointment_for(db, counseling(db))
    start = appointment.starts_at.astimezone(LOCAL)
    response = form_post(as_user("konselor"), "/jadwal/ketersediaan/pengecualian", {
        "away_from": f"{start:%Y-%m-%dT00:00}", "away_until": f"{start:%Y-%m-%dT23:30}", "away_reason": "leave"})
    assert response.headers["location"].endswith("pesan=pengecualian-bentrok")


def test_it_validates_time_away(as_user, db):
    response = form_post(as_user("konselor"), "/jadwal/ketersediaan/pengecualian", {
        "away_from": "2027-01-05T10:00", "away_until": "2027-01-05T09:00", "away_reason": "cuti panjang",
        "away_note": "Keluarga"})
    assert response.status_code == 422
    assert "sesudah waktu mulai" in error_for(response.text, "away_until")
    assert "Pilih alasannya" in error_for(response.text, "away_reason")
    assert 'value="2027-01-05T10:00"' in response.text
    assert 'value="Keluarga"' in response.text
    assert db.execute(select(AvailabilityException)).first() is None


def test_it_keeps_a_counselor_to_their_own_availability(as_user, db):
    konselor2 = person(db, "konselor2")
    db.add(WeeklyHours(counselor_id=konselor2.id, weekday=0, starts=time(8), ends=time(12)))
    db.commit()
    row = db.execute(select(WeeklyHours)).scalar_one()
    client = as_user("konselor")
    assert client.get(f"/jadwal/ketersediaan?konselor={konselor2.id}").status_code == 404
    assert form_post(client, "/jadwal/ketersediaan/jam", {"konselor": konselor2.id, "weekday": "1",
                                                          "starts": "08:00", "ends": "09:00"}).status_code == 404
    assert form_post(client, f"/jadwal/ketersediaan/jam/{row.id}/hapus", {}).status_code == 404
    assert _hours(db, "konselor2") == [(0, time(8), time(12))]


def test_it_lets_a_supervisor_edit_any_counselors_availability(as_user, db):
    konselor2 = person(db, "konselor2")
    supervisor = as_user("supervisor")
    assert "Pilih konselor" in supervisor.get("/jadwal/ketersediaan").text
    response = form_post(supervisor, "/jadwal/ketersediaan/jam", {"konselor": konselor2.id, "weekday": "4",
                                                                  "starts": "09:00", "ends": "11:00"})
    assert response.status_code == 303
    assert response.headers["location"].startswith(
        f"/jadwal/ketersediaan?konselor={konselor2.id}")
    assert _hours(db, "konselor2") == [(4, time(9), time(11))]
    entry = _audited(db, "availability.hours_added")[0]
    assert entry.actor_id == person(db, "supervisor").id
    assert f'"counselor_id": {konselor2.id}' in entry.detail


@pytest.mark.parametrize("username", ["guru", "orangtua", "anak"])
def test_it_refuses_availability_to_people_who_book(as_user, db, username):
    client = as_user(username)
    assert client.get("/jadwal/ketersediaan").status_code == 403
    assert form_post(client, "/jadwal/ketersediaan/jam", {"weekday": "1", "starts": "08:00",
                                                          "ends": "09:00"}).status_code == 403


# --- supervisors: service types ----------------------------------------------------------------------------

SERVICE_TYPE = {
    "name": "Konseling keluarga", "description": "Untuk orang tua dan anak bersama.", "duration_minutes": "90",
    "mode": "face_to_face", "place": "Ruang konseling lantai 2", "buffer_before_minutes": "0",
    "buffer_after_minutes": "30", "min_notice_hours": "48", "max_days_ahead": "60", "needs_confirmation": "1",
}


@pytest.mark.parametrize("username", ["konselor", "guru"])
def test_it_refuses_supervisor_pages_to_counselors_and_teachers(as_user, db, username):
    client = as_user(username)
    for path in ("/jadwal/jenis-layanan", "/jadwal/jenis-layanan/baru", "/jadwal/libur"):
        assert client.get(path).status_code == 403, path
    assert form_post(client, "/jadwal/jenis-layanan/baru", SERVICE_TYPE).status_code == 403
    assert form_post(client, "/jadwal/libur", {"lines": "2027-01-01, Tahun Baru", "kind": "libur_nasional"}
                     ).status_code == 403
    assert db.execute(select(ServiceType)).first() is None


def test_it_lets_a_supervisor_create_edit_and_deactivate_a_service_type(as_user, db):
    supervisor = as_user("supervisor")
    response = form_post(supervisor, "/jadwal/jenis-layanan/baru", SERVICE_TYPE)
    assert response.status_code == 303
    created = db.execute(select(ServiceType)).scalar_one()
    assert (created.name, created.duration_minutes, created.buffer_after_minutes, created.min_notice_hours,
            created.max_days_ahead, created.needs_confirmation) == ("Konseling keluarga", 90, 30, 48, 60, True)
    assert "Konseling keluarga" in supervisor.get("/jadwal/jenis-layanan").text
    edit = supervisor.get(f"/jadwal/jenis-layanan/{created.id}").text
    assert 'value="Ruang konseling lantai 2"' in edit
    changed = {**SERVICE_TYPE, "mode": "online", "place": "https://meet.example.org/konseling"}
    changed.pop("needs_confirmation")
    assert form_post(supervisor, f"/jadwal/jenis-layanan/{created.id}", changed).status_code == 303
    db.expire_all()
    saved = db.get(ServiceType, created.id)
    assert saved.mode == "online"
    assert not saved.needs_confirmation
    assert form_post(supervisor, f"/jadwal/jenis-layanan/{created.id}/aktif", {"active": "0"}).status_code == 303
    db.expire_all()
    assert not db.get(ServiceType, created.id).active
    assert [e.action for e in db.execute(select(AuditEntry).where(AuditEntry.object_type == "service_type")
                                         .order_by(AuditEntry.id)).scalars()] == [
        "service_type.created", "service_type.updated", "service_type.deactivated"]
    assert '"mode": "online"' in _audited(db, "service_type.updated")[0].detail


def test_it_validates_a_service_type_next_to_each_field_and_keeps_the_values(as_user, db):
    response = form_post(as_user("supervisor"), "/jadwal/jenis-layanan/baru", {
        **SERVICE_TYPE, "name": "", "duration_minutes": "5", "mode": "online", "place": "meet.example.org",
        "max_days_ahead": "1", "min_notice_hours": "48"})
    assert response.status_code == 422
    assert "Tulis nama layanan" in error_for(response.text, "name")
    assert "15 sampai 480" in error_for(response.text, "duration_minutes")
    assert "https://" in error_for(response.text, "place")
    assert "pemberitahuan minimal" in error_for(response.text, "max_days_ahead")
    assert 'value="meet.example.org"' in response.text
    assert "Untuk orang tua dan anak bersama." in response.text
    assert db.execute(select(ServiceType)).first() is None


# --- supervisors: public holidays --------------------------------------------------------------------------


def test_it_adds_the_holidays_of_a_year_the_library_does_not_know_one_per_line(as_user, db):
    supervisor = as_user("supervisor")
    response = form_post(supervisor, "/jadwal/libur", {
        "lines": "2028-01-01, Tahun Baru 2028 Masehi\n\n2028-03-10,  Hari Suci Nyepi\r\n", "kind": "libur_nasional"})
    assert response.status_code == 303
    assert "tahun=2028" in response.headers["location"]
    assert {(h.day, h.name, h.kind) for h in db.execute(select(Holiday).where(Holiday.day >= date(2027, 1, 1)))
            .scalars()} == {(date(2028, 1, 1), "Tahun Baru 2028 Masehi", "libur_nasional"),
                            (date(2028, 3, 10), "Hari Suci Nyepi", "libur_nasional")}
    html = supervisor.get("/jadwal/libur?tahun=2028").text
    assert "Sabtu, 1 Januari 2028" in html
    assert "Hari Suci Nyepi" in html
    assert len(_audited(db, "holiday.added")) == 2


def test_it_names_every_wrong_holiday_line_and_saves_none(as_user, db):
    text = ("2028-01-01, Tahun Baru\n2028-13-01, Bulan salah\nTahun Baru Imlek\n"
            "2028-01-01, Dua kali\n2026-01-01, Sudah ada")
    response = form_post(as_user("supervisor"), "/jadwal/libur", {"lines": text, "kind": "cuti_bersama"})
    assert response.status_code == 422
    errors = error_for(response.text, "lines")
    assert re.search(r"Baris 2: tanggal tidak dikenal", errors)
    assert re.search(r"Baris 3: tulis tanggal, koma", errors)
    assert "Baris 4: tanggal ini sudah ditulis di baris 1" in errors
    assert "Baris 5: tanggal ini sudah ada" in errors
    assert "Baris 1" not in errors
    assert "Ada 4 baris yang perlu diperbaiki" in response.text
    assert "Baris 5: tanggal ini sudah ada di SKB hari libur nasional" in errors
    assert "2028-13-01, Bulan salah" in response.text
    assert db.get(Holiday, date(2028, 1, 1)) is None


def test_it_lets_a_supervisor_remove_a_holiday(as_user, db):
    supervisor = as_user("supervisor")
    added = form_post(supervisor, "/jadwal/libur", {"lines": "2027-04-20, Hari Jadi Kota", "kind": "libur_daerah"})
    assert added.status_code == 303
    assert db.get(Holiday, date(2027, 4, 20)).kind == "libur_daerah"
    response = form_post(supervisor, "/jadwal/libur/2027-04-20/hapus", {})
    assert response.status_code == 303
    assert db.get(Holiday, date(2027, 4, 20)) is None
    assert _audited(db, "holiday.removed")[0].object_id == "2027-04-20"


def test_a_new_holiday_on_a_booked_day_warns_the_supervisor(as_user, db):
    appointment = appointment_for(db, counseling(db))
    day = appointment.starts_at.astimezone(LOCAL).date()
    db.execute(Holiday.__table__.delete().where(Holiday.day == day))
    db.commit()
    supervisor = as_user("supervisor")
    response = form_post(supervisor, "/jadwal/libur", {"lines": f"{day.isoformat()}, Libur daerah",
                                                       "kind": "libur_daerah"})
    assert response.status_code == 303
    assert "bentrok=1" in response.headers["location"]
    html = supervisor.get(response.headers["location"]).text
    assert "data-holiday-clashes" in html
    assert "Sudah ada 1 jadwal konseling pada hari libur baru ini" in html
    # A day with nothing booked adds quietly.
    quiet = form_post(supervisor, "/jadwal/libur", {"lines": "2027-08-18, Libur daerah", "kind": "libur_daerah"})
    assert "bentrok" not in quiet.headers["location"]
