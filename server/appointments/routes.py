"""Appointment pages.

/konseling   people who book: a signed-in child, parent or teacher, or the holder of a case code (no account).
             Choose a service, pick a free slot, add a note; one page per appointment (and its .ics); "Jadwal saya".
/jadwal      counselors: requests to answer, their day and week, one appointment with its actions, weekly
             hours and leave. Supervisors also: service types (public holidays, at /jadwal/libur, are admin's).

Handlers are thin: they read the form, call a service module, and render; the rules and every write with its
audit entry are in service.py (appointments), availability.py (weekly hours, time away) and service_types.py,
who may see or handle which in access.py, and the handler commits. How pages show things (free times a week or a day at
a time, appointments with their names, who asked) is in pages.py, the .ics file in ics.py; what stays here is
reading the request and the notices after a redirect. A refused change comes back with status 422, the reason
next to the form, FRESH free slots and everything that was typed. Every page here is marked private (`no-store`), code holders included, and an
appointment someone may not see is "not found".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.params import FromPath, QueryParameter
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect
from sqlmodel import Session

from server import clock
from server.accounts import auth
from server.accounts.models import Role, User
from server.accounts.visitor import KAMU, visitor_of
from server.appointments import access, availability, ics, pages, service, service_types
from server.appointments.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    ServiceType,
)
from server.appointments.service_types import ServiceTypeForm
from server.appointments.slots import parse_slot, parse_start
from server.db import DB
from server.forms import bounded_int, day_within_range, one, row_id
from server.i18n import LOCAL, format_local_date
from server.i18n import gettext as _
from server.i18n import lazy_gettext as _l
from server.reports import access as case_access
from server.reports import case_record
from server.web import PRIVATE, Form, done, ip, notice, page

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
}


def _day(value: str | None) -> date | None:
    """A date between FIRST_YEAR and LAST_YEAR, or None (a far date is no day anyone books)."""
    return day_within_range(value)


def _viewed_day(value: str) -> date | None:
    """A day asked for in the address: None when not given or not a date, "not found" when out of range."""
    if value and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and _day(value) is None:
        raise NotFoundException()
    return _day(value)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LOCAL)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL)


def _today(now: datetime) -> date:
    return now.astimezone(LOCAL).date()


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


# --- /konseling: people who book ----------------------------------------------------------------------------


class BookingController(Controller):
    opt = PRIVATE
    path = "/konseling"
    exception_handlers = {NotAuthorizedException: _sign_in_or_code}

    def _booking_page(self, request: Request, db: Session, booker: access.Booker, form: service.BookingForm, *,
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
        day = pages.booking_day(db, chosen, wanted=form.hari, first=form.dari, now=now, base_url=base_url,
                                counselor_id=None if other else continuity,
                                excluding=continuity if other else None) if chosen else None
        # A fragment (a service or a day chosen) renders only the times: no need for what surrounds them.
        htmx = getattr(request, "htmx", None)
        whole = not (htmx and not htmx.boosted)
        children = pages.child_options(db, booker.user) if whole else []
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
            upcoming=[v for v in pages.views(db, service.upcoming_of(db, booker.requester, now), now)
                      if v.status in LIVE_STATUSES] if whole else [],
            child_options=children,
            waitlist_open=True,  # "no free time" offers the waiting list (templates/waitlist/_join.html)
            report_options=pages.report_options(db, booker.user) if whole else [],
        )

    @get("/", name="booking", sync_to_thread=True)
    def booking(self, request: Request, db: DB,
                service_type: Annotated[str, QueryParameter(name="layanan")] = "",
                day: Annotated[str, QueryParameter(name="hari")] = "",
                first: Annotated[str, QueryParameter(name="dari")] = "",
                counselor: Annotated[str, QueryParameter(name="konselor")] = "",
                report: Annotated[str, QueryParameter(name="laporan")] = "") -> Any:
        booker = access.booker_of(db, visitor_of(request))
        if booker is None:
            return _not_a_booker(request)
        form = service.BookingForm(layanan=service_type, hari=day, dari=first, konselor=counselor,
                                   report_id=report if booker.user else "")
        return self._booking_page(request, db, booker, form, errors={})

    @post("/", sync_to_thread=True)
    def book(self, request: Request, data: Form, db: DB, state: State) -> Any:
        booker = access.booker_of(db, visitor_of(request))
        if booker is None:
            raise PermissionDeniedException() if request.user is not None else NotAuthorizedException()
        form = service.BookingForm.from_data(data)
        errors = service.check_booking(db, booker.user, form, booker.requester)
        starts_at = parse_start(form.slot)
        if not errors and starts_at is not None:  # check_booking refuses a start that does not parse
            try:
                appointment = service.request_appointment(
                    db, booker.requester, service_type_id=int(form.layanan), starts_at=starts_at, note=form.note,
                    child_id=bounded_int(form.child_id),
                    child_agreed=form.child_agreed if booker.user and booker.user.role == Role.TEACHER else "",
                    report_id=bounded_int(form.report_id), ip=ip(request),
                    reminder_hours=state.settings.reminder_hours, phone=form.phone_number,
                    other_counselor_reason=form.alasan_ganti if form.konselor == service.OTHER_COUNSELOR else None,
                )
                service.agree_to_reminders(db, booker.requester, form, ip=ip(request))
                db.commit()
                return done(f"/konseling/{appointment.id}", "baru")
            except service.SlotTaken as exc:
                db.rollback()
                errors, form.slot = {"slot": str(exc)}, ""
            except service.BookingError as exc:
                db.rollback()
                errors = {"form": str(exc)}
        return self._booking_page(request, db, booker, form, errors=errors, status_code=422)

    @get("/saya", name="my_appointments", sync_to_thread=True)
    def mine(self, request: Request, db: DB) -> Any:
        booker = access.booker_of(db, visitor_of(request))
        if booker is None:
            return _not_a_booker(request)
        now = clock.now()
        views = pages.views(db, service.appointments_of(db, booker.requester), now)
        return page(request, "appointments/mine.html", booker=booker, now=now,
                    saved_phone=service.saved_phone_number(db, booker.requester)[-3:],
            upcoming=[v for v in views if v.appointment.ends_at > now][::-1],
                    past=[v for v in views if v.appointment.ends_at <= now])

    # --- one appointment ---------------------------------------------------------------------------------

    def _visible(self, request: Request, db: Session, appointment_id: int) -> tuple[Appointment, bool]:
        """The appointment and whether the person is its requester. Someone signed out without a case code is
        offered both ways in; an appointment the person may not see is "not found"."""
        user = request.user
        case = access.visible_case(db, visitor_of(request))
        if user is None and case is None:
            raise NotAuthorizedException()
        try:
            return access.visible_appointment(db, appointment_id, user=user, case_report_id=case.id if case else None)
        except access.NotFound:
            raise NotFoundException() from None

    def _appointment_page(self, request: Request, db: Session, appointment: Appointment, is_requester: bool, *,
                          errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                          status_code: int = 200) -> Any:
        now = clock.now()
        view = pages.view(db, appointment, now)
        moved = service.moved_to(db, appointment)
        child = pages.child_of(db, appointment)
        may_change = (is_requester and view.status in LIVE_STATUSES
                      and service.requester_may_change(appointment, view.service_type, now))
        move_days = pages.move_days(db, appointment, view.service_type, now) if may_change else None
        return page(
            request, "appointments/appointment.html", status_code=status_code, view=view, is_requester=is_requester,
            may_change=may_change, move_days=move_days, moved_to=pages.view(db, moved, now) if moved else None, child=child,
            is_staff=request.user is not None and request.user.is_staff, notice=notice(request, NOTICES),
            kamu=visitor_of(request).voice == KAMU,
            errors=errors or {}, values=values or {},
        )

    @get("/{ref:str}", name="appointment", sync_to_thread=True)
    def appointment(self, request: Request, ref: FromPath[str], db: DB) -> Any:
        match = re.fullmatch(r"(\d{1,12})(\.ics)?", ref)
        appointment_id = row_id(match[1]) if match else None
        # the ids_in_range guard sees only int path parameters, not this one
        if match is None or appointment_id is None:
            raise NotFoundException()
        appointment, is_requester = self._visible(request, db, appointment_id)
        if match[2]:
            view = pages.view(db, appointment, clock.now())
            body = ics.calendar_file(appointment, status=view.status, service_type=view.service_type,
                                     page_url=f"{str(request.base_url).rstrip('/')}/konseling/{appointment.id}")
            return Response(body.encode(), media_type="text/calendar; charset=utf-8", headers={
                "Content-Disposition": 'attachment; filename="jadwal-konseling.ics"'})
        return self._appointment_page(request, db, appointment, is_requester)

    @post("/{appointment_id:int}/penilaian", sync_to_thread=True)
    def rating_invite(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB) -> Any:
        appointment, is_requester = self._visible(request, db, appointment_id)
        if not is_requester:
            raise NotFoundException()
        try:
            service.set_rating_invite(db, appointment, requester=access.requester_of(appointment, request.user),
                                      wanted=one(data, "rating_invite") == "1", ip=ip(request))
        except service.BookingError as exc:
            db.rollback()
            db.refresh(appointment)
            return self._appointment_page(request, db, appointment, is_requester,
                                          errors={"penilaian": str(exc)}, status_code=422)
        db.commit()
        return done(f"/konseling/{appointment.id}", "penilaian")

    @post("/{appointment_id:int}/batal", sync_to_thread=True)
    def cancel(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB) -> Any:
        appointment, is_requester = self._visible(request, db, appointment_id)
        if not is_requester:
            raise NotFoundException()
        try:
            service.cancel(db, appointment, by_counselor=None, requester=access.requester_of(appointment, request.user),
                           reason=one(data, "reason"), version=bounded_int(one(data, "version")) or 0,
                           ip=ip(request))
        except service.BookingError as exc:
            db.rollback()
            db.refresh(appointment)
            return self._appointment_page(request, db, appointment, is_requester, errors={"batal": str(exc)},
                                          values=data, status_code=422)
        db.commit()
        return done(f"/konseling/{appointment.id}", "dibatalkan")

    def _move_page(self, request: Request, db: Session, appointment: Appointment, *, hari: str, dari: str,
                   slot: str = "", errors: dict[str, str] | None = None, status_code: int = 200) -> Any:
        now = clock.now()
        view = pages.view(db, appointment, now)
        return page(request, "appointments/move.html", block="slots", status_code=status_code, view=view,
                    day=pages.move_days(db, appointment, view.service_type, now, hari=hari, dari=dari), slot=slot,
                    errors=errors or {})

    def _movable(self, request: Request, db: Session, appointment_id: int) -> Appointment | None:
        appointment, is_requester = self._visible(request, db, appointment_id)
        if not is_requester:
            raise NotFoundException()
        if not service.movable_by_requester(db, appointment, clock.now()):
            return None
        return appointment

    @get("/{appointment_id:int}/pindah", name="appointment_move", sync_to_thread=True)
    def move_form(self, request: Request, appointment_id: FromPath[int], db: DB,
                  day: Annotated[str, QueryParameter(name="hari")] = "",
                  first: Annotated[str, QueryParameter(name="dari")] = "") -> Any:
        appointment = self._movable(request, db, appointment_id)
        if appointment is None:
            # Too late to move: the appointment's page says why (htmx, asking for the slots only, goes there too).
            if getattr(request, "htmx", None):
                return ClientRedirect(f"/konseling/{appointment_id}")
            return Redirect(f"/konseling/{appointment_id}", status_code=303)
        return self._move_page(request, db, appointment, hari=day, dari=first)

    @post("/{appointment_id:int}/pindah", sync_to_thread=True)
    def move(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        appointment = self._movable(request, db, appointment_id)
        if appointment is None:
            return Redirect(f"/konseling/{appointment_id}", status_code=303)
        starts_at = parse_start(one(data, "slot"))
        shown = dict(hari=one(data, "hari"), dari=one(data, "dari"))
        if starts_at is None:
            return self._move_page(request, db, appointment, **shown, status_code=422,
                                   errors={"slot": _("Pilih salah satu waktu yang masih kosong.")})
        try:
            # The counselor stays the same: service.move checks the time against their free time afresh.
            moved = service.move(db, appointment, by_counselor=None, requester=access.requester_of(appointment, request.user),
                                 starts_at=starts_at, version=bounded_int(one(data, "version")) or 0, ip=ip(request),
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
        return done(f"/konseling/{moved.id}", "dipindah-diminta")


# --- /jadwal: counselors -----------------------------------------------------------------------------------


def _handled(request: Request, db: Session, appointment_id: int) -> Appointment:
    try:
        return access.handled_appointment(db, request.user, appointment_id)
    except access.NotFound:
        raise NotFoundException() from None


def _whose(request: Request, db: Session, wanted: str) -> User | None:
    try:
        return access.whose_schedule(db, request.user, wanted)
    except access.NotFound:
        raise NotFoundException() from None


class ScheduleController(Controller):
    opt = PRIVATE
    path = "/jadwal"
    guards = [auth.staff_only]

    @get("/", name="schedule", sync_to_thread=True)
    def schedule(self, request: Request, db: DB, day_asked: Annotated[str, QueryParameter(name="hari")] = "",
                 week: Annotated[str, QueryParameter(name="minggu")] = "",
                 counselor_asked: Annotated[str, QueryParameter(name="konselor")] = "",
                 just_changed: Annotated[str, QueryParameter(name="baru")] = "") -> Any:
        counselor = _whose(request, db, counselor_asked)
        now = clock.now()
        today = _today(now)
        day = _viewed_day(day_asked)
        by_day = day is not None
        # A week is the seven days from the day asked for, today by default: not the Monday before, which
        # spent half of a Thursday's screen on days already past.
        start = day if day is not None else (_viewed_day(week) or today)
        length = 1 if by_day else 7
        waiting = service.waiting_for(db, counselor.id if counselor else None, now)
        booked = service.agenda(db, counselor.id, _midnight(start).astimezone(UTC),
                                _midnight(start + timedelta(days=length)).astimezone(UTC)) if counselor else []
        views = {v.id: v for v in pages.views(db, waiting + booked, now)}
        days = [pages.AgendaDay(format_local_date(_noon(d), "EEEE, d MMMM y"),
                          [views[a.id] for a in booked if a.starts_at.astimezone(LOCAL).date() == d])
                for d in (start + timedelta(days=i) for i in range(length))]
        who = f"&konselor={counselor.id}" if counselor and request.user.role == Role.SUPERVISOR else ""
        step = "hari" if by_day else "minggu"
        in_view = start <= today < start + timedelta(days=length)
        return page(
            request, "appointments/schedule.html", counselor=counselor, counselors=access.counselors(db),
            calls=service.open_call_tasks(db, counselor.id, now) if counselor else {},
            waiting=[views[a.id] for a in waiting], requesting=pages.requesting(db, waiting + booked), days=days,
            by_day=by_day, now=now, notice=notice(request, NOTICES), just_changed=bounded_int(just_changed),
            previous_url=f"/jadwal?{step}={(start - timedelta(days=length)).isoformat()}{who}",
            next_url=f"/jadwal?{step}={(start + timedelta(days=length)).isoformat()}{who}",
            day_url=f"/jadwal?hari={(today if in_view else start).isoformat()}{who}",
            week_url=f"/jadwal?minggu={start.isoformat()}{who}",
            today_url=f"/jadwal?{step}={today.isoformat()}{who}",
        )

    # --- one appointment, as its counselor handles it ----------------------------------------------------

    def _manage_page(self, request: Request, db: Session, appointment: Appointment, *, mulai: str = "",
                     errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                     status_code: int = 200) -> Any:
        now = clock.now()
        view = pages.view(db, appointment, now)
        live = view.status in LIVE_STATUSES
        week = pages.slot_week(db, view.service_type, wanted=mulai or one(values or {}, "mulai"), now=now,
                               base_url=f"/jadwal/{appointment.id}", counselor_id=appointment.counselor_id,
                               within_notice=True, ignoring=appointment.id) if live else None
        report = pages.report_of(db, appointment)
        moved = service.moved_to(db, appointment)
        previous = pages.previous_of(db, appointment)
        return page(
            request, "appointments/manage.html", block="slots", status_code=status_code, view=view, week=week,
            requesting=pages.requesting(db, [appointment])[appointment.id], report=report,
            report_link=report is not None and case_access.can_handle(request.user, report),
            moved_to=pages.view(db, moved, now) if moved else None, previous=pages.view(db, previous, now) if previous else None,
            may_answer=view.status == AppointmentStatus.REQUESTED, live=live,
            may_record=view.status == AppointmentStatus.CONFIRMED and appointment.starts_at <= now,
            notice=notice(request, NOTICES), errors=errors or {}, values=values or {},
            trail=service.reminder_trail(db, appointment), call=service.call_task_of(db, appointment.id),
        )

    @get("/{appointment_id:int}", name="schedule_appointment", sync_to_thread=True)
    def manage(self, request: Request, appointment_id: FromPath[int], db: DB,
               start: Annotated[str, QueryParameter(name="mulai")] = "") -> Any:
        return self._manage_page(request, db, _handled(request, db, appointment_id), mulai=start)

    def _act(self, request: Request, db: Session, appointment_id: int, data: dict[str, Any], form_name: str,
             notice: str, action: Any) -> Any:
        """Run one counselor action; a refused one shows the appointment again with the reason next to its form."""
        appointment = _handled(request, db, appointment_id)
        try:
            result = action(appointment, bounded_int(one(data, "version")) or 0)
        except (service.BookingError, case_record.CaseError) as exc:
            db.rollback()
            db.refresh(appointment)
            return self._manage_page(request, db, appointment, errors={form_name: str(exc)}, values=data,
                                     status_code=422)
        db.commit()
        target = result if isinstance(result, Appointment) else appointment
        if one(data, "lanjut") != "jadwal":
            return done(f"/jadwal/{target.id}", notice)
        # The fragment scrolls the marked appointment into view on a phone.
        return Redirect(f"{self._week_showing(request, target)}&pesan={notice}#janji-{target.id}", status_code=303)

    def _week_showing(self, request: Request, appointment: Appointment) -> str:
        """Back to the week view with `appointment` in it, marked: the week from today when it falls in it,
        otherwise the week from its own day."""
        today = _today(clock.now())
        day = appointment.starts_at.astimezone(LOCAL).date()
        start = today if today <= day < today + timedelta(days=7) else day
        who = f"&konselor={appointment.counselor_id}" if request.user.role == Role.SUPERVISOR else ""
        return f"/jadwal?minggu={start.isoformat()}{who}&baru={appointment.id}"

    @post("/{appointment_id:int}/konfirmasi", sync_to_thread=True)
    def confirm(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, appointment_id, data, "konfirmasi", "dikonfirmasi", lambda appointment, version:
                         service.confirm(db, appointment, request.user, version=version, ip=ip(request),
                                         reminder_hours=state.settings.reminder_hours))

    @post("/{appointment_id:int}/ditelepon", sync_to_thread=True)
    def called(self, request: Request, appointment_id: FromPath[int], db: DB) -> Any:
        """The counselor made the "call to confirm" the reminder ladder asked for."""
        appointment = _handled(request, db, appointment_id)
        try:
            service.mark_called(db, appointment, request.user)
        except service.BookingError as exc:
            db.rollback()
            return self._manage_page(request, db, appointment, errors={"telepon": str(exc)}, status_code=422)
        db.commit()
        return done(f"/jadwal/{appointment.id}", "ditelepon")

    @post("/{appointment_id:int}/tolak", sync_to_thread=True)
    def decline(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB) -> Any:
        return self._act(request, db, appointment_id, data, "tolak", "ditolak", lambda appointment, version:
                         service.decline(db, appointment, request.user, version=version,
                                         reason=one(data, "reason"), ip=ip(request)))

    @post("/{appointment_id:int}/batal", sync_to_thread=True)
    def cancel(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB) -> Any:
        return self._act(request, db, appointment_id, data, "batal", "dibatalkan", lambda appointment, version:
                         service.cancel_by_counselor(db, appointment, request.user, reason=one(data, "reason"),
                                                     version=version, ip=ip(request)))

    @post("/{appointment_id:int}/pindah", sync_to_thread=True)
    def move(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        def move_it(appointment: Appointment, version: int) -> Appointment:
            chosen = parse_slot(one(data, "slot"))
            if chosen is None or chosen[0] != appointment.counselor_id:
                raise service.SlotTaken(_("Pilih salah satu waktu yang masih kosong."))
            return service.move(db, appointment, by_counselor=request.user, requester=None, starts_at=chosen[1],
                                reason=one(data, "reason"), version=version, ip=ip(request),
                                reminder_hours=state.settings.reminder_hours)
        return self._act(request, db, appointment_id, data, "pindah", "dipindah", move_it)

    @post("/{appointment_id:int}/kehadiran", sync_to_thread=True)
    def attendance(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB) -> Any:
        return self._act(request, db, appointment_id, data, "kehadiran", "kehadiran", lambda appointment, version:
                         service.record_attendance(db, appointment, request.user,
                                                   attended=service.attended(one(data, "attended")),
                                                   version=version, note=one(data, "note"), ip=ip(request)))

    # --- weekly hours and time away ----------------------------------------------------------------------

    def _availability_page(self, request: Request, db: Session, counselor: User | None, *,
                           errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                           status_code: int = 200) -> Any:
        now = clock.now()
        return page(
            request, "appointments/availability.html", status_code=status_code, counselor=counselor,
            counselors=access.counselors(db), notice=notice(request, NOTICES), errors=errors or {}, values=values or {},
            hours=availability.weekly_hours_of(db, counselor.id) if counselor else [],
            away=availability.exceptions_of(db, counselor.id, ending_after=now) if counselor else [],
            service_types=pages.service_type_names(db),
            service_type_options=[(t.id, t.name) for t in service.active_service_types(db)],
            who=f"?konselor={counselor.id}" if counselor and request.user.role == Role.SUPERVISOR else "",
        )

    @get("/ketersediaan", name="availability", sync_to_thread=True)
    def availability(self, request: Request, db: DB,
                     counselor: Annotated[str, QueryParameter(name="konselor")] = "") -> Any:
        return self._availability_page(request, db, _whose(request, db, counselor))

    def _owner(self, request: Request, db: Session, data: dict[str, Any]) -> User:
        counselor = _whose(request, db, one(data, "konselor"))
        if counselor is None:
            raise NotFoundException()
        return counselor

    def _back(self, request: Request, counselor: User) -> str:
        return f"/jadwal/ketersediaan?konselor={counselor.id}" if request.user.role == Role.SUPERVISOR \
            else "/jadwal/ketersediaan"

    @post("/ketersediaan/jam", sync_to_thread=True)
    def add_hours(self, request: Request, data: Form, db: DB) -> Any:
        counselor = self._owner(request, db, data)
        hours, errors = availability.check_hours(db, counselor, data)
        if errors:
            return self._availability_page(request, db, counselor, errors=errors, values=data, status_code=422)
        availability.add_hours(db, request.user, hours, ip=ip(request))
        db.commit()
        return done(self._back(request, counselor), "jam-ditambah")

    @post("/ketersediaan/jam/{hours_id:int}/hapus", sync_to_thread=True)
    def remove_hours(self, request: Request, hours_id: FromPath[int], data: Form, db: DB) -> Any:
        counselor = self._owner(request, db, data)
        if not availability.remove_hours(db, request.user, counselor, hours_id, ip=ip(request)):
            raise NotFoundException()
        db.commit()
        return done(self._back(request, counselor), "jam-dihapus")

    @post("/ketersediaan/pengecualian", sync_to_thread=True)
    def add_time_away(self, request: Request, data: Form, db: DB) -> Any:
        counselor = self._owner(request, db, data)
        away, errors = availability.check_time_away(counselor, data)
        if errors:
            return self._availability_page(request, db, counselor, errors=errors, values=data, status_code=422)
        clashes = availability.add_time_away(db, request.user, away, ip=ip(request))
        db.commit()
        return done(self._back(request, counselor), "pengecualian-bentrok" if clashes else "pengecualian-ditambah")

    @post("/ketersediaan/pengecualian/{away_id:int}/hapus", sync_to_thread=True)
    def remove_time_away(self, request: Request, away_id: FromPath[int], data: Form, db: DB) -> Any:
        counselor = self._owner(request, db, data)
        if not availability.remove_time_away(db, request.user, counselor, away_id, ip=ip(request)):
            raise NotFoundException()
        db.commit()
        return done(self._back(request, counselor), "pengecualian-dihapus")

    # --- supervisors: service types ----------------------------------------------------------------------

    @get("/jenis-layanan", name="service_types", guards=[auth.supervisors_only], sync_to_thread=True)
    def service_types(self, request: Request, db: DB) -> Any:
        types = service_types.all_service_types(db)
        return page(request, "appointments/service_types.html", service_types=types, notice=notice(request, NOTICES))

    def _service_type_page(self, request: Request, form: ServiceTypeForm, *, service_type: ServiceType | None,
                           errors: dict[str, str] | None = None, status_code: int = 200) -> Any:
        return page(request, "appointments/service_type_form.html", status_code=status_code, form=form,
                    service_type=service_type, errors=errors or {})

    @get("/jenis-layanan/baru", name="service_type_new", guards=[auth.supervisors_only], sync_to_thread=True)
    def new_service_type(self, request: Request) -> Any:
        return self._service_type_page(request, ServiceTypeForm.of(ServiceType(name="")), service_type=None)

    @post("/jenis-layanan/baru", guards=[auth.supervisors_only], sync_to_thread=True)
    def create_service_type(self, request: Request, data: Form, db: DB) -> Any:
        form = ServiceTypeForm.from_data(data)
        errors = form.check()
        if errors:
            return self._service_type_page(request, form, service_type=None, errors=errors, status_code=422)
        service_types.create_service_type(db, request.user, form, ip=ip(request))
        db.commit()
        return done("/jadwal/jenis-layanan", "layanan-dibuat")

    def _service_type(self, db: Session, service_type_id: int) -> ServiceType:
        service_type = service_types.service_type_or_none(db, service_type_id)
        if service_type is None:
            raise NotFoundException()
        return service_type

    @get("/jenis-layanan/{service_type_id:int}", name="service_type", guards=[auth.supervisors_only],
         sync_to_thread=True)
    def edit_service_type(self, request: Request, service_type_id: FromPath[int], db: DB) -> Any:
        service_type = self._service_type(db, service_type_id)
        return self._service_type_page(request, ServiceTypeForm.of(service_type), service_type=service_type)

    @post("/jenis-layanan/{service_type_id:int}", guards=[auth.supervisors_only], sync_to_thread=True)
    def save_service_type(self, request: Request, service_type_id: FromPath[int], data: Form, db: DB) -> Any:
        service_type = self._service_type(db, service_type_id)
        form = ServiceTypeForm.from_data(data)
        errors = form.check()
        if errors:
            return self._service_type_page(request, form, service_type=service_type, errors=errors, status_code=422)
        service_types.update_service_type(db, request.user, service_type, form, ip=ip(request))
        db.commit()
        return done("/jadwal/jenis-layanan", "layanan-disimpan")

    @post("/jenis-layanan/{service_type_id:int}/aktif", guards=[auth.supervisors_only], sync_to_thread=True)
    def toggle_service_type(self, request: Request, service_type_id: FromPath[int], data: Form, db: DB) -> Any:
        service_type = self._service_type(db, service_type_id)
        service_types.set_active(db, request.user, service_type, one(data, "active") == "1", ip=ip(request))
        db.commit()
        return done("/jadwal/jenis-layanan", "layanan-aktif" if service_type.active else "layanan-nonaktif")

