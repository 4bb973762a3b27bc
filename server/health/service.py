"""What the supervisor's "Kesehatan layanan" page shows, and the red lights the banner on every supervisor page
repeats (from this process's copy of the checks, a few seconds old at most, so no page waits for them)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib import metadata

import anyio.to_thread
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server import clock
from server.health import checks
from server.notifications import service as notifications
from server.reports import deadlines
from server.settings import Settings

# How old this process's copy of the checks may be before a supervisor's request reads them again.
BANNER_MAX_AGE = 10.0


@cache
def version() -> str:
    try:
        return metadata.version("bintang-ceria")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "?"


@dataclass(frozen=True)
class Overview:
    version: str
    results: list[checks.Result]
    heartbeat_age: float | None  # seconds; None when no dispatcher ever beat
    sent_24h: int
    failed_24h: int
    past_deadline: int
    free_disk_mb: float | None

    @property
    def ok(self) -> bool:
        return checks.all_ok(self.results)


def overview(engine: Engine, settings: Settings) -> Overview:
    """Everything the page shows, read now (the page is opened rarely; the banner uses `red_checks`)."""
    now = clock.now()
    results = checks.run_all(engine, settings, now)
    remember(engine, results)
    by_name = {result.name: result for result in results}
    with Session(engine) as session:
        queue = notifications.queue_state(session, since=now - timedelta(hours=24), now=now)
        past_deadline = deadlines.past_deadline_count(session, now)
    dispatcher, disk = by_name.get("dispatcher"), by_name.get("disk")
    return Overview(version(), results, dispatcher.value if dispatcher else None, queue.sent, queue.failed,
                    past_deadline, disk.value if disk else None)


# --- this process's copy for the banner ------------------------------------------------------------------------

class _Copy:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.engine: Engine | None = None  # the copy is of this database (tests run apps on several)
        self.results: list[checks.Result] = []
        self.read_at = 0.0
        self.refreshing = False


_copy = _Copy()


def remember(engine: Engine, results: list[checks.Result]) -> None:
    with _copy.lock:
        _copy.engine, _copy.results, _copy.read_at = engine, results, time.monotonic()


def forget() -> None:
    with _copy.lock:
        _copy.engine, _copy.results, _copy.read_at = None, [], 0.0


def red_checks(engine: Engine) -> list[checks.Result]:
    """The checks that were red when this process last ran them (none when it never did for this database)."""
    with _copy.lock:
        return [result for result in _copy.results if not result.ok] if _copy.engine is engine else []


def red_labels(engine: Engine) -> list[str]:
    """What the banner names: the red checks' labels, in the request's language."""
    labels = []
    for result in red_checks(engine):
        check = checks.check_named(result.name)
        labels.append(str(check.label) if check and check.label else result.name)
    return labels


async def refresh(engine: Engine, settings: Settings) -> None:
    """Run the checks again, in a worker thread, when this process's copy is older than BANNER_MAX_AGE; the
    requests meanwhile go on with the copy they have."""
    with _copy.lock:
        fresh = _copy.engine is engine and time.monotonic() - _copy.read_at <= BANNER_MAX_AGE
        if fresh or _copy.refreshing:
            return
        _copy.refreshing = True
    try:
        results = await anyio.to_thread.run_sync(checks.run_all, engine, settings)
        remember(engine, results)
    finally:
        with _copy.lock:
            _copy.refreshing = False


class HealthBannerMiddleware:
    """Before a supervisor's page renders, makes sure this process's copy of the checks is recent (other people
    never see the banner, so their requests never run the checks)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user") if scope["type"] == "http" else None
        if user is not None and user.role == "supervisor":
            state = scope["litestar_app"].state
            await refresh(state.engine, state.settings)
        await self.app(scope, receive, send)
