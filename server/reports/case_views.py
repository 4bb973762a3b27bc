"""What each side reads of a case: the categories, the reporter's timeline, the staff's chronology, referrals,
and a reporter's own reports.

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from server.accounts.models import Child, User
from server.i18n import gettext as _
from server.models import AuditEntry
from server.reports.models import (
    CaseEvent,
    Referral,
    Report,
    ReportCategory,
)


def categories_of(session: Session, report_id: int) -> list[str]:
    return list(session.execute(
        select(col(ReportCategory.category)).where(col(ReportCategory.report_id) == report_id)
        .order_by(col(ReportCategory.category))
    ).scalars())


def reporter_timeline(session: Session, report: Report) -> list[CaseEvent]:
    """Messages both ways and nothing else: never notes, referrals or who handles the case."""
    return list(session.execute(
        select(CaseEvent).where(col(CaseEvent.report_id) == report.id, col(CaseEvent.visible_to_reporter))
        .order_by(col(CaseEvent.id))
    ).scalars())


@dataclass(frozen=True)
class ChronologyItem:
    at: datetime
    kind: str
    actor: str
    body: str = ""
    from_status: str = ""
    to_status: str = ""
    from_reporter: bool = False


def chronology(session: Session, report: Report) -> list[ChronologyItem]:
    """Everything that happened to the case, views included (from the audit log), oldest first."""
    names = dict(session.execute(select(col(User.id), col(User.display_name))).all())
    items = [
        ChronologyItem(e.at, e.kind, _("Pelapor") if e.from_reporter or (e.kind == "submitted")
                       else names.get(e.actor_id, _("Sistem")), e.body, e.from_status, e.to_status, e.from_reporter)
        for e in session.execute(
            select(CaseEvent).where(col(CaseEvent.report_id) == report.id).order_by(col(CaseEvent.id))
        ).scalars()
    ]
    views = session.execute(
        select(AuditEntry).where(col(AuditEntry.object_type) == "report", col(AuditEntry.object_id) == str(report.id),
                                 col(AuditEntry.action).like("report.viewed.%")).order_by(col(AuditEntry.id))
    ).scalars()
    items += [ChronologyItem(v.at, "viewed", names.get(v.actor_id, v.actor_label) if v.actor_id else _("Pelapor"))
              for v in views]
    return sorted(items, key=lambda item: item.at)


def referrals_of(session: Session, report_id: int) -> list[Referral]:
    return list(session.execute(
        select(Referral).where(col(Referral.report_id) == report_id).order_by(col(Referral.id))
    ).scalars())


def reports_by(session: Session, user: User) -> list[Report]:
    return list(session.execute(
        select(Report).where(col(Report.submitted_by_id) == user.id).order_by(col(Report.id).desc()).limit(100)
    ).scalars())


@dataclass(frozen=True)
class ReporterSummary:
    """What a reporter is shown of their own report: what they reported and about whom (the student a teacher
    named, or the parent's child), never what staff found or decided. Only on pages behind sign-in, never in a
    page title or a push."""

    report: Report
    categories: list[str]
    about_name: str = ""
    about_class: str = ""


def reporter_summaries(session: Session, reports: list[Report]) -> list[ReporterSummary]:
    ids = [r.id for r in reports]
    categories: dict[int, list[str]] = {i: [] for i in ids}
    for report_id, category in session.execute(
        select(col(ReportCategory.report_id), col(ReportCategory.category))
        .where(col(ReportCategory.report_id).in_(ids))
        .order_by(ReportCategory.category)
    ).all():
        categories[report_id].append(category)
    child_ids = {r.child_id for r in reports if r.child_id}
    nicknames = dict(session.execute(
        select(col(Child.id), col(Child.nickname)).where(col(Child.id).in_(child_ids))
    ).all()) if child_ids else {}
    return [
        ReporterSummary(report, categories[report.id],
                        about_name=report.student_name or nicknames.get(report.child_id or 0, ""),
                        about_class=report.student_class)
        for report in reports
    ]
