"""Public holidays as supervisors enter them on /jadwal/libur: the page's year, and adding days with how many
booked sessions fall on them. The rules for reading and keeping holidays are in server/holidays.py."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from server import clock
from server import holidays as public_holidays
from server.accounts.models import User
from server.appointments import service as appointments
from server.models import Holiday

FIRST_YEAR_SHOWN = 2000
LAST_YEAR_SHOWN = 2100


def year_shown(asked: int | None) -> int:
    """The year asked for when it is one the page shows, this year otherwise."""
    if asked and FIRST_YEAR_SHOWN <= asked <= LAST_YEAR_SHOWN:
        return asked
    return clock.today_local().year


def holidays_of_year(session: Session, year: int) -> list[Holiday]:
    return public_holidays.holidays_of_year(session, year)


def decree(year: int) -> public_holidays.Decree | None:
    """The year's national holidays and cuti bersama from the joint decree (lokal-id), or None if not known."""
    return public_holidays.decree(year)


def add_holidays(session: Session, actor: User, *, kind: str, lines: str,
                 ip: str) -> tuple[list[tuple[date, str]], dict[str, str], list[str], int]:
    """(days, errors, line errors, sessions booked on the new days). Sessions already booked on a new holiday stay
    booked: the counselors must hear of them and move them."""
    days, errors, line_errors = public_holidays.add_holidays(session, actor, kind=kind, lines=lines, ip=ip)
    if errors:
        return days, errors, line_errors, 0
    return days, errors, line_errors, appointments.live_on_days(session, [day for day, _name in days])


def remove_holiday(session: Session, actor: User, day: date, ip: str) -> Holiday | None:
    return public_holidays.remove_holiday(session, actor, day, ip)
