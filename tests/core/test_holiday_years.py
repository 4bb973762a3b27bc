"""Years that run out: national holidays come from lokal-id for the years whose SKB it holds (2026 and 2027), so
supervisors are warned only before a year it does not know begins, and a deadline counted over such a year says
so on the case page."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.appointments import form_post
from tests.support.reports import make_report

NEXT_YEAR_MISSING = "Hari libur 2028 belum diisi"


def test_a_supervisor_is_not_warned_in_september_when_this_year_has_its_holidays(as_user, pinned_clock):
    pinned_clock.move_to(datetime(2027, 9, 30, 15, 0, tzinfo=UTC))  # 30 September 2027, 23.00 WITA
    html = as_user("supervisor").get("/admin").text
    assert "belum diisi" not in html


def test_from_1_october_of_the_last_year_the_library_knows_supervisor_pages_warn_of_the_next(as_user, pinned_clock):
    pinned_clock.move_to(datetime(2027, 9, 30, 16, 0, tzinfo=UTC))  # 1 October 2027, 00.00 WITA
    supervisor = as_user("supervisor")
    for path in ("/admin", "/kasus", "/jadwal/libur"):
        response = supervisor.get(path)
        assert response.status_code == 200
        assert NEXT_YEAR_MISSING in response.text, path
        assert 'href="/jadwal/libur?tahun=2028"' in response.text


def test_no_warning_in_october_2026_the_library_knows_2027(as_user, pinned_clock):
    pinned_clock.move_to(datetime(2026, 10, 15, 2, 0, tzinfo=UTC))
    assert "belum diisi" not in as_user("supervisor").get("/admin").text


def test_counselors_and_reporters_are_not_shown_the_warning(client, as_user, pinned_clock):
    pinned_clock.move_to(datetime(2027, 11, 2, 2, 0, tzinfo=UTC))
    assert NEXT_YEAR_MISSING not in as_user("konselor").get("/kasus").text
    assert NEXT_YEAR_MISSING not in as_user("orangtua").get("/").text
    assert NEXT_YEAR_MISSING not in client.get("/").text


def test_the_warning_goes_once_that_years_national_holidays_are_typed(as_user, pinned_clock):
    pinned_clock.move_to(datetime(2027, 11, 2, 2, 0, tzinfo=UTC))
    supervisor = as_user("supervisor")
    assert NEXT_YEAR_MISSING in supervisor.get("/admin").text
    regional = form_post(supervisor, "/jadwal/libur", {"lines": "2028-04-20, Hari Jadi Kota", "kind": "libur_daerah"})
    assert regional.status_code == 303
    assert NEXT_YEAR_MISSING in supervisor.get("/admin").text  # a regional day is no national calendar
    response = form_post(supervisor, "/jadwal/libur", {"lines": "2028-01-01, Tahun Baru 2028 Masehi",
                                                      "kind": "libur_nasional"})
    assert response.status_code == 303
    assert "belum diisi" not in supervisor.get("/admin").text


def test_in_a_year_the_library_does_not_know_the_warning_names_that_year(as_user, pinned_clock):
    pinned_clock.move_to(datetime(2028, 3, 1, 1, 0, tzinfo=UTC))
    html = as_user("supervisor").get("/admin").text
    assert "Hari libur 2028 belum diisi" in html
    assert "Hari libur 2029 belum diisi" not in html


def test_a_case_whose_first_follow_up_runs_into_a_year_without_holidays_says_so(app, db, as_user, pinned_clock):
    pinned_clock.move_to(datetime(2028, 1, 10, 2, 0, tzinfo=UTC))
    late_december = make_report(app, db, at=datetime(2027, 12, 30, 2, 0, tzinfo=UTC)).report
    early_december = make_report(app, db, at=datetime(2027, 12, 1, 2, 0, tzinfo=UTC)).report
    counselor = as_user("konselor")
    late = counselor.get(f"/kasus/{late_december.id}")
    assert late.status_code == 200
    assert "Tindak lanjut pertama" in late.text
    assert "hari libur 2028 belum diisi" in late.text
    early = counselor.get(f"/kasus/{early_december.id}")
    assert "Tindak lanjut pertama" in early.text
    assert "belum diisi" not in early.text


def test_an_emergency_due_at_once_says_nothing_about_holidays(app, db, as_user):
    emergency = make_report(app, db, danger_now="yes", at=datetime(2026, 12, 31, 2, 0, tzinfo=UTC)).report
    html = as_user("konselor").get(f"/kasus/{emergency.id}").text
    assert "Tanggapi segera" in html
    assert "belum diisi" not in html
