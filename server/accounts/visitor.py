"""Who is asking, resolved once per request: the signed-in person, the holder of a case's code (a browser that
proved the code and PIN of one report, with no account), both, or nobody.

`VisitorMiddleware` reads the two cookies, checks both sessions through the one lifecycle in auth.py (hashed
tokens, idle and maximum times, last seen), and puts a `Visitor` on the request (`request.scope["visitor"]`,
read with `visitor_of(request)`) and the person on `request.user`. Domains ask the visitor; none reads the
cookies or another domain's routes.

Quick exit's page sets a third cookie, `bc_keluar`, before it sends the sign-out: while it is there, the
sign-out may never have reached the server (no signal, a dropped connection), so any request that carries it
ends both sessions and is answered as nobody's, whichever tab or page it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import anyio.to_thread
from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server import audit, clock
from server.accounts import auth
from server.accounts.models import Role, User
from server.settings import Settings

CASE_COOKIE = "bc_case"
# Set by static/js/quick-exit.js (so not HttpOnly), cleared by the sign-out's answer or the next request.
QUICK_EXIT_COOKIE = "bc_keluar"


@dataclass(frozen=True)
class Visitor:
    """The person signed in on this browser (or None) and the case whose code this browser holds (or None)."""

    user: User | None = None
    case_report_id: int | None = None
    # What the reporter of that case said they are (child, friend, parent, teacher, other): how to speak to them.
    case_reporter_kind: str = ""

    def __bool__(self) -> bool:
        return self.user is not None or self.case_report_id is not None

    @property
    def voice(self) -> str:
        """"kamu" or "anda" for the person signed in, else for whoever holds the code (see `voice`)."""
        return voice(self.user, self.case_reporter_kind)

    @property
    def label(self) -> str:
        """How the audit log names them: the username, or the code holder (audit.CODE_HOLDER)."""
        return self.user.username if self.user else audit.CODE_HOLDER


NOBODY = Visitor()

# How a page speaks to its reader: a child reads "kamu", an adult "Anda", never both on one page.
KAMU = "kamu"
ANDA = "anda"
# What a reporter said they are (the report's reporter kind) that makes them a child reading.
CHILD_REPORTER_KINDS = frozenset({"child", "friend"})


def voice(user: User | None, reporter_kind: str = "") -> str:
    """The one place that decides between "kamu" and "Anda". The signed-in person is known by their role (a
    child's account reads "kamu"; a parent, teacher or staff "Anda"). Without an account, a code holder or
    someone reporting is known by what they said they are (`reporter_kind`). Someone nobody knows yet reads
    "kamu": the service is there for children first, and an adult is not put off by it, a child is by "Anda"."""
    if user is not None:
        return KAMU if user.role == Role.CHILD else ANDA
    if reporter_kind:
        return KAMU if reporter_kind in CHILD_REPORTER_KINDS else ANDA
    return KAMU


def visitor_of(request: Request) -> Visitor:
    # The middleware below keeps the visitor in the ASGI scope; the scope's TypedDict does not know the key.
    return cast("Visitor | None", request.scope.get("visitor")) or NOBODY


def session_tokens(request: Request) -> tuple[str | None, str | None]:
    """The raw tokens of this browser's two sessions (signed in, code holder), for the routes that end or renew
    them: signing in and out, opening a case again, quick exit. The session cookies are read here and nowhere
    else (tests/core/test_cookies.py)."""
    settings = request.app.state.settings
    return (request.cookies.get(settings.cookie_name(auth.SESSION_COOKIE)),
            request.cookies.get(settings.cookie_name(CASE_COOKIE)))


def resolve(engine: Engine, settings: Settings, session_token: str | None, case_token: str | None) -> Visitor:
    now = clock.now()
    with Session(engine, expire_on_commit=False) as session:
        user = auth.user_for_token(session, settings, session_token, now) if session_token else None
        case_id = auth.case_for_token(session, settings, case_token, now) if case_token else None
        # Read by name: the report is another domain's table, and the accounts module imports no domain.
        kind = session.execute(text("SELECT reporter_kind FROM report WHERE id = :id"),
                               {"id": case_id}).scalar() if case_id else None
    return Visitor(user=user, case_report_id=case_id, case_reporter_kind=kind or "")


def quick_exit_cookie(settings: Settings) -> str:
    """What quick exit's page writes to document.cookie. It lives as long as a session may, and no longer: a
    session it has to end cannot be older."""
    cookie = Cookie(key=settings.cookie_name(QUICK_EXIT_COOKIE), value="1", path="/",
                    max_age=settings.session_max_hours * 3600, secure=settings.cookie_secure, httponly=False,
                    samesite="lax")
    return cookie.to_header(header="")


def end_sessions(engine: Engine, session_token: str | None, case_token: str | None) -> None:
    with Session(engine) as session:
        if session_token:
            auth.end_session(session, session_token)
        if case_token:
            auth.end_case_session(session, case_token)
        session.commit()


def _forgetting_cookies(send: Send, settings: Settings) -> Send:
    """Drops the quick exit mark and the (now ended) session cookies with the answer, except a cookie the answer
    sets itself: signing in again, or opening a report with its code, on the request that ended the old ones."""
    names = [settings.cookie_name(name) for name in (QUICK_EXIT_COOKIE, auth.SESSION_COOKIE, CASE_COOKIE)]

    async def send_forgetting(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders.from_message(message)
            already = {value.split("=", 1)[0].strip() for value in headers.getall("set-cookie", [])}
            for name in names:
                if name not in already:
                    drop = Cookie(key=name, value="", max_age=0, expires=0, path="/", secure=settings.cookie_secure,
                                  httponly=True, samesite="lax")
                    headers.add("set-cookie", drop.to_header(header=""))
        await send(message)

    return send_forgetting


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie_name, _sep, cookie_value = part.strip().partition("=")
                if cookie_name == name and cookie_value:
                    return cookie_value
    return None


class VisitorMiddleware:
    """Puts the `Visitor` on every request, and its signed-in `User` (or None) as `request.user`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = NOBODY
            if not scope["path"].startswith("/static/"):
                state = scope["litestar_app"].state
                session_token = _cookie(scope, state.settings.cookie_name(auth.SESSION_COOKIE))
                case_token = _cookie(scope, state.settings.cookie_name(CASE_COOKIE))
                if _cookie(scope, state.settings.cookie_name(QUICK_EXIT_COOKIE)):
                    await anyio.to_thread.run_sync(end_sessions, state.engine, session_token, case_token)
                    send = _forgetting_cookies(send, state.settings)
                elif session_token or case_token:
                    found = await anyio.to_thread.run_sync(resolve, state.engine, state.settings, session_token,
                                                           case_token)
            scope["visitor"] = found  # type: ignore[typeddict-unknown-key]  # ours, beside Litestar's "user"
            scope["user"] = found.user
        await self.app(scope, receive, send)
