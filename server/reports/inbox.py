"""The counselors' inbox: the cases a person may handle, by urgency then nearest deadline, keyset-paginated.

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from server.accounts.models import Role, User
from server.forms import (
    MAX_ID,
)
from server.reports.models import (
    FAR_FUTURE,
    Category,
    Report,
    ReportCategory,
    Status,
)

INBOX_PAGE_SIZE = 25


@dataclass
class InboxFilter:
    status: str = "open"
    category: str = ""
    district_id: int | None = None
    school_id: int | None = None
    mine: bool = False
    after: str = ""  # keyset cursor: "rank.due_epoch.id"


@dataclass
class InboxPage:
    reports: list[Report]
    next_cursor: str | None
    categories: dict[int, list[str]]


def _cursor(report: Report) -> str:
    return f"{report.urgency_rank}.{int(report.next_due_at.timestamp())}.{report.id}"


class CursorOutOfRange(ValueError):
    """A cursor of numbers no inbox page can have (the route answers "not found")."""


def _parse_cursor(after: str) -> tuple[int, datetime, int]:
    """(rank, due, last id) of a cursor; one not made by us starts from the top, one out of range is refused."""
    try:
        rank, due_epoch, last_id = (int(part) for part in after.split("."))
    except ValueError:
        return -1, FAR_FUTURE, 0
    if not (-MAX_ID <= rank <= MAX_ID and 0 <= due_epoch <= int(FAR_FUTURE.timestamp()) and 0 <= last_id <= MAX_ID):
        raise CursorOutOfRange(after)
    return rank, datetime.fromtimestamp(due_epoch, UTC), last_id


def inbox(session: Session, user: User, filters: InboxFilter) -> InboxPage:
    """Open cases first by urgency, then by the nearest deadline, then oldest; keyset-paginated so the page costs
    the same with 100 or 100,000 reports. Only cases the person may handle are listed."""
    due = col(Report.next_due_at)
    query = select(Report)
    if user.role == Role.COUNSELOR:
        query = query.where(or_(
            col(Report.assigned_to_id) == user.id,
            col(Report.team_district_id) == user.district_id,
            and_(col(Report.team_district_id).is_(None), col(Report.assigned_to_id).is_(None)),
        ))
    if filters.status == "open":
        query = query.where(col(Report.is_open))
    elif filters.status == "finished":
        query = query.where(~col(Report.is_open))
    elif filters.status in set(Status):
        query = query.where(col(Report.status) == filters.status)
    if filters.category in set(Category):
        query = query.where(col(Report.id).in_(
            select(col(ReportCategory.report_id)).where(col(ReportCategory.category) == filters.category)
        ))
    if filters.district_id:
        query = query.where(col(Report.district_id) == filters.district_id)
    if filters.school_id:
        query = query.where(col(Report.school_id) == filters.school_id)
    if filters.mine:
        query = query.where(col(Report.assigned_to_id) == user.id)
    if filters.after:
        rank, last_due, last_id = _parse_cursor(filters.after)
        query = query.where(or_(
            col(Report.urgency_rank) > rank,
            and_(col(Report.urgency_rank) == rank, due > last_due),
            and_(col(Report.urgency_rank) == rank, due == last_due, col(Report.id) > last_id),
        ))
    rows = list(session.execute(
        query.order_by(col(Report.urgency_rank), due, col(Report.id)).limit(INBOX_PAGE_SIZE + 1)
    ).scalars())
    more = len(rows) > INBOX_PAGE_SIZE
    rows = rows[:INBOX_PAGE_SIZE]
    categories: dict[int, list[str]] = {r.id: [] for r in rows}
    for report_id, category in session.execute(
        select(col(ReportCategory.report_id), col(ReportCategory.category))
        .where(col(ReportCategory.report_id).in_(list(categories)))
    ).all():
        categories[report_id].append(category)
    return InboxPage(rows, _cursor(rows[-1]) if more else None, categories)
