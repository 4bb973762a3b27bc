"""The retention schedule runs itself: the worker clears contact numbers after the case closed, deletes push
devices no longer seen, pseudonymises closed cases after the archive period, and writes destruction reports
(kind, count, rule; never content) that supervisors see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server import clock, worker
from server.appointments.models import Appointment, CallTask
from server.dataprotection.models import DestructionReport
from server.models import AuditEntry, ServiceSetting
from server.notifications.models import PushSubscription
from server.reports.models import Report
from tests.support.appointments import appointment_for, counseling
from tests.support.dataprotection import NOT_SUPERVISORS, user_named
from tests.support.reports import ADULT_EXTRA, make_report

STUDENT = "Rahmat Hidayat"
WORDS = "Pak Darto memukul Rahmat di belakang sekolah, nomor HP ibunya 081234567890."


def _closed_report(app, db):
    report = make_report(app, db, user=user_named(db, "guru"), reporter_kind="teacher", student_name=STUDENT,
                         student_class="7B", contact_method="phone", contact_detail="081298765432",
                         child_words=WORDS, **ADULT_EXTRA).report
    report.is_open, report.status = False, "closed"
    db.add(report)
    db.commit()
    return report


def _reports(db) -> list[DestructionReport]:
    db.expire_all()
    return list(db.execute(select(DestructionReport).order_by(DestructionReport.id)).scalars())


def test_contact_numbers_are_cleared_after_the_period_and_reported(app, db, settings, pinned_clock):
    report = _closed_report(app, db)
    worker.purge(app.state.engine, settings)
    db.expire_all()
    assert db.get(Report, report.id).contact_detail == "+6281298765432"
    pinned_clock.shift(timedelta(days=91))
    worker.purge(app.state.engine, settings)
    db.expire_all()
    kept = db.get(Report, report.id)
    assert kept.contact_detail == ""
    assert kept.student_name == STUDENT
    row = next(row for row in _reports(db) if row.kind == "report_contacts")
    assert (row.rule, row.action, row.count, row.ran_at) == ("contact_numbers", "cleared", 1, clock.now())
    entry = db.execute(select(AuditEntry).where(AuditEntry.action == "dataprotection.retention_applied")
                       .order_by(AuditEntry.id.desc())).scalars().first()
    assert '"report_contacts": 1' in entry.detail
    assert "0812" not in entry.detail


def test_the_number_a_counselor_was_asked_to_call_goes_with_the_sessions_number(app, db, settings, pinned_clock):
    appointment = appointment_for(db, counseling(db), confirmed=True)
    db.add(CallTask(appointment_id=appointment.id, counselor_id=appointment.counselor_id, phone="+6281298765432"))
    db.commit()
    pinned_clock.shift(timedelta(days=80))
    worker.purge(app.state.engine, settings)
    db.expire_all()
    assert db.execute(select(CallTask.phone)).scalar_one() == "+6281298765432"
    pinned_clock.shift(timedelta(days=30))
    worker.purge(app.state.engine, settings)
    db.expire_all()
    assert db.execute(select(CallTask.phone)).scalar_one() == ""
    assert db.get(Appointment, appointment.id) is not None
    row = next(row for row in _reports(db) if row.kind == "appointment_phones")
    assert (row.rule, row.action) == ("contact_numbers", "cleared")


def test_a_supervisor_shortens_the_period_within_its_limits(app, db, settings, pinned_clock):
    report = _closed_report(app, db)
    db.add(ServiceSetting(key="retensi.contact_numbers", value="14"))
    db.commit()
    pinned_clock.shift(timedelta(days=15))
    worker.purge(app.state.engine, settings)
    db.expire_all()
    assert db.get(Report, report.id).contact_detail == ""


def test_closed_cases_are_pseudonymised_after_the_archive_period(app, db, settings, pinned_clock):
    report = _closed_report(app, db)
    pinned_clock.shift(timedelta(days=1826))
    worker.purge(app.state.engine, settings)
    db.expire_all()
    kept = db.get(Report, report.id)
    assert kept is not None
    assert kept.student_name == ""
    assert kept.student_class == ""
    assert "Darto" not in kept.child_words
    assert "081234567890" not in kept.child_words
    assert "[NAMA]" in kept.child_words
    assert any(row.kind == "closed_cases" and row.count == 1 for row in _reports(db))
    before = len(_reports(db))
    worker.purge(app.state.engine, settings)  # nothing left to do: nothing reported
    assert len(_reports(db)) == before


def test_push_devices_no_longer_seen_are_deleted(app, db, settings, pinned_clock):
    db.add(PushSubscription(endpoint="https://push.example/old", p256dh="k", auth="a",
                            user_id=user_named(db, "orangtua").id))
    db.commit()
    pinned_clock.shift(timedelta(days=181))
    worker.purge(app.state.engine, settings)
    db.expire_all()
    assert db.execute(select(PushSubscription)).first() is None
    assert any(row.kind == "push_subscriptions" and row.count == 1 for row in _reports(db))


def test_supervisors_see_the_destruction_reports(app, as_user, db, settings, pinned_clock):
    _closed_report(app, db)
    pinned_clock.shift(timedelta(days=91))
    worker.purge(app.state.engine, settings)
    page = as_user("supervisor").get("/perlindungan-data/pemusnahan")
    assert page.status_code == 200
    assert 'data-kind="report_contacts"' in page.text
    assert "Nomor kontak di laporan" in page.text
    assert "0812" not in page.text
    assert STUDENT not in page.text


@pytest.mark.parametrize("who", NOT_SUPERVISORS)
def test_nobody_else_sees_them(as_user, who):
    assert as_user(who).get("/perlindungan-data/pemusnahan").status_code == 403
