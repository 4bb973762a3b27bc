"""/readyz for the proxy and the process supervisor."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from server.health import checks


class ReadinessController(Controller):
    @get("/readyz", name="readyz", sync_to_thread=True)
    def readyz(self, state: State) -> Response[dict[str, object]]:
        """200 when every check is green, 503 when one is not; the body names each check and its state (no data of
        anyone's: it answers without signing in). /healthz stays the cheap "is the process alive"."""
        results = checks.run_all(state.engine, state.settings)
        ok = checks.all_ok(results)
        body = {
            "status": "ok" if ok else "fail",
            "checks": {result.name: {"ok": result.ok, "detail": result.detail} for result in results},
        }
        return Response(body, status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Cache-Control": "no-store"})
