"""Waiting-list pages.

/daftar-tunggu          the person's own places on the list: an offered time to take or skip, leaving the list.
                        Joining is posted from the booking page's "no free time" note (its form's service).
/jadwal/daftar-tunggu   counselors and supervisors: how long people wait, per service type (numbers only).

Handlers are thin: the rules, access checks and audit entries are in service.py; the handler commits. An entry
that is not the person's is "not found", and nothing changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from babel.numbers import format_decimal
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select
from sqlmodel import Session, col

from server import clock
from server.accounts.models import Role
from server.accounts.visitor import Visitor, visitor_of
from server.appointments import service as appointments
from server.appointments.models import Appointment, ServiceType
from server.db import DB
from server.forms import bounded_int, one
from server.i18n import current_language
from server.i18n import lazy_gettext as _l
from server.waitlist import service
from server.waitlist.models import OPEN_STATUSES, EntryStatus
from server.web import PRIVATE, Form, done, ip, notice, page

NOTICES = {
    "masuk": _l("Anda masuk daftar tunggu. Begitu ada waktu kosong, kami kabari lewat pemberitahuan."),
    "keluar": _l("Anda sudah keluar dari daftar tunggu."),
    "lewati": _l("Waktu itu kami tawarkan kepada orang berikutnya. Anda tetap di daftar tunggu."),
}


def _owner(request: Request) -> Visitor:
    """Who the list is about: the signed-in person, or else the holder of the case code (never both at once)."""
    if request.user is not None:
        return Visitor(user=request.user)
    return Visitor(case_report_id=visitor_of(request).case_report_id)


class WaitlistController(Controller):
    opt = PRIVATE
    path = "/daftar-tunggu"

    def _page(self, request: Request, db: Session, owner: Visitor, *, only: int | None = None,
              errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
              status_code: int = 200, notice: str | None = None) -> Any:
        now = clock.now()
        entries = service.entries_of(db, owner)
        if only is not None:
            entries = [entry for entry in entries if entry.id == only]
        types = {t.id: t for t in db.execute(select(ServiceType).where(
            col(ServiceType.id).in_({e.service_type_id for e in entries}))).scalars()} if entries else {}
        offers = {e.id: db.get(Appointment, e.offer_appointment_id) for e in entries
                  if e.status == EntryStatus.OFFERED and e.offer_appointment_id is not None}
        return page(
            request, "waitlist/mine.html", status_code=status_code, entries=entries, types=types, offers=offers,
            now=now, only=only, open_statuses=OPEN_STATUSES, errors=errors or {}, values=values or {}, notice=notice,
            is_teacher=owner.user is not None and owner.user.role == Role.TEACHER,
            saved_phone=appointments.saved_phone_number(db, owner)[-3:],
            kamu=owner.user is None or owner.user.role == Role.CHILD,
        )

    def _checked_owner(self, request: Request) -> Any:
        owner = _owner(request)
        if request.user is not None and request.user.is_staff:
            return Redirect("/jadwal/daftar-tunggu", status_code=303)
        if not service.may_join(owner):
            if request.method == "GET" and request.user is None:
                return page(request, "appointments/start.html", next_url="/daftar-tunggu")
            raise NotFoundException()
        return owner

    @get("/", name="waitlist", sync_to_thread=True)
    def mine(self, request: Request, db: DB) -> Any:
        owner = self._checked_owner(request)
        if not isinstance(owner, Visitor):
            return owner
        return self._page(request, db, owner, notice=notice(request, NOTICES))

    @get("/{entry_id:int}", name="waitlist_entry", sync_to_thread=True)
    def one_entry(self, request: Request, entry_id: FromPath[int], db: DB) -> Any:
        owner = self._checked_owner(request)
        if not isinstance(owner, Visitor):
            return owner
        try:
            service.entry_of(db, owner, entry_id)
        except service.NotYours as exc:
            raise NotFoundException() from exc
        return self._page(request, db, owner, only=entry_id)

    @post("/", sync_to_thread=True)
    def join(self, request: Request, data: Form, db: DB, state: State) -> Any:
        owner = self._checked_owner(request)
        if not isinstance(owner, Visitor):
            return owner
        service_type_id = bounded_int(one(data, "layanan"))
        child = bounded_int(one(data, "child_id")) if one(data, "child_id") else None
        try:
            service.join(db, owner, service_type_id=service_type_id or 0, child_id=child, ip=ip(request),
                         keep=timedelta(days=state.settings.waitlist_keep_days))
            db.commit()
        except service.WaitlistError as exc:
            db.rollback()
            return self._page(request, db, owner, errors={"form": str(exc)}, status_code=422)
        return done("/daftar-tunggu", "masuk")

    def _act(self, request: Request, db: Session, entry_id: int, action: Any, notice_code: str,
             data: dict[str, Any] | None = None) -> Any:
        owner = self._checked_owner(request)
        if not isinstance(owner, Visitor):
            return owner
        try:
            result = action(owner)
            db.commit()
        except service.NotYours as exc:
            db.rollback()
            raise NotFoundException() from exc
        except (service.WaitlistError, appointments.BookingError) as exc:
            db.rollback()
            errors = {getattr(exc, "field", "form"): str(exc)}
            return self._page(request, db, owner, only=entry_id, errors=errors, status_code=422,
                              values={k: one(data or {}, k) for k in ("phone_number", "child_agreed")})
        if isinstance(result, Appointment):
            return done(f"/konseling/{result.id}", "baru")
        return done("/daftar-tunggu", notice_code)

    @post("/{entry_id:int}/ambil", sync_to_thread=True)
    def accept(self, request: Request, entry_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, entry_id, lambda owner: service.accept(
            db, owner, entry_id, phone=one(data, "phone_number"), child_agreed=one(data, "child_agreed"),
            ip=ip(request), reminder_hours=state.settings.reminder_hours), "", data)

    @post("/{entry_id:int}/lewati", sync_to_thread=True)
    def skip(self, request: Request, entry_id: FromPath[int], db: DB) -> Any:
        return self._act(request, db, entry_id,
                         lambda owner: service.skip(db, owner, entry_id, ip=ip(request)), "lewati")

    @post("/{entry_id:int}/keluar", sync_to_thread=True)
    def leave(self, request: Request, entry_id: FromPath[int], db: DB) -> Any:
        return self._act(request, db, entry_id,
                         lambda owner: service.leave(db, owner, entry_id, ip=ip(request)), "keluar")


class WaitsController(Controller):
    opt = PRIVATE
    path = "/jadwal/daftar-tunggu"

    @get("/", name="waitlist_waits", sync_to_thread=True)
    def waits(self, request: Request, db: DB) -> Any:
        if not service.may_see_waits(request.user):
            raise NotFoundException()
        rows = service.waits(db, request.user)
        return page(request, "waitlist/waits.html", rows=rows, month=clock.now(), number=_number)


def _number(value: float | None, places: int = 1) -> str:
    """A count or a number of days in the reader's language (Indonesian: a decimal comma), or a dash."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0" + ("." + "0" * places if places else ""),
                          locale="id" if current_language() == "id" else "en")

