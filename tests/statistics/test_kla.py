"""/statistik/kla: the city's numbers for Klaster V of the Kota Layak Anak evaluation, with counts of 1-4
published as "<5", as a printable page and a CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from sqlmodel import Session

from server.accounts.models import User
from server.aftercare.models import CheckIn, CheckInPlan, SessionRating
from server.aftercare.service import check_ins_answered, check_ins_sent
from server.appointments.models import ServiceType
from server.reports import cases
from server.reports.models import CaseService, Report
from server.statistics.service import monitoring_done
from tests.support.reports import TEST_IP, audit_entries, fresh, set_state, user_named
from tests.support.statistics import a_report, wita


def counts(html: str) -> dict[str, str]:
    return {key: unescape(value) for key, value in re.findall(r'data-count="([^"]+)">([^<]*)<', html)}


@pytest.fixture
def a_year_of_cases(db):
    supervisor = user_named(db, "supervisor")
    reports = [a_report(db, created_at=wita(2026, 2, day, 10), categories=["physical"]) for day in range(1, 7)]
    reports.append(a_report(db, created_at=wita(2026, 3, 1, 10), categories=["sexual"]))
    reports.append(a_report(db, created_at=wita(2025, 3, 1, 10), categories=["sexual"]))
    for report in reports[:2]:
        with time_machine.travel(datetime(2026, 3, 5, tzinfo=UTC), tick=False):
            cases.add_referral(db, report, supervisor, agency_kind="police", agency_name="Polres Banjarbaru",
                                 note="", ip=TEST_IP)
    db.commit()
    for report in reports[:6]:
        db.add(CaseService(report_id=report.id, created_by_id=supervisor.id, kind="pengaduan",
                           given_on=datetime(2026, 2, 10).date()))
    db.commit()
    return reports


def test_the_pack_counts_the_year_and_hides_small_numbers(a_year_of_cases, as_user):
    response = as_user("supervisor").get("/statistik/kla?tahun=2026")
    assert response.status_code == 200
    shown = counts(response.text)
    assert shown["cases"] == "7"
    # Seven cases, six of them fisik: seksual "<5" alone would be 1, so the next-smallest (psikis, 0) is hidden too.
    assert (shown["form:fisik"], shown["form:seksual"], shown["form:psikis"], shown["form:lainnya"]) == (
        "6", "<5", "<5", "0")
    assert (shown["service:pengaduan"], shown["service:kesehatan"]) == ("6", "0")
    assert (shown["agency:police"], shown["outcome:sent"]) == ("<5", "<5")
    assert shown["monitoring"] == "0"
    assert "Bahan evaluasi KLA Klaster V, tahun 2026" in response.text


def test_the_csv_holds_the_same_published_numbers_and_is_audited(a_year_of_cases, db, as_user):
    response = as_user("supervisor").get("/statistik/kla.csv?tahun=2026")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = {(row["bagian"], row["uraian"]): row["jumlah"] for row in csv.DictReader(io.StringIO(response.text))}
    assert rows[("kasus", "jumlah")] == "7"
    assert rows[("bentuk_kekerasan", "seksual")] == "<5"
    assert rows[("bentuk_kekerasan", "fisik")] == "6"
    assert rows[("rujukan_lembaga", "police")] == "<5"
    assert rows[("pemantauan", "kasus_dipantau")] == "0"
    [entry] = audit_entries(db, "export.created")
    assert json.loads(entry.detail)["kind"] == "kla_csv"


def test_monitoring_done_counts_cases_that_reached_monitoring_in_the_period(a_year_of_cases, db):
    supervisor = user_named(db, "supervisor")
    report = set_state(db, a_year_of_cases[0].id, status="in_progress",
                       assigned_to_id=user_named(db, "konselor").id)
    with time_machine.travel(datetime(2026, 4, 1, tzinfo=UTC), tick=False):
        cases.change_status(db, fresh(db, report.id), supervisor, to="monitoring", reason="", forwarded_to="",
                              duplicate_of=None, version=None, ip=TEST_IP)
    db.commit()
    assert monitoring_done(db, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)) == 1
    assert monitoring_done(db, datetime(2026, 5, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)) == 0


@pytest.mark.parametrize(('username', 'expected'), [("konselor", 403), ("guru", 403), ("anak", 403)])
def test_the_pack_is_for_supervisors(username, expected, a_year_of_cases, db, as_user):
    client = as_user(username)
    assert client.get("/statistik/kla?tahun=2026").status_code == expected
    assert client.get("/statistik/kla.csv?tahun=2026").status_code == expected
    assert audit_entries(db, "export.created") == []


def test_signed_out_the_pack_sends_to_sign_in(make_client):
    response = make_client().get("/statistik/kla", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/statistik/kla"


def test_a_year_that_cannot_be_read_is_refused_next_to_the_field(as_user):
    response = as_user("supervisor").get("/statistik/kla?tahun=dua")
    assert response.status_code == 422
    assert "Tulis tahun dengan empat angka, misalnya 2026." in response.text


def _check_in(db: Session, report: Report, supervisor: User, *, due: datetime, answered: datetime | None,
              status: str) -> None:
    plan = CheckInPlan(report_id=report.id, created_by_id=supervisor.id, offsets="2w,1m")
    db.add(plan)
    db.flush()
    db.add(CheckIn(plan_id=plan.id, report_id=report.id, step="2w", due_at=due, retry_at=due + timedelta(days=3),
                   give_up_at=due + timedelta(days=6), status=status, answered_at=answered,
                   answer="baik" if answered else ""))


def test_the_pack_counts_check_ins_after_closing_and_the_childs_ratings(a_year_of_cases, db, as_user):
    supervisor = user_named(db, "supervisor")
    first, second, third = a_year_of_cases[:3]
    # Two check-ins sent in 2026, one answered (its case counts as monitored); one withdrawn; one of 2025.
    _check_in(db, first, supervisor, due=wita(2026, 6, 1, 9), answered=wita(2026, 6, 2, 9), status="answered")
    _check_in(db, second, supervisor, due=wita(2026, 6, 1, 9), answered=None, status="unanswered")
    _check_in(db, third, supervisor, due=wita(2026, 7, 1, 9), answered=None, status="cancelled")
    _check_in(db, third, supervisor, due=wita(2025, 7, 1, 9), answered=wita(2025, 7, 1, 10), status="answered")
    service_type = ServiceType(name="Konseling individu")
    db.add(service_type)
    db.flush()
    db.add_all([SessionRating(id=f"r{n}", month=month, service_type_id=service_type.id, face="baik", safe_to_talk=safe)
                for n, (month, safe) in enumerate([("2026-03", True)] * 5 + [("2026-04", False), ("2025-12", True)])])
    db.commit()

    assert monitoring_done(db, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)) == 1
    shown = counts(as_user("supervisor").get("/statistik/kla?tahun=2026").text)
    assert (shown["monitoring"], shown["check_ins_sent"], shown["check_ins_answered"]) == ("<5", "<5", "<5")
    # Six rated, five safe would say one was not: "safe to talk" is hidden as "5+".
    assert (shown["sessions_rated"], shown["sessions_safe"]) == ("6", "5+")
    rows = {(row["bagian"], row["uraian"]): row["jumlah"]
            for row in csv.DictReader(io.StringIO(as_user("supervisor").get("/statistik/kla.csv?tahun=2026").text))}
    assert rows[("suara_anak", "sesi_dinilai")] == "6"
    assert rows[("suara_anak", "aman_bercerita")] == "5+"
    assert rows[("pemantauan", "pesan_pemantauan_terkirim")] == "<5"
    # The numbers behind "<5": two sent (the withdrawn one never went out), one answered, one case monitored.
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    assert (check_ins_sent(db, start, end), check_ins_answered(db, start, end)) == (2, 1)
