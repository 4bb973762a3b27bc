"""Who may see a case: staff by their relation to it, the reporter by account, the code holder by code and PIN
(with the waits that keep guessers out); the audit entry for each view; who hears of an emergency.

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from server import audit, clock, ratelimit, telemetry
from server.accounts import auth
from server.accounts.models import Role, User
from server.accounts.visitor import Visitor
from server.i18n import gettext as _
from server.reports.codes import code_hash, normalise_code
from server.reports.models import (
    Report,
)
from server.settings import Settings

# Refused attempts (inside a wait) are audited once per key and window, not once each.
LIMITED_AUDIT_WINDOW = timedelta(minutes=15)


CODE_ATTEMPTS_PER_CODE = 5


CODE_ATTEMPTS_PER_ADDRESS = 20


# Wrong PINs slow the next attempt down rather than lock the code, so a person who knows a child's code cannot
# lock the child out of their own report: after the free attempts each wait doubles from 30 s up to 15
# minutes, which still leaves a million PINs out of reach (fewer than a hundred guesses a day per code).
CODE_BACKOFF = ratelimit.Backoff(CODE_ATTEMPTS_PER_CODE, 30, 15 * 60, timedelta(hours=24))


CODE_ADDRESS_BACKOFF = ratelimit.Backoff(CODE_ATTEMPTS_PER_ADDRESS, 30, 15 * 60, timedelta(hours=24))


# Counted per code and client (an address, or a phone that opened the report before), never per code alone; once
# 20 different unknown clients have failed at one code, each unknown client gets one guess per 15 minutes.
CODE_GUESSES = ratelimit.Guesses(CODE_BACKOFF, CODE_ADDRESS_BACKOFF, crowded=CODE_ATTEMPTS_PER_ADDRESS)


def on_duty_staff(session: Session, report: Report) -> list[int]:
    """Who hears of an emergency at once: the counselors of the report's district team (every counselor when the
    district is unknown) and the supervisors. A duty roster can narrow this once availability exists."""
    counselors = select(col(User.id)).where(col(User.active), col(User.role) == Role.COUNSELOR)
    if report.team_district_id is not None:
        counselors = counselors.where(col(User.district_id) == report.team_district_id)
    supervisors = select(col(User.id)).where(col(User.active), col(User.role) == Role.SUPERVISOR)
    return list(session.execute(counselors).scalars()) + list(session.execute(supervisors).scalars())


def staff_relation(user: User | None, report: Report) -> auth.Relation:
    """Counselors see the cases assigned to them and their district team's; a report with no district yet is
    every counselor's to triage, so that nothing waits unseen. Supervisors see all."""
    if user is None or user.role not in (Role.COUNSELOR, Role.SUPERVISOR):
        return auth.Relation.STRANGER
    if report.team_district_id is None and report.assigned_to_id is None and user.role == Role.COUNSELOR:
        return auth.Relation.COLLEAGUE if user.active else auth.Relation.STRANGER
    return auth.relation(user, owner_ids={report.assigned_to_id}, team_district_id=report.team_district_id)


def can_handle(user: User | None, report: Report) -> bool:
    return staff_relation(user, report) != auth.Relation.STRANGER


def is_reporter(user: User | None, report: Report) -> bool:
    return user is not None and user.active and report.submitted_by_id == user.id


def record_view(session: Session, report: Report, *, user: User | None, ip: str, as_: str) -> None:
    audit.record(session, f"report.viewed.{as_}", actor_id=user.id if user else None,
                 actor_label=user.username if user else audit.CODE_HOLDER, object_type="report", object_id=report.id,
                 ip=ip)


def open_with_code(
    session: Session, settings: Settings, *, code: str, pin: str, ip: str, device_cookie: str | None = None,
    now: datetime | None = None,
) -> tuple[Report | None, str | None, bool, str | None]:
    """(report, error, limited, the browser's device cookie once it got in). A wrong code and a wrong PIN get
    the same words, and both count; an attempt inside the wait is answered without checking the PIN and does
    not count. The wait belongs to the guesser (this address, or this phone if it opened the report before),
    so whoever knows a child's code can never keep the child out (ratelimit.Guesses)."""
    now = now or clock.now()
    normal = normalise_code(code)
    secret = f"code:{code_hash(normal)}"
    device = ratelimit.known_device(device_cookie, secret=secret, secret_key=settings.secret_key)
    who = ratelimit.Guesser(secret=secret, address_key=f"code:address:{ip}", ip=ip, device=device)
    if wait := ratelimit.guess_wait(session, who, now):
        # A flood of attempts inside the waits is one audit entry per code and client each quarter hour.
        if ratelimit.first_refusal_of(session, who, LIMITED_AUDIT_WINDOW, now):
            audit.record(session, "report.code_limited", ip=ip)
        session.commit()
        message = _("Terlalu banyak percobaan. Demi keamanan, coba lagi dalam %(seconds)s detik.", seconds=wait)
        return None, message, True, None
    report = session.execute(select(Report).where(col(Report.code_hash) == code_hash(normal))).scalar_one_or_none()
    if not auth.verify_password(report.pin_hash if report else None, pin.strip()) or report is None:
        ratelimit.guess_failed(session, who, CODE_GUESSES, now)
        telemetry.sign_in_failed("report_code")
        audit.record(session, "report.code_failed", ip=ip)
        session.commit()
        return None, _("Kode laporan atau PIN tidak cocok. Periksa lagi lalu coba sekali lagi."), False, None
    ratelimit.guess_succeeded(session, who)
    return report, None, False, ratelimit.remember_device(device_cookie, secret=secret,
                                                          secret_key=settings.secret_key)


def case_report(session: Session, visitor: Visitor) -> Report | None:
    """The report whose code and PIN this visitor's browser proved (server/accounts/visitor.py), if any."""
    return session.get(Report, visitor.case_report_id) if visitor.case_report_id is not None else None
