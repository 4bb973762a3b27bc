"""A case's deadlines: the first follow-up in working days, the police within 3×24 hours; the nearest one kept
on the report for the inbox's order.

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from server import clock
from server.i18n import gettext as _
from server.reports.models import (
    FAR_FUTURE,
    OPEN_STATUSES,
    Report,
    Urgency,
)
from server.workdays import years_without_holidays

POLICE_DEADLINE = timedelta(hours=72)


FIRST_FOLLOW_UP_WORKING_DAYS = 3


def next_deadline(report: Report) -> datetime:
    """The nearest deadline not met yet, for ordering the inbox; FAR_FUTURE when none is pending."""
    if report.status not in OPEN_STATUSES:
        return FAR_FUTURE
    pending = []
    if report.first_response_at is None:
        pending.append(report.first_response_due_at)
    if report.police_due_at is not None and report.police_reported_at is None:
        pending.append(report.police_due_at)
    return min(pending) if pending else FAR_FUTURE


def past_deadline_count(session: Session, now: datetime | None = None) -> int:
    """Open cases with a deadline not met and already passed (the service's health page and metrics): one count
    off the inbox's index, since `next_deadline` keeps the nearest unmet deadline on every open case."""
    now = now or clock.now()
    return session.execute(
        select(func.count()).select_from(Report).where(col(Report.is_open).is_(True), col(Report.next_due_at) < now)
    ).scalar_one()


@dataclass(frozen=True)
class Deadline:
    label: str
    due_at: datetime
    overdue: bool
    # Years the working days were counted over with no public holidays entered: the date may be too early.
    years_without_holidays: tuple[int, ...] = ()


def deadlines(report: Report, now: datetime | None = None, *, session: Session | None = None) -> list[Deadline]:
    """The deadlines not met yet. Given a session, a working-day deadline also says over which years it was
    counted without holidays."""
    now = now or clock.now()
    items = []
    if report.status in OPEN_STATUSES and report.first_response_at is None:
        label = _("Tanggapi segera") if report.urgency == Urgency.EMERGENCY else _("Tindak lanjut pertama")
        unsure = () if session is None or report.urgency == Urgency.EMERGENCY else tuple(
            years_without_holidays(session, report.created_at, report.first_response_due_at))
        items.append(Deadline(label, report.first_response_due_at, now > report.first_response_due_at, unsure))
    if report.status in OPEN_STATUSES and report.police_due_at is not None and report.police_reported_at is None:
        items.append(Deadline(_("Teruskan ke polisi (3×24 jam)"), report.police_due_at, now > report.police_due_at))
    return items
