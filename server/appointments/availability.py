"""A counselor's availability: weekly hours (per service type or for all) and time away (leave, training).

Checks read a posted form and say which answer needs fixing; changes write their audit entry in the caller's
transaction, and the caller commits. Free times are computed from these in slots.py.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from server import audit, clock
from server.accounts.models import User
from server.appointments import service
from server.appointments.models import AvailabilityException, ServiceType, WeeklyHours
from server.forms import bounded_int, one, text_error
from server.i18n import LOCAL
from server.i18n import gettext as _

EXCEPTION_REASONS = ("leave", "training", "other")
HOURS_STEP_MINUTES = 30
AWAY_NOTE_LIMIT = 200


def weekly_hours_of(session: Session, counselor_id: int) -> list[WeeklyHours]:
    return list(session.execute(
        select(WeeklyHours).where(col(WeeklyHours.counselor_id) == counselor_id)
        .order_by(col(WeeklyHours.weekday), col(WeeklyHours.starts), col(WeeklyHours.id))
    ).scalars())


def exceptions_of(session: Session, counselor_id: int, *, ending_after: datetime) -> list[AvailabilityException]:
    return list(session.execute(
        select(AvailabilityException).where(col(AvailabilityException.counselor_id) == counselor_id,
                                            col(AvailabilityException.ends_at) > ending_after)
        .order_by(col(AvailabilityException.starts_at), col(AvailabilityException.id))
    ).scalars())


def _clock(value: str) -> time | None:
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?::00)?", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def check_hours(session: Session, counselor: User, data: dict[str, Any]) -> tuple[WeeklyHours, dict[str, str]]:
    """The weekly hours a form asks for (not added yet), and an error for each answer that needs fixing."""
    errors: dict[str, str] = {}
    weekday = bounded_int(one(data, "weekday"))
    if weekday is None or not 0 <= weekday <= 6:
        errors["weekday"] = _("Pilih hari.")
    starts, ends = _clock(one(data, "starts")), _clock(one(data, "ends"))
    for name, value in (("starts", starts), ("ends", ends)):
        if value is None:
            errors[name] = _("Tulis jam seperti 08.00.")
        elif value.minute % HOURS_STEP_MINUTES:
            errors[name] = _("Pilih jam tepat atau setengah: misalnya 08.00 atau 08.30.")
    if starts is not None and ends is not None and "starts" not in errors and "ends" not in errors and starts >= ends:
        errors["ends"] = _("Jam selesai harus sesudah jam mulai.")
    service_type_id = bounded_int(one(data, "service_type_id")) if one(data, "service_type_id") else None
    if one(data, "service_type_id") and (service_type_id is None or session.get(ServiceType, service_type_id) is None):
        errors["service_type_id"] = _("Pilih layanan dari daftar, atau semua layanan.")
    hours = WeeklyHours(counselor_id=counselor.id, weekday=weekday or 0, starts=starts or time(0), ends=ends or time(0),
                        service_type_id=service_type_id)
    # Without errors, `hours` holds the times asked for.
    if not errors and any(h.weekday == weekday and h.service_type_id == service_type_id and h.starts < hours.ends
                          and hours.starts < h.ends for h in weekly_hours_of(session, counselor.id)):
        errors["starts"] = _("Jam ini bertumpuk dengan jam kerja yang sudah ada pada hari itu.")
    return hours, errors


def _local_moment(value: str) -> datetime | None:
    """A datetime-local input (no zone): the time in local time."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::\d{2})?", value)
    if not match:
        return None
    try:
        return datetime.combine(date.fromisoformat(match[1]), time(int(match[2]), int(match[3])), tzinfo=LOCAL)
    except ValueError:
        return None


def check_time_away(counselor: User, data: dict[str, Any]) -> tuple[AvailabilityException, dict[str, str]]:
    """The time away a form asks for (not added yet), and an error for each answer that needs fixing."""
    errors: dict[str, str] = {}
    starts, ends = _local_moment(one(data, "away_from")), _local_moment(one(data, "away_until"))
    if starts is None:
        errors["away_from"] = _("Tulis tanggal dan jam mulai.")
    if ends is None:
        errors["away_until"] = _("Tulis tanggal dan jam selesai.")
    elif starts is not None and ends <= starts:
        errors["away_until"] = _("Waktu selesai harus sesudah waktu mulai.")
    reason, note = one(data, "away_reason"), one(data, "away_note")
    if reason not in EXCEPTION_REASONS:
        errors["away_reason"] = _("Pilih alasannya.")
    if error := text_error(note, limit=AWAY_NOTE_LIMIT,
                           too_long=_("Keterangan terlalu panjang: paling banyak %(n)s huruf.", n=AWAY_NOTE_LIMIT)):
        errors["away_note"] = error
    away = AvailabilityException(counselor_id=counselor.id, starts_at=(starts or clock.now()).astimezone(UTC),
                                 ends_at=(ends or clock.now()).astimezone(UTC), reason=reason, note=note)
    return away, errors


def add_hours(session: Session, actor: User, hours: WeeklyHours, *, ip: str) -> None:
    """Add weekly hours that check_hours found without errors."""
    session.add(hours)
    session.flush()
    audit.record(session, "availability.hours_added", actor_id=actor.id, actor_label=actor.username,
                 object_type="weekly_hours", object_id=hours.id, ip=ip, counselor_id=hours.counselor_id,
                 weekday=hours.weekday, starts=hours.starts, ends=hours.ends, service_type_id=hours.service_type_id)


def remove_hours(session: Session, actor: User, counselor: User, hours_id: int, *, ip: str) -> bool:
    """Remove one of the counselor's weekly hours; False when they have none with that id."""
    hours = session.get(WeeklyHours, hours_id)
    if hours is None or hours.counselor_id != counselor.id:
        return False
    audit.record(session, "availability.hours_removed", actor_id=actor.id, actor_label=actor.username,
                 object_type="weekly_hours", object_id=hours.id, ip=ip, counselor_id=counselor.id,
                 weekday=hours.weekday, starts=hours.starts, ends=hours.ends)
    session.delete(hours)
    return True


def add_time_away(session: Session, actor: User, away: AvailabilityException, *, ip: str) -> bool:
    """Add time away that check_time_away found without errors. True when live appointments fall in it: they
    stay booked, and the counselor is told to move or cancel them."""
    session.add(away)
    session.flush()
    audit.record(session, "availability.exception_added", actor_id=actor.id, actor_label=actor.username,
                 object_type="availability_exception", object_id=away.id, ip=ip,
                 counselor_id=away.counselor_id, starts_at=away.starts_at, ends_at=away.ends_at, reason=away.reason)
    return service.live_between(session, away.counselor_id, away.starts_at, away.ends_at) > 0


def remove_time_away(session: Session, actor: User, counselor: User, away_id: int, *, ip: str) -> bool:
    """Remove one of the counselor's times away; False when they have none with that id."""
    away = session.get(AvailabilityException, away_id)
    if away is None or away.counselor_id != counselor.id:
        return False
    audit.record(session, "availability.exception_removed", actor_id=actor.id, actor_label=actor.username,
                 object_type="availability_exception", object_id=away.id, ip=ip, counselor_id=counselor.id,
                 starts_at=away.starts_at, ends_at=away.ends_at)
    session.delete(away)
    return True
