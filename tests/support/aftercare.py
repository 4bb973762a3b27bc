"""Helpers for the after-care tests: a case closed with a check-in plan, the code holder of it, and reading back
its check-ins and their notification jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select
from sqlmodel import Session

from server.aftercare.models import (
    CheckIn,
    CheckInPlan,
)
from server.appointments import service as appointments
from server.notifications.models import NotificationJob
from server.reports import cases, codes
from server.reports.models import Report
from tests.support.appointments import appointment_for, counseling, person, report_with_code
from tests.support.appointments import fresh as fresh_appointment
from tests.support.reports import TEST_IP, fresh, user_named
from tests.support.web import post_form


def close(db: Session, report_id: int, plan: dict[str, Any] | None = None) -> Report:
    """Assign the case to konselor and close it through the service, with the closing form's plan fields."""
    report = fresh(db, report_id)
    konselor = user_named(db, "konselor")
    if report.assigned_to_id is None:
        cases.assign(db, report, konselor, counselor_id=konselor.id, version=None, ip=TEST_IP)
    cases.change_status(db, report, konselor, to="closed", reason="Anak sudah merasa aman.", version=None,
                          ip=TEST_IP, check_in_plan=plan)
    db.commit()
    return report


def open_with_code(client: TestClient, code: str, pin: str) -> None:
    """Code and PIN at /cek: a case session lasts hours, a check-in comes weeks later, so it is opened again."""
    response = post_form(client, "/cek", {"code": code, "pin": pin}, token_from="/cek", follow_redirects=False)
    assert response.status_code == 303, response.text


@dataclass
class ClosedCase:
    report_id: int
    code: str
    pin: str


def closed_case_with_code(client: TestClient, db: Session, plan: dict[str, Any] | None = None) -> ClosedCase:
    """A new anonymous case sent through /lapor by `client`, which konselor then closes."""
    code, pin = report_with_code(client)
    db.expire_all()
    report_id = db.execute(select(Report.id).where(Report.code_hash == codes.code_hash(code))).scalar_one()
    close(db, report_id, plan)
    return ClosedCase(report_id, code, pin)


def check_ins(db: Session, report_id: int) -> list[CheckIn]:
    db.expire_all()
    return list(db.execute(select(CheckIn).where(CheckIn.report_id == report_id).order_by(CheckIn.id)).scalars())


def plans(db: Session, report_id: int) -> list[CheckInPlan]:
    db.expire_all()
    return list(db.execute(select(CheckInPlan).where(CheckInPlan.report_id == report_id)).scalars())


def check_in_jobs(db: Session, check_in_id: int) -> list[NotificationJob]:
    db.expire_all()
    return list(db.execute(select(NotificationJob).where(
        NotificationJob.object_type == "check_in", NotificationJob.object_id == check_in_id)
        .order_by(NotificationJob.due_at)).scalars())


def all_check_in_jobs(db: Session) -> list[NotificationJob]:
    db.expire_all()
    return list(db.execute(select(NotificationJob).where(NotificationJob.kind == "check_in")).scalars())


def invites(db, appointment_id: int) -> list[NotificationJob]:
    db.expire_all()
    return list(db.execute(select(NotificationJob).where(
        NotificationJob.kind == "rating_invite", NotificationJob.object_id == appointment_id)).scalars())


def attend(db, appointment) -> None:
    appointments.record_attendance(db, appointment, person(db, "konselor"), attended=True,
                                   version=fresh_appointment(db, appointment.id).version)
    db.commit()


def answer(client, check_in_id: int, data: dict):
    return post_form(client, f"/pemantauan/{check_in_id}", data, token_from="/", follow_redirects=False)


def due_check_in(client, db, pinned_clock, plan=None):
    """A closed case whose first check-in has come due; `client` holds its code and has just opened it again."""
    case = closed_case_with_code(client, db, plan)
    first = check_ins(db, case.report_id)[0]
    pinned_clock.move_to(first.due_at)
    open_with_code(client, case.code, case.pin)
    return case.report_id, first


def attended(db, username: str = "orangtua", *, recorded: bool = True, service_type=None):
    appointment = appointment_for(db, service_type or counseling(db), username=username, started=True)
    if recorded:
        appointments.record_attendance(db, appointment, person(db, "konselor"), attended=True,
                                       version=appointment.version)
        db.commit()
    return fresh_appointment(db, appointment.id)


def rate(client, appointment_id: int, data: dict):
    return post_form(client, f"/penilaian/{appointment_id}", data, token_from="/", follow_redirects=False)
