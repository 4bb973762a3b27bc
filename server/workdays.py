"""Working days in local time: Monday to Friday, minus public holidays and collective leave."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from server import clock
from server.holidays import DECREED_YEARS, decreed_between
from server.i18n import LOCAL
from server.models import Holiday, ServiceSetting
from server.process_cache import ProcessCopy
from server.service_info import CUTI_BERSAMA_SETTING

# From this month on, a supervisor is warned when next year's holidays are not known yet (lokal-id has no SKB
# for it: a new release, or typing them, is needed).
WARN_FROM_MONTH = 10


def closed_on_cuti_bersama(session: Session) -> bool:
    value = session.execute(select(col(ServiceSetting.value)).where(col(ServiceSetting.key) == CUTI_BERSAMA_SETTING)).scalar()
    return value != "0"


def holidays_between(session: Session, start: date, end: date) -> set[date]:
    entered = set(session.execute(
        select(col(Holiday.day)).where(col(Holiday.day) >= start, col(Holiday.day) <= end)).scalars())
    return entered | decreed_between(start, end, cuti_bersama=closed_on_cuti_bersama(session))


def years_with_holidays(session: Session) -> frozenset[int]:
    """The years whose national holidays are known: lokal-id's, and those a supervisor entered by hand."""
    days = session.execute(select(col(Holiday.day)).where(col(Holiday.kind) == "libur_nasional")).scalars()
    return DECREED_YEARS | frozenset(day.year for day in days)


# Each process keeps which years have holidays: supervisors' pages ask on every request.
_years: ProcessCopy[frozenset[int]] = ProcessCopy("the years with public holidays", years_with_holidays)


def forget_years() -> None:
    """After holidays were added or removed (the saving process shows it at once, others within seconds)."""
    _years.forget()


def years_to_enter(engine: Engine, today: date | None = None) -> list[int]:
    """The years a supervisor must still enter holidays for: this year when it has none, and from 1 October
    next year too. Deadlines counted over such a year would take its holidays for working days."""
    today = today or clock.today_local()
    known = _years.current(engine)
    wanted = [today.year] + ([today.year + 1] if today.month >= WARN_FROM_MONTH else [])
    return [year for year in wanted if year not in known]


def years_without_holidays(session: Session, start: datetime, end: datetime) -> list[int]:
    """The years from `start` to `end` (local time) with no holiday entered: a working-day count over them is unsure."""
    first, last = start.astimezone(LOCAL).year, end.astimezone(LOCAL).year
    known = years_with_holidays(session)
    return [year for year in range(first, last + 1) if year not in known]


def add_working_days(session: Session, moment: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after `moment` (local time), as an aware UTC datetime.

    A report made on Friday evening with three working days is due at the end of Wednesday, or later when
    holidays fall in between."""
    local = moment.astimezone(LOCAL)
    holidays = holidays_between(session, local.date(), local.date() + timedelta(days=days * 3 + 30))
    day, counted = local.date(), 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            counted += 1
    return datetime.combine(day, time(23, 59), tzinfo=LOCAL)
