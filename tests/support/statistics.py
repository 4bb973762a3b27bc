"""Reports written straight into the database with known answers, so that the statistics can be checked
against numbers worked out by hand."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from server import process_cache
from server.reports.models import FAR_FUTURE, CaseService, Perpetrator, Report, ReportCategory
from server.statistics import service
from tests.support.reports import user_named

WITA_OFFSET = timedelta(hours=8)


def wita(*args: int) -> datetime:
    """A WITA wall-clock time, as the UTC moment the database keeps."""
    return datetime(*args, tzinfo=UTC) - WITA_OFFSET


def a_report(db: Session, *, created_at: datetime, categories: list[str], responded_after: float | None = None,
             perpetrators: tuple[str, ...] = (), services: tuple[str, ...] = (), **fields: Any) -> Report:
    report = Report(created_at=created_at, updated_at=created_at, code_hash=secrets.token_hex(32), pin_hash="x",
                    reporter_kind="child", urgency="sedang", urgency_rank=2,
                    first_response_due_at=created_at + timedelta(hours=72), next_due_at=FAR_FUTURE,
                    first_response_at=created_at + timedelta(hours=responded_after) if responded_after else None,
                    **fields)
    db.add(report)
    db.flush()
    db.add_all([ReportCategory(report_id=report.id, category=category) for category in categories])
    staff = user_named(db, "supervisor").id
    db.add_all([Perpetrator(report_id=report.id, created_by_id=staff, sex="laki_laki", age_band="25-44",
                            relationship=relationship) for relationship in perpetrators])
    db.add_all([CaseService(report_id=report.id, created_by_id=staff, kind=kind, given_on=created_at.date())
                for kind in services])
    db.commit()
    return report


YEAR = service.StatisticsFilter(service.Period(2026, None))


def numbers(db: Session, username: str = "supervisor", filters: service.StatisticsFilter = YEAR) -> service.Statistics:
    return service.statistics(db, user_named(db, username), filters)


def counted_from_nothing(db: Session, username: str = "supervisor") -> service.Statistics:
    process_cache.forget_all()
    return numbers(db, username)


def statements_of(db: Session, engine, action) -> list[str]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen
