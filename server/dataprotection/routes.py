"""/perlindungan-data (supervisors): the records of processing and their CSV, the data protection settings.

Thin: the rules are in service.py. Forms post and redirect (303); an invalid form comes back with status 422,
the message next to each field and what was typed."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect
from sqlmodel import Session

from server.accounts import auth
from server.accounts.models import User
from server.dataprotection import registry, rules, service
from server.db import DB
from server.i18n import lazy_gettext as _l
from server.statistics.export import csv_text
from server.web import PRIVATE, client_ip, page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
SupervisorRequest = Request[User, Any, Any]

NOTICES = {
    "tersimpan": _l("Pengaturan pelindungan data sudah disimpan."),
}


def notice(request: Request) -> str | None:
    message = NOTICES.get(request.query_params.get("pesan", ""))
    return str(message) if message else None


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
                    rules=rules.RULES, form=form, errors=errors, notice=notice(request) if status == 200 else None,
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
    def save_settings(self, request: SupervisorRequest, data: Form, db: DB, state: State) -> Any:
        form = {name: str(value) for name, value in data.items() if name != "_csrf_token"}
        errors = service.save_settings(db, form, actor_of(request, state))
        if errors:
            return self._registry_page(request, db, form, errors, status=422)
        db.commit()
        return Redirect("/perlindungan-data?pesan=tersimpan", status_code=303)
