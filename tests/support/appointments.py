"""Helpers for the appointment tests.

The pages run on the real clock, so the tests do not depend on today's date: the service type needs no notice
(min_notice_hours=0) and konselor works every day of the week, so every week has free slots unless all seven
days are public holidays. A booking picks the LAST slot offered, days away from any "now" boundary. Sessions
that must already have started are booked through the service with a "now" a week in the past."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select
from sqlmodel import Session

from server import clock
from server.accounts.models import User
from server.accounts.visitor import Visitor
from server.appointments import service
from server.appointments.models import Appointment, ServiceType, WeeklyHours
from server.appointments.slots import free_slots
from server.reports import intake, report_form
from server.reports.codes import code_hash
from server.reports.models import Report
from tests.support.web import post_form

# Tuesday 1 December 2026, 08.00 WITA: the moment the service tests book from.
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)

CHILD_REPORT: dict[str, Any] = {
    "reporter_kind": "child", "danger_now": "no", "categories": ["bullying"], "happened_when": "this_week",
    "happened_where": "school", "child_age": "12", "child_words": "Aku diejek terus di kelas.",
    "child_assent": "yes", "contact_method": "app",
}


def person(db: Session, username: str) -> User:
    return db.execute(select(User).where(User.username == username)).scalar_one()


def counseling(db: Session, **fields: Any) -> ServiceType:
    """A service type bookable from right now, and konselor's hours 08.00–16.00 WITA on all seven days."""
    service_type = ServiceType(**{"name": "Konseling individu", "duration_minutes": 60, "buffer_after_minutes": 15,
                                  "min_notice_hours": 0, "max_days_ahead": 30, "place": "Kantor layanan", **fields})
    db.add(service_type)
    counselor = person(db, "konselor")
    db.add_all(WeeklyHours(counselor_id=counselor.id, weekday=day, starts=time(8), ends=time(16)) for day in range(7))
    db.commit()
    return service_type


def slot_keys(html: str) -> list[str]:
    return re.findall(r'name="slot" value="([^"]+)"', html)


def slot_start(key: str) -> datetime:
    """The start of a slot key: "counselor@epoch" where a counselor moves a session, "epoch" on /konseling."""
    return datetime.fromtimestamp(int(key.split("@")[-1]), UTC)


def day_links(html: str) -> list[str]:
    """The booking page's row of days, as the addresses htmx asks for."""
    return [url.replace("&amp;", "&") for url in re.findall(r'class="day-chip" href="([^"]+)"', html)]


def also_works(db: Session, username: str) -> None:
    """Give `username` the same hours as konselor (08.00–16.00 WITA, every day)."""
    counselor = person(db, username)
    db.add_all(WeeklyHours(counselor_id=counselor.id, weekday=day, starts=time(8), ends=time(16)) for day in range(7))
    db.commit()


def error_for(html: str, name: str) -> str:
    """The message shown next to a field (GOV.UK pattern: id="error-<name>")."""
    match = re.search(rf'id="error-{name}"[^>]*>(.*?)</(?:p|ul)>', html, re.DOTALL)
    assert match, f"no error next to {name}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def booking_page(client: TestClient, service_type: ServiceType) -> str:
    response = client.get(f"/konseling?layanan={service_type.id}")
    assert response.status_code == 200, response.text
    return response.text


def book(client: TestClient, service_type: ServiceType, *, slot: str | None = None, **fields: Any):
    """Post the booking form as the page offers it: the last free slot unless one is given."""
    html = booking_page(client, service_type)
    chosen = slot or slot_keys(html)[-1]
    return post_form(client, "/konseling", {"layanan": service_type.id, "slot": chosen, **fields},
                     token_from=f"/konseling?layanan={service_type.id}", follow_redirects=False)


def booked_id(response: Any) -> int:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/konseling/(\d+)\?pesan=baru", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def fresh(db: Session, appointment_id: int) -> Appointment:
    db.expire_all()
    return db.get(Appointment, appointment_id)


def appointment_for(db: Session, service_type: ServiceType, *, username: str | None = "orangtua",
                    report_id: int | None = None, confirmed: bool = False, started: bool = False,
                    index: int = -1) -> Appointment:
    """An appointment made through the service: for `username`, or for the code holder of `report_id`. A
    `started` one is booked a week ago, for a session that began at least an hour ago."""
    now = clock.now() - timedelta(days=7) if started else clock.now()
    counselor = person(db, "konselor")
    offered = [slot for slots in free_slots(db, service_type, now=now, days=7, counselor_id=counselor.id).values()
               for slot in slots]
    if started:
        offered = [slot for slot in offered if slot.starts_at < clock.now() - timedelta(hours=1)]
    requester = Visitor(user=person(db, username)) if username else Visitor(case_report_id=report_id)
    user = requester.user
    appointment = service.request_appointment(
        db, requester, service_type_id=service_type.id, counselor_id=counselor.id, starts_at=offered[index].starts_at,
        child_agreed="yes" if user and user.role == "teacher" else "", note="Ingin bicara soal sekolah.", now=now,
    )
    if confirmed or started:
        service.confirm(db, appointment, counselor, version=appointment.version, now=now)
    db.commit()
    return appointment


def report_with_code(client: TestClient) -> tuple[str, str]:
    """Send an anonymous report through /lapor and read the code and PIN off the receipt."""
    response = post_form(client, "/lapor", CHILD_REPORT, token_from="/lapor", follow_redirects=False)
    assert response.status_code == 200, response.text
    code, pin = re.findall(r'<output class="receipt__code" data-copy>([^<]+)</output>', response.text)
    return code, pin


def code_holder(client: TestClient, db: Session) -> int:
    """Make `client` the holder of a new case's code (POST /cek sets the bc_case cookie); returns the report id."""
    code, pin = report_with_code(client)
    response = post_form(client, "/cek", {"code": code, "pin": pin}, token_from="/cek", follow_redirects=False)
    assert response.status_code == 303, response.text
    db.expire_all()
    return db.execute(select(Report.id).where(Report.code_hash == code_hash(code))).scalar_one()


def form_post(client: TestClient, path: str, data: dict[str, Any]):
    """Post a form of a page, with the CSRF token any page carries."""
    return post_form(client, path, data, token_from="/", follow_redirects=False)


def own_report(app: Any, db: Session, username: str) -> int:
    """A report sent by a signed-in person (straight through the service), as an adult reporter."""
    form = report_form.ReportForm.from_data({**CHILD_REPORT, "reporter_kind": "parent", "child_knows": "yes"})
    receipt = intake.submit_report(db, app.state.settings, form, user=person(db, username), ip="testclient")
    db.commit()
    return receipt.report.id
