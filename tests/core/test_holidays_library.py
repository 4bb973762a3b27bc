"""Holidays nobody has to type (issue 24): the national holidays and cuti bersama of every year lokal-id knows,
shown with their decree and source; supervisors add regional days and choose whether the office also closes on
cuti bersama."""

from __future__ import annotations

from datetime import date, datetime

from server.i18n import LOCAL
from server.models import ServiceSetting
from server.service_info import CUTI_BERSAMA_SETTING
from server.workdays import add_working_days, holidays_between
from tests.support.appointments import form_post


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, tzinfo=LOCAL)


def test_the_holidays_page_shows_the_decreed_days_with_their_decree_and_source(as_user):
    html = as_user("supervisor").get("/jadwal/libur?tahun=2027").text
    assert "SKB Nomor 1205 Tahun 2026, Nomor 3 Tahun 2026, Nomor 2 Tahun 2026" in html
    assert 'href="https://setneg.go.id/baca/index/inilah_skb_3_menteri_libur_nasional_dan_cuti_bersama_2027"' in html
    assert "Rabu, 10 Maret 2027" in html
    assert "Idulfitri 1448 H" in html
    assert "Cuti bersama" in html
    assert "Kantor tutup pada hari cuti bersama." in html


def test_a_year_the_library_does_not_know_says_so_and_asks_for_the_days(as_user):
    html = as_user("supervisor").get("/jadwal/libur?tahun=2028").text
    assert "data-no-decree" in html
    assert "belum memuat SKB hari libur tahun 2028" in html


def test_a_regional_day_is_added_listed_and_skipped_by_deadlines(as_user, db):
    supervisor = as_user("supervisor")
    # Tuesday 20 April 2027; a report on Friday 16 April is due on Wednesday 21 April without it.
    assert add_working_days(db, datetime(2027, 4, 16, 10, 0, tzinfo=LOCAL), 3) == end_of(date(2027, 4, 21))
    response = form_post(supervisor, "/jadwal/libur", {"lines": "2027-04-20, Hari Jadi Kota Banjarbaru",
                                                       "kind": "libur_daerah"})
    assert response.status_code == 303
    html = supervisor.get("/jadwal/libur?tahun=2027").text
    assert "Hari Jadi Kota Banjarbaru" in html
    assert "Libur daerah" in html
    db.expire_all()
    assert add_working_days(db, datetime(2027, 4, 16, 10, 0, tzinfo=LOCAL), 3) == end_of(date(2027, 4, 22))


def test_a_decreed_day_cannot_be_typed_again(as_user):
    response = form_post(as_user("supervisor"), "/jadwal/libur", {"lines": "2027-03-10, Idulfitri",
                                                                  "kind": "libur_nasional"})
    assert response.status_code == 422
    assert "Baris 1: tanggal ini sudah ada di SKB hari libur nasional dan cuti bersama." in response.text


def test_the_office_may_stay_open_on_cuti_bersama(as_user, db):
    christmas_eve = date(2026, 12, 24)  # cuti bersama; 25 December is a national holiday
    assert {christmas_eve, date(2026, 12, 25)} <= holidays_between(db, date(2026, 12, 20), date(2026, 12, 31))
    supervisor = as_user("supervisor")
    form = {"service_name": "Bintang Ceria", "city_name": "Kota Banjarbaru", "emergency_number": "112",
            "sapa_number": "129", "sapa_whatsapp": "", "city_hotline": ""}  # the box left unticked
    assert form_post(supervisor, "/admin/layanan", form).status_code == 303
    db.expire_all()
    assert db.get(ServiceSetting, CUTI_BERSAMA_SETTING).value == "0"
    days = holidays_between(db, date(2026, 12, 20), date(2026, 12, 31))
    assert christmas_eve not in days
    assert date(2026, 12, 25) in days
    # Wednesday 23 December: Thursday 24, Monday 28, Tuesday 29.
    assert add_working_days(db, datetime(2026, 12, 23, 10, 0, tzinfo=LOCAL), 3) == end_of(date(2026, 12, 29))
    assert "Kantor buka pada hari cuti bersama" in supervisor.get("/jadwal/libur?tahun=2026").text
    assert form_post(supervisor, "/admin/layanan", {**form, "closed_on_cuti_bersama": "1"}).status_code == 303
    db.expire_all()
    assert christmas_eve in holidays_between(db, date(2026, 12, 20), date(2026, 12, 31))
