"""Appointment pages.

/konseling   people who book: a signed-in child, parent or teacher, or the holder of a case code (no account).
             Choose a service, pick a free slot, add a note; one page per appointment (and its .ics); "Jadwal saya".
/jadwal      counselors: requests to answer, their day and week, one appointment with its actions, weekly
             hours and leave. Supervisors also: service types and public holidays.

Handlers are thin: they read the form, call a service module, and render; the rules and every write with its
audit entry are in service.py (appointments), availability.py (weekly hours, time away), service_types.py and
server/holidays.py, and the handler commits. What stays here is how pages show things: free times a week or a
day at a time, who books, appointments with their names, and the notices after a redirect (the .ics file is
built in ics.py). A refused change comes back with status 422, the reason next to the form, FRESH free slots
and everything that was typed. Every page here is marked private (`no-store`), code holders included, and an
appointment someone may not see is "not found".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect
from sqlalchemy import select
from sqlmodel import Session

from server import clock, workdays
from server import holidays as public_holidays
from server.accounts import auth
from server.accounts.models import Child, Role, User
from server.accounts.service import children_of
from server.accounts.visitor import KAMU, Visitor, visitor_of, voice
from server.appointments import availability, ics, service, service_types
from server.appointments.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    ServiceType,
)
from server.appointments.pages import BookingDay, booking_day, slot_week
from server.appointments.service_types import ServiceTypeForm
from server.appointments.slots import parse_slot, parse_start
from server.db import DB
from server.forms import bounded_int, day_within_range, one, row_id
from server.i18n import WITA, format_wita_date
from server.i18n import gettext as _
from server.i18n import lazy_gettext as _l
from server.reports import service as reports
from server.reports.models import Report
from server.web import PRIVATE, client_ip, page

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

REQUESTER_ROLES = frozenset({Role.CHILD, Role.PARENT, Role.TEACHER})

# Confirmations after a redirect, by a short code in the address: the page never echoes text from the URL.
NOTICES = {
    "baru": _l("Permintaanmu sudah terkirim. Kabar dari konselor akan tampil di halaman ini."),
    "dipindah-diminta": _l("Permintaan pindah jadwal sudah terkirim. Kabar dari konselor akan tampil di halaman ini."),
    "dibatalkan": _l("Jadwal sudah dibatalkan."),
    "penilaian": _l("Pilihan pemberitahuan penilaian sudah disimpan."),
    "dikonfirmasi": _l("Jadwal sudah dikonfirmasi. Peminta diberi tahu."),
    "ditolak": _l("Permintaan sudah ditolak. Peminta akan membaca alasannya."),
    "dipindah": _l("Jadwal sudah dipindah. Peminta diberi tahu."),
    "kehadiran": _l("Kehadiran sudah dicatat."),
    "ditelepon": _l("Tercatat: peminta sudah ditelepon."),
    "jam-ditambah": _l("Jam kerja sudah ditambahkan."),
    "jam-dihapus": _l("Jam kerja sudah dihapus."),
    "pengecualian-ditambah": _l("Waktu tidak tersedia sudah disimpan."),
    "pengecualian-bentrok": _l("Waktu tidak tersedia sudah disimpan. Ada jadwal konseling pada waktu itu: pindahkan "
                               "atau batalkan jadwal tersebut dari halaman Jadwal."),
    "pengecualian-dihapus": _l("Waktu tidak tersedia sudah dihapus."),
    "layanan-dibuat": _l("Jenis layanan sudah ditambahkan."),
    "layanan-disimpan": _l("Jenis layanan sudah disimpan."),
    "layanan-nonaktif": _l("Jenis layanan sudah dinonaktifkan. Layanan ini tidak bisa dipilih lagi."),
    "layanan-aktif": _l("Jenis layanan sudah diaktifkan kembali."),
    "libur-ditambah": _l("Hari libur sudah ditambahkan."),
    "libur-dihapus": _l("Hari libur sudah dihapus."),
}


def _notice(request: Request) -> str | None:
    message = NOTICES.get(request.query_params.get("pesan", ""))
    return str(message) if message else None


def _int(value: Any) -> int | None:
    return bounded_int(value)


def _day(value: str | None) -> date | None:
    """A date between FIRST_YEAR and LAST_YEAR, or None (a far date is no day anyone books)."""
    return day_within_range(value)


def _viewed_day(value: str) -> date | None:
    """A day asked for in the address: None when not given or not a date, "not found" when out of range."""
    if value and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and _day(value) is None:
        raise NotFoundException()
    return _day(value)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=WITA)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=WITA)


def _today(now: datetime) -> date:
    return now.astimezone(WITA).date()


def _ip(request: Request, state: State) -> str:
    return client_ip(request.scope, state.settings)


def _done(path: str, notice: str) -> Redirect:
    return Redirect(f"{path}{'&' if '?' in path else '?'}pesan={notice}", status_code=303)


# --- who books ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booker:
    """The person on /konseling: a signed-in child, parent or teacher, or the holder of a case's code."""

    user: User | None = None
    report: Report | None = None

    @property
    def voice(self) -> str:
        """"kamu" or "anda": by the account's role, or by what the code holder said they are in the report."""
        return voice(self.user, self.report.reporter_kind if self.report else "")

    @property
    def requester(self) -> Visitor:
        """Who books: the signed-in person, or else the code holder (never both at once)."""
        return Visitor(user=self.user) if self.user else Visitor(case_report_id=self.report.id)


def _booker(request: Request, db: Session, state: State) -> Booker | None:
    user = request.user
    if user is not None:
        return Booker(user=user) if user.role in REQUESTER_ROLES else None
    report = reports.case_report(db, visitor_of(request))
    return Booker(report=report) if report is not None else None


def _requester_of(appointment: Appointment, user: User | None) -> Visitor:
    """The requester of an appointment the person was found to have asked for (service.is_requester)."""
    if appointment.requester_user_id is None:
        return Visitor(case_report_id=appointment.report_id)
    return Visitor(user=user)


def _not_a_booker(request: Request) -> Any:
    """Staff have their own schedule; anyone else signs in or opens their case with its code first."""
    if request.user is not None and request.user.is_staff:
        return Redirect("/jadwal", status_code=303)
    return page(request, "appointments/start.html", next_url="/konseling")


def _sign_in_or_code(request: Request, _exc: NotAuthorizedException) -> Any:
    """Signed out and no case code: a page offers both ways in (a code holder has no account to sign in to, so
    the app's usual redirect to the sign-in page would be a dead end); anything else is refused."""
    if request.method == "GET":
        return page(request, "appointments/start.html", next_url=request.url.path)
    return page(request, "error.html", status_code=401, status=401)


def _child_options(db: Session, user: User | None) -> list[tuple[int, str]]:
    if user is None or user.role != Role.PARENT:
        return []
    return [(child.id, child.nickname) for child in children_of(db, user.id)]


def _report_options(db: Session, user: User | None) -> list[tuple[int, str]]:
    if user is None:
        return []
    return [(report.id, _("Laporan %(when)s", when=format_wita_date(report.created_at, "d MMMM y")))
            for report in reports.reports_by(db, user)]


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


def _views(db: Session, appointments: list[Appointment], now: datetime) -> list[AppointmentView]:
    names = service.display_names(db, {a.counselor_id for a in appointments})
    types = {t.id: t for t in db.execute(select(ServiceType).where(
        ServiceType.id.in_({a.service_type_id for a in appointments}))).scalars()} if appointments else {}
    return [AppointmentView(a, service.shown_status(a, now), types[a.service_type_id], names.get(a.counselor_id, ""))
            for a in appointments]


def _view(db: Session, appointment: Appointment, now: datetime) -> AppointmentView:
    return _views(db, [appointment], now)[0]


def _move_days(db: Session, appointment: Appointment, service_type: ServiceType, now: datetime, *, hari: str = "",
               dari: str = "") -> BookingDay:
    """Where a requester may move an appointment: the day first, then its start times, as on the booking page;
    the same counselor's free time, the appointment's own time counted as free."""
    return booking_day(db, service_type, wanted=hari, first=dari, now=now, base_url=f"/konseling/{appointment.id}/pindah",
                       counselor_id=appointment.counselor_id, ignoring=appointment.id)


# --- /konseling: people who book ----------------------------------------------------------------------------


class BookingController(Controller):
    opt = PRIVATE
    path = "/konseling"
    exception_handlers = {NotAuthorizedException: _sign_in_or_code}

    def _booking_page(self, request: Request, db: Session, booker: Booker, form: service.BookingForm, *,
                      errors: dict[str, str], status_code: int = 200) -> Any:
        now = clock.now()
        service_types = service.active_service_types(db)
        chosen = next((t for t in service_types if str(t.id) == form.layanan), None)
        if chosen is None and len(service_types) == 1:
            chosen = service_types[0]
        # The counselor of the booker's case is offered by default: their free times only, unless the booker
        # asks for another counselor (then everyone else's, and a reason for the supervisor).
        continuity = service.continuity_counselor(db, booker.requester)
        other = continuity is not None and form.konselor == service.OTHER_COUNSELOR
        form.konselor = service.OTHER_COUNSELOR if other else ""
        base_url = f"/konseling?layanan={chosen.id}{'&konselor=lain' if other else ''}" if chosen else ""
        day = booking_day(db, chosen, wanted=form.hari, first=form.dari, now=now, base_url=base_url,
                          counselor_id=None if other else continuity,
                          excluding=continuity if other else None) if chosen else None
        # A fragment (a service or a day chosen) renders only the times: no need for what surrounds them.
        htmx = getattr(request, "htmx", None)
        whole = not (htmx and not htmx.boosted)
        children = _child_options(db, booker.user) if whole else []
        if len(children) == 1 and not form.child_id:
            # A parent of one child books for that child: no list to open and pick from (two taps fewer).
            form.child_id = str(children[0][0])
        return page(
            request, "appointments/book.html", block="slots", status_code=status_code, form=form, errors=errors,
            booker=booker, service_types=service_types, chosen=chosen, day=day,
            continuity_name=service.display_names(db, {continuity}).get(continuity, "") if continuity else "",
            other_counselor=other, switch_url=f"/konseling?layanan={chosen.id}{'' if other else '&konselor=lain'}"
            if chosen else "",
            saved_phone=service.saved_phone_number(db, booker.requester)[-3:],
            upcoming=[v for v in _views(db, service.upcoming_of(db, booker.requester, now), now)
                      if v.status in LIVE_STATUSES] if whole else [],
            child_options=children,
            waitlist_open=True,  # "no free time" offers the waiting list (templates/waitlist/_join.html)
            report_options=_report_options(db, booker.user) if whole else [],
        )

    @get("/", name="booking", sync_to_thread=True)
    def booking(self, request: Request, db: DB, state: State, layanan: FromQuery[str] = "",
                hari: FromQuery[str] = "", dari: FromQuery[str] = "", konselor: FromQuery[str] = "",
                laporan: FromQuery[str] = "") -> Any:
        booker = _booker(request, db, state)
        if booker is None:
            return _not_a_booker(request)
        form = service.BookingForm(layanan=layanan, hari=hari, dari=dari, konselor=konselor,
                                   report_id=laporan if booker.user else "")
        return self._booking_page(request, db, booker, form, errors={})

    @post("/", sync_to_thread=True)
    def book(self, request: Request, data: Form, db: DB, state: State) -> Any:
        booker = _booker(request, db, state)
        if booker is None:
            raise PermissionDeniedException() if request.user is not None else NotAuthorizedException()
        form = service.BookingForm.from_data(data)
        errors = service.check_booking(db, booker.user, form, booker.requester)
        if not errors:
            try:
                appointment = service.request_appointment(
                    db, booker.requester, service_type_id=int(form.layanan), starts_at=parse_start(form.slot), note=form.note, child_id=_int(form.child_id),
                    child_agreed=form.child_agreed if booker.user and booker.user.role == Role.TEACHER else "",
                    report_id=_int(form.report_id), ip=_ip(request, state),
                    reminder_hours=state.settings.reminder_hours, phone=form.phone_number,
                    other_counselor_reason=form.alasan_ganti if form.konselor == service.OTHER_COUNSELOR else None,
                )
                service.agree_to_reminders(db, booker.requester, form, ip=_ip(request, state))
                db.commit()
                return _done(f"/konseling/{appointment.id}", "baru")
            except service.SlotTaken as exc:
                db.rollback()
                errors, form.slot = {"slot": str(exc)}, ""
            except service.BookingError as exc:
                db.rollback()
                errors = {"form": str(exc)}
        return self._booking_page(request, db, booker, form, errors=errors, status_code=422)

    @get("/saya", name="my_appointments", sync_to_thread=True)
    def mine(self, request: Request, db: DB, state: State) -> Any:
        booker = _booker(request, db, state)
        if booker is None:
            return _not_a_booker(request)
        now = clock.now()
        views = _views(db, service.appointments_of(db, booker.requester), now)
        return page(request, "appointments/mine.html", booker=booker, now=now,
                    saved_phone=service.saved_phone_number(db, booker.requester)[-3:],
            upcoming=[v for v in views if v.appointment.ends_at > now][::-1],
                    past=[v for v in views if v.appointment.ends_at <= now])

    # --- one appointment ---------------------------------------------------------------------------------

    def _visible(self, request: Request, db: Session, state: State, appointment_id: int) -> tuple[Appointment, bool]:
        """The appointment and whether the person is its requester. Someone signed out without a case code is
        offered both ways in; an appointment the person may not see is "not found"."""
        user = request.user
        case = reports.case_report(db, visitor_of(request)) if user is None or user.role in REQUESTER_ROLES else None
        if user is None and case is None:
            raise NotAuthorizedException()
        appointment = db.get(Appointment, appointment_id)
        case_id = case.id if case else None
        if appointment is None or not service.may_see(appointment, user=user, case_report_id=case_id):
            raise NotFoundException()
        return appointment, service.is_requester(appointment, user=user, case_report_id=case_id)

    def _appointment_page(self, request: Request, db: Session, appointment: Appointment, is_requester: bool, *,
                          errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                          status_code: int = 200) -> Any:
        now = clock.now()
        view = _view(db, appointment, now)
        moved = service.moved_to(db, appointment)
        child = db.get(Child, appointment.child_id) if appointment.child_id else None
        may_change = (is_requester and view.status in LIVE_STATUSES
                      and service.requester_may_change(appointment, view.service_type, now))
        move_days = _move_days(db, appointment, view.service_type, now) if may_change else None
        return page(
            request, "appointments/appointment.html", status_code=status_code, view=view, is_requester=is_requester,
            may_change=may_change, move_days=move_days, moved_to=_view(db, moved, now) if moved else None, child=child,
            is_staff=request.user is not None and request.user.is_staff, notice=_notice(request),
            kamu=visitor_of(request).voice == KAMU,
            errors=errors or {}, values=values or {},
        )

    @get("/{ref:str}", name="appointment", sync_to_thread=True)
    def appointment(self, request: Request, ref: FromPath[str], db: DB, state: State) -> Any:
        match = re.fullmatch(r"(\d{1,12})(\.ics)?", ref)
        appointment_id = row_id(match[1]) if match else None
        if appointment_id is None:  # the ids_in_range guard sees only int path parameters, not this one
            raise NotFoundException()
        appointment, is_requester = self._visible(request, db, state, appointment_id)
        if match[2]:
            view = _view(db, appointment, clock.now())
            body = ics.calendar_file(appointment, status=view.status, service_type=view.service_type,
                                     page_url=f"{str(request.base_url).rstrip('/')}/konseling/{appointment.id}")
            return Response(body.encode(), media_type="text/calendar; charset=utf-8", headers={
                "Content-Disposition": 'attachment; filename="jadwal-konseling.ics"'})
        return self._appointment_page(request, db, appointment, is_requester)

    @post("/{appointment_id:int}/penilaian", sync_to_thread=True)
    def rating_invite(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        appointment, is_requester = self._visible(request, db, state, appointment_id)
        if not is_requester:
            raise NotFoundException()
        try:
            service.set_rating_invite(db, appointment, requester=_requester_of(appointment, request.user),
                                      wanted=one(data, "rating_invite") == "1", ip=_ip(request, state))
        except service.BookingError as exc:
            db.rollback()
            db.refresh(appointment)
            return self._appointment_page(request, db, appointment, is_requester,
                                          errors={"penilaian": str(exc)}, status_code=422)
        db.commit()
        return _done(f"/konseling/{appointment.id}", "penilaian")

    @post("/{appointment_id:int}/batal", sync_to_thread=True)
    def cancel(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        appointment, is_requester = self._visible(request, db, state, appointment_id)
        if not is_requester:
            raise NotFoundException()
        try:
            service.cancel(db, appointment, by_counselor=None, requester=_requester_of(appointment, request.user),
                           reason=one(data, "reason"), version=_int(one(data, "version")) or 0,
                           ip=_ip(request, state))
        except service.BookingError as exc:
            db.rollback()
            db.refresh(appointment)
            return self._appointment_page(request, db, appointment, is_requester, errors={"batal": str(exc)},
                                          values=data, status_code=422)
        db.commit()
        return _done(f"/konseling/{appointment.id}", "dibatalkan")

    def _move_page(self, request: Request, db: Session, appointment: Appointment, *, hari: str, dari: str,
                   slot: str = "", errors: dict[str, str] | None = None, status_code: int = 200) -> Any:
        now = clock.now()
        view = _view(db, appointment, now)
        return page(request, "appointments/move.html", block="slots", status_code=status_code, view=view,
                    day=_move_days(db, appointment, view.service_type, now, hari=hari, dari=dari), slot=slot,
                    errors=errors or {})

    def _movable(self, request: Request, db: Session, state: State, appointment_id: int) -> Appointment | None:
        appointment, is_requester = self._visible(request, db, state, appointment_id)
        if not is_requester:
            raise NotFoundException()
        service_type = db.get(ServiceType, appointment.service_type_id)
        if (service.shown_status(appointment, clock.now()) not in LIVE_STATUSES
                or not service.requester_may_change(appointment, service_type, clock.now())):
            return None
        return appointment

    @get("/{appointment_id:int}/pindah", name="appointment_move", sync_to_thread=True)
    def move_form(self, request: Request, appointment_id: FromPath[int], db: DB, state: State,
                  hari: FromQuery[str] = "", dari: FromQuery[str] = "") -> Any:
        appointment = self._movable(request, db, state, appointment_id)
        if appointment is None:
            # Too late to move: the appointment's page says why (htmx, asking for the slots only, goes there too).
            if getattr(request, "htmx", None):
                return ClientRedirect(f"/konseling/{appointment_id}")
            return Redirect(f"/konseling/{appointment_id}", status_code=303)
        return self._move_page(request, db, appointment, hari=hari, dari=dari)

    @post("/{appointment_id:int}/pindah", sync_to_thread=True)
    def move(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        appointment = self._movable(request, db, state, appointment_id)
        if appointment is None:
            return Redirect(f"/konseling/{appointment_id}", status_code=303)
        starts_at = parse_start(one(data, "slot"))
        shown = dict(hari=one(data, "hari"), dari=one(data, "dari"))
        if starts_at is None:
            return self._move_page(request, db, appointment, **shown, status_code=422,
                                   errors={"slot": _("Pilih salah satu waktu yang masih kosong.")})
        try:
            # The counselor stays the same: service.move checks the time against their free time afresh.
            moved = service.move(db, appointment, by_counselor=None, requester=_requester_of(appointment, request.user),
                                 starts_at=starts_at, version=_int(one(data, "version")) or 0, ip=_ip(request, state),
                                 reminder_hours=state.settings.reminder_hours)
        except service.SlotTaken as exc:
            db.rollback()
            db.refresh(appointment)
            return self._move_page(request, db, appointment, **shown, errors={"slot": str(exc)}, status_code=422)
        except service.BookingError as exc:
            db.rollback()
            db.refresh(appointment)
            return self._move_page(request, db, appointment, **shown, slot=one(data, "slot"),
                                   errors={"form": str(exc)}, status_code=422)
        db.commit()
        return _done(f"/konseling/{moved.id}", "dipindah-diminta")


# --- /jadwal: counselors -----------------------------------------------------------------------------------


def _counselors(db: Session) -> list[User]:
    return list(db.execute(select(User).where(User.active, User.role == Role.COUNSELOR)
                           .order_by(User.display_name)).scalars())


def _whose(request: Request, db: Session, wanted: str) -> User | None:
    """Whose schedule: a counselor's own; a supervisor's choice of counselor (None until chosen). A counselor
    asking for someone else's gets "not found"."""
    user = request.user
    if user.role == Role.COUNSELOR:
        if wanted and _int(wanted) != user.id:
            raise NotFoundException()
        return user
    counselor = db.get(User, _int(wanted) or 0) if wanted else None
    if wanted and (counselor is None or counselor.role != Role.COUNSELOR or not counselor.active):
        raise NotFoundException()
    return counselor


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


def _requesting(db: Session, appointments: list[Appointment]) -> dict[int, Requesting]:
    users = {u.id: u for u in db.execute(select(User).where(
        User.id.in_({a.requester_user_id for a in appointments if a.requester_user_id}))).scalars()}
    children = {c.id: c.nickname for c in db.execute(select(Child).where(
        Child.id.in_({a.child_id for a in appointments if a.child_id}))).scalars()}
    found = {}
    for appointment in appointments:
        user = users.get(appointment.requester_user_id)
        found[appointment.id] = Requesting(
            kind=user.role_label if user else _("Pemegang kode laporan (tanpa akun)"),
            name=user.display_name if user else "", child=children.get(appointment.child_id, ""))
    return found


class ScheduleController(Controller):
    opt = PRIVATE
    path = "/jadwal"
    guards = [auth.staff_only]

    @get("/", name="schedule", sync_to_thread=True)
    def schedule(self, request: Request, db: DB, hari: FromQuery[str] = "", minggu: FromQuery[str] = "",
                 konselor: FromQuery[str] = "", baru: FromQuery[str] = "") -> Any:
        counselor = _whose(request, db, konselor)
        now = clock.now()
        today = _today(now)
        day = _viewed_day(hari)
        by_day = day is not None
        # A week is the seven days from the day asked for, today by default: not the Monday before, which
        # spent half of a Thursday's screen on days already past.
        start = day if by_day else (_viewed_day(minggu) or today)
        length = 1 if by_day else 7
        waiting = service.waiting_for(db, counselor.id if counselor else None, now)
        booked = service.agenda(db, counselor.id, _midnight(start).astimezone(UTC),
                                _midnight(start + timedelta(days=length)).astimezone(UTC)) if counselor else []
        views = {v.id: v for v in _views(db, waiting + booked, now)}
        days = [AgendaDay(format_wita_date(_noon(d), "EEEE, d MMMM y"),
                          [views[a.id] for a in booked if a.starts_at.astimezone(WITA).date() == d])
                for d in (start + timedelta(days=i) for i in range(length))]
        who = f"&konselor={counselor.id}" if counselor and request.user.role == Role.SUPERVISOR else ""
        step = "hari" if by_day else "minggu"
        in_view = start <= today < start + timedelta(days=length)
        return page(
            request, "appointments/schedule.html", counselor=counselor, counselors=_counselors(db),
            calls=service.open_call_tasks(db, counselor.id, now) if counselor else {},
            waiting=[views[a.id] for a in waiting], requesting=_requesting(db, waiting + booked), days=days,
            by_day=by_day, now=now, notice=_notice(request), just_changed=_int(baru),
            previous_url=f"/jadwal?{step}={(start - timedelta(days=length)).isoformat()}{who}",
            next_url=f"/jadwal?{step}={(start + timedelta(days=length)).isoformat()}{who}",
            day_url=f"/jadwal?hari={(today if in_view else start).isoformat()}{who}",
            week_url=f"/jadwal?minggu={start.isoformat()}{who}",
            today_url=f"/jadwal?{step}={today.isoformat()}{who}",
        )

    # --- one appointment, as its counselor handles it ----------------------------------------------------

    def _handled(self, request: Request, db: Session, appointment_id: int) -> Appointment:
        appointment = db.get(Appointment, appointment_id)
        user = request.user
        if appointment is None or not (user.role == Role.SUPERVISOR or appointment.counselor_id == user.id):
            raise NotFoundException()
        return appointment

    def _manage_page(self, request: Request, db: Session, appointment: Appointment, *, mulai: str = "",
                     errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                     status_code: int = 200) -> Any:
        now = clock.now()
        view = _view(db, appointment, now)
        live = view.status in LIVE_STATUSES
        week = slot_week(db, view.service_type, wanted=mulai or one(values or {}, "mulai"), now=now,
                         base_url=f"/jadwal/{appointment.id}", counselor_id=appointment.counselor_id,
                         within_notice=True, ignoring=appointment.id) if live else None
        report = db.get(Report, appointment.report_id) if appointment.report_id else None
        moved = service.moved_to(db, appointment)
        previous = db.get(Appointment, appointment.rescheduled_from_id) if appointment.rescheduled_from_id else None
        return page(
            request, "appointments/manage.html", block="slots", status_code=status_code, view=view, week=week,
            requesting=_requesting(db, [appointment])[appointment.id], report=report,
            report_link=report is not None and reports.can_handle(request.user, report),
            moved_to=_view(db, moved, now) if moved else None, previous=_view(db, previous, now) if previous else None,
            may_answer=view.status == AppointmentStatus.REQUESTED, live=live,
            may_record=view.status == AppointmentStatus.CONFIRMED and appointment.starts_at <= now,
            notice=_notice(request), errors=errors or {}, values=values or {},
            trail=service.reminder_trail(db, appointment), call=service.call_task_of(db, appointment.id),
        )

    @get("/{appointment_id:int}", name="schedule_appointment", sync_to_thread=True)
    def manage(self, request: Request, appointment_id: FromPath[int], db: DB, mulai: FromQuery[str] = "") -> Any:
        return self._manage_page(request, db, self._handled(request, db, appointment_id), mulai=mulai)

    def _act(self, request: Request, db: Session, appointment_id: int, data: dict[str, Any], form_name: str,
             notice: str, action: Any) -> Any:
        """Run one counselor action; a refused one shows the appointment again with the reason next to its form."""
        appointment = self._handled(request, db, appointment_id)
        try:
            result = action(appointment, _int(one(data, "version")) or 0)
        except (service.BookingError, reports.CaseError) as exc:
            db.rollback()
            db.refresh(appointment)
            return self._manage_page(request, db, appointment, errors={form_name: str(exc)}, values=data,
                                     status_code=422)
        db.commit()
        target = result if isinstance(result, Appointment) else appointment
        if one(data, "lanjut") != "jadwal":
            return _done(f"/jadwal/{target.id}", notice)
        # The fragment scrolls the marked appointment into view on a phone.
        return Redirect(f"{self._week_showing(request, target)}&pesan={notice}#janji-{target.id}", status_code=303)

    def _week_showing(self, request: Request, appointment: Appointment) -> str:
        """Back to the week view with `appointment` in it, marked: the week from today when it falls in it,
        otherwise the week from its own day."""
        today = _today(clock.now())
        day = appointment.starts_at.astimezone(WITA).date()
        start = today if today <= day < today + timedelta(days=7) else day
        who = f"&konselor={appointment.counselor_id}" if request.user.role == Role.SUPERVISOR else ""
        return f"/jadwal?minggu={start.isoformat()}{who}&baru={appointment.id}"

    @post("/{appointment_id:int}/konfirmasi", sync_to_thread=True)
    def confirm(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, appointment_id, data, "konfirmasi", "dikonfirmasi", lambda appointment, version:
                         service.confirm(db, appointment, request.user, version=version, ip=_ip(request, state),
                                         reminder_hours=state.settings.reminder_hours))

    @post("/{appointment_id:int}/ditelepon", sync_to_thread=True)
    def called(self, request: Request, appointment_id: FromPath[int], db: DB) -> Any:
        """The counselor made the "call to confirm" the reminder ladder asked for."""
        appointment = self._handled(request, db, appointment_id)
        try:
            service.mark_called(db, appointment, request.user)
        except service.BookingError as exc:
            db.rollback()
            return self._manage_page(request, db, appointment, errors={"telepon": str(exc)}, status_code=422)
        db.commit()
        return _done(f"/jadwal/{appointment.id}", "ditelepon")

    @post("/{appointment_id:int}/tolak", sync_to_thread=True)
    def decline(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, appointment_id, data, "tolak", "ditolak", lambda appointment, version:
                         service.decline(db, appointment, request.user, version=version,
                                         reason=one(data, "reason"), ip=_ip(request, state)))

    @post("/{appointment_id:int}/batal", sync_to_thread=True)
    def cancel(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, appointment_id, data, "batal", "dibatalkan", lambda appointment, version:
                         service.cancel_by_counselor(db, appointment, request.user, reason=one(data, "reason"),
                                                     version=version, ip=_ip(request, state)))

    @post("/{appointment_id:int}/pindah", sync_to_thread=True)
    def move(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        def move_it(appointment: Appointment, version: int) -> Appointment:
            chosen = parse_slot(one(data, "slot"))
            if chosen is None or chosen[0] != appointment.counselor_id:
                raise service.SlotTaken(_("Pilih salah satu waktu yang masih kosong."))
            return service.move(db, appointment, by_counselor=request.user, requester=None, starts_at=chosen[1],
                                reason=one(data, "reason"), version=version, ip=_ip(request, state),
                                reminder_hours=state.settings.reminder_hours)
        return self._act(request, db, appointment_id, data, "pindah", "dipindah", move_it)

    @post("/{appointment_id:int}/kehadiran", sync_to_thread=True)
    def attendance(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, appointment_id, data, "kehadiran", "kehadiran", lambda appointment, version:
                         service.record_attendance(db, appointment, request.user,
                                                   attended=service.attended(one(data, "attended")),
                                                   version=version, note=one(data, "note"), ip=_ip(request, state)))

    # --- weekly hours and time away ----------------------------------------------------------------------

    def _availability_page(self, request: Request, db: Session, counselor: User | None, *,
                           errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                           status_code: int = 200) -> Any:
        now = clock.now()
        return page(
            request, "appointments/availability.html", status_code=status_code, counselor=counselor,
            counselors=_counselors(db), notice=_notice(request), errors=errors or {}, values=values or {},
            hours=availability.weekly_hours_of(db, counselor.id) if counselor else [],
            away=availability.exceptions_of(db, counselor.id, ending_after=now) if counselor else [],
            service_types={t.id: t.name for t in db.execute(select(ServiceType)).scalars()},
            service_type_options=[(t.id, t.name) for t in service.active_service_types(db)],
            who=f"?konselor={counselor.id}" if counselor and request.user.role == Role.SUPERVISOR else "",
        )

    @get("/ketersediaan", name="availability", sync_to_thread=True)
    def availability(self, request: Request, db: DB, konselor: FromQuery[str] = "") -> Any:
        return self._availability_page(request, db, _whose(request, db, konselor))

    def _owner(self, request: Request, db: Session, data: dict[str, Any]) -> User:
        counselor = _whose(request, db, one(data, "konselor"))
        if counselor is None:
            raise NotFoundException()
        return counselor

    def _back(self, request: Request, counselor: User) -> str:
        return f"/jadwal/ketersediaan?konselor={counselor.id}" if request.user.role == Role.SUPERVISOR \
            else "/jadwal/ketersediaan"

    @post("/ketersediaan/jam", sync_to_thread=True)
    def add_hours(self, request: Request, data: Form, db: DB, state: State) -> Any:
        counselor = self._owner(request, db, data)
        hours, errors = availability.check_hours(db, counselor, data)
        if errors:
            return self._availability_page(request, db, counselor, errors=errors, values=data, status_code=422)
        availability.add_hours(db, request.user, hours, ip=_ip(request, state))
        db.commit()
        return _done(self._back(request, counselor), "jam-ditambah")

    @post("/ketersediaan/jam/{hours_id:int}/hapus", sync_to_thread=True)
    def remove_hours(self, request: Request, hours_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        counselor = self._owner(request, db, data)
        if not availability.remove_hours(db, request.user, counselor, hours_id, ip=_ip(request, state)):
            raise NotFoundException()
        db.commit()
        return _done(self._back(request, counselor), "jam-dihapus")

    @post("/ketersediaan/pengecualian", sync_to_thread=True)
    def add_time_away(self, request: Request, data: Form, db: DB, state: State) -> Any:
        counselor = self._owner(request, db, data)
        away, errors = availability.check_time_away(counselor, data)
        if errors:
            return self._availability_page(request, db, counselor, errors=errors, values=data, status_code=422)
        clashes = availability.add_time_away(db, request.user, away, ip=_ip(request, state))
        db.commit()
        return _done(self._back(request, counselor), "pengecualian-bentrok" if clashes else "pengecualian-ditambah")

    @post("/ketersediaan/pengecualian/{away_id:int}/hapus", sync_to_thread=True)
    def remove_time_away(self, request: Request, away_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        counselor = self._owner(request, db, data)
        if not availability.remove_time_away(db, request.user, counselor, away_id, ip=_ip(request, state)):
            raise NotFoundException()
        db.commit()
        return _done(self._back(request, counselor), "pengecualian-dihapus")

    # --- supervisors: service types ----------------------------------------------------------------------

    @get("/jenis-layanan", name="service_types", guards=[auth.supervisors_only], sync_to_thread=True)
    def service_types(self, request: Request, db: DB) -> Any:
        types = list(db.execute(select(ServiceType).order_by(ServiceType.active.desc(), ServiceType.name)).scalars())
        return page(request, "appointments/service_types.html", service_types=types, notice=_notice(request))

    def _service_type_page(self, request: Request, form: ServiceTypeForm, *, service_type: ServiceType | None,
                           errors: dict[str, str] | None = None, status_code: int = 200) -> Any:
        return page(request, "appointments/service_type_form.html", status_code=status_code, form=form,
                    service_type=service_type, errors=errors or {})

    @get("/jenis-layanan/baru", name="service_type_new", guards=[auth.supervisors_only], sync_to_thread=True)
    def new_service_type(self, request: Request) -> Any:
        return self._service_type_page(request, ServiceTypeForm.of(ServiceType(name="")), service_type=None)

    @post("/jenis-layanan/baru", guards=[auth.supervisors_only], sync_to_thread=True)
    def create_service_type(self, request: Request, data: Form, db: DB, state: State) -> Any:
        form = ServiceTypeForm.from_data(data)
        errors = form.check()
        if errors:
            return self._service_type_page(request, form, service_type=None, errors=errors, status_code=422)
        service_types.create_service_type(db, request.user, form, ip=_ip(request, state))
        db.commit()
        return _done("/jadwal/jenis-layanan", "layanan-dibuat")

    def _service_type(self, db: Session, service_type_id: int) -> ServiceType:
        service_type = db.get(ServiceType, service_type_id)
        if service_type is None:
            raise NotFoundException()
        return service_type

    @get("/jenis-layanan/{service_type_id:int}", name="service_type", guards=[auth.supervisors_only],
         sync_to_thread=True)
    def edit_service_type(self, request: Request, service_type_id: FromPath[int], db: DB) -> Any:
        service_type = self._service_type(db, service_type_id)
        return self._service_type_page(request, ServiceTypeForm.of(service_type), service_type=service_type)

    @post("/jenis-layanan/{service_type_id:int}", guards=[auth.supervisors_only], sync_to_thread=True)
    def save_service_type(self, request: Request, service_type_id: FromPath[int], data: Form, db: DB,
                          state: State) -> Any:
        service_type = self._service_type(db, service_type_id)
        form = ServiceTypeForm.from_data(data)
        errors = form.check()
        if errors:
            return self._service_type_page(request, form, service_type=service_type, errors=errors, status_code=422)
        service_types.update_service_type(db, request.user, service_type, form, ip=_ip(request, state))
        db.commit()
        return _done("/jadwal/jenis-layanan", "layanan-disimpan")

    @post("/jenis-layanan/{service_type_id:int}/aktif", guards=[auth.supervisors_only], sync_to_thread=True)
    def toggle_service_type(self, request: Request, service_type_id: FromPath[int], data: Form, db: DB,
                            state: State) -> Any:
        service_type = self._service_type(db, service_type_id)
        service_types.set_active(db, request.user, service_type, one(data, "active") == "1", ip=_ip(request, state))
        db.commit()
        return _done("/jadwal/jenis-layanan", "layanan-aktif" if service_type.active else "layanan-nonaktif")

    # --- supervisors: public holidays --------------------------------------------------------------------

    def _holidays_page(self, request: Request, db: Session, year: int, *, errors: dict[str, str] | None = None,
                       line_errors: list[str] | None = None, values: dict[str, Any] | None = None,
                       status_code: int = 200) -> Any:
        holidays = public_holidays.holidays_of_year(db, year)
        clashes = _int(request.query_params.get("bentrok", "")) or 0
        return page(request, "appointments/holidays.html", status_code=status_code, year=year, holidays=holidays,
                    labels={h.day: format_wita_date(_noon(h.day), "EEEE, d MMMM y") for h in holidays},
                    errors=errors or {}, line_errors=line_errors or [], values=values or {}, notice=_notice(request),
                    clashes=clashes)

    @get("/libur", name="holidays", guards=[auth.supervisors_only], sync_to_thread=True)
    def holidays(self, request: Request, db: DB, tahun: FromQuery[str] = "") -> Any:
        year = _int(tahun) if _int(tahun) and 2000 <= _int(tahun) <= 2100 else _today(clock.now()).year
        return self._holidays_page(request, db, year)

    @post("/libur", guards=[auth.supervisors_only], sync_to_thread=True)
    def add_holidays(self, request: Request, data: Form, db: DB, state: State) -> Any:
        days, errors, line_errors = public_holidays.add_holidays(
            db, request.user, kind=one(data, "kind"), lines=str(data.get("lines", "")), ip=_ip(request, state))
        if errors:
            year = days[0][0].year if days else _today(clock.now()).year
            return self._holidays_page(request, db, year, errors=errors, line_errors=line_errors, values=data,
                                       status_code=422)
        # Sessions already booked on a new holiday stay booked: the counselors must hear of them and move them.
        clashes = service.live_on_days(db, [day for day, _name in days])
        db.commit()
        workdays.forget_years()
        year_url = f"/jadwal/libur?tahun={days[0][0].year}" + (f"&bentrok={clashes}" if clashes else "")
        return _done(year_url, "libur-ditambah")

    @post("/libur/{day:str}/hapus", guards=[auth.supervisors_only], sync_to_thread=True)
    def remove_holiday(self, request: Request, day: FromPath[str], db: DB, state: State) -> Any:
        wanted = _day(day)
        holiday = public_holidays.remove_holiday(db, request.user, wanted, _ip(request, state)) if wanted else None
        if holiday is None:
            raise NotFoundException()
        db.commit()
        workdays.forget_years()
        return _done(f"/jadwal/libur?tahun={holiday.day.year}", "libur-dihapus")
