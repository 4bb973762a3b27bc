"""Retention that runs itself (UU PDP Art. 43-44): the worker applies the schedule of server/dataprotection/rules.py
on each purge round and writes a destruction report per rule that removed anything: what kind of data, how many
rows, when, by which rule, never what they held. The same counts go to the audit log.

Applied here: push devices no longer seen, contact numbers after the case closed or the session passed, and
closed cases pseudonymised after the archive period (the names, contact and place typed in the report are
removed, the free text masked with server/privacy/masking.py: the child-protection record stays, without the
identities). The worker's older purges (sessions, rate limits, finished notifications) are reported here too.

A case counts as closed since its last change (`updated_at` of a report that is no longer open): a later change
only keeps it longer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col

from server import audit, clock
from server.appointments.models import Appointment, CallTask
from server.dataprotection import rules
from server.dataprotection.models import DestructionReport
from server.db import rows_changed
from server.i18n import lazy_gettext as _l
from server.notifications.models import PushSubscription
from server.privacy import masking
from server.reports.models import CaseEvent, Report

# What each kind is called on the supervisors' page (the row keeps the key).
KINDS = {
    "web_sessions": _l("Sesi masuk"),
    "case_sessions": _l("Sesi pemegang kode"),
    "rate_limit_counters": _l("Penghitung percobaan"),
    "attempt_throttles": _l("Percobaan masuk yang gagal"),
    "notification_jobs": _l("Pemberitahuan yang sudah selesai"),
    "push_subscriptions": _l("Perangkat push"),
    "report_contacts": _l("Nomor kontak di laporan"),
    "appointment_phones": _l("Nomor telepon janji temu"),
    "closed_cases": _l("Kasus tertutup (dipseudonimkan)"),
}
ACTIONS = {"deleted": _l("dihapus"), "cleared": _l("dikosongkan"), "pseudonymised": _l("dipseudonimkan")}
# The worker's own purges, by the name purge() gives them, and the rule each applies.
WORKER_PURGES = {
    "web_sessions": "sessions",
    "case_sessions": "sessions",
    "rate_limit_counters": "rate_limits",
    "attempt_throttles": "rate_limits",
    "notification_jobs": "notification_jobs",
}
# The fields of a report that name or locate people; blanked when a closed case is pseudonymised.
IDENTIFYING = ("student_name", "student_class", "where_detail", "others_involved", "consent_by", "contact_detail",
               "contact_safe_time")
FREE_TEXT = ("child_words", "how_learned", "consent_reason", "closed_reason")


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def _push_devices(session: Session, now: datetime) -> int:
    cutoff = now - timedelta(days=rules.days(session, "push_devices"))
    return rows_changed(session.execute(delete(PushSubscription).where(col(PushSubscription.last_seen_at) < cutoff)))


def _contact_numbers(session: Session, now: datetime) -> dict[str, int]:
    cutoff = now - timedelta(days=rules.days(session, "contact_numbers"))
    reports = rows_changed(session.execute(
        update(Report).where(col(Report.is_open).is_(False), col(Report.updated_at) < cutoff,
                             or_(col(Report.contact_detail) != "", col(Report.contact_safe_time) != ""))
        .values(contact_detail="", contact_safe_time="")))
    phones = rows_changed(session.execute(
        update(Appointment).where(col(Appointment.ends_at) < cutoff, col(Appointment.phone_number) != "")
        .values(phone_number="")))
    # The number a counselor was asked to call before a session (the reminder ladder's last resort) goes with it.
    phones += rows_changed(session.execute(
        update(CallTask).where(col(CallTask.appointment_id).in_(select(col(Appointment.id))
                                                                .where(col(Appointment.ends_at) < cutoff)),
                               col(CallTask.phone) != "")
        .values(phone="")))
    return {"report_contacts": reports, "appointment_phones": phones}


def _pseudonymise(session: Session, now: datetime) -> int:
    cutoff = now - timedelta(days=rules.days(session, "case"))
    done = 0
    closed = select(Report).where(col(Report.is_open).is_(False), col(Report.updated_at) < cutoff)
    for report in session.execute(closed).scalars():
        changed = False
        for name in IDENTIFYING:
            if getattr(report, name):
                setattr(report, name, "")
                changed = True
        for name in FREE_TEXT:
            text = getattr(report, name)
            masked = masking.mask(text) if text else text
            if masked != text:
                setattr(report, name, masked)
                changed = True
        for event in session.execute(select(CaseEvent).where(col(CaseEvent.report_id) == report.id,
                                                             col(CaseEvent.body) != "")).scalars():
            masked = masking.mask(event.body)
            if masked != event.body:
                event.body = masked
                session.add(event)
                changed = True
        if changed:
            session.add(report)
            done += 1
    return done


def apply(session: Session, purged_elsewhere: Mapping[str, int] | None = None,
          now: datetime | None = None) -> list[DestructionReport]:
    """Apply the schedule in the caller's transaction and write the destruction reports (one per kind that lost
    anything) with one audit entry naming the counts."""
    now = now or clock.now()
    work: list[tuple[str, str, str, int]] = [
        (WORKER_PURGES[kind], kind, "deleted", count) for kind, count in (purged_elsewhere or {}).items()
        if kind in WORKER_PURGES
    ]
    work.append(("push_devices", "push_subscriptions", "deleted", _push_devices(session, now)))
    work += [("contact_numbers", kind, "cleared", count) for kind, count in _contact_numbers(session, now).items()]
    work.append(("case", "closed_cases", "pseudonymised", _pseudonymise(session, now)))
    written = [DestructionReport(ran_at=now, rule=rule, kind=kind, action=action, count=count)
               for rule, kind, action, count in work if count]
    session.add_all(written)
    if written:
        audit.record(session, "dataprotection.retention_applied", actor_label="worker", object_type="retention",
                     counts={row.kind: row.count for row in written})
    return written


def reports(session: Session, limit: int = 300) -> list[DestructionReport]:
    return list(session.execute(select(DestructionReport).order_by(col(DestructionReport.ran_at).desc(),
                                                                   col(DestructionReport.id)).limit(limit)).scalars())
