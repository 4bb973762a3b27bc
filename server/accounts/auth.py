"""Who is asking: passwords, database-backed sessions, role guards and object-level access helpers.

Every route decides access with the helpers here: a role guard on the route, then, for a given object,
`relation()` tells whether the person is its owner, a colleague in the same district team, a supervisor, or a
stranger. Domains build their own rules from these in their service.py.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import delete
from sqlmodel import Session, col
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from server import clock
from server.accounts import two_factor
from server.accounts.models import CaseSession, Role, User, WebSession
from server.db import rows_changed
from server.i18n import gettext as _
from server.settings import Settings

SESSION_COOKIE = "bc_session"
# Published in the README for trying the app: never acceptable as anyone's own password.
DEMO_PASSWORD = "ceria-demo-2026"  # noqa: S105 - public on purpose, refused as a real password
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
# Refreshing last_seen on every request would turn every page view into a write; a minute is precise enough
# for a 30-minute idle time-out.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)

# The password of an account made without one (the first supervisor, `bintang setup-link`): no argon2 hash
# looks like this, so no password matches it.
UNUSABLE_PASSWORD = "!"  # noqa: S105 - a marker in place of a hash, not a password

_hasher = PasswordHasher()
# A hash of a random password, verified against when the account does not exist, so that a sign-in for an
# unknown name takes as long as one for a known name.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


# --- passwords ---------------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    usable = has_usable_password(password_hash)
    try:
        return _hasher.verify(password_hash if password_hash and usable else _DUMMY_HASH, password) and usable
    except (VerificationError, InvalidHashError):
        return False


def has_usable_password(password_hash: str | None) -> bool:
    return bool(password_hash and not password_hash.startswith(UNUSABLE_PASSWORD))


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _common_passwords() -> frozenset[str]:
    extra = {"bintangceria", "banjarbaru", "indonesia", "rahasia123", "sayangku123", "bismillah"}
    return frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(FREQUENCY_LISTS["english_wikipedia"][:2000]) | extra


def password_problem(password: str, *, username: str = "") -> str | None:
    """Length rules and a check against common passwords (NIST SP 800-63B); no composition rules."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return _("Kata sandi minimal %(n)s karakter. Kalimat pendek yang mudah Anda ingat juga boleh.", n=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        return _("Kata sandi paling banyak %(n)s karakter.", n=PASSWORD_MAX_LENGTH)
    lowered = password.lower()
    if lowered == DEMO_PASSWORD:
        return _("Kata sandi ini adalah kata sandi demo yang diketahui semua orang. Pilih kata sandi Anda sendiri.")
    if lowered in _common_passwords() or len(set(lowered)) <= 2:
        return _("Kata sandi ini terlalu umum dan mudah ditebak. Pilih yang lain.")
    if username and username.lower() in lowered:
        return _("Kata sandi tidak boleh memuat nama pengguna.")
    return None


# --- sessions ----------------------------------------------------------------------------------------------


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, *, ip: str, previous_token: str | None = None) -> str:
    """Create a new session for `user` and return its token. Any session the browser had before is ended,
    so the session id always changes at sign-in."""
    if previous_token:
        end_session(session, previous_token)
    token = secrets.token_urlsafe(32)
    session.add(WebSession(id=_token_id(token), user_id=user.id, ip=ip[:64]))
    return token


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(col(WebSession.id) == _token_id(token)))


def end_all_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(col(WebSession.user_id) == user_id))


# A code holder's session (a browser that proved a case's code and PIN) lives exactly like a web session: the
# same token, the same hash, the same idle and maximum times, the same purge.


def start_case_session(session: Session, report_id: int, *, previous_token: str | None = None) -> str:
    """As at sign-in, the browser's earlier code-holder session (if any) ends and the token always changes."""
    if previous_token:
        end_case_session(session, previous_token)
    token = secrets.token_urlsafe(32)
    session.add(CaseSession(id=_token_id(token), report_id=report_id))
    return token


def end_case_session(session: Session, token: str) -> None:
    session.execute(delete(CaseSession).where(col(CaseSession.id) == _token_id(token)))


def session_is_live(row: WebSession | CaseSession, settings: Settings, now: datetime) -> bool:
    idle = now - row.last_seen_at
    age = now - row.created_at
    return idle <= timedelta(minutes=settings.session_idle_minutes) and age <= timedelta(
        hours=settings.session_max_hours
    )


def _seen(session: Session, row: WebSession | CaseSession, now: datetime) -> None:
    if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
        session.commit()


def user_for_token(session: Session, settings: Settings, token: str, now: datetime) -> User | None:
    web_session = session.get(WebSession, _token_id(token))
    if web_session is None:
        return None
    user = session.get(User, web_session.user_id)
    if user is None or not user.active or not session_is_live(web_session, settings, now) \
            or _two_factor_overdue(session, settings, user, now):
        session.delete(web_session)
        session.commit()
        return None
    _seen(session, web_session, now)
    return user


def _two_factor_overdue(session: Session, settings: Settings, user: User, now: datetime) -> bool:
    """In production, staff without two-factor sign-in are refused at sign-in once their grace period is over;
    a session opened before that ends with it too."""
    if not (settings.is_production and user.is_staff and not user.has_two_factor):
        return False
    requirement = two_factor.requirement_for(session, settings, user)
    return requirement.required and requirement.grace_ends is not None and now >= requirement.grace_ends


def case_for_token(session: Session, settings: Settings, token: str, now: datetime) -> int | None:
    """The id of the report whose code this browser holds, while its session is live."""
    case_session = session.get(CaseSession, _token_id(token))
    if case_session is None:
        return None
    if not session_is_live(case_session, settings, now):
        session.delete(case_session)
        session.commit()
        return None
    _seen(session, case_session, now)
    return case_session.report_id


def purge_expired_sessions(session: Session, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Delete the web and code holders' sessions that sat idle or lived longer than a sign-in may (the worker's
    duty)."""
    now = now or clock.now()
    purged = {}
    for name, table in (("web_sessions", WebSession), ("case_sessions", CaseSession)):
        purged[name] = rows_changed(session.execute(delete(table).where(
            (col(table.last_seen_at) < now - timedelta(minutes=settings.session_idle_minutes))
            | (col(table.created_at) < now - timedelta(hours=settings.session_max_hours))
        ))) or 0
    return purged


# --- guards and object-level access ------------------------------------------------------------------------


def signed_in(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    if connection.user is None:
        raise NotAuthorizedException()


def role_guard(*roles: Role) -> Callable[[ASGIConnection, BaseRouteHandler], None]:
    """A Litestar guard that lets in only these roles."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        user = connection.user
        if user is None:
            raise NotAuthorizedException()
        if user.role not in allowed:
            raise PermissionDeniedException()

    guard.__name__ = "only_" + "_".join(sorted(allowed))
    return guard


supervisors_only = role_guard(Role.SUPERVISOR)
staff_only = role_guard(Role.COUNSELOR, Role.SUPERVISOR)


class Relation(StrEnum):
    OWNER = "owner"
    COLLEAGUE = "colleague"
    SUPERVISOR = "supervisor"
    STRANGER = "stranger"


def relation(user: User | None, *, owner_ids: set[int | None], team_district_id: int | None = None) -> Relation:
    """How `user` stands to an object owned by `owner_ids` and handled by the team of `team_district_id`."""
    if user is None or not user.active:
        return Relation.STRANGER
    if user.id in owner_ids:
        return Relation.OWNER
    if user.role == Role.SUPERVISOR:
        return Relation.SUPERVISOR
    if user.role == Role.COUNSELOR and team_district_id is not None and user.district_id == team_district_id:
        return Relation.COLLEAGUE
    return Relation.STRANGER
