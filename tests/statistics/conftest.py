"""A year of reports with known answers (tests/support/statistics.py writes them), so that the statistics can
be checked against numbers worked out by hand."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from server.reports.models import Report
from tests.support.reports import district_named
from tests.support.statistics import a_report, wita


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
