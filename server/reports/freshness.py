"""Which months of reports have changed: a number per local month that grows with every committed change to a
report that came in that month, or to its categories, perpetrators or services.

The statistics of a year read every report of that year. Most of those months do not change any more, so the
statistics remember each month's counts per process under that month's number (server/statistics/service.py)
and count afresh only the months whose number has grown. The number is raised by the session itself, just
before it commits, whatever code made the change (a service, the worker, a test), in the same transaction: a
process that sees the change sees the new number.

A bulk UPDATE or DELETE on these tables names no reports; it raises month 0, which every month's key includes,
so that everything is counted afresh. The services change reports through the ORM, so this stays rare.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from server import clock
from server.reports.models import CaseService, Perpetrator, Report, ReportCategory, ReportMonthVersion

CHILD_MODELS = (ReportCategory, Perpetrator, CaseService)
UNKNOWN_MONTH = 0
MONTHS = "report_months_changed"
REPORTS = "report_ids_changed"


def month_of(moment: datetime) -> int:
    """The local month a moment falls in, as year × 100 + month (a report's month in the statistics)."""
    local = moment.astimezone(clock.LOCAL)
    return local.year * 100 + local.month


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _flush_context: Any, _instances: Any) -> None:
    months: set[int] = session.info.setdefault(MONTHS, set())
    report_ids: set[int] = session.info.setdefault(REPORTS, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Report):
            if instance.created_at is not None:
                months.add(month_of(instance.created_at))
        elif isinstance(instance, CHILD_MODELS) and instance.report_id is not None:
            report_ids.add(instance.report_id)


@event.listens_for(Session, "do_orm_execute")
def _note_statements(state: Any) -> None:
    if ((state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None
            and state.bind_mapper.class_ in (Report, *CHILD_MODELS)):
        state.session.info.setdefault(MONTHS, set()).add(UNKNOWN_MONTH)


@event.listens_for(Session, "before_commit")
def _raise_versions(session: Session) -> None:
    session.flush()  # what is still pending decides which months changed
    months: set[int] = session.info.pop(MONTHS, set())
    report_ids: set[int] = session.info.pop(REPORTS, set())
    if report_ids:
        created = session.execute(
            select(col(Report.created_at)).where(col(Report.id).in_(sorted(report_ids)))).scalars()
        months.update(month_of(moment) for moment in created)
    if not months:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # In month order, so that two transactions raising the same months lock their rows in the same order.
    for month in sorted(months):
        statement = insert(ReportMonthVersion).values(month=month, n=1)
        session.execute(statement.on_conflict_do_update(
            index_elements=[col(ReportMonthVersion.month)], set_={"n": col(ReportMonthVersion.n) + 1}))


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(MONTHS, None)
    session.info.pop(REPORTS, None)


def versions(session: Session, months: list[int]) -> dict[int, int]:
    """The number of each month (0 for a month nothing has changed in since the table was made) and of month 0."""
    wanted = [UNKNOWN_MONTH, *months]
    found = dict(session.execute(
        select(col(ReportMonthVersion.month), col(ReportMonthVersion.n))
        .where(col(ReportMonthVersion.month).in_(wanted))).all())
    return {month: int(found.get(month, 0)) for month in wanted}
