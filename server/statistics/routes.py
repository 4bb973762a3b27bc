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
