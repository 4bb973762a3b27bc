"""create_app(): settings, database, templates, middleware, routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session

from server import clock, i18n, logs, process_cache, service_info, workdays
from server.accounts import regions
from server.accounts.routes import AccountController
from server.accounts.visitor import VisitorMiddleware, quick_exit_cookie
from server.accounts.visitor import voice as speaks_to
from server.admin.routes import AdminController, HolidaysController
from server.aftercare.routes import CheckInController, CheckInListController, RatingController, VoicesController
from server.appointments.routes import BookingController, ScheduleController
from server.dataprotection.routes import DataProtectionController, HolderDataController, MyDataController
from server.db import engine_for
from server.health import service as health
from server.health.routes import ReadinessController, ServiceHealthController
from server.notifications.routes import (
    NotificationController,
    PushController,
    SmsReportController,
    WhatsAppWebhookController,
)
from server.privacy import phone
from server.pwa.routes import PWAController
from server.reports import words as report_words
from server.reports.routes import CaseController, ReportingController
from server.routes import CoreController
from server.settings import ROOT, Settings, SettingsError, from_env
from server.statistics import warm as statistics_warm
from server.statistics.routes import StatisticsController
from server.waitlist.routes import WaitlistController, WaitsController
from server.web import (
    STATIC_DIR,
    VENDOR_DIR,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
    ids_in_range,
    page,
    static_url,
)
from server.worker import inline_dispatcher

CSRF_COOKIE = "bc_csrf"
ONE_YEAR = 365 * 24 * 3600


class LocaleMiddleware:
    """Sets the request's language from the `bahasa` cookie; Indonesian unless the person chose English."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        language = i18n.DEFAULT_LANGUAGE
        for key, value in scope.get("headers", []):
            if key == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    name, _sep, cookie_value = part.strip().partition("=")
                    if name == i18n.LANGUAGE_COOKIE and cookie_value in i18n.LANGUAGES:
                        language = cookie_value
        i18n.set_language(language)
        await self.app(scope, receive, send)


class ProcessCopyMiddleware:
    """Refreshes this process's copies of the service settings and the district and school lists off the event
    loop before the request is handled, so that rendering a page never waits for the database (see
    server/process_cache.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await process_cache.refresh_all(scope["litestar_app"].state.engine)
        await self.app(scope, receive, send)


async def provide_db(state: State) -> AsyncIterator[Session]:
    """The request's database session. An async generator on purpose: Litestar then closes the session on the
    event loop. Closed from a sync generator, the close waits for a worker thread; under load every thread can be
    a handler waiting for a pooled connection that only such a close would give back, and the app stalls until
    the pool times out (bench/appointments.py found it at 32 connections)."""
    session = Session(state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


def _configure_jinja(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    # Added to the environment by the i18n extension just above, so the type checker cannot know it.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static_url=static_url,
        format_local=i18n.format_local,
        format_local_date=i18n.format_local_date,
        format_local_time=i18n.format_local_time,
        format_local_time_bare=i18n.format_local_time_bare,
        format_day=i18n.format_day,
        # "WIB", "WITA" or "WIT": the zone every time on the pages is in (server/clock.py, from REGION_CODE).
        zone=clock.zone_name,
        current_language=i18n.current_language,
        phone_shown=phone.shown,
        whatsapp_link=phone.whatsapp_link,
        report_words=report_words.current_words,
        # `voice(request.user)`, or `voice(None, report.reporter_kind)` on a code holder's page: "kamu" or "anda".
        voice=speaks_to,
        now=clock.now,
    )
    # Every number a page shows goes through this, so Indonesian pages say "1.234" and "0,5" (see i18n).
    env.filters["number"] = i18n.format_number
    env.trim_blocks = True
    env.lstrip_blocks = True
    # Templates are part of the code: a new version comes with a restart. Checking every template file's time on
    # every render (Jinja's default) was a system call per template, include and import of each page.
    env.auto_reload = False


def _wants_html(request: Request) -> bool:
    """Pages for people; JSON only for a client that asks for JSON and not HTML."""
    accept = request.headers.get("accept", "")
    return not ("application/json" in accept and "text/html" not in accept)


def _error_page(request: Request, exc: Exception) -> Response[Any] | HTMXBlockTemplate:
    status = exc.status_code if isinstance(exc, HTTPException) else HTTP_500_INTERNAL_SERVER_ERROR
    if status == HTTP_500_INTERNAL_SERVER_ERROR:
        logging.getLogger("bintang").error("unhandled error on %s %s: %s", request.method, request.url.path,
                                           logs.where_it_failed(exc))
    if isinstance(exc, NotAuthorizedException) and request.method == "GET" and _wants_html(request):
        return Redirect(f"/masuk?lanjut={request.url.path}", status_code=303)
    if not _wants_html(request):
        detail = exc.detail if isinstance(exc, HTTPException) and status < 500 else "Internal Server Error"
        return Response({"status_code": status, "detail": detail}, status_code=status)
    return page(request, "error.html", status_code=status, status=status)


def _dispose_engine(app: Litestar) -> None:
    app.state.engine.dispose()


@asynccontextmanager
async def warm_statistics(app: Litestar) -> AsyncIterator[None]:
    """Lifespan: with STATISTICS_WARM on, this year's statistics are counted in a thread while the app serves."""
    if app.state.settings.statistics_warm:
        statistics_warm.start(app.state.engine)
    yield


def _set_up_region(engine: Engine, settings: Settings) -> None:
    """Times in the region's zone; the database set up for the region, or the start refused when it holds the
    reports of another (server/accounts/regions.py). A database not migrated yet is left to `bintang migrate`."""
    clock.use_zone(settings.region.zone)
    try:
        with Session(engine) as session:
            regions.set_up(session, settings.region)
            session.commit()
    except regions.RegionChangeRefused as exc:
        raise SettingsError(str(exc)) from exc
    except (OperationalError, ProgrammingError):
        logging.getLogger(__name__).warning("the database has no region table yet: run `bintang migrate`")


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or from_env()
    settings.check()
    logs.configure(settings.log_level)
    engine = engine_for(settings)
    _set_up_region(engine, settings)

    app = Litestar(
        guards=[ids_in_range],
        route_handlers=[
            CoreController,
            ReadinessController,
            ServiceHealthController,
            AccountController,
            AdminController,
            HolidaysController,
            PWAController,
            ReportingController,
            CaseController,
            StatisticsController,
            BookingController,
            ScheduleController,
            NotificationController,
            PushController,
            WhatsAppWebhookController,
            SmsReportController,
            CheckInController,
            CheckInListController,
            RatingController,
            VoicesController,
            WaitlistController,
            WaitsController,
            DataProtectionController,
            MyDataController,
            HolderDataController,
            create_static_files_router(
                path="/static/vendor",
                directories=[VENDOR_DIR],
                name="vendor",
                cache_control=CacheControlHeader(max_age=ONE_YEAR, public=True, immutable=True),
            ),
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                cache_control=CacheControlHeader(max_age=ONE_YEAR, public=True, immutable=True),
            ),
        ],
        dependencies={"db": Provide(provide_db)},
        openapi_config=None,
        plugins=[HTMXPlugin()],
        template_config=TemplateConfig(
            directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=_configure_jinja
        ),
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name=settings.cookie_name(CSRF_COOKIE),
            cookie_secure=settings.cookie_secure,
            cookie_samesite="lax",
            header_name="x-csrftoken",
        ),
        compression_config=CompressionConfig(backend="brotli", brotli_gzip_fallback=True, minimum_size=500),
        exception_handlers={
            NotAuthorizedException: _error_page,
            PermissionDeniedException: _error_page,
            NotFoundException: _error_page,
            HTTPException: _error_page,
            Exception: _error_page,
        },
        state=State({"settings": settings, "engine": engine}),
        lifespan=[inline_dispatcher, warm_statistics],
        on_shutdown=[_dispose_engine],
        debug=False,
        # Logging is ours (server/logs.py: JSON lines that hold nothing typed); Litestar's own configuration would
        # replace the root logger's handlers with its text format.
        logging_config=None,
    )
    # Wrapped around Litestar's whole handler rather than listed as route middleware, so that every response,
    # a 404 for an unknown path included, is logged, carries the security headers, speaks the person's language
    # and renders with fresh service settings (and, for a supervisor, recent readiness checks for the banner).
    app.asgi_handler = RequestLogMiddleware(
        SecurityHeadersMiddleware(LocaleMiddleware(VisitorMiddleware(
            health.HealthBannerMiddleware(ProcessCopyMiddleware(app.asgi_handler))
        )))
    )
    template_globals = cast(JinjaTemplateEngine, app.template_engine).engine.globals
    template_globals["quick_exit_url"] = settings.quick_exit_url
    template_globals["quick_exit_cookie"] = quick_exit_cookie(settings)
    template_globals["service"] = lambda: service_info.current(app.state.engine)
    template_globals["holiday_years_to_enter"] = lambda: workdays.years_to_enter(app.state.engine)
    template_globals["health_red_checks"] = lambda: health.red_labels(app.state.engine)
    return app
