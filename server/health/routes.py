"""/readyz for the proxy and the process supervisor, /metrics for Prometheus; the supervisor's "Kesehatan layanan" page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from server.accounts import auth
from server.accounts.models import User
from server.health import checks, metrics, service
from server.settings import Settings
from server.web import page


class ReadinessController(Controller):
    @get("/metrics", name="metrics", sync_to_thread=True)
    def metrics(self, request: Request, state: State) -> Response[bytes]:
        """Prometheus's scrape: only on this machine (not through the proxy) or with METRICS_TOKEN; to anyone else
        the address does not exist."""
        if not metrics.may_read(request.scope, state.settings):
            raise NotFoundException()
        return Response(metrics.exposition(state.engine, state.settings), media_type=metrics.CONTENT_TYPE,
                        headers={"Cache-Control": "no-store"})

    @get("/readyz", name="readyz", sync_to_thread=True)
    def readyz(self, state: State) -> Response[dict[str, object]]:
        """200 when every check is green, 503 when one is not; the body names each check and its state (no data of
        anyone's: it answers without signing in). /healthz stays the cheap "is the process alive"."""
        results = checks.run_all(state.engine, state.settings)
        ok = checks.all_ok(results)
        body: dict[str, object] = {
            "status": "ok" if ok else "fail",
            "checks": {result.name: {"ok": result.ok, "detail": result.detail} for result in results},
        }
        return Response(body, status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Cache-Control": "no-store"})


@dataclass(frozen=True)
class CheckRow:
    label: str
    ok: bool
    explanation: str


def check_rows(results: list[checks.Result], settings: Settings) -> list[CheckRow]:
    rows = []
    for result in results:
        check = checks.check_named(result.name)
        label = str(check.label) if check and check.label else result.name
        explanation = check.explain(result, settings) if check and check.explain else result.detail
        rows.append(CheckRow(label, result.ok, explanation))
    return rows


class ServiceHealthController(Controller):
    """The supervisor's "Kesehatan layanan": is the service doing its work, for a Dinas without Prometheus."""

    path = "/admin/kesehatan"
    guards = [auth.supervisors_only]

    @get("/", name="admin_health", sync_to_thread=True)
    def health(self, request: Request[User, Any, Any], state: State) -> Any:
        overview = service.overview(state.engine, state.settings)
        rows = check_rows(overview.results, state.settings)
        dispatcher = next((row for row, result in zip(rows, overview.results, strict=True)
                           if result.name == "dispatcher"), None)
        free_disk = checks.megabytes(overview.free_disk_mb) if overview.free_disk_mb is not None else "?"
        return page(request, "admin/health.html", overview=overview, rows=rows, dispatcher=dispatcher,
                    free_disk=free_disk)
