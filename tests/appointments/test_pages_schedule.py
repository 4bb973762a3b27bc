"""/jadwal: a counselor's requests to answer, their day and week, and one appointment's actions (confirm,
decline, move, cancel, attendance), each a conditional update at the version the counselor saw."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from server import clock
from server.accounts.visitor import Visitor
from server.appointments import service
from server.appointments.models import AppointmentStatus
from server.appointments.slots import free_slots
from server.i18n import LOCAL
from server.models import AuditEntry
from server.reports.models import CaseEvent
from tests.support.appointments import appointment_for, code_holder, counseling, form_post, fresh, person, slot_keys


def test_it_lists_the_requests_waiting_for_the_counselor(as_user, db):
    appointment = appointment_for(db, counseling(db), username="guru")
    html = as_user("konselor").get("/jadwal").text
    assert f'href="/jadwal/{appointment.id}"' in html
    assert "Guru BK Sari" in html
    assert "Ingin bicara soal sekolah." in html
    assert "Jawab sebelum" in html
    assert f'href="/jadwal/{appointment.id}"' not in as_user("konselor2").get("/jadwal").text


def test_it_lets_the_counselor_confirm_from_the_list(as_user, db):
    appointment = appointment_for(db, counseling(db))
    counselor = as_user("konselor")
    response = form_post(counselor, f"/jadwal/{appointment.id}/konfirmasi",
                         {"version": appointment.version, "lanjut": "jadwal"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/jadwal?minggu=")
    assert fresh(db, appointment.id).status == AppointmentStatus.CONFIRMED
    assert "Jadwal sudah dikonfirmasi" in counselor.get(response.headers["location"].split("#")[0]).text
    assert "Terkonfirmasi" in as_user("orangtua").get(f"/konseling/{appointment.id}").text


def test_it_refuses_a_confirmation_from_a_page_that_is_out_of_date(as_user, db):
    appointment = appointment_for(db, counseling(db))
    stale = appointment.version
    service.cancel(db, appointment, by_counselor=None, requester=Visitor(user=person(db, "orangtua")),
                   version=appointment.version)
    db.commit()
    response = form_post(as_user("konselor"), f"/jadwal/{appointment.id}/konfirmasi", {"version": stale})
    assert response.status_code == 422
    assert "sudah berubah" in response.text
    assert fresh(db, appointment.id).status == AppointmentStatus.CANCELLED


def test_it_needs_a_reason_to_decline_and_the_requester_reads_it(as_user, db):
    appointment = appointment_for(db, counseling(db))
    counselor = as_user("konselor")
    refused = form_post(counselor, f"/jadwal/{appointment.id}/tolak", {"version": appointment.version, "reason": " "})
    assert refused.status_code == 422
    assert "alasan penolakan" in refused.text
    response = form_post(counselor, f"/jadwal/{appointment.id}/tolak",
                         {"version": appointment.version, "reason": "Saya cuti minggu itu."})
    assert response.status_code == 303
    assert fresh(db, appointment.id).status == AppointmentStatus.DECLINED
    html = as_user("orangtua").get(f"/konseling/{appointment.id}").text
    assert "Ditolak" in html
    assert "Saya cuti minggu itu." in html


def test_it_lets_the_counselor_move_an_appointment_with_a_reason(as_user, db):
    appointment = appointment_for(db, counseling(db), confirmed=True)
    counselor = as_user("konselor")
    page = counselor.get(f"/jadwal/{appointment.id}")
    new_slot = slot_keys(page.text)[0]
    refused = form_post(counselor, f"/jadwal/{appointment.id}/pindah",
                        {"version": appointment.version, "slot": new_slot, "reason": ""})
    assert refused.status_code == 422
    assert "alasan pemindahan" in refused.text
    assert f'value="{new_slot}" required checked' in refused.text
    assert slot_keys(refused.text)
    response = form_post(counselor, f"/jadwal/{appointment.id}/pindah",
                         {"version": appointment.version, "slot": new_slot, "reason": "Ada rapat mendadak."})
    assert response.status_code == 303
    moved_id = int(re.match(r"/jadwal/(\d+)\?", response.headers["location"]).group(1))
    moved = fresh(db, moved_id)
    assert moved.status == AppointmentStatus.CONFIRMED
    assert moved.rescheduled_from_id == appointment.id
    assert fresh(db, appointment.id).status == AppointmentStatus.CANCELLED
    assert "Jadwal ini dipindah ke" in as_user("orangtua").get(f"/konseling/{appointment.id}").text


def test_it_swaps_only_the_move_slots_for_htmx(as_user, db):
    appointment = appointment_for(db, counseling(db))
    response = as_user("konselor").get(f"/jadwal/{appointment.id}?mulai=2099-01-01", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="slots"')


def test_it_lets_the_counselor_cancel_with_a_reason(as_user, db):
    appointment = appointment_for(db, counseling(db), confirmed=True)
    counselor = as_user("konselor")
    refused = form_post(counselor, f"/jadwal/{appointment.id}/batal", {"version": appointment.version})
    assert refused.status_code == 422
    assert "alasan pembatalan" in refused.text
    response = form_post(counselor, f"/jadwal/{appointment.id}/batal",
                         {"version": appointment.version, "reason": "Konselor sakit."})
    assert response.status_code == 303
    cancelled = fresh(db, appointment.id)
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancelled_by == "counselor"
    assert "Konselor sakit." in as_user("orangtua").get(f"/konseling/{appointment.id}").text


def test_it_shows_the_day_and_the_week_of_the_counselors_appointments(as_user, db):
    appointment = appointment_for(db, counseling(db), confirmed=True)
    day = appointment.starts_at.astimezone(LOCAL).date()
    counselor = as_user("konselor")
    by_day = counselor.get(f"/jadwal?hari={day.isoformat()}").text
    assert f'href="/jadwal/{appointment.id}"' in by_day
    assert "Terkonfirmasi" in by_day
    assert f"{appointment.starts_at.astimezone(LOCAL):%H.%M}–" in by_day
    by_week = counselor.get(f"/jadwal?minggu={day.isoformat()}").text
    assert f'href="/jadwal/{appointment.id}"' in by_week
    assert by_week.count('class="agenda-day"') == 7
    other_week = counselor.get(f"/jadwal?minggu={day.replace(year=day.year + 1).isoformat()}").text
    assert f'href="/jadwal/{appointment.id}"' not in other_week
    assert f'href="/jadwal/{appointment.id}"' not in as_user("konselor2").get(f"/jadwal?hari={day}").text


def test_it_records_attendance_after_the_start_with_a_note_for_the_case(as_user, make_client, db):
    service_type = counseling(db)
    case = code_holder(make_client(), db)
    appointment = appointment_for(db, service_type, username=None, report_id=case, started=True)
    counselor = as_user("konselor")
    page = counselor.get(f"/jadwal/{appointment.id}").text
    assert f'action="/jadwal/{appointment.id}/kehadiran"' in page
    assert "kronologi kasus" in page
    refused = form_post(counselor, f"/jadwal/{appointment.id}/kehadiran", {"version": appointment.version})
    assert refused.status_code == 422
    assert "hadir atau tidak hadir" in refused.text
    response = form_post(counselor, f"/jadwal/{appointment.id}/kehadiran", {
        "version": appointment.version, "attended": "yes", "note": "Anak mulai terbuka bercerita."})
    assert response.status_code == 303
    assert fresh(db, appointment.id).status == AppointmentStatus.COMPLETED
    notes = db.execute(select(CaseEvent).where(CaseEvent.report_id == case, CaseEvent.kind == "note")).scalars().all()
    assert len(notes) == 1
    assert "Anak mulai terbuka bercerita." in notes[0].body
    assert "hadir" in notes[0].body
    assert not notes[0].visible_to_reporter


def test_it_records_a_no_show(as_user, db):
    appointment = appointment_for(db, counseling(db), started=True)
    response = form_post(as_user("konselor"), f"/jadwal/{appointment.id}/kehadiran",
                         {"version": appointment.version, "attended": "no"})
    assert response.status_code == 303
    assert fresh(db, appointment.id).status == AppointmentStatus.NO_SHOW
    assert "Tidak hadir" in as_user("orangtua").get(f"/konseling/{appointment.id}").text


def test_it_refuses_attendance_before_the_session_starts(as_user, db):
    appointment = appointment_for(db, counseling(db), confirmed=True)
    counselor = as_user("konselor")
    assert "/kehadiran" not in counselor.get(f"/jadwal/{appointment.id}").text
    response = form_post(counselor, f"/jadwal/{appointment.id}/kehadiran",
                         {"version": appointment.version, "attended": "yes"})
    assert response.status_code == 422
    assert "setelah jadwal dimulai" in response.text
    assert fresh(db, appointment.id).status == AppointmentStatus.CONFIRMED


def test_it_audits_what_the_counselor_did(as_user, db):
    appointment = appointment_for(db, counseling(db))
    form_post(as_user("konselor"), f"/jadwal/{appointment.id}/konfirmasi", {"version": appointment.version})
    entry = db.execute(select(AuditEntry).where(AuditEntry.action == "appointment.confirmed")).scalar_one()
    assert entry.actor_id == person(db, "konselor").id
    assert entry.object_id == str(appointment.id)


@pytest.mark.parametrize("action", ["konfirmasi", "tolak", "pindah", "batal", "kehadiran"])
def test_it_is_not_found_for_another_counselor(as_user, db, action):
    appointment = appointment_for(db, counseling(db))
    other = as_user("konselor2")
    assert other.get(f"/jadwal/{appointment.id}").status_code == 404
    response = form_post(other, f"/jadwal/{appointment.id}/{action}",
                         {"version": appointment.version, "reason": "x", "attended": "yes"})
    assert response.status_code == 404
    assert fresh(db, appointment.id).status == AppointmentStatus.REQUESTED


def test_it_lets_a_supervisor_handle_any_counselors_appointment(as_user, db):
    appointment = appointment_for(db, counseling(db))
    supervisor = as_user("supervisor")
    assert f'href="/jadwal/{appointment.id}"' in supervisor.get("/jadwal").text
    counselor_id = person(db, "konselor").id
    day = appointment.starts_at.astimezone(LOCAL).date()
    assert f'href="/jadwal/{appointment.id}"' in supervisor.get(f"/jadwal?konselor={counselor_id}&hari={day}").text
    response = form_post(supervisor, f"/jadwal/{appointment.id}/konfirmasi", {"version": appointment.version})
    assert response.status_code == 303
    assert fresh(db, appointment.id).status == AppointmentStatus.CONFIRMED


@pytest.mark.parametrize("username", ["guru", "orangtua", "anak"])
def test_it_refuses_the_schedule_to_people_who_book(as_user, db, username):
    appointment = appointment_for(db, counseling(db))
    client = as_user(username)
    assert client.get("/jadwal").status_code == 403
    assert client.get(f"/jadwal/{appointment.id}").status_code == 403
    assert form_post(client, f"/jadwal/{appointment.id}/konfirmasi", {"version": 1}).status_code == 403


def test_it_sends_signed_out_visitors_to_sign_in(make_client, db):
    appointment = appointment_for(db, counseling(db))
    visitor = make_client()
    response = visitor.get(f"/jadwal/{appointment.id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/masuk")
    assert form_post(visitor, f"/jadwal/{appointment.id}/konfirmasi", {"version": 1}).status_code == 401
    assert fresh(db, appointment.id).status == AppointmentStatus.REQUESTED


def test_it_keeps_a_counselor_to_their_own_schedule(as_user, db):
    konselor2 = person(db, "konselor2")
    assert as_user("konselor").get(f"/jadwal?konselor={konselor2.id}").status_code == 404


def test_it_starts_the_week_view_today_not_on_the_monday_before(as_user, db):
    # The pinned clock says Tuesday 1 December 2026.
    html = as_user("konselor").get("/jadwal").text
    days = re.findall(r'<h3 class="agenda-day">([^<]+)</h3>', html)
    assert days[0] == "Selasa, 1 Desember 2026"
    assert days[-1] == "Senin, 7 Desember 2026"
    assert len(days) == 7
    assert "Senin, 30 November 2026" not in html


@pytest.mark.parametrize("days_ahead", [2, 12])
def test_it_shows_the_appointment_just_confirmed_from_the_list_in_the_week_view(as_user, db, days_ahead):
    service_type = counseling(db)
    now = clock.now()
    wanted = next(slot for slots in free_slots(db, service_type, now=now, days=20).values() for slot in slots
                  if slot.starts_at.astimezone(LOCAL).date() == now.astimezone(LOCAL).date() + timedelta(days=days_ahead))
    appointment = service.request_appointment(db, Visitor(user=person(db, "anak")),
                                              service_type_id=service_type.id, starts_at=wanted.starts_at)
    db.commit()
    counselor = as_user("konselor")
    response = form_post(counselor, f"/jadwal/{appointment.id}/konfirmasi",
                         {"version": appointment.version, "lanjut": "jadwal"})
    assert response.status_code == 303
    today = now.astimezone(LOCAL).date()
    start = today if days_ahead < 7 else wanted.starts_at.astimezone(LOCAL).date()
    assert response.headers["location"] == (f"/jadwal?minggu={start.isoformat()}&baru={appointment.id}"
                                            f"&pesan=dikonfirmasi#janji-{appointment.id}")
    html = counselor.get(response.headers["location"].split("#")[0]).text
    assert "Jadwal sudah dikonfirmasi" in html
    row = re.search(rf'<li class="appointment-row appointment-row--changed" id="janji-{appointment.id}" '
                    r'data-just-changed>(.*?)</li>', html, re.DOTALL)
    assert row
    assert "Baru saja diubah" in row.group(1)
    assert "Terkonfirmasi" in row.group(1)
