"""Working days in WITA: Monday to Friday, minus public holidays and collective leave."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import Session

from server.i18n import WITA
from server.models import Holiday


def holidays_between(session: Session, start: date, end: date) -> set[date]:
    return set(session.execute(select(Holiday.day).where(Holiday.day >= start, Holiday.day <= end)).scalars())


def add_working_days(session: Session, moment: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after `moment` (WITA), as an aware UTC datetime.

    A report made on Friday evening with three working days is due at the end of Wednesday, or later when
    holidays fall in between."""
    local = moment.astimezone(WITA)
    holidays = holidays_between(session, local.date(), local.date() + timedelta(days=days * 3 + 30))
    day, counted = local.date(), 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            counted += 1
    return datetime.combine(day, time(23, 59), tzinfo=WITA)
