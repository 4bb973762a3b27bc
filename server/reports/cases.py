"""Handling a case: triage, assignment, the states it moves through, notes, the police and referrals.

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from server import clock
from server.accounts.models import District, Role, User
from server.i18n import gettext as _
from server.notifications import outbox
from server.reports import case_hooks
from server.reports.case_record import CaseError, audit_change, first_response, log_event, touch
from server.reports.deadlines import POLICE_DEADLINE, next_deadline
from server.reports.messages import notify_reporter
from server.reports.models import (
    OPEN_STATUSES,
    Category,
    Referral,
    Report,
    ReportCategory,
    Status,
    Urgency,
)
from server.reports.vocabulary import (
    AGENCY_KINDS,
    REFERRAL_STATUSES,
)

CASE_LIMITS = {"note": 5000, "reason": 1000, "agency_name": 120}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset({Status.TRIAGED, Status.ASSIGNED, Status.DUPLICATE, Status.OUT_OF_SCOPE,
                                 Status.UNFOUNDED}),
    Status.TRIAGED: frozenset({Status.ASSIGNED, Status.DUPLICATE, Status.OUT_OF_SCOPE, Status.UNFOUNDED}),
    Status.ASSIGNED: frozenset({Status.IN_PROGRESS, Status.REFERRED, Status.MONITORING, Status.CLOSED,
                                Status.DUPLICATE, Status.OUT_OF_SCOPE, Status.UNFOUNDED}),
    Status.IN_PROGRESS: frozenset({Status.REFERRED, Status.MONITORING, Status.CLOSED, Status.UNFOUNDED}),
    Status.REFERRED: frozenset({Status.IN_PROGRESS, Status.MONITORING, Status.CLOSED}),
    Status.MONITORING: frozenset({Status.IN_PROGRESS, Status.REFERRED, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.DUPLICATE: frozenset({Status.REOPENED}),
    Status.OUT_OF_SCOPE: frozenset({Status.REOPENED}),
    Status.UNFOUNDED: frozenset({Status.REOPENED}),
    Status.REOPENED: frozenset({Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS}),
}


NEEDS_REASON = frozenset({Status.CLOSED, Status.DUPLICATE, Status.OUT_OF_SCOPE, Status.UNFOUNDED, Status.REOPENED})


def triage(
    session: Session, report: Report, actor: User, *, urgency: str, categories: list[str], district_id: int | None,
    version: int | None, ip: str,
) -> None:
    if urgency not in set(Urgency):
        raise CaseError(_("Pilih tingkat urgensi."))
    if not categories or any(c not in set(Category) for c in categories):
        raise CaseError(_("Pilih setidaknya satu kategori."))
    if district_id is not None and session.get(District, district_id) is None:
        raise CaseError(_("Pilih kecamatan dari daftar."))
    touch(report, version)
    before = report.status
    report.urgency, report.urgency_rank = urgency, Urgency(urgency).rank
    report.district_id = district_id
    if report.assigned_to_id is None:
        report.team_district_id = district_id
    # Through the session, row by row, so that the statistics know which month's reports changed
    # (server/reports/freshness.py).
    kept = session.execute(select(ReportCategory).where(col(ReportCategory.report_id) == report.id)).scalars().all()
    for link in kept:
        if link.category not in categories:
            session.delete(link)
    had = {link.category for link in kept}
    session.add_all(ReportCategory(report_id=report.id, category=c) for c in dict.fromkeys(categories) if c not in had)
    if Category.SEXUAL in categories and report.police_due_at is None:
        report.police_due_at = report.created_at + POLICE_DEADLINE
    if report.status in (Status.SUBMITTED, Status.REOPENED):
        report.status = Status.TRIAGED
    first_response(report)
    report.next_due_at = next_deadline(report)
    log_event(session, report, actor, "triaged", from_status=before, to_status=report.status,
           body=", ".join([urgency, *categories]))
    audit_change(session, "report.triaged", report, actor, ip, urgency=urgency, categories=categories)


def assignable_counselors(session: Session) -> list[User]:
    return list(session.execute(
        select(User).where(col(User.active), col(User.role) == Role.COUNSELOR).order_by(col(User.display_name))
    ).scalars())


def assign(session: Session, report: Report, actor: User, *, counselor_id: int, version: int | None, ip: str) -> None:
    """Supervisors assign to any counselor; a counselor may take a case they can see for themselves."""
    counselor = session.get(User, counselor_id)
    if counselor is None or not counselor.active or counselor.role != Role.COUNSELOR:
        raise CaseError(_("Pilih konselor yang aktif."))
    if actor.role != Role.SUPERVISOR and counselor.id != actor.id:
        raise CaseError(_("Hanya supervisor yang dapat menugaskan kasus kepada konselor lain."))
    if report.status not in OPEN_STATUSES:
        raise CaseError(_("Kasus yang sudah selesai harus dibuka kembali dulu."))
    touch(report, version)
    before = report.status
    report.assigned_to_id = counselor.id
    report.team_district_id = counselor.district_id
    if report.status in (Status.SUBMITTED, Status.TRIAGED, Status.REOPENED):
        report.status = Status.ASSIGNED
    first_response(report)
    report.next_due_at = next_deadline(report)
    log_event(session, report, actor, "assigned", from_status=before, to_status=report.status,
           body=counselor.display_name)
    audit_change(session, "report.assigned", report, actor, ip, counselor_id=counselor.id)
    if counselor.id != actor.id:
        outbox.enqueue(session, "case_assigned", url=f"/kasus/{report.id}", topic=f"report-{report.id}-assigned",
                       user_ids=[counselor.id], urgency="high" if report.urgency == Urgency.EMERGENCY else "normal",
                       object_type="report", object_id=report.id)


def allowed_transitions(report: Report) -> list[Status]:
    return sorted(TRANSITIONS.get(Status(report.status), frozenset()), key=list(Status).index)


def _checked_change(session: Session, report: Report, *, to: str, reason: str, forwarded_to: str,
                    duplicate_of: int | None) -> tuple[Status, str]:
    """The state asked for and the reason given, once both are allowed from where the case is; CaseError if not."""
    try:
        target = Status(to)
    except ValueError as exc:
        raise CaseError(_("Pilih status dari daftar.")) from exc
    if target not in TRANSITIONS.get(Status(report.status), frozenset()):
        raise CaseError(_("Status ini tidak bisa dipilih dari status sekarang."))
    reason = reason.strip()
    if target in NEEDS_REASON and not reason:
        raise CaseError(_("Tulis alasannya: langkah ini perlu dicatat."))
    if len(reason) > CASE_LIMITS["reason"]:
        raise CaseError(_("Alasan terlalu panjang: paling banyak %(n)s huruf.", n=CASE_LIMITS["reason"]))
    if target == Status.OUT_OF_SCOPE and not forwarded_to.strip():
        raise CaseError(_("Tulis ke lembaga mana laporan ini diteruskan."))
    if target == Status.DUPLICATE:
        original = session.get(Report, duplicate_of or 0)
        if original is None or original.id == report.id:
            raise CaseError(_("Tulis nomor kasus asli yang sama dengan laporan ini."))
    if target in (Status.ASSIGNED, Status.IN_PROGRESS, Status.REFERRED, Status.MONITORING) and report.assigned_to_id is None:
        raise CaseError(_("Tugaskan kasus ini kepada konselor dulu."))
    return target, reason


def change_status(
    session: Session, report: Report, actor: User, *, to: str, reason: str = "", forwarded_to: str = "",
    duplicate_of: int | None = None, version: int | None, ip: str, check_in_plan: dict[str, Any] | None = None,
) -> None:
    """Move the case to another state. Closing is announced to the domains registered in `case_hooks` (aftercare
    starts the check-in plan chosen on the closing form, `check_in_plan`, its fields; the default plan when absent),
    after each has checked the form; opening again is announced too (aftercare stops what is left of the plan)."""
    target, reason = _checked_change(session, report, to=to, reason=reason, forwarded_to=forwarded_to,
                                     duplicate_of=duplicate_of)
    checked = case_hooks.check_close(session, report, check_in_plan) if target == Status.CLOSED else None
    touch(report, version)
    before = report.status
    report.status = target
    report.is_open = target in OPEN_STATUSES
    if target == Status.OUT_OF_SCOPE:
        report.forwarded_to = forwarded_to.strip()[:200]
    if target == Status.DUPLICATE:
        report.duplicate_of_id = duplicate_of
    if target in NEEDS_REASON:
        report.closed_reason = reason
    first_response(report)
    report.next_due_at = next_deadline(report)
    log_event(session, report, actor, "status", from_status=before, to_status=target, body=reason)
    audit_change(session, "report.status_changed", report, actor, ip, before=before, after=target)
    if checked is not None:
        case_hooks.announce_closed(session, report, actor, checked, ip=ip)
    elif target == Status.REOPENED:
        case_hooks.announce_reopened(session, report)
    notify_reporter(session, report, "case_status")


def add_note(session: Session, report: Report, actor: User, *, body: str, ip: str) -> None:
    body = body.strip()
    if not body:
        raise CaseError(_("Catatan masih kosong."))
    if len(body) > CASE_LIMITS["note"]:
        raise CaseError(_("Catatan terlalu panjang: paling banyak %(n)s huruf.", n=CASE_LIMITS["note"]))
    report.updated_at = clock.now()
    log_event(session, report, actor, "note", body=body)
    audit_change(session, "report.note_added", report, actor, ip)


def mark_police_reported(session: Session, report: Report, actor: User, *, version: int | None, ip: str) -> None:
    if report.police_due_at is None:
        raise CaseError(_("Kasus ini tidak memerlukan laporan ke polisi."))
    if report.police_reported_at is not None:
        # The first time is the evidence that the 3×24-hour deadline was met: it is never overwritten.
        raise CaseError(_("Sudah dicatat diteruskan ke polisi."))
    touch(report, version)
    report.police_reported_at = clock.now()
    report.next_due_at = next_deadline(report)
    log_event(session, report, actor, "police", body="")
    audit_change(session, "report.police_reported", report, actor, ip)


def add_referral(
    session: Session, report: Report, actor: User, *, agency_kind: str, agency_name: str, note: str, ip: str
) -> Referral:
    if agency_kind not in AGENCY_KINDS:
        raise CaseError(_("Pilih jenis lembaga rujukan."))
    agency_name = agency_name.strip()
    if not agency_name:
        raise CaseError(_("Tulis nama lembaga rujukan."))
    if len(agency_name) > CASE_LIMITS["agency_name"] or len(note) > 1000:
        raise CaseError(_("Isian terlalu panjang."))
    referral = Referral(report_id=report.id, created_by_id=actor.id, agency_kind=agency_kind,
                        agency_name=agency_name, note=note.strip())
    session.add(referral)
    session.flush()
    if agency_kind == "police" and report.police_due_at is not None and report.police_reported_at is None:
        report.police_reported_at = clock.now()
        report.next_due_at = next_deadline(report)
    report.updated_at = clock.now()
    log_event(session, report, actor, "referral", body=f"{agency_kind}: {agency_name}")
    audit_change(session, "report.referral_added", report, actor, ip, referral_id=referral.id, agency_kind=agency_kind)
    return referral


def update_referral(session: Session, report: Report, actor: User, *, referral_id: int, status: str, ip: str) -> None:
    referral = session.get(Referral, referral_id)
    if referral is None or referral.report_id != report.id:
        raise CaseError(_("Rujukan tidak ditemukan."))
    if status not in REFERRAL_STATUSES:
        raise CaseError(_("Pilih status rujukan."))
    before = referral.status
    referral.status, referral.updated_at = status, clock.now()
    report.updated_at = clock.now()
    log_event(session, report, actor, "referral", body=f"{referral.agency_name}: {before} → {status}")
    audit_change(session, "report.referral_updated", report, actor, ip, referral_id=referral.id, status=status)
