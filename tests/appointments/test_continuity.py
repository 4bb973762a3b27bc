"""Continuity: someone whose case has a counselor books that counselor by default; choosing another stays
possible, with a reason only supervisors read."""

import re
from datetime import timedelta

from sqlalchemy import select

from server import clock
from server.accounts.visitor import Visitor
from server.appointments import service
from server.appointments.slots import free_starts
from server.i18n import LOCAL
from server.models import AuditEntry
from server.reports.models import Report
from tests.support.appointments import (
    also_works,
    book,
    booked_id,
    code_holder,
    counseling,
    error_for,
    fresh,
    own_report,
    person,
    slot_keys,
)
from tests.support.web import post_form


def _assign(db, report_id: int, username: str) -> None:
    report = db.get(Report, report_id)
    report.assigned_to_id = person(db, username).id
    db.add(report)
    db.commit()


def _taken_for_konselor2(db, service_type) -> int:
    """A time tomorrow that only konselor2 is busy at (booked by a parent straight through the service)."""
    tomorrow = clock.now().astimezone(LOCAL).date() + timedelta(days=1)
    free = free_starts(db, service_type, now=clock.now(), first_day=tomorrow, days=1)[tomorrow]
    starts = min(s for s in free if s.astimezone(LOCAL).hour == 10)
    service.request_appointment(db, Visitor(user=person(db, "orangtua")), service_type_id=service_type.id,
                                counselor_id=person(db, "konselor2").id, starts_at=starts)
    db.commit()
    return int(starts.timestamp())


def test_it_offers_a_code_holder_only_the_times_of_their_case_counselor_by_default(make_client, db):
    service_type = counseling(db)
    also_works(db, "konselor2")
    client = make_client()
    _assign(db, code_holder(client, db), "konselor2")
    taken = _taken_for_konselor2(db, service_type)
    day = clock.now().astimezone(LOCAL).date() + timedelta(days=1)
    html = client.get(f"/konseling?layanan={service_type.id}&hari={day}").text
    name = person(db, "konselor2").display_name
    assert f"Kamu akan bertemu {name}, konselor yang sudah mengenal laporanmu." in html
    assert str(taken) not in slot_keys(html)  # konselor2 is busy then, though konselor is free
    appointment = fresh(db, booked_id(book(client, service_type)))
    assert appointment.counselor_id == person(db, "konselor2").id
    assert appointment.counselor_change_reason == ""


def test_it_lets_a_child_choose_another_counselor_with_a_reason_only_supervisors_read(app, as_user, db):
    service_type = counseling(db)
    also_works(db, "konselor2")
    _assign(db, own_report(app, db, "anak"), "konselor2")
    taken = _taken_for_konselor2(db, service_type)
    client = as_user("anak")
    day = clock.now().astimezone(LOCAL).date() + timedelta(days=1)
    other = client.get(f"/konseling?layanan={service_type.id}&konselor=lain&hari={day}").text
    assert "Kenapa ingin konselor lain?" in other
    assert "Hanya supervisor yang membaca ini" in other
    assert str(taken) in slot_keys(other)
    form = {"layanan": service_type.id, "konselor": "lain", "slot": taken, "note": "Mau cerita."}
    refused = post_form(client, "/konseling", {**form, "alasan_ganti": "  "}, token_from="/", follow_redirects=False)
    assert refused.status_code == 422
    assert "alasannya" in error_for(refused.text, "alasan_ganti")
    assert "Mau cerita." in refused.text
    response = post_form(client, "/konseling", {**form, "alasan_ganti": "Aku lebih nyaman dengan konselor lain."},
                         token_from="/", follow_redirects=False)
    appointment = fresh(db, booked_id(response))
    assert appointment.counselor_id == person(db, "konselor").id
    assert appointment.counselor_change_reason == "Aku lebih nyaman dengan konselor lain."
    entry = db.execute(select(AuditEntry).where(AuditEntry.action == "appointment.requested")
                       .order_by(AuditEntry.id.desc())).scalars().first()
    assert '"other_counselor": true' in entry.detail
    assert "nyaman" not in entry.detail
    supervisor_page = as_user("supervisor").get(f"/jadwal/{appointment.id}").text
    assert "Alasan memilih konselor lain" in supervisor_page
    assert "Aku lebih nyaman" in supervisor_page
    counselor_page = as_user("konselor").get(f"/jadwal/{appointment.id}")
    assert counselor_page.status_code == 200
    assert "Aku lebih nyaman" not in counselor_page.text
    assert "Aku lebih nyaman" not in client.get(f"/konseling/{appointment.id}").text


def test_it_offers_no_continuity_to_a_parent(app, as_user, db):
    service_type = counseling(db)
    _assign(db, own_report(app, db, "orangtua"), "konselor2")
    html = as_user("orangtua").get(f"/konseling?layanan={service_type.id}").text
    assert "Kamu akan bertemu" not in html
    assert "Ingin konselor lain?" not in html
    assert slot_keys(html)
    assert re.search(r'name="slot"', html)
