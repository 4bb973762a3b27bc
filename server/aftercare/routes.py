"""Pages after the case: the check-in (/pemantauan/N) for the code holder or the account it was sent to, the
counselor's list of check-ins that need them (/kasus/pemantauan), rating an attended session (/penilaian/N), and the
supervisors' totals of the ratings (/admin/suara-anak).

Handlers are thin: they find out who is asking, call service.py, and render. The check-in and rating pages are
marked private (`no-store`); viewing a check-in is audited as a view of its case."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlmodel import Session

from server.accounts import auth
from server.accounts.models import User
from server.accounts.visitor import KAMU, visitor_of
from server.aftercare import service
from server.aftercare.models import CheckIn
from server.appointments.models import Appointment
from server.db import DB
from server.reports import case_record
from server.web import PRIVATE, Form, client_ip, page


def _who(request: Request) -> tuple[User | None, int | None]:
    """The signed-in person and the case whose code this browser holds. Someone with neither is offered both ways
    in (a code holder has no account to sign in to); anyone else who is not the recipient is "not found"."""
    user = request.user
    case_id = visitor_of(request).case_report_id if user is None or not user.is_staff else None
    if user is None and case_id is None:
        raise NotAuthorizedException()
    return user, case_id


def _kamu(request: Request) -> bool:
    """A child (by their account, or by what the code holder said in the report) reads "kamu", an adult "Anda"."""
    return visitor_of(request).voice == KAMU


def _sign_in_or_code(request: Request, _exc: NotAuthorizedException) -> Any:
    if request.method == "GET":
        return page(request, "aftercare/start.html", next_url=request.url.path)
    return page(request, "error.html", status_code=401, status=401)


class CheckInController(Controller):
    opt = PRIVATE
    path = "/pemantauan"
    exception_handlers = {NotAuthorizedException: _sign_in_or_code}

    def _check_in(self, request: Request, db: Session, check_in_id: int) -> tuple[CheckIn, User | None]:
        user, case_id = _who(request)
        check_in = service.visible_check_in(db, check_in_id, user=user, case_report_id=case_id)
        if check_in is None:
            raise NotFoundException()
        return check_in, user

    def _render(self, request: Request, check_in: CheckIn, form: service.AnswerForm, *,
                errors: dict[str, str] | None = None, status_code: int = 200) -> Any:
        return page(request, "aftercare/check_in.html", status_code=status_code, check_in=check_in, form=form,
                    kamu=_kamu(request),
                    errors=errors or {}, faces=service.face_labels(), open=service.is_open(check_in))

    @get("/{check_in_id:int}", name="check_in", sync_to_thread=True)
    def check_in(self, request: Request, check_in_id: FromPath[int], db: DB, state: State) -> Any:
        check_in, user = self._check_in(request, db, check_in_id)
        service.record_view(db, check_in, user=user, ip=client_ip(request.scope, state.settings))
        db.commit()
        return self._render(request, check_in, service.AnswerForm())

    @post("/{check_in_id:int}", sync_to_thread=True)
    def answer(self, request: Request, check_in_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        check_in, user = self._check_in(request, db, check_in_id)
        ip = client_ip(request.scope, state.settings)
        form = service.AnswerForm.from_data(data)
        if not service.is_open(check_in):
            return self._render(request, check_in, form, status_code=409)
        errors = service.validate_answer(form)
        if errors:
            service.record_view(db, check_in, user=user, ip=ip)
            db.commit()
            return self._render(request, check_in, form, errors=errors, status_code=422)
        try:
            service.answer(db, check_in, form, user=user, ip=ip)
        except service.AlreadyAnswered:
            db.rollback()
            db.refresh(check_in)
            return self._render(request, check_in, form, status_code=409)
        db.commit()
        return page(request, "aftercare/thanks.html", worried=form.face == "tidak_baik" or bool(form.message),
                    kamu=_kamu(request))


class CheckInListController(Controller):
    """The counselor's side of check-ins: the answers that need them, and marking one followed up (the
    reporter's side is CheckInController)."""

    opt = PRIVATE
    path = "/kasus/pemantauan"
    guards = [auth.staff_only]

    def _list(self, request: Request, db: Session, *, errors: dict[str, str] | None = None,
              status_code: int = 200) -> Any:
        return page(request, "aftercare/follow_ups.html", status_code=status_code,
                    items=service.follow_ups(db, request.user), faces=service.face_labels(),
                    steps=service.step_labels(), errors=errors or {})

    @get("/", name="follow_ups", sync_to_thread=True)
    def follow_ups(self, request: Request, db: DB) -> Any:
        return self._list(request, db)

    @post("/{check_in_id:int}/selesai", sync_to_thread=True)
    def done(self, request: Request, check_in_id: FromPath[int], db: DB, state: State) -> Any:
        check_in = service.follow_up_for(db, check_in_id, request.user)
        if check_in is None:
            raise NotFoundException()
        try:
            service.mark_follow_up_done(db, check_in, request.user, ip=client_ip(request.scope, state.settings))
        except case_record.CaseError as exc:
            db.rollback()
            return self._list(request, db, errors={str(check_in_id): str(exc)}, status_code=422)
        db.commit()
        return Redirect("/kasus/pemantauan", status_code=303)


class RatingController(Controller):
    opt = PRIVATE
    path = "/penilaian"
    exception_handlers = {NotAuthorizedException: _sign_in_or_code}

    def _appointment(self, request: Request, db: Session, appointment_id: int) -> tuple[Appointment, User | None]:
        user, case_id = _who(request)
        appointment = db.get(Appointment, appointment_id)
        if appointment is None or not service.may_rate(db, appointment, user=user, case_report_id=case_id):
            raise NotFoundException()
        return appointment, user

    def _render(self, request: Request, db: Session, appointment: Appointment, form: service.RatingForm, *,
                errors: dict[str, str] | None = None, status_code: int = 200) -> Any:
        return page(request, "aftercare/rating.html", status_code=status_code, appointment=appointment, form=form,
                    kamu=_kamu(request),
                    errors=errors or {}, faces=service.face_labels(), attended=service.was_attended(appointment),
                    rated=service.already_rated(db, appointment.id))

    @get("/{appointment_id:int}", name="rating", sync_to_thread=True)
    def rating(self, request: Request, appointment_id: FromPath[int], db: DB) -> Any:
        appointment, _user = self._appointment(request, db, appointment_id)
        return self._render(request, db, appointment, service.RatingForm())

    @post("/{appointment_id:int}", sync_to_thread=True)
    def rate(self, request: Request, appointment_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        appointment, user = self._appointment(request, db, appointment_id)
        form = service.RatingForm.from_data(data)
        if not service.was_attended(appointment) or service.already_rated(db, appointment.id):
            return self._render(request, db, appointment, form, status_code=409)
        errors = service.validate_rating(form)
        if errors:
            return self._render(request, db, appointment, form, errors=errors, status_code=422)
        try:
            service.rate(db, appointment, form, user=user, ip=client_ip(request.scope, state.settings),
                         secret_key=state.settings.secret_key)
        except service.AlreadyRated:
            db.rollback()
            return self._render(request, db, appointment, form, status_code=409)
        db.commit()
        return page(request, "aftercare/rating_thanks.html", kamu=_kamu(request))


class VoicesController(Controller):
    opt = PRIVATE
    path = "/admin/suara-anak"
    guards = [auth.supervisors_only]

    @get("/", name="voices", sync_to_thread=True)
    def voices(self, request: Request, db: DB) -> Any:
        return page(request, "aftercare/voices.html", totals=service.rating_totals(db), faces=service.face_labels())
