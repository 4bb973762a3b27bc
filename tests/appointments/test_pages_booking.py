"""/konseling: choosing a service, seeing free slots by day in WITA, and asking for one."""

import re
from datetime import time, timedelta

from sqlalchemy import select

from server import clock
from server.accounts.models import Child, Guardianship, Role, User
from server.appointments.models import Appointment, AppointmentStatus, WeeklyHours
from server.i18n import LOCAL
from server.reports.models import Report
from tests.support.appointments import (
    also_works,
    book,
    booked_id,
    booking_page,
    code_holder,
    counseling,
    day_links,
    error_for,
    fresh,
    own_report,
    person,
    slot_keys,
    slot_start,
)
from tests.support.web import post_form

DAY_LABEL = re.compile(r"(Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu), \d{1,2} [A-Z][a-z]+ \d{4}")


def test_it_shows_a_row_of_days_then_each_free_time_of_the_chosen_day_once_in_wita(as_user, db):
    service_type = counseling(db)
    also_works(db, "konselor2")
    html = booking_page(as_user("orangtua"), service_type)
    assert "Konseling individu" in html
    assert "Tatap muka" in html
    assert "Pilih hari" in html
    assert "Pilih jam" in html
    assert "Semua jam dalam WITA" in html
    keys = slot_keys(html)
    # Two counselors free at the same times: each time once, no counselor named, all on the first day.
    assert keys
    assert len(keys) == len(set(keys))
    today = clock.now().astimezone(LOCAL).date()
    assert {slot_start(key).astimezone(LOCAL).date() for key in keys} == {today}
    assert "Konselor Rina" not in html
    days = day_links(html)
    assert len(days) == 7
    assert 'aria-current="date"' in html
    assert DAY_LABEL.search(html)
    assert re.search(r'<span class="slot-option__time">\d\d\.\d\d</span>', html)
    assert len(re.findall(r'name="slot"', html)) < 20


def test_it_swaps_only_a_days_times_for_htmx_and_keeps_the_address_shareable(as_user, db):
    service_type = counseling(db)
    client = as_user("orangtua")
    html = booking_page(client, service_type)
    assert re.search(r'class="day-chip" href="([^"]+)" hx-get="\1" hx-target="#slots"', html)
    assert 'hx-push-url="true"' in html
    url = day_links(html)[2]
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="slots"')
    assert "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    day = (clock.now().astimezone(LOCAL).date() + timedelta(days=2)).isoformat()
    assert f'name="hari" value="{day}"' in fragment.text
    assert {slot_start(key).astimezone(LOCAL).date().isoformat() for key in slot_keys(fragment.text)} == {day}
    # Without JavaScript the same address is a whole page.
    whole = client.get(url)
    assert "<html" in whole.text
    assert f'name="hari" value="{day}"' in whole.text


def test_it_assigns_the_least_loaded_free_counselor(as_user, db):
    service_type = counseling(db)
    also_works(db, "konselor2")
    first = fresh(db, booked_id(book(as_user("anak"), service_type)))
    second = fresh(db, booked_id(book(as_user("guru"), service_type, slot=str(int(first.starts_at.timestamp())),
                                      child_agreed="yes")))
    # The same time twice: the second booker gets the other counselor, never an overlap.
    assert first.starts_at == second.starts_at
    assert {first.counselor_id, second.counselor_id} == {
        person(db, "konselor").id, person(db, "konselor2").id}
    third = fresh(db, booked_id(book(as_user("orangtua"), service_type, slot=str(int(first.starts_at.timestamp()) - 5400),
                                     child_id=db.execute(select(Child.id)).scalar())))
    # Both now have one upcoming session; the tie goes to the lower id, konselor.
    assert third.counselor_id == person(db, "konselor").id


def test_it_gives_a_code_holder_the_counselor_of_their_case(make_client, db):
    service_type = counseling(db)
    also_works(db, "konselor2")
    client = make_client()
    report_id = code_holder(client, db)
    report = db.get(Report, report_id)
    report.assigned_to_id = person(db, "konselor2").id
    db.add(report)
    db.commit()
    appointment = fresh(db, booked_id(book(client, service_type)))
    assert appointment.counselor_id == person(db, "konselor2").id


def test_it_lets_a_parent_book_for_their_child_and_shows_waiting_for_confirmation(as_user, db):
    service_type = counseling(db)
    client = as_user("orangtua")
    dimas = db.execute(select(Child).where(Child.nickname == "Dimas")).scalar_one()
    appointment_id = booked_id(book(client, service_type, child_id=dimas.id, note="Anak saya sulit tidur."))
    appointment = fresh(db, appointment_id)
    assert appointment.status == AppointmentStatus.REQUESTED
    assert appointment.child_id == dimas.id
    assert appointment.requester_user_id == person(db, "orangtua").id
    assert appointment.report_id is None
    html = client.get(f"/konseling/{appointment_id}?pesan=baru").text
    assert "Menunggu konfirmasi" in html
    assert "Permintaanmu sudah terkirim" in html
    assert "Dimas" in html
    assert "Anak saya sulit tidur." in html
    assert "WITA" in html


def test_it_asks_a_parent_which_child_and_keeps_what_was_typed(as_user, db):
    service_type = counseling(db)
    client = as_user("orangtua")
    html = booking_page(client, service_type)
    chosen = slot_keys(html)[-1]
    response = post_form(client, "/konseling", {"layanan": service_type.id, "slot": chosen, "note": "Tolong sore."},
                         token_from="/")
    assert response.status_code == 422
    assert "Pilih anak" in error_for(response.text, "child_id")
    assert "Tolong sore." in response.text
    assert f'value="{chosen}" required checked' in response.text
    assert db.execute(select(Appointment)).first() is None


def test_it_lets_a_teacher_book_saying_whether_the_student_agreed(as_user, db):
    service_type = counseling(db)
    client = as_user("guru")
    refused = book(client, service_type, note="Murid kelas 8B, Andi.")
    assert refused.status_code == 422
    assert "murid setuju" in error_for(refused.text, "child_agreed")
    assert "Murid kelas 8B, Andi." in refused.text
    appointment = fresh(db, booked_id(book(client, service_type, child_agreed="unsure", note="Murid kelas 8B, Andi.")))
    assert appointment.child_agreed == "unsure"
    assert appointment.requester_user_id == person(db, "guru").id


def test_it_lets_a_child_with_an_account_book(as_user, db):
    service_type = counseling(db)
    appointment = fresh(db, booked_id(book(as_user("anak"), service_type)))
    assert appointment.requester_user_id == person(db, "anak").id


def test_it_lets_a_code_holder_book_for_their_case_without_an_account(make_client, db):
    service_type = counseling(db)
    client = make_client()
    report_id = code_holder(client, db)
    html = booking_page(client, service_type)
    assert "tersimpan bersama laporanmu" in html
    appointment_id = booked_id(book(client, service_type, note="Aku mau cerita."))
    appointment = fresh(db, appointment_id)
    assert appointment.report_id == report_id
    assert appointment.requester_user_id is None
    page = client.get(f"/konseling/{appointment_id}")
    assert page.status_code == 200
    assert "Menunggu konfirmasi" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert f"/konseling/{appointment_id}" in client.get("/konseling/saya").text


def test_it_gives_fresh_slots_and_keeps_the_note_when_the_slot_was_just_taken(as_user, db):
    service_type = counseling(db)
    parent, teacher = as_user("orangtua"), as_user("guru")
    dimas = db.execute(select(Child).where(Child.nickname == "Dimas")).scalar_one()
    contested = slot_keys(booking_page(parent, service_type))[-1]
    booked_id(book(teacher, service_type, slot=contested, child_agreed="yes"))
    response = post_form(parent, "/konseling", {"layanan": service_type.id, "slot": contested, "child_id": dimas.id,
                                                "note": "Catatan yang panjang dan penting."}, token_from="/")
    assert response.status_code == 422
    assert "sudah tidak tersedia" in error_for(response.text, "slot")
    fresh_keys = slot_keys(response.text)
    assert fresh_keys
    assert contested not in fresh_keys
    assert "Catatan yang panjang dan penting." in response.text
    assert re.search(rf'<option value="{dimas.id}" selected>', response.text)
    assert len(db.execute(select(Appointment)).all()) == 1


def test_it_refuses_a_note_over_500_characters_next_to_the_field(as_user, db):
    service_type = counseling(db)
    response = book(as_user("anak"), service_type, note="a" * 501)
    assert response.status_code == 422
    assert "500" in error_for(response.text, "note")
    assert "a" * 501 in response.text


def test_it_refuses_a_made_up_slot(as_user, db):
    service_type = counseling(db)
    client = as_user("anak")
    key = slot_keys(booking_page(client, service_type))[-1]
    response = book(client, service_type, slot=str(int(key) + 60))
    assert response.status_code == 422
    assert "tidak tersedia" in error_for(response.text, "slot")
    response = book(client, service_type, slot="nonsense")
    assert response.status_code == 422
    assert "Pilih salah satu waktu" in error_for(response.text, "slot")


def test_it_links_the_requesters_own_report_and_no_one_elses(app, as_user, make_client, db):
    service_type = counseling(db)
    stranger_case = code_holder(make_client(), db)
    own = own_report(app, db, "orangtua")
    client = as_user("orangtua")
    dimas = db.execute(select(Child.id)).scalar()
    assert f'<option value="{own}"' in client.get(f"/konseling?layanan={service_type.id}&laporan={own}").text
    response = book(client, service_type, child_id=dimas, report_id=stranger_case)
    assert response.status_code == 422
    assert "laporan Anda" in error_for(response.text, "report_id")
    assert fresh(db, booked_id(book(client, service_type, child_id=dimas, report_id=own))).report_id == own


def test_it_does_not_offer_inactive_service_types(as_user, db):
    service_type = counseling(db)
    service_type.active = False
    db.add(service_type)
    db.commit()
    html = as_user("anak").get(f"/konseling?layanan={service_type.id}").text
    assert "Konseling individu" not in html
    assert not slot_keys(html)


def test_it_sends_staff_to_their_schedule_and_others_to_sign_in_or_their_code(as_user, make_client, db):
    service_type = counseling(db)
    response = as_user("konselor").get("/konseling", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/jadwal"
    visitor = make_client()
    html = visitor.get("/konseling").text
    assert 'href="/masuk?lanjut=/konseling"' in html
    assert 'href="/cek"' in html
    assert not slot_keys(html)
    refused = post_form(visitor, "/konseling", {"layanan": service_type.id, "slot": "1@1"}, token_from="/")
    assert refused.status_code == 401
    assert visitor.get("/konseling/saya").status_code == 200  # the same choice: sign in or use the code
    assert db.execute(select(Appointment)).first() is None


def test_it_lists_my_appointments(as_user, db):
    service_type = counseling(db)
    client = as_user("anak")
    appointment_id = booked_id(book(client, service_type))
    html = client.get("/konseling/saya").text
    assert f'href="/konseling/{appointment_id}"' in html
    assert "Menunggu konfirmasi" in html
    assert f'href="/konseling/{appointment_id}"' not in as_user("guru").get("/konseling/saya").text


def test_it_shows_an_upcoming_appointment_first_and_only_to_its_requester(as_user, db, pinned_clock):
    service_type = counseling(db)
    client = as_user("anak")
    assert "Jadwalmu yang akan datang" not in booking_page(client, service_type)
    appointment = fresh(db, booked_id(book(client, service_type)))
    html = booking_page(client, service_type)
    upcoming = html.index("Jadwalmu yang akan datang")
    assert upcoming < html.index('id="booking-form"')
    assert upcoming < html.index("Pilih layanan")
    assert f'href="/konseling/{appointment.id}"' in html[upcoming:html.index("</section>", upcoming)]
    assert "Menunggu konfirmasi" in html
    assert "Jadwalmu yang akan datang" not in booking_page(as_user("guru"), service_type)
    pinned_clock.move_to(appointment.ends_at + timedelta(minutes=1))
    assert "Jadwalmu yang akan datang" not in booking_page(client, service_type)


def test_it_puts_service_day_and_time_first_and_what_explains_the_page_below_the_send_button(make_client, db):
    """Issue 22: on a 360 px phone the first start times were a screen and a half down, behind the explanation."""
    service_type = counseling(db)
    client = make_client()
    code_holder(client, db)
    response = client.get(f"/konseling?layanan={service_type.id}")
    assert response.status_code == 200
    html = response.text
    order = [html.index(words) for words in (
        "<h1>Minta konseling</h1>", "Pilih layanan", ">Pilih hari<", "Pilih jam", "Kirim permintaan",
        "konselornya dipilihkan oleh layanan", "Permintaan ini tersimpan bersama laporanmu", "Lihat jadwal saya")]
    assert order == sorted(order), order
    # The days wrap as a grid of links (each a whole page without JavaScript), and a link to later days.
    grid = html[html.index('<ul class="day-row__list">'):html.index("</ul>", html.index('<ul class="day-row__list">'))]
    assert len(re.findall(r'class="day-chip" href="/konseling\?layanan=\d+&amp;dari=[\d-]+&amp;hari=[\d-]+"', grid)) == 7
    assert re.search(r'<span class="day-chip__weekday">(Sen|Sel|Rab|Kam|Jum|Sab|Min)</span> '
                     r'<span class="day-chip__date">\d{1,2} [A-Z][a-z]{2}</span>', grid)
    assert "Hari lain ›" in grid
    assert f'name="dari" value="{clock.now().astimezone(LOCAL).date().isoformat()}"' in html


def test_it_keeps_the_day_chosen_when_a_booking_comes_back_refused(as_user, db):
    """The form carries where the days began (`dari`) beside the day: a refused booking shows the same day again,
    even one past the first seven."""
    service_type = counseling(db)
    client = as_user("anak")
    later = clock.now().astimezone(LOCAL).date() + timedelta(days=9)
    html = client.get(f"/konseling?layanan={service_type.id}&dari={(later - timedelta(days=2)).isoformat()}"
                      f"&hari={later.isoformat()}").text
    form = html[html.index('id="booking-form"'):]
    carried = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert carried["hari"] == later.isoformat()
    chosen = slot_keys(html)[0]
    response = post_form(client, "/konseling", {**carried, "slot": chosen, "note": "x" * 501}, token_from="/")
    assert response.status_code == 422
    assert "Catatan terlalu panjang" in error_for(response.text, "note")
    assert f'name="hari" value="{later.isoformat()}"' in response.text
    assert f'value="{chosen}" required checked' in response.text


def test_it_leads_with_the_soonest_appointment_and_keeps_the_others_below_in_a_disclosure(as_user, db):
    service_type = counseling(db)
    client = as_user("anak")
    booked = [booked_id(book(client, service_type)) for _each in range(3)]  # the last free time, three times
    html = booking_page(client, service_type)
    section = html[html.index("Jadwalmu yang akan datang"):html.index("</section>")]
    soonest = min(booked, key=lambda i: fresh(db, i).starts_at)
    assert f'href="/konseling/{soonest}"' in section
    assert "Menunggu konfirmasi" in section
    assert "Buka jadwal itu untuk mengubahnya." in section
    assert sum(f'href="/konseling/{i}"' in section for i in booked) == 1
    more = html[html.index("<details class=\"field-details\" data-upcoming-more>"):]
    assert html.index("Kirim permintaan") < html.index("data-upcoming-more")
    assert "<summary>Jadwal lainnya (2)</summary>" in more
    assert all(f'href="/konseling/{i}"' in more for i in booked if i != soonest)


def test_it_chooses_the_only_child_of_a_parent_and_asks_a_parent_of_two(as_user, db):
    service_type = counseling(db)
    client = as_user("orangtua")
    dimas = db.execute(select(Child).where(Child.nickname == "Dimas")).scalar_one()
    response = client.get(f"/konseling?layanan={service_type.id}")
    assert response.status_code == 200
    assert f'<option value="{dimas.id}" selected>Dimas</option>' in response.text
    sari = Child(nickname="Sari")
    db.add(sari)
    db.flush()
    db.add(Guardianship(parent_id=person(db, "orangtua").id, child_id=sari.id))
    db.commit()
    html = booking_page(client, service_type)
    assert "Untuk anak yang mana?" in html
    assert " selected>" not in html.split('name="child_id"')[1].split("</select>")[0]
    assert f'<option value="{sari.id}">Sari</option>' in html


FRAGMENT_BUDGET = 12 * 1024  # bytes of HTML before compression (issue 13)


def test_a_days_times_for_twelve_counselors_stay_within_twelve_kilobytes(as_user, db):
    """The heaviest fragment: twelve counselors working long days, each time still shown once."""
    service_type = counseling(db)
    counselors = [person(db, "konselor"), person(db, "konselor2")]
    counselors += [User(username=f"konselor-uji-{n}", display_name=f"Konselor Uji Dengan Nama Panjang {n}",
                        password_hash="-", role=Role.COUNSELOR) for n in range(10)]
    db.add_all(counselors)
    db.flush()
    # Staggered hours 07.00–21.00, so the half hours of the day are all free with someone.
    db.add_all(WeeklyHours(counselor_id=c.id, weekday=day, starts=time(7 + n % 3), ends=time(19 + n % 3))
               for n, c in enumerate(counselors) for day in range(7))
    db.commit()
    client = as_user("anak")
    tomorrow = (clock.now().astimezone(LOCAL).date() + timedelta(days=1)).isoformat()
    fragment = client.get(f"/konseling?layanan={service_type.id}&hari={tomorrow}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    keys = slot_keys(fragment.text)
    assert len(keys) == len(set(keys)) == 27  # 07.00 to 20.00, every half hour, once
    assert len(day_links(fragment.text)) == 7
    assert len(fragment.content) <= FRAGMENT_BUDGET, len(fragment.content)
