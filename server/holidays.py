"""Days off: the national holidays and cuti bersama of the SKB 3 Menteri, from lokal-id for every year it knows
(nobody types them; docs/lokal-id.md), and the days supervisors enter: regional days (libur daerah, e.g. Hari Jadi
Kota) and, for a year the library does not know yet, national ones. Entering reads "YYYY-MM-DD, name" lines;
adding and removing days each have their audit entry. Whether the office also closes on cuti bersama is a
service setting (`closed_on_cuti_bersama`, server/service_info.py).

Report deadlines count working days without them (workdays.py) and appointments are never offered on them,
so they live here, in the core, and not in either domain. The caller commits, then calls
`workdays.forget_years()` so that this process sees the change at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Protocol

from lokal.holidays import HOLIDAY_YEARS, get_holidays
from sqlalchemy import select
from sqlmodel import Session, col

from server import audit
from server.forms import FIRST_YEAR, LAST_YEAR, day_within_range, has_control_characters, year_in_range
from server.i18n import gettext as _
from server.models import Holiday

HOLIDAY_KINDS = ("libur_daerah", "libur_nasional", "cuti_bersama")
NAME_LIMIT = 120
# The years whose SKB lokal-id holds (2026 and 2027 in 0.7.2); a new year comes with a new release.
DECREED_YEARS = frozenset(HOLIDAY_YEARS)


@dataclass(frozen=True)
class DecreedDay:
    day: date
    kind: str  # "libur_nasional" or "cuti_bersama"
    name: str


@dataclass(frozen=True)
class Decree:
    """A year's national holidays and cuti bersama as decreed, with the decree and where it was published."""

    year: int
    decree: str
    source: str
    days: tuple[DecreedDay, ...]


@cache
def decree(year: int) -> Decree | None:
    """The year's SKB 3 Menteri from lokal-id, or None for a year it does not know."""
    if year not in DECREED_YEARS:
        return None
    found = get_holidays(year)
    return Decree(year=year, decree=found.decree, source=found.source,
                  days=tuple(DecreedDay(date.fromisoformat(h.date), h.type, h.name) for h in found.holidays))


def decreed_between(start: date, end: date, *, cuti_bersama: bool) -> set[date]:
    """The decreed days off from `start` to `end` (inclusive): national holidays, and cuti bersama when the office
    closes on them."""
    days: set[date] = set()
    for year in range(start.year, end.year + 1):
        found = decree(year)
        if found is not None:
            days.update(d.day for d in found.days
                        if start <= d.day <= end and (cuti_bersama or d.kind == "libur_nasional"))
    return days


class Actor(Protocol):
    """Who makes the change (a signed-in supervisor; the core does not import the accounts domain)."""

    @property
    def id(self) -> int | None: ...

    @property
    def username(self) -> str: ...


def holidays_of_year(session: Session, year: int) -> list[Holiday]:
    """The days supervisors entered for the year (the decreed ones are `decree(year)`)."""
    return list(session.execute(select(Holiday).where(col(Holiday.day) >= date(year, 1, 1),
                                                      col(Holiday.day) <= date(year, 12, 31))
                                .order_by(col(Holiday.day))).scalars())


def parse_holidays(session: Session, text: str) -> tuple[list[tuple[date, str]], list[str]]:
    """One "YYYY-MM-DD, name" per line; every wrong line is named by its number."""
    found: dict[date, int] = {}
    days: list[tuple[date, str]] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if has_control_characters(line):
            problems.append((number, _("Baris %(n)s: ada tanda tak terlihat yang tidak bisa kami simpan. Hapus "
                                       "tanda itu, lalu kirim lagi.", n=number)))
            continue
        day_text, comma, name = line.partition(",")
        day, name = day_within_range(day_text.strip()), name.strip()
        as_typed = re.fullmatch(r"(\d{4})-\d{2}-\d{2}", day_text.strip())
        if not comma or not name:
            problems.append((number, _("Baris %(n)s: tulis tanggal, koma, lalu nama hari libur, misalnya "
                                       "2027-01-01, Tahun Baru Masehi.", n=number)))
        elif day is None and as_typed and not year_in_range(int(as_typed[1])):
            problems.append((number, _("Baris %(n)s: tahun harus antara %(first)s dan %(last)s.", n=number,
                                       first=FIRST_YEAR, last=LAST_YEAR)))
        elif day is None:
            problems.append((number, _("Baris %(n)s: tanggal tidak dikenal. Tulis tahun-bulan-tanggal, misalnya "
                                       "2027-01-01.", n=number)))
        elif len(name) > NAME_LIMIT:
            problems.append((number, _("Baris %(n)s: nama terlalu panjang, paling banyak %(limit)s huruf.", n=number,
                                       limit=NAME_LIMIT)))
        elif day in found:
            problems.append((number, _("Baris %(n)s: tanggal ini sudah ditulis di baris %(first)s.", n=number,
                                       first=found[day])))
        else:
            found[day] = number
            days.append((day, name))
    if found:
        existing = session.execute(select(col(Holiday.day)).where(col(Holiday.day).in_(list(found)))).scalars()
        problems += [(found[day], _("Baris %(n)s: tanggal ini sudah ada di daftar hari libur.", n=found[day]))
                     for day in existing]
        decreed = decreed_between(min(found), max(found), cuti_bersama=True)
        problems += [(found[day], _("Baris %(n)s: tanggal ini sudah ada di SKB hari libur nasional dan cuti "
                                    "bersama.", n=found[day]))
                     for day in sorted(decreed & set(found))]
    if not days and not problems:
        problems.append((0, _("Tulis setidaknya satu hari libur.")))
    return days, [message for _number, message in sorted(problems)]


def add_holidays(session: Session, actor: Actor, *, kind: str, lines: str,
                 ip: str) -> tuple[list[tuple[date, str]], dict[str, str], list[str]]:
    """Add every day of `lines` as a holiday of `kind`, or none when anything is wrong: the days read, the
    errors by field ("kind", "lines") and one message per wrong line. Nothing is written when there are errors."""
    errors: dict[str, str] = {}
    if kind not in HOLIDAY_KINDS:
        errors["kind"] = _("Pilih jenis hari libur.")
    days, line_errors = parse_holidays(session, lines)
    if line_errors:
        errors["lines"] = line_errors[0] if len(line_errors) == 1 else _(
            "Ada %(n)s baris yang perlu diperbaiki.", n=len(line_errors))
    if errors:
        return days, errors, line_errors
    for day, name in days:
        session.add(Holiday(day=day, kind=kind, name=name))
        audit.record(session, "holiday.added", actor_id=actor.id, actor_label=actor.username,
                     object_type="holiday", object_id=day.isoformat(), ip=ip, kind=kind, name=name)
    return days, errors, line_errors


def remove_holiday(session: Session, actor: Actor, day: date, ip: str) -> Holiday | None:
    """Remove the holiday on `day`: the removed one, or None when that day is no holiday."""
    holiday = session.get(Holiday, day)
    if holiday is None:
        return None
    audit.record(session, "holiday.removed", actor_id=actor.id, actor_label=actor.username,
                 object_type="holiday", object_id=holiday.day.isoformat(), ip=ip,
                 kind=holiday.kind, name=holiday.name)
    session.delete(holiday)
    return holiday
