"""Free time as the appointment pages show it: the days with free time and one day's start times, chosen day
first (booking a session and a requester moving one: one code path), and a counselor's free slots a week at a
time (the counselor moving a session from their schedule).

And the appointments as the pages show them: with their state, service type and counselor, who asked, the
options the booking form lists.

Nothing here writes: a booking or a move is always checked afresh by service.py, never against these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from server.accounts.models import Child, Role, User
from server.accounts.service import children_of
from server.appointments import service
from server.appointments.models import Appointment, AppointmentStatus, ServiceType
from server.appointments.slots import Slot, free_slots, shown_starts
from server.forms import day_within_range
from server.i18n import LOCAL, format_local_date
from server.i18n import gettext as _
from server.reports import case_views
from server.reports.models import Report

SLOT_DAYS = 7
# The days to choose from: the first ROW_DAYS days with free time among the next ROW_SCAN_DAYS.
ROW_DAYS = 7
ROW_SCAN_DAYS = 14


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LOCAL)


def _today(now: datetime) -> date:
    return now.astimezone(LOCAL).date()


def _with(base_url: str, query: str) -> str:
    return f"{base_url}{'&' if '?' in base_url else '?'}{query}"


# --- free times, the day first (booking, and moving a booking) ----------------------------------------------


@dataclass(frozen=True)
class DayChoice:
    day: date
    weekday: str
    date: str
    label: str
    url: str


@dataclass(frozen=True)
class BookingDay:
    """The next days with free time, and the start times of the chosen one (each time once: the service assigns
    the counselor, or a move keeps its own)."""

    days: list[DayChoice]
    first: date
    chosen: date | None
    label: str
    times: list[datetime]
    earlier_url: str | None
    later_url: str | None


def booking_day(db: Session, service_type: ServiceType, *, wanted: str, first: str, now: datetime,
                base_url: str, counselor_id: int | None = None, excluding: int | None = None,
                ignoring: int | None = None) -> BookingDay:
    """The days from `first` (today by default) with free time, `wanted` chosen when it has any, else the first.
    `counselor_id` keeps to one counselor, `excluding` leaves one out; `ignoring` is an appointment being moved,
    whose own time counts as free."""
    today = _today(now)
    last_bookable = max((now + timedelta(days=service_type.max_days_ahead)).astimezone(LOCAL).date(), today)
    start = min(max(day_within_range(first) or today, today), last_bookable)
    span = min(ROW_SCAN_DAYS, (last_bookable - start).days + 1)
    wanted_day = day_within_range(wanted)
    free = shown_starts(db, service_type, now=now, first_day=start, days=span, detail_day=wanted_day,
                        counselor_id=counselor_id, excluding=excluding, ignoring=ignoring)
    shown = sorted(free)[:ROW_DAYS]
    chosen = wanted_day if wanted_day in shown else (shown[0] if shown else None)
    if chosen is not None and chosen != wanted_day and wanted_day is not None:
        # The day asked for has no free time (any more): the first day's times instead, all of them.
        free[chosen] = shown_starts(db, service_type, now=now, first_day=chosen, days=1, counselor_id=counselor_id,
                                    excluding=excluding, ignoring=ignoring)[chosen]
    after = (shown[-1] if len(shown) == ROW_DAYS else start + timedelta(days=span - 1)) + timedelta(days=1)
    return BookingDay(
        days=[DayChoice(d, format_local_date(_noon(d), "EEE"), format_local_date(_noon(d), "d MMM"),
                        format_local_date(_noon(d), "EEEE, d MMMM y"),
                        _with(base_url, f"dari={start.isoformat()}&hari={d.isoformat()}")) for d in shown],
        first=start, chosen=chosen, label=format_local_date(_noon(chosen), "EEEE, d MMMM y") if chosen else "",
        times=free.get(chosen, []) if chosen else [],
        earlier_url=_with(base_url, f"dari={max(today, start - timedelta(days=ROW_SCAN_DAYS)).isoformat()}")
        if start > today else None,
        later_url=_with(base_url, f"dari={after.isoformat()}") if after <= last_bookable else None,
    )


# --- a counselor's free slots, a week at a time -------------------------------------------------------------


@dataclass(frozen=True)
class SlotDay:
    label: str
    slots: list[Slot]


@dataclass(frozen=True)
class SlotWeek:
    """The free slots of up to seven days, with links to the weeks before and after (None at the edges)."""

    days: list[SlotDay]
    first_day: date
    range_label: str
    previous_url: str | None
    next_url: str | None

    @property
    def counselor_names(self) -> list[str]:
        return sorted({slot.counselor_name for day in self.days for slot in day.slots})


def slot_week(db: Session, service_type: ServiceType, *, wanted: str, now: datetime, base_url: str,
              counselor_id: int | None = None, within_notice: bool = False, ignoring: int | None = None) -> SlotWeek:
    today = _today(now)
    last_bookable = (now + timedelta(days=service_type.max_days_ahead)).astimezone(LOCAL).date()
    first = day_within_range(wanted) or today
    first = min(max(first, today), max(last_bookable, today))
    free = free_slots(db, service_type, now=now, first_day=first, days=SLOT_DAYS, counselor_id=counselor_id,
                      within_notice=within_notice, ignoring=ignoring)
    days = [SlotDay(format_local_date(_noon(day), "EEEE, d MMMM y"), slots) for day, slots in sorted(free.items())]
    last = first + timedelta(days=SLOT_DAYS - 1)
    previous_day = max(today, first - timedelta(days=SLOT_DAYS))
    next_day = first + timedelta(days=SLOT_DAYS)
    return SlotWeek(
        days=days, first_day=first,
        range_label=f"{format_local_date(_noon(first), 'd MMMM')} – {format_local_date(_noon(last), 'd MMMM y')}",
        previous_url=_with(base_url, f"mulai={previous_day.isoformat()}") if first > today else None,
        next_url=_with(base_url, f"mulai={next_day.isoformat()}") if next_day <= last_bookable else None,
    )


# --- appointments as the pages show them --------------------------------------------------------------------


@dataclass(frozen=True)
class AppointmentView:
    """One appointment with what its pages show next to it."""

    appointment: Appointment
    status: AppointmentStatus
    service_type: ServiceType
    counselor_name: str

    @property
    def id(self) -> int:
        return self.appointment.id


def views(db: Session, appointments: list[Appointment], now: datetime) -> list[AppointmentView]:
    names = service.display_names(db, {a.counselor_id for a in appointments})
    types = {t.id: t for t in db.execute(select(ServiceType).where(
        col(ServiceType.id).in_({a.service_type_id for a in appointments}))).scalars()} if appointments else {}
    return [AppointmentView(a, service.shown_status(a, now), types[a.service_type_id], names.get(a.counselor_id, ""))
            for a in appointments]


def view(db: Session, appointment: Appointment, now: datetime) -> AppointmentView:
    return views(db, [appointment], now)[0]


def move_days(db: Session, appointment: Appointment, service_type: ServiceType, now: datetime, *, hari: str = "",
              dari: str = "") -> BookingDay:
    """Where a requester may move an appointment: the day first, then its start times, as on the booking page;
    the same counselor's free time, the appointment's own time counted as free."""
    return booking_day(db, service_type, wanted=hari, first=dari, now=now, base_url=f"/konseling/{appointment.id}/pindah",
                       counselor_id=appointment.counselor_id, ignoring=appointment.id)


def child_options(db: Session, user: User | None) -> list[tuple[int, str]]:
    if user is None or user.role != Role.PARENT:
        return []
    return [(child.id, child.nickname) for child in children_of(db, user.id)]


def report_options(db: Session, user: User | None) -> list[tuple[int, str]]:
    if user is None:
        return []
    return [(report.id, _("Laporan %(when)s", when=format_local_date(report.created_at, "d MMMM y")))
            for report in case_views.reports_by(db, user)]


def child_of(db: Session, appointment: Appointment) -> Child | None:
    return db.get(Child, appointment.child_id) if appointment.child_id else None


def report_of(db: Session, appointment: Appointment) -> Report | None:
    return db.get(Report, appointment.report_id) if appointment.report_id else None


def previous_of(db: Session, appointment: Appointment) -> Appointment | None:
    """The appointment this one was moved from, if it was."""
    return db.get(Appointment, appointment.rescheduled_from_id) if appointment.rescheduled_from_id else None


def service_type_names(db: Session) -> dict[int, str]:
    return {t.id: t.name for t in db.execute(select(ServiceType)).scalars()}


# --- the counselor's schedule -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaDay:
    label: str
    items: list[AppointmentView]


@dataclass(frozen=True)
class Requesting:
    """Who asked, as a counselor sees it."""

    kind: str
    name: str = ""
    child: str = ""


def requesting(db: Session, appointments: list[Appointment]) -> dict[int, Requesting]:
    users = {u.id: u for u in db.execute(select(User).where(
        col(User.id).in_({a.requester_user_id for a in appointments if a.requester_user_id}))).scalars()}
    children = {c.id: c.nickname for c in db.execute(select(Child).where(
        col(Child.id).in_({a.child_id for a in appointments if a.child_id}))).scalars()}
    found = {}
    for appointment in appointments:
        user = users.get(appointment.requester_user_id)
        found[appointment.id] = Requesting(
            kind=user.role_label if user else _("Pemegang kode laporan (tanpa akun)"),
            name=user.display_name if user else "", child=children.get(appointment.child_id, ""))
    return found
