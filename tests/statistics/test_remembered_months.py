"""A year's statistics are added up from months remembered per process (server/statistics/service.py), and a
month is counted again exactly when one of its reports has changed (server/reports/freshness.py): whichever way it
changed, the page shows the same numbers as a count from nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server.reports import cases, simfoni_data
from server.reports.models import CaseService, Perpetrator, Report, ReportMonthVersion
from server.statistics import service
from tests.support.reports import district_named, user_named
from tests.support.statistics import YEAR, a_report, counted_from_nothing, numbers, statements_of, wita

pytestmark = pytest.mark.both_databases


def test_an_unchanged_year_is_read_from_the_month_numbers_alone(known_year, db, engine):
    first = numbers(db)
    supervisor = user_named(db, "supervisor")
    again = statements_of(db, engine, lambda: service.statistics(db, supervisor, YEAR))
    assert numbers(db) == first
    # The months' numbers and the kecamatan names: nothing is counted.
    assert len(again) == 2
    assert not any("GROUP BY" in statement for statement in again)


def test_a_change_counts_only_its_own_month_again(known_year, db, engine):
    numbers(db)
    a_report(db, created_at=wita(2026, 2, 3, 10), categories=["physical"])
    supervisor = user_named(db, "supervisor")
    recount = statements_of(db, engine, lambda: service.statistics(db, supervisor, YEAR))
    february = [s for s in recount if "GROUP BY" in s]
    # One month's counts (reports by five dimensions, perpetrators, forms, services), not twelve months' worth.
    assert len(february) == 4
    assert numbers(db).by_month[1] == (2, 1)


def test_a_new_report_shows_at_once(known_year, db):
    before = numbers(db)
    a_report(db, created_at=wita(2026, 3, 15, 9), categories=["sexual"], child_age=9, child_gender="girl",
             perpetrators=("tetangga",), services=("rehabilitasi_sosial",), responded_after=2)
    after = numbers(db)
    assert after.cases == before.cases + 1
    assert dict(after.by_month)[3] == dict(before.by_month)[3] + 1
    assert after == counted_from_nothing(db)


def test_triage_that_changes_categories_and_kecamatan_shows_at_once(known_year, db):
    before = numbers(db)
    supervisor = user_named(db, "supervisor")
    report = db.get(Report, known_year["r4"].id)
    cases.triage(db, report, supervisor, urgency="tinggi", categories=["sexual", "trafficking"],
                   district_id=district_named(db, "Banjarbaru Selatan").id, version=None, ip="")
    db.commit()
    after = numbers(db)
    assert dict(after.by_form)["penelantaran"] == dict(before.by_form)["penelantaran"] - 1
    assert dict(after.by_form)["seksual"] == dict(before.by_form)["seksual"] + 1
    assert dict(after.by_district)["Banjarbaru Selatan"] == dict(before.by_district)["Banjarbaru Selatan"] + 1
    # Triage is a first follow-up too.
    assert after.median_hours_to_first_response != before.median_hours_to_first_response
    assert after == counted_from_nothing(db)


def test_perpetrators_and_services_added_and_removed_show_at_once(known_year, db):
    before = numbers(db)
    supervisor = user_named(db, "supervisor")
    report = db.get(Report, known_year["r4"].id)
    simfoni_data.add_perpetrator(db, report, supervisor, sex="perempuan", age_band="25-44", relationship="orang_tua",
                            ip="")
    simfoni_data.add_service(db, report, supervisor, kind="kesehatan", given_on="2026-05-06", given_by="", note="",
                        ip="")
    db.commit()
    added = numbers(db)
    assert added.perpetrators == before.perpetrators + 1
    assert dict(added.by_service)["kesehatan"] == dict(before.by_service)["kesehatan"] + 1
    assert added == counted_from_nothing(db)

    perpetrator = db.execute(select(Perpetrator).where(Perpetrator.report_id == report.id)).scalar_one()
    given = db.execute(select(CaseService).where(CaseService.report_id == report.id)).scalar_one()
    simfoni_data.remove_perpetrator(db, report, supervisor, perpetrator_id=perpetrator.id, ip="")
    simfoni_data.remove_service(db, report, supervisor, service_id=given.id, ip="")
    db.commit()
    assert numbers(db) == before == counted_from_nothing(db)


def test_a_bulk_statement_counts_every_month_again(known_year, db):
    before = numbers(db)
    db.execute(update(Report).values(child_gender="boy"))
    db.commit()
    after = numbers(db)
    assert dict(after.by_sex)["laki_laki"] == before.cases
    assert after == counted_from_nothing(db)


def test_a_change_rolled_back_raises_no_month(known_year, db):
    numbers(db)
    counted = dict(db.execute(select(ReportMonthVersion.month, ReportMonthVersion.n)).all())
    report = db.get(Report, known_year["r1"].id)
    report.child_gender = "boy"
    db.flush()
    db.rollback()
    assert dict(db.execute(select(ReportMonthVersion.month, ReportMonthVersion.n)).all()) == counted


def test_each_team_and_kecamatan_has_its_own_months(known_year, db):
    supervisor_first = numbers(db)
    counselor = numbers(db, "konselor")
    utara = service.StatisticsFilter(service.Period(2026, None), district_named(db, "Banjarbaru Utara").id)
    only_utara = numbers(db, filters=utara)
    assert (supervisor_first.cases, counselor.cases, only_utara.cases) == (5, 3, 3)
    assert numbers(db) == supervisor_first


def test_deadlines_fall_due_as_time_passes_without_any_change(known_year, db, pinned_clock):
    pinned_clock.move_to(wita(2026, 6, 1, 12))
    before = numbers(db)
    # r6 (1 June, 10.00 WITA) waits for its first follow-up; its deadline is 72 hours on.
    pinned_clock.move_to(wita(2026, 6, 1, 10) + timedelta(hours=72, minutes=1))
    after = numbers(db)
    assert after.deadlines_due == before.deadlines_due + 1
    assert after.deadlines_met == before.deadlines_met
    assert after == counted_from_nothing(db)
