"""Free time: a counselor's weekly hours (local time), less holidays, exceptions, notice periods and the time live
appointments already hold."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from server.accounts.models import Role, User
from server.appointments import freshness
from server.appointments.models import HELD_STATUSES, Appointment, AvailabilityException, ServiceType, WeeklyHours
from server.forms import FIRST_YEAR, LAST_YEAR
from server.i18n import LOCAL
from server.workdays import holidays_between

SLOT_STEP = timedelta(minutes=30)


@dataclass(frozen=True)
class Slot:
    counselor_id: int
    counselor_name: str
    starts_at: datetime
    ends_at: datetime

    @property
    def key(self) -> str:
        """What a booking form sends back: counselor and start, nothing else to trust."""
        return f"{self.counselor_id}@{int(self.starts_at.timestamp())}"


SLOT_EPOCHS = (int(datetime(FIRST_YEAR, 1, 1, tzinfo=UTC).timestamp()),
               int(datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp()))


def parse_slot(value: str) -> tuple[int, datetime] | None:
    """A Slot.key sent back by a form ("counselorid@epoch") as (counselor id, start), or None."""
    match = re.fullmatch(r"(\d{1,9})@(\d{1,12})", value)
    if not match:
        return None
    epoch = int(match[2])
    if not SLOT_EPOCHS[0] <= epoch < SLOT_EPOCHS[1]:  # Python's datetime ends in year 9999
        return None
    return int(match[1]), datetime.fromtimestamp(epoch, UTC)


def block_of(service_type: ServiceType, starts_at: datetime) -> tuple[datetime, datetime]:
    ends_at = starts_at + timedelta(minutes=service_type.duration_minutes)
    return (starts_at - timedelta(minutes=service_type.buffer_before_minutes),
            ends_at + timedelta(minutes=service_type.buffer_after_minutes))


def parse_start(value: str) -> datetime | None:
    """A start time sent back by the booking form (seconds since the epoch), or None."""
    if not re.fullmatch(r"\d{1,12}", value) or not SLOT_EPOCHS[0] <= int(value) < SLOT_EPOCHS[1]:
        return None
    return datetime.fromtimestamp(int(value), UTC)


def free_slots(
    session: Session, service_type: ServiceType, *, now: datetime, first_day: date | None = None, days: int = 7,
    counselor_id: int | None = None, within_notice: bool = False, ignoring: int | None = None,
) -> dict[date, list[Slot]]:
    """Bookable starts per local day, earliest first, for `days` days from `first_day` (today by default),
    within the service type's notice and booking horizon (counselors moving a session may go `within_notice`).
    `ignoring` is an appointment being moved: its own time counts as free, so it can move by half an hour."""
    return _scan(session, service_type, now=now, first_day=first_day, days=days, counselor_id=counselor_id,
                 within_notice=within_notice, ignoring=ignoring, distinct=False)


def free_starts(
    session: Session, service_type: ServiceType, *, now: datetime, first_day: date | None = None, days: int = 7,
    counselor_id: int | None = None, excluding: int | None = None, detail_day: date | None = None,
    ignoring: int | None = None,
) -> dict[date, list[datetime]]:
    """The start times at which at least one counselor (or `counselor_id`, or anyone but `excluding`) is free,
    per local day, each time once: what a person booking chooses from; the service assigns the counselor (a
    requester moving appointment `ignoring` keeps its counselor, and its own time counts as free).

    Every time is listed only for `detail_day` (by default the first day with any); the other days hold just
    their first free time found, enough for the row of days and a fraction of the work."""
    found = _scan(session, service_type, now=now, first_day=first_day, days=days, counselor_id=counselor_id,
                  excluding=excluding, distinct=True, detail_day=detail_day, ignoring=ignoring)
    return {day: [slot.starts_at for slot in slots] for day, slots in found.items()}


def shown_starts(
    session: Session, service_type: ServiceType, *, now: datetime, first_day: date, days: int,
    counselor_id: int | None = None, excluding: int | None = None, detail_day: date | None = None,
    ignoring: int | None = None,
) -> dict[date, list[datetime]]:
    """free_starts for the booking page: worked out once per minute and per change of the schedule, and remembered
    in between (server/appointments/freshness.py). A booking is always checked afresh, never against these."""
    minute = now.replace(second=0, microsecond=0)
    key = ("starts", service_type.id, service_type.duration_minutes, service_type.buffer_before_minutes,
           service_type.buffer_after_minutes, service_type.min_notice_hours, service_type.max_days_ahead, minute,
           first_day, days, counselor_id, excluding, detail_day, ignoring)
    found = freshness.remembered(session, key, lambda: free_starts(
        session, service_type, now=minute, first_day=first_day, days=days, counselor_id=counselor_id,
        excluding=excluding, detail_day=detail_day, ignoring=ignoring))
    return {day: list(starts) for day, starts in found.items()}  # the caller's own copy


def _hours(session: Session, service_type: ServiceType, *, counselor_id: int | None,
           excluding: int | None) -> list[Any]:
    """The weekly hours of the active counselors who may give this service (one of them, or all but one)."""
    # Plain columns, not ORM objects: building entities was a third of a booking fragment's time.
    rules_query = (
        select(col(WeeklyHours.counselor_id), col(User.display_name), col(WeeklyHours.weekday), col(WeeklyHours.starts),
               col(WeeklyHours.ends))
        .join(User, col(User.id) == col(WeeklyHours.counselor_id))
        .where(col(User.active), col(User.role) == Role.COUNSELOR,
               or_(col(WeeklyHours.service_type_id).is_(None), col(WeeklyHours.service_type_id) == service_type.id))
    )
    if counselor_id is not None:
        rules_query = rules_query.where(col(WeeklyHours.counselor_id) == counselor_id)
    if excluding is not None:
        rules_query = rules_query.where(col(WeeklyHours.counselor_id) != excluding)
    return list(session.execute(rules_query).all())


def _away(session: Session, counselor_ids: set[int], window_start: datetime,
          window_end: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each counselor's time away (leave, training) that touches the window."""
    away: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for counselor, starts_at, ends_at in session.execute(select(
        col(AvailabilityException.counselor_id), col(AvailabilityException.starts_at),
        col(AvailabilityException.ends_at),
    ).where(
        col(AvailabilityException.counselor_id).in_(counselor_ids),
        col(AvailabilityException.starts_at) < window_end, col(AvailabilityException.ends_at) > window_start,
    )):
        away[counselor].append((starts_at, ends_at))
    return away


def _busy(session: Session, counselor_ids: set[int], window_start: datetime, window_end: datetime, *,
          now: datetime, ignoring: int | None) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each counselor's booked blocks (buffers included) near the window, but for `ignoring` and lapsed holds."""
    busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for appointment_id, counselor, status, hold_expires_at, block_start, block_end in session.execute(select(
        col(Appointment.id), col(Appointment.counselor_id), col(Appointment.status), col(Appointment.hold_expires_at),
        col(Appointment.block_start), col(Appointment.block_end),
    ).where(
        col(Appointment.counselor_id).in_(counselor_ids), col(Appointment.is_live),
        col(Appointment.block_start) < window_end + timedelta(hours=2),
        col(Appointment.block_end) > window_start - timedelta(hours=2),
    )):
        # A request nobody answered in time (or a waiting-list offer nobody took) no longer holds its slot, even
        # before it is marked expired.
        if status in HELD_STATUSES and hold_expires_at and hold_expires_at <= now:
            continue
        if appointment_id == ignoring:
            continue
        busy[counselor].append((block_start, block_end))
    return busy


def _scan(
    session: Session, service_type: ServiceType, *, now: datetime, first_day: date | None, days: int,
    counselor_id: int | None, distinct: bool, within_notice: bool = False, ignoring: int | None = None,
    excluding: int | None = None, detail_day: date | None = None,
) -> dict[date, list[Slot]]:
    earliest = now if within_notice else now + timedelta(hours=service_type.min_notice_hours)
    latest = now + timedelta(days=service_type.max_days_ahead)
    first_day = first_day or now.astimezone(LOCAL).date()
    last_day = first_day + timedelta(days=days - 1)
    window_start = datetime.combine(first_day, datetime.min.time(), tzinfo=LOCAL)
    window_end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL)

    rules = _hours(session, service_type, counselor_id=counselor_id, excluding=excluding)
    if not rules:
        return {}
    counselor_ids = {rule.counselor_id for rule in rules}
    holidays = holidays_between(session, first_day, last_day)
    away = _away(session, counselor_ids, window_start, window_end)
    busy = _busy(session, counselor_ids, window_start, window_end, now=now, ignoring=ignoring)

    # The loop below tries every half hour of every counselor's hours (~700 starts a week for ten counselors), so
    # it works on plain values: the rules as tuples, and for each counselor and day only the spans that touch it.
    duration = timedelta(minutes=service_type.duration_minutes)
    before = timedelta(minutes=service_type.buffer_before_minutes)
    after = timedelta(minutes=service_type.buffer_after_minutes)
    hours = [tuple(rule) for rule in rules]
    tz = now.tzinfo  # compared in the database's zone (UTC): same-zone comparisons skip the offset lookups
    result: dict[date, list[Slot]] = {}
    day = first_day
    while day <= last_day:
        if day not in holidays:
            day_start = datetime.combine(day, datetime.min.time(), tzinfo=LOCAL).astimezone(tz)
            day_end = day_start + timedelta(days=1)
            reach_start, reach_end = day_start - before, day_end + after
            found: list[Slot] = []
            # With `distinct`, a start already found free for one counselor is not checked again for the others:
            # the expensive comparisons run about once per start instead of once per start and counselor.
            seen: set[datetime] = set()
            first_only = distinct and (day != detail_day if detail_day else bool(result))
            for counselor, name, weekday, opens, closes in hours:
                if weekday != day.weekday() or (first_only and found):
                    continue
                # Spans reaching into this day, widened by the buffers so a block that spills over still counts.
                spans = [(s, e) for s, e in away[counselor] if s < day_end and e > day_start]
                blocks = [(s, e) for s, e in busy[counselor] if s < reach_end and e > reach_start]
                start = datetime.combine(day, opens, tzinfo=LOCAL).astimezone(tz)
                close = datetime.combine(day, closes, tzinfo=LOCAL).astimezone(tz)
                while start + duration <= close:
                    end = start + duration
                    if distinct and start in seen:
                        start += SLOT_STEP
                        continue
                    if (earliest <= start <= latest
                            and not any(s < end and start < e for s, e in spans)
                            and not any(s < end + after and start - before < e for s, e in blocks)):
                        found.append(Slot(counselor, name, start, end))
                        seen.add(start)
                        if first_only:
                            break
                    start += SLOT_STEP
            if found:
                result[day] = sorted(set(found), key=lambda s: (s.starts_at, s.counselor_name))
        day += timedelta(days=1)
    return result
