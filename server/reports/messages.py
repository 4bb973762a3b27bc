"""Messages between the counselor and the reporter (by account or by code), each side with its own limit.

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from server import audit, clock, ratelimit
from server.accounts.models import User
from server.forms import (
    text_error,
)
from server.i18n import gettext as _
from server.notifications import outbox
from server.reports.access import on_duty_staff
from server.reports.case_record import CaseError, audit_change, first_response, log_event
from server.reports.deadlines import next_deadline
from server.reports.models import (
    Report,
)

MESSAGES_PER_CASE_PER_HOUR = 30
MESSAGE_LIMIT = 2000


def _check_message(session: Session, report: Report, body: str, side: str) -> str:
    """Each side has its own hourly limit, so a flood from one never stops the other from answering."""
    body = body.strip()
    if error := text_error(body, limit=MESSAGE_LIMIT, multiline=True, required=_("Pesan masih kosong."),
                           too_long=_("Pesan terlalu panjang: paling banyak %(n)s huruf.", n=MESSAGE_LIMIT)):
        raise CaseError(error)
    if ratelimit.hit(session, f"message:report:{report.id}:{side}", timedelta(hours=1)) > MESSAGES_PER_CASE_PER_HOUR:
        raise CaseError(_("Terlalu banyak pesan dalam satu jam. Coba lagi nanti."))
    return body


def notify_reporter(session: Session, report: Report, kind: str) -> None:
    """The reporter hears that something changed (never what): by account, or through the case code."""
    if report.submitted_by_id is not None:
        outbox.enqueue(session, kind, url=f"/laporan-saya/{report.id}", topic=f"report-{report.id}-reporter",
                       user_ids=[report.submitted_by_id], object_type="report", object_id=report.id)
    else:
        outbox.enqueue(session, kind, url="/cek/laporan", topic=f"report-{report.id}-reporter", report_id=report.id,
                       object_type="report", object_id=report.id)


def message_from_staff(session: Session, report: Report, actor: User, *, body: str, ip: str) -> None:
    body = _check_message(session, report, body, "staff")
    report.updated_at = clock.now()
    first_response(report)
    report.next_due_at = next_deadline(report)
    log_event(session, report, actor, "message", body=body, visible_to_reporter=True)
    audit_change(session, "report.message_sent", report, actor, ip)
    notify_reporter(session, report, "case_message")


def message_from_reporter(session: Session, report: Report, user: User | None, *, body: str, ip: str) -> None:
    body = _check_message(session, report, body, "reporter")
    report.updated_at = clock.now()
    log_event(session, report, user, "message", body=body, visible_to_reporter=True, from_reporter=True)
    audit.record(session, "report.message_received", actor_id=user.id if user else None,
                 actor_label=user.username if user else audit.CODE_HOLDER, object_type="report", object_id=report.id,
                 ip=ip)
    recipients = [report.assigned_to_id] if report.assigned_to_id else on_duty_staff(session, report)
    outbox.enqueue(session, "case_message", url=f"/kasus/{report.id}", topic=f"report-{report.id}-staff",
                   user_ids=recipients, object_type="report", object_id=report.id)
