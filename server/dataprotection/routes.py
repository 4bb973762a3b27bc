"""/perlindungan-data (supervisors): the records of processing and their CSV, the data protection settings, the
register of requests. /akun/data-saya and /akun/permintaan-data (a signed-in person), /cek/data-saya and
/cek/permintaan-data (whoever holds a report's code): the person's own data and requests.

Thin: the rules are in service.py. Forms post and redirect (303); an invalid form comes back with status 422,
the message next to each field and what was typed."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath
from sqlmodel import Session

from server import audit, clock
from server.accounts import auth
from server.accounts.models import User
from server.accounts.visitor import visitor_of
from server.dataprotection import breaches, export, registry, requests, retention, rules, service
from server.dataprotection.models import Breach, DataRequest, RequestKind, RequestStatus
from server.db import DB, existing
from server.i18n import lazy_gettext as _l
from server.reports.models import Report
from server.statistics.export import csv_text
from server.web import PRIVATE, TextForm, client_ip, done, notice, page

SupervisorRequest = Request[User, Any, Any]

NOTICES = {
    "tersimpan": _l("Pengaturan pelindungan data sudah disimpan."),
    "terkirim": _l("Permintaan sudah diterima. Jawabannya paling lambat 3 × 24 jam, di halaman ini dan lewat "
                   "pemberitahuan."),
    "diputuskan": _l("Keputusan sudah disimpan dan dikirim kepada orang yang meminta."),
    "insiden-dicatat": _l("Insiden sudah dicatat. Jam 3 × 24 jam berjalan sejak insiden diketahui."),
    "insiden-disimpan": _l("Perubahan insiden sudah disimpan."),
    "diberitahukan": _l("Pemberitahuan sudah ditandai terkirim."),
}
DOWNLOAD_NAME = "data-saya.json"


def actor_of(request: Request, state: State) -> service.Actor:
    return service.Actor(request.user.id, request.user.username, client_ip(request.scope, state.settings))


class DataProtectionController(Controller):
    path = "/perlindungan-data"
    guards = [auth.supervisors_only]
    opt = PRIVATE

    def _registry_page(self, request: Request, db: Session, form: dict[str, str], errors: dict[str, str],
                       status: int = 200) -> Any:
        periods = rules.all_days(db)
        return page(request, "dataprotection/registry.html", status_code=status, records=registry.RECORDS,
                    rules=rules.RULES, form=form, errors=errors,
                    notice=notice(request, NOTICES) if status == 200 else None,
                    retention=lambda key: service.retention_words(key, periods))

    @get("/", name="data_protection", sync_to_thread=True)
    def registry_page(self, request: SupervisorRequest, db: DB) -> Any:
        return self._registry_page(request, db, service.settings_form(db), {})

    @get("/catatan-pemrosesan.csv", name="data_protection_csv", media_type="text/csv", sync_to_thread=True)
    def registry_csv(self, request: SupervisorRequest, db: DB, state: State) -> Response:
        lines = list(service.csv_lines(db))
        service.record_export(db, actor_of(request, state))
        db.commit()
        return Response(csv_text(lines), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="catatan-pemrosesan-data.csv"'})

    @post("/pengaturan", sync_to_thread=True)
    def save_settings(self, request: SupervisorRequest, data: TextForm, db: DB, state: State) -> Any:
        form = {name: str(value) for name, value in data.items() if name != "_csrf_token"}
        errors = service.save_settings(db, form, actor_of(request, state))
        if errors:
            return self._registry_page(request, db, form, errors, status=422)
        db.commit()
        return done("/perlindungan-data", "tersimpan")

    # --- destruction reports -----------------------------------------------------------------------------------

    @get("/pemusnahan", name="destruction_reports", sync_to_thread=True)
    def destruction_reports(self, request: SupervisorRequest, db: DB) -> Any:
        return page(request, "dataprotection/destructions.html", rows=retention.reports(db),
                    kind_label=retention.kind_label, action_label=retention.action_label,
                    rule_label=lambda key: str(rules.RULES[key].label) if key in rules.RULES else key)

    # --- breaches ------------------------------------------------------------------------------------------------

    @get("/insiden", name="breaches", sync_to_thread=True)
    def breach_register(self, request: SupervisorRequest, db: DB) -> Any:
        return page(request, "dataprotection/breaches.html", items=breaches.register(db), done=breaches.done)

    def _breach_form_page(self, request: Request, form: breaches.BreachForm, *, action: str, status: int = 200,
                          breach: Breach | None = None) -> Any:
        return page(request, "dataprotection/breach_form.html", status_code=status, form=form, errors=form.errors,
                    action=action, breach=breach)

    @get("/insiden/baru", name="breach_new", sync_to_thread=True)
    def new_breach(self, request: SupervisorRequest) -> Any:
        return self._breach_form_page(request, breaches.BreachForm(), action="/perlindungan-data/insiden/baru")

    @post("/insiden/baru", sync_to_thread=True)
    def record_breach(self, request: SupervisorRequest, data: TextForm, db: DB, state: State) -> Any:
        form = breaches.BreachForm.from_data(data)
        breach = breaches.record(db, form, request.user, ip=client_ip(request.scope, state.settings))
        if breach is None:
            return self._breach_form_page(request, form, action="/perlindungan-data/insiden/baru", status=422)
        db.commit()
        return done(f"/perlindungan-data/insiden/{breach.id}", "insiden-dicatat")

    def _breach_or_404(self, db: Session, breach_id: int) -> Breach:
        breach = db.get(Breach, breach_id)
        if breach is None:
            raise NotFoundException()
        return breach

    @get("/insiden/{breach_id:int}", name="breach", sync_to_thread=True)
    def breach_details(self, request: SupervisorRequest, db: DB, state: State, breach_id: FromPath[int]) -> Any:
        breach = self._breach_or_404(db, breach_id)
        found = breaches.evidence(db, breach)
        dpo = service.dpo_contact(db)
        account = db.get(User, breach.account_id) if breach.account_id else None
        service.record(db, actor_of(request, state), "dataprotection.breach_viewed", "breach", breach.id)
        db.commit()
        return page(request, "dataprotection/breach.html", breach=breach, evidence=found, account=account,
                    notice=notice(request, NOTICES), done=breaches.done(breach),
                    to_people=breaches.notice_to_people(breach, dpo),
                    to_authority=breaches.notice_to_authority(breach, dpo, len(found.reports) if found else 0))

    @get("/insiden/{breach_id:int}/ubah", name="breach_edit", sync_to_thread=True)
    def edit_breach(self, request: SupervisorRequest, db: DB, breach_id: FromPath[int]) -> Any:
        breach = self._breach_or_404(db, breach_id)
        account = db.get(User, breach.account_id) if breach.account_id else None
        return self._breach_form_page(request, breaches.BreachForm.of(breach, account.username if account else ""),
                                      action=f"/perlindungan-data/insiden/{breach.id}/ubah", breach=breach)

    @post("/insiden/{breach_id:int}/ubah", sync_to_thread=True)
    def change_breach(self, request: SupervisorRequest, data: TextForm, db: DB, state: State,
                      breach_id: FromPath[int]) -> Any:
        breach = self._breach_or_404(db, breach_id)
        form = breaches.BreachForm.from_data(data)
        if not breaches.update(db, breach, form, request.user, ip=client_ip(request.scope, state.settings)):
            return self._breach_form_page(request, form, action=f"/perlindungan-data/insiden/{breach.id}/ubah",
                                          status=422, breach=breach)
        db.commit()
        return done(f"/perlindungan-data/insiden/{breach.id}", "insiden-disimpan")

    @post("/insiden/{breach_id:int}/diberitahukan", sync_to_thread=True)
    def breach_notified(self, request: SupervisorRequest, data: TextForm, db: DB, state: State,
                        breach_id: FromPath[int]) -> Any:
        breach = self._breach_or_404(db, breach_id)
        if not breaches.mark_notified(db, breach, data.get("whom", ""), request.user,
                                      ip=client_ip(request.scope, state.settings)):
            raise NotFoundException()
        db.commit()
        return done(f"/perlindungan-data/insiden/{breach.id}", "diberitahukan")

    # --- the register of requests ------------------------------------------------------------------------------

    @get("/permintaan", name="data_requests", sync_to_thread=True)
    def request_register(self, request: SupervisorRequest, db: DB) -> Any:
        return page(request, "dataprotection/requests.html", items=requests.register(db),
                    notice=notice(request, NOTICES),
                    who=lambda item: requests.who_asked(db, item), kind_label=requests.kind_label,
                    status_label=requests.status_label, open=RequestStatus.OPEN)

    def _request_page(self, request: Request, db: Session, item: DataRequest, form: requests.DecisionForm,
                      status: int = 200) -> Any:
        return page(request, "dataprotection/request.html", status_code=status, item=item, form=form,
                    errors=form.errors, who=requests.who_asked(db, item), kind_label=requests.kind_label,
                    status_label=requests.status_label, open=RequestStatus.OPEN, hold=requests.LEGAL_HOLD,
                    decisions=[(s.value, requests.status_label(s)) for s in
                               (RequestStatus.GRANTED, RequestStatus.PARTLY, RequestStatus.REFUSED)])

    def _request_or_404(self, db: Session, request_id: int) -> DataRequest:
        item = db.get(DataRequest, request_id)
        if item is None:
            raise NotFoundException()
        return item

    @get("/permintaan/{request_id:int}", name="data_request", sync_to_thread=True)
    def request_details(self, request: SupervisorRequest, db: DB, state: State, request_id: FromPath[int]) -> Any:
        item = self._request_or_404(db, request_id)
        actor = actor_of(request, state)
        service.record(db, actor, "dataprotection.request_viewed", "data_request", item.id)
        db.commit()
        return self._request_page(request, db, item, requests.DecisionForm())

    @post("/permintaan/{request_id:int}", sync_to_thread=True)
    def decide_request(self, request: SupervisorRequest, data: TextForm, db: DB, state: State,
                       request_id: FromPath[int]) -> Any:
        item = self._request_or_404(db, request_id)
        form = requests.DecisionForm.from_data(data)
        if not requests.decide(db, item, form, request.user, ip=client_ip(request.scope, state.settings)):
            db.rollback()
            return self._request_page(request, db, self._request_or_404(db, request_id), form, status=422)
        db.commit()
        return done(f"/perlindungan-data/permintaan/{item.id}", "diputuskan")


# --- the person's own data and requests ------------------------------------------------------------------------

def _download(body: str) -> Response:
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{DOWNLOAD_NAME}"',
                             "Cache-Control": "no-store"})


def _kinds() -> list[tuple[str, str]]:
    return [(kind.value, requests.kind_label(kind)) for kind in RequestKind]


def _my_requests_page(request: Request, db: Session, *, action: str, download: str, items: list[DataRequest],
                      form: requests.RequestForm, status: int = 200) -> Any:
    return page(request, "dataprotection/my_requests.html", status_code=status, action=action, download=download,
                items=items, form=form, errors=form.errors, kinds=_kinds(), hints=requests.KIND_HINTS,
                kind_label=requests.kind_label, status_label=requests.status_label, open=RequestStatus.OPEN,
                dpo=service.dpo_contact(db), notice=notice(request, NOTICES) if status == 200 else None)


class MyDataController(Controller):
    """A signed-in person's own data: the download and the requests."""
    path = "/akun"
    guards = [auth.signed_in]
    opt = PRIVATE

    @get("/data-saya", name="my_data", sync_to_thread=True)
    def download(self, request: Request[User, Any, Any], db: DB, state: State) -> Response:
        user = existing(db, User, request.user.id)
        body = export.as_json(export.of_user(db, user), clock.now())
        audit.record(db, "dataprotection.data_downloaded", actor_id=user.id, actor_label=user.username,
                     object_type="user", object_id=user.id, ip=client_ip(request.scope, state.settings))
        db.commit()
        return _download(body)

    @get("/permintaan-data", name="my_data_requests", sync_to_thread=True)
    def requests_page(self, request: Request[User, Any, Any], db: DB) -> Any:
        return _my_requests_page(request, db, action="/akun/permintaan-data", download="/akun/data-saya",
                                 items=requests.of_user(db, request.user.id), form=requests.RequestForm())

    @post("/permintaan-data", sync_to_thread=True)
    def ask(self, request: Request[User, Any, Any], data: TextForm, db: DB, state: State) -> Any:
        form = requests.RequestForm.from_data(data)
        user = existing(db, User, request.user.id)
        if requests.ask(db, form, user=user, ip=client_ip(request.scope, state.settings)) is None:
            return _my_requests_page(request, db, action="/akun/permintaan-data", download="/akun/data-saya",
                                     items=requests.of_user(db, user.id), form=form, status=422)
        db.commit()
        return done("/akun/permintaan-data", "terkirim")


def _holder_report_id(request: Request) -> int:
    report_id = visitor_of(request).case_report_id
    if report_id is None:
        raise NotAuthorizedException()
    return report_id


class HolderDataController(Controller):
    """Whoever holds a report's code: the data of that report as they gave it, and their requests."""
    path = "/cek"
    opt = PRIVATE

    @get("/data-saya", name="holder_data", sync_to_thread=True)
    def download(self, request: Request, db: DB) -> Response:
        from_report = existing(db, Report, _holder_report_id(request))
        body = export.as_json(export.of_code_holder(db, from_report), clock.now())
        audit.record(db, "dataprotection.data_downloaded", actor_label=audit.CODE_HOLDER, object_type="report",
                     object_id=from_report.id)
        db.commit()
        return _download(body)

    @get("/permintaan-data", name="holder_data_requests", sync_to_thread=True)
    def requests_page(self, request: Request, db: DB) -> Any:
        report_id = _holder_report_id(request)
        return _my_requests_page(request, db, action="/cek/permintaan-data", download="/cek/data-saya",
                                 items=requests.of_report(db, report_id), form=requests.RequestForm())

    @post("/permintaan-data", sync_to_thread=True)
    def ask(self, request: Request, data: TextForm, db: DB) -> Any:
        report_id = _holder_report_id(request)
        form = requests.RequestForm.from_data(data)
        if requests.ask(db, form, report_id=report_id) is None:
            return _my_requests_page(request, db, action="/cek/permintaan-data", download="/cek/data-saya",
                                     items=requests.of_report(db, report_id), form=form, status=422)
        db.commit()
        return done("/cek/permintaan-data", "terkirim")
