"""Reports written straight into the database with known answers, so that the statistics can be checked
against numbers worked out by hand."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from server.reports.models import FAR_FUTURE, CaseService, Perpetrator, Report, ReportCategory
from tests.reports.conftest import district_named, user_named

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


@pytest.fixture
def known_year(db: Session) -> dict[str, Report]:
    """Five cases of 2026 (three of the Utara team, one of Cempaka, one of no team yet) and one of 2025."""
    utara, cempaka = district_named(db, "Banjarbaru Utara").id, district_named(db, "Cempaka").id
    return {
        "r1": a_report(db, created_at=wita(2026, 3, 10, 9), categories=["physical", "bullying"], child_age=4,
                       child_gender="girl", happened_where="home", in_household=True, responded_after=10,
                       perpetrators=("orang_tua",), services=("kesehatan",), district_id=utara,
                       team_district_id=utara),
        # 23.30 WITA on 31 March is still March where the service works (15.30 UTC).
        "r2": a_report(db, created_at=wita(2026, 3, 31, 23, 30), categories=["psychological", "bullying"],
                       child_age=13, child_gender="boy", happened_where="school", responded_after=30,
                       perpetrators=("teman", "guru"), district_id=utara, team_district_id=utara),
        # 00.30 WITA on 1 April is April, though it is still 31 March in UTC.
        "r3": a_report(db, created_at=wita(2026, 4, 1, 0, 30), categories=["sexual"], child_age=16,
                       child_gender="girl", happened_where="online", responded_after=100,
                       services=("bantuan_hukum", "pengaduan"), district_id=utara, team_district_id=utara),
        "r4": a_report(db, created_at=wita(2026, 5, 5, 10), categories=["neglect"], happened_where="public",
                       district_id=cempaka, team_district_id=cempaka),
        "r5": a_report(db, created_at=wita(2025, 12, 31, 10), categories=["physical"], district_id=utara,
                       team_district_id=utara, responded_after=1),
        "r6": a_report(db, created_at=wita(2026, 6, 1, 10), categories=["mental_health"]),
    }
