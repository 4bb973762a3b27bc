"""/statistik: the Dinas's numbers, for staff. Handlers parse, call service.py and render."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery

from server.accounts import auth, places
from server.db import DB
from server.statistics import service
from server.web import page


def _private(request: Request) -> None:
    request.scope["private"] = True  # type: ignore[typeddict-unknown-key]


class StatisticsController(Controller):
    path = "/statistik"
    guards = [auth.staff_only]

    @get("/", name="statistics", sync_to_thread=True)
    def overview(self, request: Request, db: DB, tahun: FromQuery[str] = "", bulan: FromQuery[str] = "",
                 kecamatan: FromQuery[str] = "") -> Any:
        _private(request)
        filters, errors = service.parse_filter(tahun, bulan, kecamatan)
        numbers = service.statistics(db, request.user, filters)
        return page(request, "statistics/index.html", block="stats_results", status_code=422 if errors else 200,
                    filters=filters, errors=errors, stats=numbers, values={"tahun": tahun},
                    district_options=places.current(db.get_bind()).districts)

    @get("/simfoni", name="simfoni_todo", sync_to_thread=True)
    def simfoni_todo(self, request: Request, db: DB, bulan: FromQuery[str] = "") -> Any:
        _private(request)
        period, error = service.parse_month(bulan)
        return page(request, "statistics/simfoni.html", status_code=422 if error else 200, period=period,
                    errors={"bulan": error} if error else {}, value=bulan,
                    reports=service.not_entered_in_simfoni(db, request.user, period))
