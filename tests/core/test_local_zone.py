"""The date logic in each of Indonesia's three zones (issue 24): whichever zone the region keeps (WIB, WITA or
WIT), a report at 23.30 local time on the last day of a month counts in that month, quiet hours run from 21.00 to
07.00 local time, and a deadline skips the local weekend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server import clock, i18n
from server.accounts.models import User
from server.appointments.ics import calendar_file
from server.appointments.models import Appointment, AppointmentStatus, Mode, ServiceType
from server.notifications.outbox import outside_quiet_hours
from server.reports import freshness
from server.statistics import service as statistics
from server.workdays import add_working_days
from tests.support.statistics import a_report

ZONES = [("WIB", 7), ("WITA", 8), ("WIT", 9)]


@pytest.fixture(params=ZONES, ids=[zone for zone, _ in ZONES])
def zone(request: pytest.FixtureRequest) -> tuple[str, timedelta]:
    name, hours = request.param
    clock.use_zone(name)  # the autouse clock fixture puts WITA back for the next test
    return name, timedelta(hours=hours)


def local(offset: timedelta, *args: int) -> datetime:
    """A wall-clock time in the zone, as the UTC moment the database keeps."""
    return datetime(*args, tzinfo=UTC) - offset


def test_a_report_at_23_30_on_the_last_day_of_a_month_counts_in_that_month(db, zone):
    _name, offset = zone
    a_report(db, created_at=local(offset, 2026, 11, 30, 23, 30), categories=["fisik"])
    a_report(db, created_at=local(offset, 2026, 12, 1, 0, 30), categories=["fisik"])
    supervisor = db.execute(select(User).where(User.username == "supervisor")).scalar_one()
    november = statistics.statistics(db, supervisor, statistics.StatisticsFilter(statistics.Period(2026, 11)))
    december = statistics.statistics(db, supervisor, statistics.StatisticsFilter(statistics.Period(2026, 12)))
    assert (november.cases, december.cases) == (1, 1)
    assert freshness.month_of(local(offset, 2026, 11, 30, 23, 30)) == 202611
    assert clock.today_local() == date(2026, 12, 1)


def test_quiet_hours_follow_local_time(zone):
    name, offset = zone
    assert outside_quiet_hours(local(offset, 2026, 12, 1, 20, 59)) == local(offset, 2026, 12, 1, 20, 59)
    assert outside_quiet_hours(local(offset, 2026, 12, 1, 21, 0)) == local(offset, 2026, 12, 2, 7, 0)
    assert outside_quiet_hours(local(offset, 2026, 12, 2, 6, 59)) == local(offset, 2026, 12, 2, 7, 0)
    assert i18n.format_local_time(local(offset, 2026, 12, 2, 7, 0)) == f"07.00 {name}"


def test_a_deadline_skips_the_local_weekend(db, zone):
    _name, offset = zone
    # Friday 4 December 2026, 23.30 local time: Monday, Tuesday, Wednesday.
    due = add_working_days(db, local(offset, 2026, 12, 4, 23, 30), 3)
    assert due == local(offset, 2026, 12, 9, 23, 59)
    # Saturday 00.30 local time is still Friday in UTC: counted from Monday all the same.
    assert add_working_days(db, local(offset, 2026, 12, 5, 0, 30), 3) == local(offset, 2026, 12, 9, 23, 59)


def test_a_calendar_file_names_the_regions_zone(zone):
    name, offset = zone
    starts = local(offset, 2026, 12, 3, 10, 0)
    appointment = Appointment(id=7, starts_at=starts, ends_at=starts + timedelta(hours=1), updated_at=starts,
                              version=1)
    text = calendar_file(appointment, status=AppointmentStatus.CONFIRMED,
                         service_type=ServiceType(name="Konseling", mode=Mode.PHONE), page_url="https://x/jadwal/7")
    assert f"TZID:{clock.ZONE_KEYS[name]}" in text
    assert f"TZNAME:{name}" in text
    assert f"DTSTART;TZID={clock.ZONE_KEYS[name]}:20261203T100000" in text
    assert f"TZOFFSETTO:+0{offset.seconds // 3600}00" in text
