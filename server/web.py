"""Page rendering and the headers every response carries.

`page()` renders a whole page, or, for an htmx request, only the named block of the same template, so that a
fragment and its page can never drift apart.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Mapping
from functools import cache
from html import escape
from typing import Annotated, Any, Literal, cast

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body
from litestar.response import Redirect
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from server import i18n, logs, telemetry
from server.forms import MAX_ID
from server.settings import ROOT, Settings

STATIC_DIR = ROOT / "static"
VENDOR_DIR = ROOT / "node_modules" / "htmx.org" / "dist"

request_log = logging.getLogger("bintang.request")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def page(
    request: Request,
    template: str,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMXBlockTemplate:
    """The whole page, or just `block` of it when htmx asked for a fragment (not for boosted navigation)."""
    htmx = getattr(request, "htmx", None)
    fragment = bool(block and htmx and not htmx.boosted)
    return HTMXBlockTemplate(
        template_name=template,
        media_type=MediaType.HTML,
        block_name=block if fragment else None,
        context=context,
        status_code=status_code,
        headers={"Vary": "HX-Request, Cookie", **(headers or {})},
    )


class AnonymousPage:
    """A page that is the same for everyone who is not signed in, except for their own CSRF token: rendered once
    per language and per `version` of the data it shows, then served with each visitor's token put in.

    Only for pages that show nothing about anyone (DESIGN.md §4: nothing sensitive in caches); the report form is
    one. What it saves is the render: ~3 ms of the report form's ~4 ms, most of it ~80 translated strings.

    The copy is rendered with a placeholder token of our own, never a visitor's: Litestar takes the token from the
    visitor's CSRF cookie, which the visitor controls, so a copy made from it could be made to carry anything.
    """

    def __init__(self, template: str) -> None:
        self.template = template
        self.placeholder = f"csrf-placeholder-{secrets.token_hex(16)}"
        self._rendered: dict[tuple[str, str, Any], str] = {}

    def response(self, request: Request, version: Any, *, fill: dict[str, str] | None = None,
                 **context: Any) -> Response[str]:
        """`fill` puts each visitor's own values in place of placeholders the template was rendered with."""
        key = (request.url.path, i18n.current_language(), version)
        html = self._rendered.get(key)
        if html is None:
            html = self._render(request, context)
            if len(self._rendered) >= 16:  # old versions: a supervisor changed the data
                self._rendered.clear()
            self._rendered[key] = html
        token = ScopeState.from_scope(request.scope).csrf_token
        html = html.replace(self.placeholder, escape(token if isinstance(token, str) else ""))
        for placeholder, value in (fill or {}).items():
            html = html.replace(placeholder, escape(value))
        return Response(html, media_type=MediaType.HTML, headers={"Vary": "HX-Request, Cookie"})

    def _render(self, request: Request, context: dict[str, Any]) -> str:
        """As Litestar's Template response renders it (the same context, so the page cannot differ), with the
        placeholder as the token both in `csrf_input` and for the template's `csrf_token()`."""
        state = ScopeState.from_scope(request.scope)
        token, state.csrf_token = state.csrf_token, self.placeholder
        try:
            engine = request.app.template_engine
            if engine is None:
                raise RuntimeError("the app has no template engine")
            template = engine.get_template(self.template)
            csrf_input = f'<input type="hidden" name="_csrf_token" value="{self.placeholder}" />'
            return template.render(**context, request=request, csrf_input=csrf_input)
        finally:
            state.csrf_token = token


@cache
def static_url(path: str) -> str:
    """A versioned URL, so static files can be cached for a year and still change the moment they change.
    `vendor/` files come from the locked npm packages (htmx), everything else from static/."""
    source = VENDOR_DIR / path.removeprefix("vendor/") if path.startswith("vendor/") else STATIC_DIR / path
    return f"/static/{path}?v={hashlib.sha256(source.read_bytes()).hexdigest()[:12]}"


HSTS = "max-age=31536000"


# --- forms, notices and cookies: what every domain's routes share --------------------------------------------

# A form as the browser posts it (url-encoded); `TextForm` for the forms whose every field is one string.
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
TextForm = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def notice(request: Request, notices: Mapping[str, Any]) -> str | None:
    """The confirmation a redirect asked for by its short code (`?pesan=`): the page never echoes text from the
    address, only one of the page's own sentences."""
    message = notices.get(request.query_params.get("pesan", ""))
    return str(message) if message else None


def done(path: str, notice_code: str) -> Redirect:
    """After a form that worked: see the page again (303), with the confirmation named by its short code."""
    return Redirect(f"{path}{'&' if '?' in path else '?'}pesan={notice_code}", status_code=303)


def set_cookie(response: Response, name: str, value: str, settings: Settings, *, path: str = "/",
               samesite: Literal["lax", "strict"] = "lax", max_age: int | None = None, prefixed: bool = True) -> None:
    """Every cookie the server sets, with the project's flags: HttpOnly, Secure when COOKIE_SECURE, SameSite lax
    (strict where asked). A cookie for the whole site takes the __Host- prefix (`settings.cookie_name`); one kept
    to a path (/lapor, /masuk) or read before the app (the language) keeps its own name (`prefixed=False`)."""
    response.set_cookie(settings.cookie_name(name) if prefixed else name, value, path=path, max_age=max_age,
                        httponly=True, samesite=samesite, secure=settings.cookie_secure)


def cookie(request: Request, name: str, settings: Settings, *, prefixed: bool = True) -> str | None:
    """One of our cookies as this request carries it. The two session cookies are read by accounts/visitor.py
    alone; this is for the others (the device mark, the half-signed-in token, the report form's browser)."""
    return request.cookies.get(settings.cookie_name(name) if prefixed else name)


def drop_cookie(response: Response, name: str, settings: Settings) -> None:
    """Delete one of our cookies; a __Host- cookie is only replaced by one that is also Secure with Path=/."""
    response.set_cookie(settings.cookie_name(name), "", max_age=0, expires=0, path="/",
                        secure=settings.cookie_secure, httponly=True, samesite="lax")


# Signed tokens of the accounts and report codes this browser got in with: its guesses at them are counted apart
# from everyone else's (server/ratelimit.py, Guesses). It opens nothing by itself and names nothing. Renewed at
# each success; 30 days, like /lapor's cookie, so a child's phone does not keep a trace of the service longer.
DEVICE_COOKIE = "bc_device"
DEVICE_COOKIE_DAYS = 30


def device_cookie(request: Request, settings: Settings) -> str | None:
    return cookie(request, DEVICE_COOKIE, settings)


def set_device_cookie(response: Response, value: str, settings: Settings) -> None:
    set_cookie(response, DEVICE_COOKIE, value, settings, max_age=DEVICE_COOKIE_DAYS * 24 * 3600)


def ids_in_range(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """Guard on every route: an id in the path that no row can have (past the database's integers) is "not
    found" before any query, not a database error."""
    for value in connection.path_params.values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFoundException()


def client_ip(scope: Scope, settings: Settings) -> str:
    """The caller's address; X-Forwarded-For is believed only when the direct peer is a trusted proxy."""
    client = scope.get("client")
    peer = client[0] if client else ""
    if peer not in settings.trusted_proxies:
        return peer
    for key, value in scope.get("headers", []):
        if key == b"x-forwarded-for":
            hops = [hop.strip() for hop in value.decode("latin-1").split(",") if hop.strip()]
            for hop in reversed(hops):
                if hop not in settings.trusted_proxies:
                    return hop
    return peer


def ip(request: Request) -> str:
    """The address of the person making this request, for the audit trail and the rate limits (client_ip with the
    app's settings: the trusted proxies decide whether X-Forwarded-For is believed)."""
    return client_ip(request.scope, request.app.state.settings)


# A route (or a whole controller) whose pages hold what only its visitor may see, even without an account (a
# code holder, a receipt): `opt=PRIVATE` on the handler or `opt = PRIVATE` on the controller, and every
# response of it (its error pages too) is sent with `no-store`.
PRIVATE: dict[str, Any] = {"private": True}


def is_private(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return bool(handler is not None and handler.opt.get("private"))


class SecurityHeadersMiddleware:
    """Security headers on every response, and `no-store` on anything a signed-in person sees or a private route
    answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        secure = scope["litestar_app"].state.settings.cookie_secure

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Permissions-Policy"] = PERMISSIONS_POLICY
                headers["X-Frame-Options"] = "DENY"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                if secure:
                    # COOKIE_SECURE means the site is served over HTTPS: the browser must never try plain HTTP.
                    headers["Strict-Transport-Security"] = HSTS
                if scope.get("user") is not None or is_private(scope):
                    headers["Cache-Control"] = "no-store"
                elif "cache-control" not in headers:
                    headers["Cache-Control"] = "no-cache"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestLogMiddleware:
    """One JSON line per request (server/logs.py): method, route template (the path only when no route matched),
    status, duration and request id; never bodies, query strings, cookies, forms or the client's address. Counts
    the request for /metrics by the same route template (never the path, which holds ids), and gives every
    response its request id in X-Request-ID (the proxy's, when it sent a sane one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        incoming = next((value.decode("latin-1") for key, value in scope.get("headers", []) if key == b"x-request-id"),
                        None)
        request_id = logs.new_request_id(incoming)
        token = logs.request_id.set(request_id)

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            seconds = time.perf_counter() - started
            # Set by Litestar's router on the scope we passed down; missing when no route matched (a 404).
            template = scope.get("path_template")
            method = cast(HTTPScope, scope)["method"]  # an http scope (checked above); mypy loses the narrowing
            telemetry.REQUESTS.labels(method, template or telemetry.UNMATCHED, str(status)).inc()
            telemetry.REQUEST_SECONDS.labels(method, template or telemetry.UNMATCHED).observe(seconds)
            route = template or scope["path"]
            request_log.info("%s %s %s %.1fms", method, route, status, seconds * 1000,
                             extra={"event": "request", "method": method, "route": route, "status": status,
                                    "duration_ms": round(seconds * 1000, 1), "request_id": request_id})
            logs.request_id.reset(token)
