"""Report pages: /lapor (anyone), /cek (code holders), /laporan-saya (signed-in reporters), /kasus (staff).

Handlers are thin: they parse, call service.py, and render. Every page showing a case is marked private, so the
response is `no-store` whoever asks, and every view of a case is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect
from sqlmodel import Session

from server import service_info
from server.accounts import auth, places
from server.accounts.models import District, Role, School, User, Village
from server.accounts.service import children_of
from server.accounts.visitor import CASE_COOKIE, session_tokens, visitor_of
from server.db import DB
from server.forms import bounded_int, control_character_errors, one, row_id, without_control_characters
from server.i18n import gettext as _
from server.reports import (
    access,
    case_hooks,
    case_record,
    case_views,
    cases,
    codes,
    deadlines,
    inbox,
    intake,
    messages,
    report_form,
    simfoni_data,
)
from server.reports.models import Report
from server.web import (
    PRIVATE,
    AnonymousPage,
    Form,
    client_ip,
    cookie,
    device_cookie,
    drop_cookie,
    page,
    set_cookie,
    set_device_cookie,
)

# Path "/" so that the code holder can also book counseling (/konseling) for the case.
# The browser a report form comes from (a random token; the report keeps its hash): only that browser's offline
# queue may get a receipt again. Sent to /lapor only. Not renewed after a report: a queue whose answer was lost
# lost the new cookie with it, and must still be recognised when it sends the report again.
BROWSER_COOKIE = "bc_lapor"
# The blank form is rendered once for everyone: each visitor's own idempotency key goes in its place.
KEY_PLACEHOLDER = "idempotency-key-placeholder"


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _with_browser_token(response: Response, state: State, token: str | None = None) -> Response:
    set_cookie(response, BROWSER_COOKIE, token or codes.new_browser_token(), state.settings, path="/lapor",
               samesite="strict", max_age=30 * 24 * 3600, prefixed=False)
    return response


def _form_context(db: Session, user: User | None, form: report_form.ReportForm, errors: dict[str, str]) -> dict[str, Any]:
    return {"form": form, "errors": errors, "child_options": _child_options(db, user), "asks_who": report_form.asks_who(user),
            **_place_options(places.current(db.get_bind().engine))}


def _child_options(db: Session, user: User | None) -> list[tuple[int, str]]:
    return [(c.id, c.nickname) for c in children_of(db, user.id)] if user and user.role == Role.PARENT else []


def _signed_in_form(db: Session, user: User) -> tuple[report_form.ReportForm, list[tuple[int, str]]]:
    return report_form.blank_form(db, user, codes.new_idempotency_key()), _child_options(db, user)


def _place_options(choices: places.Places) -> dict[str, Any]:
    """Choices for the district, kelurahan/desa and school questions, as (value, label) pairs; the kelurahan/desa
    grouped by kecamatan, of the kecamatan chosen (`village_groups(form.district_id)`) or of all."""
    return {"district_options": choices.districts, "school_options": choices.schools,
            "village_groups": lambda district_id="": choices.village_groups(bounded_int(str(district_id)) or None)}


# The form as someone not signed in opens it: the page most people meet first, the same for all of them.
BLANK_REPORT_FORM = AnonymousPage("reports/report_form.html")


class ReportingController(Controller):
    @get("/lapor", name="report_form")
    async def report_form(self, request: Request, db: DB, state: State) -> Any:
        user = request.user
        choices = places.current(state.engine)  # refreshed before the request (ProcessCopyMiddleware)
        context: dict[str, Any] = {"errors": {}, "asks_who": report_form.asks_who(user), **_place_options(choices)}
        if user is None:
            form = report_form.ReportForm(idempotency_key=KEY_PLACEHOLDER)
            response: Any = BLANK_REPORT_FORM.response(request, (places.version(), service_info.version()),
                                                       fill={KEY_PLACEHOLDER: codes.new_idempotency_key()},
                                                       form=form, child_options=[], **context)
        else:
            form, child_options = await anyio.to_thread.run_sync(_signed_in_form, db, user)
            response = page(request, "reports/report_form.html", form=form, child_options=child_options, **context)
        if not cookie(request, BROWSER_COOKIE, state.settings, prefixed=False):
            _with_browser_token(response, state)
        return response

    @get("/lapor/kelurahan", name="report_villages")
    async def villages(self, request: Request, state: State, district_id: FromQuery[str] = "",
                       village_id: FromQuery[str] = "") -> Any:
        """The kelurahan/desa field for the kecamatan just chosen (htmx; the form works without it)."""
        choices = places.current(state.engine)
        return page(request, "reports/village_field.html",
                    groups=choices.village_groups(bounded_int(district_id) or None), value=village_id)

    @post("/lapor", opt=PRIVATE, sync_to_thread=True)
    def submit(self, request: Request, data: Form, db: DB, state: State) -> Any:
        # Whatever comes back holds what the person wrote (errors) or their code and PIN (receipt).
        user, ip = request.user, client_ip(request.scope, state.settings)
        form = report_form.ReportForm.from_data(data)
        browser_token, wants_json = cookie(request, BROWSER_COOKIE, state.settings, prefixed=False), _wants_json(request)
        new_token = None if browser_token else codes.new_browser_token()
        earlier = None if form.unreadable else intake.sent_before(db, form)
        if earlier is not None:
            receipt = intake.answer_resend(db, state.settings, earlier, browser_token=browser_token,
                                            wants_receipt=wants_json, user=user, ip=ip)
            db.commit()
            return self._receipt(request, receipt, user)
        errors = report_form.validate_report(db, form, user)
        limited = not errors and intake.submissions_over_limit(db, ip)
        if limited:
            errors = {"form": _("Terlalu banyak laporan dari jaringan ini dalam satu jam. Tunggu sebentar, "
                                        "lalu kirim lagi. Jika ada yang dalam bahaya, telepon nomor darurat di bawah.")}
        if errors:
            if _wants_json(request):
                return Response({"errors": errors}, status_code=429 if limited else 422)
            return page(request, "reports/report_form.html", status_code=429 if limited else 422,
                        **_form_context(db, user, form, errors))
        receipt = intake.submit_report(db, state.settings, form, user=user, ip=ip,
                                        browser_token=browser_token or new_token, wants_receipt=wants_json)
        db.commit()
        response = self._receipt(request, receipt, user)
        return _with_browser_token(response, state, new_token) if new_token else response

    def _receipt(self, request: Request, receipt: intake.Receipt, user: User | None) -> Any:
        wants_json = _wants_json(request)
        if user is not None and receipt.report.submitted_by_id == user.id:
            url = f"/laporan-saya/{receipt.report.id}?baru=1"
            return Response({"url": url}) if wants_json else Redirect(url, status_code=303)
        if receipt.pin:
            if wants_json:
                return Response({"code": receipt.formatted_code, "pin": receipt.pin,
                                 "emergency": receipt.report.danger_now}, status_code=200)
            return page(request, "reports/receipt.html", receipt=receipt)
        # Sent before, and the receipt is not for this request: say so, and nothing else.
        status_code = 429 if receipt.limited else 200
        if wants_json:
            return Response({"sent": True, "url": "/cek"}, status_code=status_code)
        return page(request, "reports/already_sent.html", status_code=status_code, limited=receipt.limited)

    @get("/cek", name="follow_up", sync_to_thread=True)
    def follow_up_form(self, request: Request) -> Any:
        return page(request, "reports/follow_up.html", code="", errors={})

    @post("/cek", opt=PRIVATE, sync_to_thread=True)
    def follow_up(self, request: Request, data: Form, db: DB, state: State) -> Any:
        code, pin = str(data.get("code", "")), str(data.get("pin", ""))
        if data.get("lanjut") and "pin" not in data:
            # From the receipt's "Lanjut": the code comes in the body (never the address), so only the PIN is typed.
            return page(request, "reports/follow_up.html", code=without_control_characters(code), errors={},
                        code_carried=True)
        errors = {}
        if not code.strip():
            errors["code"] = _("Tulis kode laporanmu.")
        if not pin.strip():
            errors["pin"] = _("Tulis PIN-mu.")
        errors.update(control_character_errors({"code": code, "pin": pin}))
        if errors:
            return page(request, "reports/follow_up.html", status_code=422, code=without_control_characters(code),
                        errors=errors)
        report, error, limited, known_device = access.open_with_code(
            db, state.settings, code=code, pin=pin, ip=client_ip(request.scope, state.settings),
            device_cookie=device_cookie(request, state.settings),
        )
        if report is None:
            return page(request, "reports/follow_up.html", status_code=429 if limited else 422, code=code,
                        errors={"form": error})
        _signed_in, previous = session_tokens(request)
        token = auth.start_case_session(db, report.id, previous_token=previous)
        db.commit()
        response = Redirect("/cek/laporan", status_code=303)
        set_cookie(response, CASE_COOKIE, token, state.settings)
        if known_device:
            set_device_cookie(response, known_device, state.settings)
        return response

    def _code_holder_report(self, request: Request, db: Session) -> Report:
        report = access.case_report(db, visitor_of(request))
        if report is None:
            raise auth.NotAuthorizedException()
        return report

    @get("/cek/laporan", name="follow_up_case", opt=PRIVATE, sync_to_thread=True)
    def code_holder_case(self, request: Request, db: DB, state: State) -> Any:
        report = self._code_holder_report(request, db)
        access.record_view(db, report, user=None, ip=client_ip(request.scope, state.settings), as_="code_holder")
        db.commit()
        return page(request, "reports/reporter_case.html", report=report, message_action="/cek/laporan/pesan",
                    timeline=case_views.reporter_timeline(db, report), errors={}, message="", code_holder=True,
                    holder_parts=case_hooks.holder_parts(db, report))

    @post("/cek/laporan/pesan", opt=PRIVATE, sync_to_thread=True)
    def code_holder_message(self, request: Request, data: Form, db: DB, state: State) -> Any:
        report = self._code_holder_report(request, db)
        try:
            messages.message_from_reporter(db, report, None, body=str(data.get("message", "")),
                                          ip=client_ip(request.scope, state.settings))
        except case_record.CaseError as exc:
            db.rollback()
            # The refusal shows the case again: that is a view like any other.
            access.record_view(db, report, user=None, ip=client_ip(request.scope, state.settings), as_="code_holder")
            db.commit()
            return page(request, "reports/reporter_case.html", status_code=422, report=report,
                        message_action="/cek/laporan/pesan", timeline=case_views.reporter_timeline(db, report),
                        errors={"message": str(exc)}, message=data.get("message", ""), code_holder=True)
        db.commit()
        return Redirect("/cek/laporan#pesan", status_code=303)

    @post("/cek/keluar", sync_to_thread=True)
    def code_holder_leave(self, request: Request, db: DB, state: State) -> Redirect:
        _signed_in, token = session_tokens(request)
        if token:
            auth.end_case_session(db, token)
            db.commit()
        response = Redirect("/", status_code=303)
        drop_cookie(response, CASE_COOKIE, state.settings)
        return response

    @get("/laporan-saya", name="my_reports", guards=[auth.signed_in], opt=PRIVATE, sync_to_thread=True)
    def my_reports(self, request: Request, db: DB) -> Any:
        return page(request, "reports/my_reports.html",
                    summaries=case_views.reporter_summaries(db, case_views.reports_by(db, request.user)))

    def _own_report(self, request: Request, db: Session, report_id: int) -> Report:
        report = db.get(Report, report_id)
        if report is None or not access.is_reporter(request.user, report):
            raise NotFoundException()
        return report

    @get("/laporan-saya/{report_id:int}", name="my_report", guards=[auth.signed_in], opt=PRIVATE,
         sync_to_thread=True)
    def my_report(self, request: Request, report_id: FromPath[int], db: DB, state: State,
                  just_changed: Annotated[str | None, QueryParameter(name="baru")] = None) -> Any:
        report = self._own_report(request, db, report_id)
        access.record_view(db, report, user=request.user, ip=client_ip(request.scope, state.settings), as_="reporter")
        db.commit()
        return page(request, "reports/reporter_case.html", report=report, new=bool(just_changed),
                    message_action=f"/laporan-saya/{report.id}/pesan", timeline=case_views.reporter_timeline(db, report),
                    errors={}, message="", code_holder=False, summary=case_views.reporter_summaries(db, [report])[0])

    @post("/laporan-saya/{report_id:int}/pesan", guards=[auth.signed_in], opt=PRIVATE, sync_to_thread=True)
    def my_report_message(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        report = self._own_report(request, db, report_id)
        try:
            messages.message_from_reporter(db, report, request.user, body=str(data.get("message", "")),
                                          ip=client_ip(request.scope, state.settings))
        except case_record.CaseError as exc:
            db.rollback()
            access.record_view(db, report, user=request.user, ip=client_ip(request.scope, state.settings),
                                as_="reporter")
            db.commit()
            return page(request, "reports/reporter_case.html", status_code=422, report=report,
                        message_action=f"/laporan-saya/{report.id}/pesan",
                        timeline=case_views.reporter_timeline(db, report), errors={"message": str(exc)},
                        message=data.get("message", ""), code_holder=False,
                        summary=case_views.reporter_summaries(db, [report])[0])
        db.commit()
        return Redirect(f"/laporan-saya/{report.id}#pesan", status_code=303)


def _chosen_id(value: Any) -> int | None:
    """A choice from a list: None when left empty, 0 (no row has it) when it cannot be a row's id."""
    if value is None or not str(value).strip():
        return None
    return row_id(value) or 0


class CaseController(Controller):
    opt = PRIVATE
    path = "/kasus"
    guards = [auth.staff_only]

    @get("/", name="inbox", sync_to_thread=True)
    def inbox(
        self, request: Request, db: DB,
        status: FromQuery[str] = "open", category: Annotated[str, QueryParameter(name="kategori")] = "",
        district: Annotated[str, QueryParameter(name="kecamatan")] = "",
        school: Annotated[str, QueryParameter(name="sekolah")] = "",
        mine: Annotated[str, QueryParameter(name="milik_saya")] = "",
        after: Annotated[str, QueryParameter(name="setelah")] = "",
    ) -> Any:
        filters = inbox.InboxFilter(status=status, category=category, district_id=bounded_int(district),
                                      school_id=bounded_int(school), mine=mine == "1", after=after)
        block = "inbox_more" if after else "inbox_results"
        try:
            result = inbox.inbox(db, request.user, filters)
        except inbox.CursorOutOfRange:
            raise NotFoundException() from None
        return page(request, "reports/inbox.html", block=block, filters=filters, result=result,
                    **_place_options(places.current(db.get_bind().engine)))

    def _case(self, request: Request, db: Session, report_id: int) -> Report:
        report = db.get(Report, report_id)
        # A case the person may not handle is "not found": staff of another team don't learn it exists.
        if report is None or not access.can_handle(request.user, report):
            raise NotFoundException()
        return report

    def _render(self, request: Request, db: Session, report: Report, *, errors: dict[str, str] | None = None,
                values: dict[str, Any] | None = None, status_code: int = 200) -> Any:
        return page(
            request, "reports/case.html", status_code=status_code, report=report, errors=errors or {},
            values=values or {}, categories=case_views.categories_of(db, report.id),
            deadlines=deadlines.deadlines(report, session=db), chronology=case_views.chronology(db, report),
            referrals=case_views.referrals_of(db, report.id), transitions=cases.allowed_transitions(report),
            perpetrators=simfoni_data.perpetrators_of(db, report.id), services=simfoni_data.services_of(db, report.id),
            counselor_options=[(c.id, c.display_name) for c in cases.assignable_counselors(db)],
            assignee=db.get(User, report.assigned_to_id) if report.assigned_to_id else None,
            reporter=db.get(User, report.submitted_by_id) if report.submitted_by_id else None,
            school=db.get(School, report.school_id) if report.school_id else None,
            district=db.get(District, report.district_id) if report.district_id else None,
            village=db.get(Village, report.village_id) if report.village_id else None,
            close_parts=case_hooks.close_parts(db, report), case_parts=case_hooks.case_parts(db, report),
            **_place_options(places.current(db.get_bind().engine)),
        )

    @get("/{report_id:int}", name="case", sync_to_thread=True)
    def case(self, request: Request, report_id: FromPath[int], db: DB, state: State) -> Any:
        report = self._case(request, db, report_id)
        access.record_view(db, report, user=request.user, ip=client_ip(request.scope, state.settings), as_="staff")
        db.commit()
        return self._render(request, db, report)

    def _act(self, request: Request, db: Session, state: State, report_id: FromPath[int], data: dict[str, Any], form_name: str,
             action: Any, done_url: str | None = None) -> Any:
        """Run one case action; on a refused action show the case again with the reason next to that form."""
        report = self._case(request, db, report_id)
        ip = client_ip(request.scope, state.settings)
        try:
            # Invisible characters are refused here for every case form (PostgreSQL refuses NUL in text).
            unreadable = control_character_errors(data, multiline=("body", "reason", "note", "service_note",
                                                                   "check_in_reason", "plan_reason"))
            if unreadable:
                raise case_record.CaseError(next(iter(unreadable.values())))
            action(report, ip)
        except case_record.CaseError as exc:
            db.rollback()
            db.refresh(report)
            # The refusal shows the whole case again: that is a view like any other.
            access.record_view(db, report, user=request.user, ip=ip, as_="staff")
            db.commit()
            errors = exc.errors if isinstance(exc, case_record.FieldErrors) else {form_name: str(exc)}
            return self._render(request, db, report, errors=errors, values=data, status_code=422)
        db.commit()
        return Redirect(done_url or f"/kasus/{report.id}#{form_name}", status_code=303)

    @post("/{report_id:int}/triase", sync_to_thread=True)
    def triage(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        categories = data.get("categories", [])
        return self._act(request, db, state, report_id, data, "triase", lambda report, ip: cases.triage(
            db, report, request.user, urgency=str(data.get("urgency", "")),
            categories=categories if isinstance(categories, list) else [categories],
            district_id=_chosen_id(data.get("district_id")), version=bounded_int(data.get("version")), ip=ip))

    @post("/{report_id:int}/tugaskan", sync_to_thread=True)
    def assign(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "tugaskan", lambda report, ip: cases.assign(
            db, report, request.user, counselor_id=bounded_int(data.get("counselor_id")) or 0,
            version=bounded_int(data.get("version")), ip=ip))

    @post("/{report_id:int}/status", sync_to_thread=True)
    def change_status(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "status", lambda report, ip: cases.change_status(
            db, report, request.user, to=str(data.get("to", "")), reason=str(data.get("reason", "")),
            forwarded_to=str(data.get("forwarded_to", "")), duplicate_of=bounded_int(data.get("duplicate_of")),
            version=bounded_int(data.get("version")), ip=ip, check_in_plan=data if "check_in_plan" in data else None))

    @post("/{report_id:int}/pemantauan", sync_to_thread=True)
    def check_in_plan(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        action = case_hooks.case_action("check_in_plan")
        if action is None:
            raise NotFoundException()

        def change(report: Report, ip: str) -> None:
            try:
                action(db, report, request.user, data, ip)
            except case_hooks.NotFound:
                raise NotFoundException() from None

        return self._act(request, db, state, report_id, data, "rencana-pemantauan", change)

    @post("/{report_id:int}/catatan", sync_to_thread=True)
    def note(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "catatan", lambda report, ip: cases.add_note(
            db, report, request.user, body=str(data.get("body", "")), ip=ip))

    @post("/{report_id:int}/pesan", sync_to_thread=True)
    def message(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "pesan", lambda report, ip: messages.message_from_staff(
            db, report, request.user, body=str(data.get("body", "")), ip=ip))

    @post("/{report_id:int}/polisi", sync_to_thread=True)
    def police(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "polisi", lambda report, ip: cases.mark_police_reported(
            db, report, request.user, version=bounded_int(data.get("version")), ip=ip))

    @post("/{report_id:int}/rujukan", sync_to_thread=True)
    def referral(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "rujukan", lambda report, ip: cases.add_referral(
            db, report, request.user, agency_kind=str(data.get("agency_kind", "")),
            agency_name=str(data.get("agency_name", "")), note=str(data.get("note", "")), ip=ip))

    @post("/{report_id:int}/rujukan/{referral_id:int}", sync_to_thread=True)
    def referral_status(self, request: Request, report_id: FromPath[int], referral_id: FromPath[int], data: Form, db: DB,
                        state: State) -> Any:
        return self._act(request, db, state, report_id, data, "rujukan", lambda report, ip: cases.update_referral(
            db, report, request.user, referral_id=referral_id, status=str(data.get("status", "")), ip=ip))

    @post("/{report_id:int}/simfoni", sync_to_thread=True)
    def simfoni(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "simfoni", lambda report, ip: simfoni_data.update_simfoni(
            db, report, request.user, incident_on=one(data, "incident_on"), in_household=one(data, "in_household") == "1",
            education=one(data, "victim_education"), disability=one(data, "victim_disability"),
            disability_kind=one(data, "victim_disability_kind"), ip=ip))

    @get("/{report_id:int}/simfoni", name="simfoni_sheet", sync_to_thread=True)
    def simfoni_sheet(self, request: Request, report_id: FromPath[int], db: DB, state: State) -> Any:
        report = self._case(request, db, report_id)
        access.record_view(db, report, user=request.user, ip=client_ip(request.scope, state.settings), as_="simfoni")
        db.commit()
        return page(request, "reports/simfoni_sheet.html", report=report, sheet=simfoni_data.simfoni_sheet(db, report))

    @post("/{report_id:int}/simfoni/tandai", sync_to_thread=True)
    def simfoni_entered(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "simfoni", lambda report, ip: simfoni_data.mark_entered_in_simfoni(
            db, report, request.user, ip=ip), done_url=f"/kasus/{report_id}/simfoni")

    @post("/{report_id:int}/pelaku", sync_to_thread=True)
    def perpetrator(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "pelaku", lambda report, ip: simfoni_data.add_perpetrator(
            db, report, request.user, sex=one(data, "perpetrator_sex"), age_band=one(data, "perpetrator_age_band"),
            relationship=one(data, "perpetrator_relationship"), ip=ip))

    @post("/{report_id:int}/layanan", sync_to_thread=True)
    def case_service(self, request: Request, report_id: FromPath[int], data: Form, db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "layanan", lambda report, ip: simfoni_data.add_service(
            db, report, request.user, kind=one(data, "service_kind"), given_on=one(data, "service_given_on"),
            given_by=one(data, "service_given_by"), note=one(data, "service_note"), ip=ip))

    @post("/{report_id:int}/pelaku/{perpetrator_id:int}/hapus", sync_to_thread=True)
    def remove_perpetrator(self, request: Request, report_id: FromPath[int], perpetrator_id: FromPath[int], data: Form,
                           db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "pelaku", lambda report, ip: simfoni_data.remove_perpetrator(
            db, report, request.user, perpetrator_id=perpetrator_id, ip=ip))

    @post("/{report_id:int}/layanan/{service_id:int}/hapus", sync_to_thread=True)
    def remove_service(self, request: Request, report_id: FromPath[int], service_id: FromPath[int], data: Form,
                       db: DB, state: State) -> Any:
        return self._act(request, db, state, report_id, data, "layanan", lambda report, ip: simfoni_data.remove_service(
            db, report, request.user, service_id=service_id, ip=ip))
