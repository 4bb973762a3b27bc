"""The booking page's free times are remembered between requests and forgotten exactly when the schedule changes
(server/appointments/freshness.py): by any committed change to appointments, hours, time away, service types,
holidays or counselors' accounts, whichever code made it, and when the minute turns."""

from datetime import time, timedelta

import pytest
from sqlalchemy import select, update

from server import clock
from server.accounts.models import User
from server.appointments.models import AvailabilityException, ScheduleVersion, WeeklyHours
from server.i18n import LOCAL
from server.models import Holiday
from server.reports.models import Report
from tests.support.appointments import book, booked_id, booking_page, counseling, person, slot_keys, slot_start

pytestmark = pytest.mark.both_databases


def version(db) -> int:
    db.expire_all()
    return db.execute(select(ScheduleVersion.n)).scalar_one()


def test_a_booking_by_someone_else_is_gone_from_the_page_at_once(as_user, db):
    service_type = counseling(db)
    parent, child = as_user("orangtua"), as_user("anak")
    shown = slot_keys(booking_page(parent, service_type))
    assert slot_keys(booking_page(parent, service_type)) == shown  # asked again: the same, remembered
    taken = shown[-1]
    booked_id(book(child, service_type, slot=taken))
    assert taken not in slot_keys(booking_page(parent, service_type))


def test_hours_time_away_and_holidays_change_the_times_shown(as_user, db):
    service_type = counseling(db)
    child = as_user("anak")
    counselor = person(db, "konselor")
    first = slot_keys(booking_page(child, service_type))
    assert first

    db.execute(update(WeeklyHours).where(WeeklyHours.counselor_id == counselor.id).values(ends=time(15)))
    db.commit()
    shorter = slot_keys(booking_page(child, service_type))
    assert shorter == [key for key in first if slot_start(key).astimezone(LOCAL).time() <= time(14)]

    # A day away from now: the first times shown are a day on.
    starts = clock.now().replace(microsecond=0)
    db.add(AvailabilityException(counselor_id=counselor.id, reason="leave", starts_at=starts,
                                 ends_at=starts + timedelta(days=1)))
    db.commit()
    away = slot_keys(booking_page(child, service_type))
    assert away
    assert all(slot_start(key) >= starts + timedelta(days=1) for key in away)

    # A holiday entered by a supervisor: gone from the row of days.
    html = booking_page(child, service_type)
    holiday = slot_start(slot_keys(html)[0]).astimezone(LOCAL).date() + timedelta(days=1)
    assert f"hari={holiday.isoformat()}" in html
    db.add(Holiday(day=holiday, kind="libur", name="Libur uji"))
    db.commit()
    assert f"hari={holiday.isoformat()}" not in booking_page(child, service_type)


def test_a_counselor_made_inactive_offers_no_more_times(as_user, db):
    service_type = counseling(db)
    child = as_user("anak")
    assert slot_keys(booking_page(child, service_type))
    counselor = person(db, "konselor")
    counselor.active = False
    db.commit()
    assert slot_keys(booking_page(child, service_type)) == []


def test_the_times_follow_the_clock_minute_by_minute(as_user, db, pinned_clock):
    service_type = counseling(db)
    child = as_user("anak")
    first = slot_keys(booking_page(child, service_type))
    # Just past the first free time (09.30 WITA; the clock is at 09.17): nothing in the schedule changed, the
    # minute did, and that time is no longer offered.
    assert slot_start(first[0]).astimezone(LOCAL).time() == time(9, 30)
    pinned_clock.shift(timedelta(minutes=14))
    later = slot_keys(booking_page(child, service_type))
    assert later == first[1:]


def test_the_number_grows_once_per_commit_that_changes_the_schedule_and_not_otherwise(db):
    counselor = person(db, "konselor")
    before = version(db)
    db.add(WeeklyHours(counselor_id=counselor.id, weekday=0, starts=time(8), ends=time(9)))
    db.add(WeeklyHours(counselor_id=counselor.id, weekday=1, starts=time(8), ends=time(9)))
    db.commit()
    assert version(db) == before + 1

    # A change rolled back leaves it as it was.
    db.add(WeeklyHours(counselor_id=counselor.id, weekday=2, starts=time(8), ends=time(9)))
    db.flush()
    db.rollback()
    db.commit()
    assert version(db) == before + 1

    # What free time does not depend on leaves it as it was: a person's display name, a report's flag.
    user = db.execute(select(User).where(User.username == "orangtua")).scalar_one()
    user.display_name = "Ibu Sari"
    db.commit()
    db.execute(update(Report).values(suspected_spam=False))
    db.commit()
    assert version(db) == before + 1

    # A statement that changes rows wholesale (as the worker expiring lapsed requests does) raises it too.
    db.execute(update(WeeklyHours).where(WeeklyHours.weekday == 0).values(ends=time(10)))
    db.commit()
    assert version(db) == before + 2
