"""Helpers for the report and case tests: sending the report form like a phone does, making reports straight
through the service when only the handling is under test, and reading back what was recorded."""

from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import time_machine
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from server.accounts import service as accounts
from server.accounts.demo import DEMO_PASSWORD
from server.accounts.models import District, Role, School, User
from server.models import AuditEntry
from server.notifications.models import NotificationJob
from server.reports import intake, report_form
from server.reports.models import CaseEvent, Referral, Report
from tests.support.web import post_form

# What the test client's requests come from: Litestar's TestClient names its peer "testclient".
TEST_IP = "testclient"

CHILD_REPORT: dict[str, Any] = {
    "reporter_kind": "child",
    "danger_now": "no",
    "categories": ["bullying"],
    "happened_when": "this_week",
    "happened_where": "school",
    "child_age": "12",
    "child_words": "Aku diejek terus di kelas dan bukuku dirobek.",
    "child_assent": "yes",
    "contact_method": "app",
}

ADULT_EXTRA: dict[str, Any] = {
    "how_learned": "Anak bercerita kepada saya setelah pelajaran.",
    "child_knows": "yes",
}


@dataclass
class SentReport:
    response: Any
    code: str = ""
    pin: str = ""


def report_fields(**fields: Any) -> dict[str, Any]:
    """The child's report above, with some answers changed; an answer given as None is left out."""
    data = {**CHILD_REPORT, **fields}
    return {name: value for name, value in data.items() if value is not None}


def submit_report(client: TestClient, **fields: Any) -> SentReport:
    """Post /lapor as the form does; for an anonymous receipt, read the code and PIN off the page."""
    headers = fields.pop("headers", None)
    response = post_form(client, "/lapor", report_fields(**fields), token_from="/lapor", follow_redirects=False,
                         headers=headers)
    sent = SentReport(response)
    if response.status_code == 200 and "application/json" not in (headers or {}).get("accept", ""):
        outputs = re.findall(r'<output class="receipt__code" data-copy>([^<]+)</output>', response.text)
        if len(outputs) == 2:
            sent.code, sent.pin = outputs
    return sent


def make_report(app: Litestar, db: Session, *, user: User | None = None, at: datetime | None = None,
                **fields: Any) -> intake.Receipt:
    """A report made straight through the service (faster than the form), committed; `at` fixes the moment it
    was submitted."""
    form = report_form.ReportForm.from_data(report_fields(**fields))
    errors = report_form.validate_report(db, form, user)
    assert not errors, errors
    with time_machine.travel(at, tick=False) if at is not None else nullcontext():
        receipt = intake.submit_report(db, app.state.settings, form, user=user, ip=TEST_IP)
    db.commit()
    return receipt


def fresh(db: Session, report_id: int) -> Report:
    db.expire_all()
    report = db.get(Report, report_id)
    assert report is not None
    return report


def user_named(db: Session, username: str) -> User:
    return db.execute(select(User).where(User.username == username)).scalar_one()


def district_named(db: Session, name: str) -> District:
    return db.execute(select(District).where(District.name == name)).scalar_one()


def school_named(db: Session, name: str) -> School:
    return db.execute(select(School).where(School.name == name)).scalar_one()


def add_person(db: Session, username: str, role: Role, *, district: str | None = None,
               school: str | None = None) -> User:
    user = accounts.create_user(db, accounts.UserForm(
        username=username, display_name=username.title(), role=role, password=DEMO_PASSWORD,
        district_id=district_named(db, district).id if district else None,
        school_id=school_named(db, school).id if school else None,
    ))
    db.commit()
    return user


def audit_entries(db: Session, action: str, report_id: int | None = None) -> list[AuditEntry]:
    db.expire_all()
    query = select(AuditEntry).where(AuditEntry.action == action)
    if report_id is not None:
        query = query.where(AuditEntry.object_type == "report", AuditEntry.object_id == str(report_id))
    return list(db.execute(query.order_by(AuditEntry.id)).scalars())


def events(db: Session, report_id: int, kind: str | None = None) -> list[CaseEvent]:
    db.expire_all()
    query = select(CaseEvent).where(CaseEvent.report_id == report_id)
    if kind is not None:
        query = query.where(CaseEvent.kind == kind)
    return list(db.execute(query.order_by(CaseEvent.id)).scalars())


def jobs(db: Session, kind: str, report_id: int) -> list[NotificationJob]:
    db.expire_all()
    return list(db.execute(
        select(NotificationJob).where(NotificationJob.kind == kind, NotificationJob.object_type == "report",
                                      NotificationJob.object_id == report_id).order_by(NotificationJob.id)
    ).scalars())


def referrals_of(db: Session, report_id: int) -> list[Referral]:
    db.expire_all()
    return list(db.execute(select(Referral).where(Referral.report_id == report_id).order_by(Referral.id)).scalars())


def case_post(client: TestClient, report_id: int, action: str, data: dict[str, Any] | None = None):
    """Post one of the case page's forms, as a browser does after loading a page: with the CSRF token."""
    return post_form(client, f"/kasus/{report_id}/{action}", data or {}, token_from="/", follow_redirects=False)


def set_state(db: Session, report_id: int, **values: Any) -> Report:
    """Put a report straight into a state, to test what may happen from there."""
    report = fresh(db, report_id)
    for name, value in values.items():
        setattr(report, name, value)
    db.add(report)
    db.commit()
    return report


def open_case(client, code: str, pin: str):
    return post_form(client, "/cek", {"code": code, "pin": pin}, token_from="/cek", follow_redirects=False)


def other_pin(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


def report_count(db) -> int:
    db.expire_all()
    return db.execute(select(func.count()).select_from(Report)).scalar_one()


def only_report(db) -> Report:
    db.expire_all()
    return db.execute(select(Report)).scalar_one()


def field_block(html: str, name: str) -> str:
    """The part of the form page around one question: its fieldset or field div, up to the next question."""
    start = html.index(f'id="field-{name}"')
    start = max(html.rfind("<fieldset", 0, start), html.rfind('<div class="field', 0, start))
    ends = [i for i in (html.find("</fieldset>", start), html.find("</textarea>", start)) if i != -1]
    return html[start : min(ends) if ends else start + 2000]
