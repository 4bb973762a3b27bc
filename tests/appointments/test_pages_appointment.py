"""/konseling/{id}: one appointment, its state in plain words, the requester's cancel and move, and its .ics.
Tried with the owner, the appointment's counselor, a supervisor, another counselor, a stranger, the code
holder of another case and someone signed out."""

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from server import clock
from server.appointments import service
from server.appointments.models import Appointment, AppointmentStatus, ServiceType, WeeklyHours
from server.i18n import LOCAL
from tests.support.appointments import (
    appointment_for,
    book,
    booked_id,
    code_holder,
    counseling,
    error_for,
    form_post,
    fresh,
    person,
    slot_keys,
    slot_start,
)
from tests.support.web import post_form, sign_in


def test_it_shows_the_requester_the_state_time_in_wita_service_place_and_counselor(as_user, db):
    appointment = appointment_for(db, counseling(db))
    response = as_user("orangtua").get(f"/konseling/{appointment.id}")
    assert response.status_code == 200
    html = response.text
    local = appointment.starts_at.astimezone(LOCAL)
    assert "Menunggu konfirmasi" in html
    assert f"{local:%H.%M}–" in html
    assert "WITA" in html
    assert f"{local.day} " in html
    assert str(local.year) in html
    assert "Konseling individu" in html
    assert "Tatap muka" in html
    assert "Kantor layanan" in html
    assert "Konselor Rina" in html
    assert "Ingin bicara soal sekolah." in html
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("username", ["orangtua", "konselor", "supervisor"])
def test_it_shows_the_appointment_to_its_requester_its_counselor_and_supervisors(as_user, db, username):
    appointment = appointment_for(db, counseling(db))
    client = as_user(username)
    assert client.get(f"/konseling/{appointment.id}").status_code == 200
    assert client.get(f"/konseling/{appointment.id}.ics").status_code == 200


@pytest.mark.parametrize("username", ["konselor2", "guru", "anak"])
def test_it_is_not_found_for_another_counselor_or_a_stranger(as_user, db, username):
    appointment = appointment_for(db, counseling(db))
    client = as_user(username)
    assert client.get(f"/konseling/{appointment.id}").status_code == 404
    assert client.get(f"/konseling/{appointment.id}.ics").status_code == 404
    assert client.get(f"/konseling/{appointment.id}/pindah").status_code == 404
    for action in ("batal", "pindah"):
        response = form_post(client, f"/konseling/{appointment.id}/{action}", {"version": appointment.version,
                                                                                 "slot": "1@1"})
        assert response.status_code == 404
    assert fresh(db, appointment.id).status == AppointmentStatus.REQUESTED


def test_it_is_not_found_for_the_code_holder_of_another_case(make_client, db):
    service_type = counseling(db)
    owner, other = make_client(), make_client()
    owners_case = code_holder(owner, db)
    code_holder(other, db)
    appointment = appointment_for(db, service_type, username=None, report_id=owners_case)
    assert owner.get(f"/konseling/{appointment.id}").status_code == 200
    assert other.get(f"/konseling/{appointment.id}").status_code == 404
    assert other.get(f"/konseling/{appointment.id}.ics").status_code == 404
    assert other.get(f"/konseling/{appointment.id}/pindah").status_code == 404
    for action in ("batal", "pindah"):
        assert form_post(other, f"/konseling/{appointment.id}/{action}", {"version": appointment.version}
                         ).status_code == 404
    assert fresh(db, appointment.id).status == AppointmentStatus.REQUESTED


def test_it_never_shows_an_account_booking_to_the_code_holder_of_the_linked_case(make_client, db, app):
    """A parent's booking linked to a report stays the parent's: holding that case's code is not enough."""
    service_type = counseling(db)
    holder = make_client()
    case = code_holder(holder, db)
    appointment = appointment_for(db, service_type)
    appointment.report_id = case
    db.add(appointment)
    db.commit()
    assert holder.get(f"/konseling/{appointment.id}").status_code == 404


def test_it_offers_signed_out_visitors_to_sign_in_or_use_their_case_code(make_client, db):
    """A code holder has no account: the page offers /cek next to signing in, and shows nothing of the
    appointment, nor whether it exists."""
    appointment = appointment_for(db, counseling(db))
    visitor = make_client()
    for path in (f"/konseling/{appointment.id}", f"/konseling/{appointment.id}.ics",
                 f"/konseling/{appointment.id}/pindah", "/konseling/999999"):
        response = visitor.get(path, follow_redirects=False)
        assert response.status_code == 200, path
        assert f'href="/masuk?lanjut={path}"' in response.text
        assert 'href="/cek"' in response.text
        assert "Ingin bicara soal sekolah." not in response.text
        assert "WITA" not in response.text.split("<footer")[0]
        assert response.headers["cache-control"] == "no-store"
    assert form_post(visitor, f"/konseling/{appointment.id}/batal", {"version": 1}).status_code == 401
    assert form_post(visitor, f"/konseling/{appointment.id}/pindah", {"version": 1}).status_code == 401
    assert fresh(db, appointment.id).status == AppointmentStatus.REQUESTED


def test_it_lets_the_requester_cancel_before_the_notice_period(as_user, db):
    appointment = appointment_for(db, counseling(db), confirmed=True)
    client = as_user("orangtua")
    assert f'action="/konseling/{appointment.id}/batal"' in client.get(f"/konseling/{appointment.id}").text
    response = form_post(client, f"/konseling/{appointment.id}/batal", {"version": appointment.version,
                                                                        "reason": "Ada ujian."})
    assert response.status_code == 303
    cancelled = fresh(db, appointment.id)
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancelled_by == "requester"
    html = client.get(response.headers["location"]).text
    assert "Dibatalkan" in html
    assert "Jadwal sudah dibatalkan." in html


def test_it_refuses_a_cancel_made_from_an_old_page(as_user, db):
    appointment = appointment_for(db, counseling(db))
    client = as_user("orangtua")
    stale = appointment.version
    service.confirm(db, appointment, person(db, "konselor"), version=appointment.version)
    db.commit()
    response = form_post(client, f"/konseling/{appointment.id}/batal", {"version": stale, "reason": "Lupa"})
    assert response.status_code == 422
    assert "sudah berubah" in response.text
    assert "Lupa" in response.text
    assert "Terkonfirmasi" in response.text
    assert fresh(db, appointment.id).status == AppointmentStatus.CONFIRMED


def test_it_offers_no_cancel_or_move_inside_the_notice_period(as_user, db):
    service_type = counseling(db)
    appointment = appointment_for(db, service_type, index=0)
    service_type = db.get(ServiceType, service_type.id)
    service_type.min_notice_hours = 24 * 40
    db.add(service_type)
    db.commit()
    client = as_user("orangtua")
    html = client.get(f"/konseling/{appointment.id}").text
    assert "/batal" not in html
    assert "/pindah" not in html
    assert "sudah dekat" in html
    assert client.get(f"/konseling/{appointment.id}/pindah", follow_redirects=False).status_code == 303
    htmx = client.get(f"/konseling/{appointment.id}/pindah?mulai=2099-01-01", headers={"HX-Request": "true"})
    assert htmx.headers["hx-redirect"] == f"/konseling/{appointment.id}"
    response = form_post(client, f"/konseling/{appointment.id}/batal", {"version": appointment.version})
    assert response.status_code == 422
    assert "terlalu dekat" in response.text
    assert fresh(db, appointment.id).status == AppointmentStatus.REQUESTED


def test_it_lets_the_requester_move_to_another_free_slot_and_links_old_to_new(as_user, db):
    appointment = appointment_for(db, counseling(db), confirmed=True)
    client = as_user("orangtua")
    page = client.get(f"/konseling/{appointment.id}/pindah")
    assert page.status_code == 200
    new_slot = slot_keys(page.text)[0]
    response = form_post(client, f"/konseling/{appointment.id}/pindah", {"slot": new_slot,
                                                                         "version": appointment.version})
    assert response.status_code == 303
    moved_id = int(re.match(r"/konseling/(\d+)\?", response.headers["location"]).group(1))
    moved = fresh(db, moved_id)
    assert moved.rescheduled_from_id == appointment.id
    assert moved.status == AppointmentStatus.REQUESTED
    old_page = client.get(f"/konseling/{appointment.id}").text
    assert "Jadwal ini dipindah ke" in old_page
    assert f'href="/konseling/{moved_id}" data-moved-to' in old_page
    assert "Menunggu konfirmasi" in client.get(f"/konseling/{moved_id}").text


def test_it_keeps_the_move_page_when_the_new_slot_was_taken(as_user, db):
    service_type = counseling(db)
    appointment = appointment_for(db, service_type)
    client = as_user("orangtua")
    wanted = slot_keys(client.get(f"/konseling/{appointment.id}/pindah").text)[0]
    booked_id(book(as_user("anak"), service_type, slot=str(int(slot_start(wanted).timestamp()))))
    response = form_post(client, f"/konseling/{appointment.id}/pindah", {"slot": wanted,
                                                                         "version": appointment.version})
    assert response.status_code == 422
    assert "tidak tersedia" in response.text
    assert wanted not in slot_keys(response.text)
    assert slot_keys(response.text)
    assert fresh(db, appointment.id).status == AppointmentStatus.REQUESTED  # nothing half-done


def test_it_lets_a_code_holder_cancel_their_own_booking(make_client, db):
    service_type = counseling(db)
    holder = make_client()
    appointment = appointment_for(db, service_type, username=None, report_id=code_holder(holder, db))
    response = form_post(holder, f"/konseling/{appointment.id}/batal", {"version": appointment.version})
    assert response.status_code == 303
    assert fresh(db, appointment.id).status == AppointmentStatus.CANCELLED


def test_it_shows_a_declined_request_with_the_counselors_reason(as_user, db):
    appointment = appointment_for(db, counseling(db))
    service.decline(db, appointment, person(db, "konselor"), version=appointment.version,
                    reason="Saya sedang dinas luar kota.")
    db.commit()
    html = as_user("orangtua").get(f"/konseling/{appointment.id}").text
    assert "Ditolak" in html
    assert "Saya sedang dinas luar kota." in html
    assert 'href="/konseling"' in html


def test_it_shows_a_request_whose_hold_ran_out_as_expired(as_user, db):
    appointment = appointment_for(db, counseling(db))
    db.execute(Appointment.__table__.update().where(Appointment.id == appointment.id)
               .values(hold_expires_at=appointment.created_at))
    db.commit()
    html = as_user("orangtua").get(f"/konseling/{appointment.id}").text
    assert "Kedaluwarsa" in html
    assert "/batal" not in html


def test_it_offers_a_calendar_file_in_wita_that_says_nothing_about_the_case(as_user, db):
    appointment = appointment_for(db, counseling(db), confirmed=True)
    response = as_user("orangtua").get(f"/konseling/{appointment.id}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["cache-control"] == "no-store"
    assert "attachment" in response.headers["content-disposition"]
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert all(line.endswith("\r") or not line for line in body.split("\n")[:-1])
    lines = body.split("\r\n")
    start, end = appointment.starts_at.astimezone(LOCAL), appointment.ends_at.astimezone(LOCAL)
    assert "BEGIN:VTIMEZONE" in lines
    assert "TZID:Asia/Makassar" in lines
    assert "TZOFFSETTO:+0800" in lines
    assert "TZNAME:WITA" in lines
    assert f"DTSTART;TZID=Asia/Makassar:{start:%Y%m%dT%H%M%S}" in lines
    assert f"DTEND;TZID=Asia/Makassar:{end:%Y%m%dT%H%M%S}" in lines
    assert "SUMMARY:Jadwal konseling" in lines
    assert "STATUS:CONFIRMED" in lines
    assert lines.count("BEGIN:VEVENT") == 1
    assert any(line.startswith("UID:") for line in lines)
    assert "sekolah" not in body
    assert "Rina" not in body
    assert "Konseling individu" not in body
    assert all(len(line.encode()) <= 75 for line in lines)


def test_it_marks_a_cancelled_appointment_cancelled_in_the_calendar_file(as_user, db):
    appointment = appointment_for(db, counseling(db))
    service.cancel(db, appointment, by_counselor=person(db, "konselor"), requester=None, version=appointment.version)
    db.commit()
    assert "STATUS:CANCELLED" in as_user("orangtua").get(f"/konseling/{appointment.id}.ics").text


def test_it_shows_staff_a_link_to_handle_it_and_no_requester_actions(as_user, db):
    appointment = appointment_for(db, counseling(db))
    html = as_user("konselor").get(f"/konseling/{appointment.id}").text
    assert f'href="/jadwal/{appointment.id}"' in html
    assert f"/konseling/{appointment.id}/batal" not in html
    response = form_post(as_user("konselor"), f"/konseling/{appointment.id}/batal", {"version": appointment.version})
    assert response.status_code == 404


def test_it_answers_not_found_for_an_unknown_or_malformed_address(as_user, db):
    client = as_user("orangtua")
    assert client.get("/konseling/999999").status_code == 404
    assert client.get("/konseling/12abc").status_code == 404
    assert db.execute(select(Appointment)).first() is None


def test_it_needs_the_csrf_token_to_cancel(as_user, db):
    appointment = appointment_for(db, counseling(db))
    client = as_user("orangtua")
    response = client.post(f"/konseling/{appointment.id}/batal", data={"version": appointment.version})
    assert response.status_code == 403
    assert post_form(client, f"/konseling/{appointment.id}/batal", {"version": appointment.version},
                     token_from="/").status_code == 200  # followed the redirect to the cancelled appointment


@pytest.mark.parametrize(("username", "voice"), [("anak", "Kamu bisa mematikannya"), ("orangtua", "Anda bisa mematikannya"),
                                                 (None, "Kamu bisa mematikannya")])
def test_it_offers_push_in_the_voice_of_the_person_who_booked(make_client, db, username, voice):
    """A child (signed in or holding a case's code) is spoken to as "kamu" on the push card, a parent as "Anda"."""
    client = make_client()
    if username:
        sign_in(client, username)
        appointment = appointment_for(db, counseling(db), username=username)
    else:
        appointment = appointment_for(db, counseling(db), username=None, report_id=code_holder(client, db))
    html = client.get(f"/konseling/{appointment.id}").text
    assert "Pemberitahuan di HP ini" in html
    assert voice in html
    other = "Anda bisa mematikannya" if voice.startswith("Kamu") else "Kamu bisa mematikannya"
    assert other not in html


# --- moving: the day first, as when booking (issue 22) ---------------------------------------------------------


def test_it_offers_the_day_first_then_its_times_to_move_as_booking_does(as_user, db):
    appointment = appointment_for(db, counseling(db), confirmed=True)
    client = as_user("orangtua")
    page = client.get(f"/konseling/{appointment.id}/pindah")
    assert page.status_code == 200
    assert "Pindah jadwal" in page.text
    assert ">Pilih hari<" in page.text
    assert "Pilih jam" in page.text
    assert "Minggu berikutnya" not in page.text  # no week picker any more
    days = re.findall(rf'class="day-chip" href="(/konseling/{appointment.id}/pindah\?dari=[\d-]+&amp;hari=([\d-]+))"',
                      page.text)
    assert len(days) == 7
    url, day = days[3][0].replace("&amp;", "&"), days[3][1]
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="slots"')
    assert "<html" not in fragment.text
    assert f'name="hari" value="{day}"' in fragment.text
    assert 'aria-current="date"' in fragment.text
    keys = slot_keys(fragment.text)
    assert keys
    assert {slot_start(key).astimezone(LOCAL).date().isoformat() for key in keys} == {day}
    assert all(re.fullmatch(r"\d+", key) for key in keys)  # a start time only: the counselor stays the same
    whole = client.get(url)
    assert "<html" in whole.text
    assert "Minta waktu baru" in whole.text
    assert f'name="hari" value="{day}"' in whole.text


def test_it_moves_only_to_a_time_its_own_counselor_has_free(as_user, db):
    """konselor2 is free in the evening, konselor (whose appointment it is) is not: the move page does not offer
    the evening, and a form sending it anyway is refused with nothing changed."""
    service_type = counseling(db)
    appointment = appointment_for(db, service_type, confirmed=True)
    konselor2 = person(db, "konselor2")
    db.add_all(WeeklyHours(counselor_id=konselor2.id, weekday=day, starts=time(16), ends=time(20)) for day in range(7))
    db.commit()
    client = as_user("orangtua")
    tomorrow = clock.now().astimezone(LOCAL).date() + timedelta(days=1)
    html = client.get(f"/konseling/{appointment.id}/pindah?hari={tomorrow.isoformat()}").text
    evening = datetime.combine(tomorrow, time(17), tzinfo=LOCAL)
    offered = [slot_start(key) for key in slot_keys(html)]
    assert offered
    assert max(offered) < evening
    assert str(int(evening.timestamp())) not in slot_keys(html)
    response = form_post(client, f"/konseling/{appointment.id}/pindah", {
        "slot": str(int(evening.timestamp())), "hari": tomorrow.isoformat(), "version": appointment.version})
    assert response.status_code == 422
    assert "Waktu ini sudah tidak tersedia" in error_for(response.text, "slot")
    assert f'name="hari" value="{tomorrow.isoformat()}"' in response.text
    kept = fresh(db, appointment.id)
    assert kept.status == AppointmentStatus.CONFIRMED
    assert kept.is_live
    assert db.execute(select(Appointment).where(Appointment.rescheduled_from_id == appointment.id)).first() is None


def test_it_refuses_a_made_up_time_to_move_to_next_to_the_times(as_user, db):
    appointment = appointment_for(db, counseling(db))
    client = as_user("orangtua")
    for made_up in ("", "banyak", "7@1796083200", "99999999999999"):
        response = form_post(client, f"/konseling/{appointment.id}/pindah", {"slot": made_up,
                                                                             "version": appointment.version})
        assert response.status_code == 422, made_up
        assert "Pilih salah satu waktu yang masih kosong." in error_for(response.text, "slot")
        assert slot_keys(response.text)
    assert fresh(db, appointment.id).status == AppointmentStatus.REQUESTED


def test_it_offers_the_days_to_move_to_on_the_appointments_own_page(as_user, db):
    """One tap on a day opens the move page with that day's times: a move takes a day, a time and the button."""
    appointment = appointment_for(db, counseling(db), confirmed=True)
    response = as_user("orangtua").get(f"/konseling/{appointment.id}")
    assert response.status_code == 200
    html = response.text
    section = html[html.index("Tidak bisa datang?"):html.index("</section>", html.index("Tidak bisa datang?"))]
    assert 'aria-label="Pindah ke hari"' in section
    assert "Pindah ke waktu lain" in section
    days = re.findall(rf'<a class="day-chip" href="/konseling/{appointment.id}/pindah\?dari=[\d-]+&amp;hari=[\d-]+">',
                      section)
    assert len(days) == 7
    assert "hx-get" not in section
