"""/statistik: the Dinas's numbers, for staff. Handlers parse, call service.py and render."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import QueryParameter
from litestar.response import Stream

from server import clock
from server.accounts import auth, places
from server.db import DB
from server.statistics import service
from server.statistics.export import csv_text, stream_and_delete
from server.web import PRIVATE, Form, client_ip, page


class StatisticsController(Controller):
    opt = PRIVATE
    path = "/statistik"
    guards = [auth.staff_only]

    @get("/", name="statistics", sync_to_thread=True)
    def overview(self, request: Request, db: DB, year: Annotated[str, QueryParameter(name="tahun")] = "",
                 month: Annotated[str, QueryParameter(name="bulan")] = "",
                 district: Annotated[str, QueryParameter(name="kecamatan")] = "") -> Any:
        filters, errors = service.parse_filter(year, month, district)
        numbers = service.statistics(db, request.user, filters)
        return page(request, "statistics/index.html", block="stats_results", status_code=422 if errors else 200,
                    filters=filters, errors=errors, stats=numbers, values={"tahun": year},
                    district_options=places.current(db.get_bind().engine).districts)

    @get("/simfoni", name="simfoni_todo", sync_to_thread=True)
    def simfoni_todo(self, request: Request, db: DB, month: Annotated[str, QueryParameter(name="bulan")] = "") -> Any:
        period, error = service.parse_month(month)
        return page(request, "statistics/simfoni.html", status_code=422 if error else 200, period=period,
                    errors={"bulan": error} if error else {}, value=month,
                    reports=service.not_entered_in_simfoni(db, request.user, period))

    @get("/ekspor", name="export_form", sync_to_thread=True)
    def export_form(self, request: Request) -> Any:
        return page(request, "statistics/export.html", form=service.ExportForm(year=str(clock.today_local().year)),
                    errors={}, may_export_identity=service.may_export_identity(request.user))

    @post("/ekspor", status_code=200, media_type="application/zip", sync_to_thread=True)
    def export(self, request: Request, data: Form, db: DB, state: State) -> Any:
        form = service.ExportForm.from_data(data)
        if form.identity and not service.may_export_identity(request.user):
            raise PermissionDeniedException()
        period, errors = service.validate_export(form)
        if period is None:
            return page(request, "statistics/export.html", status_code=422, form=form, errors=errors,
                        may_export_identity=service.may_export_identity(request.user))
        path, filename = service.create_export(db, state.settings, request.user, form, period,
                                               ip=client_ip(request.scope, state.settings))
        db.commit()
        return Stream(stream_and_delete(path),
                      headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @get("/kla", name="kla", guards=[auth.supervisors_only], sync_to_thread=True)
    def kla(self, request: Request, db: DB, year_asked: Annotated[str, QueryParameter(name="tahun")] = "") -> Any:
        year, error = service.parse_year(year_asked)
        return page(request, "statistics/kla.html", status_code=422 if error else 200, value=year_asked,
                    errors={"tahun": error} if error else {}, pack=service.kla_pack(db, year))

    @get("/kla.csv", name="kla_csv", guards=[auth.supervisors_only], media_type="text/csv", sync_to_thread=True)
    def kla_csv(self, request: Request, db: DB, state: State,
                year_asked: Annotated[str, QueryParameter(name="tahun")] = "") -> Any:
        year, error = service.parse_year(year_asked)
        if error:
            raise NotFoundException()
        pack = service.kla_pack(db, year)
        service.record_kla_export(db, request.user, pack, ip=client_ip(request.scope, state.settings))
        db.commit()
        return Response(csv_text([("bagian", "uraian", "jumlah"), *pack.lines()]), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="kla-klaster-v-{year}.csv"'})
