"""An attendance note goes into the linked case only when the counselor may open that case: the case's own
team, a counselor of another team, and a stranger each tried; those refused change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.accounts.models import District
from server.appointments.models import AppointmentStatus
from server.models import AuditEntry
from server.reports.models import CaseEvent, Report
from tests.support.appointments import appointment_for, code_holder, counseling, form_post, fresh, person

NOTE = "Anak mulai terbuka bercerita."


def _case_of_team(db, report_id: int, district: str, counselor: str) -> None:
    report = db.get(Report, report_id)
    report.team_district_id = db.execute(select(District.id).where(District.name == district)).scalar_one()
    report.district_id = report.team_district_id
    report.assigned_to_id = person(db, counselor).id
    db.commit()


def _trail(db, report_id: int, appointment_id: int) -> tuple:
    db.expire_all()
    return (
        fresh(db, appointment_id).status,
        fresh(db, appointment_id).version,
        db.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.report_id == report_id)).scalar_one(),
        db.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
    )


@pytest.fixture
def session_of_case(make_client, db):
    """A session that began an hour ago, held by `konselor`, for a case the code holder booked it for."""
    case = code_holder(make_client(), db)
    appointment = appointment_for(db, counseling(db), username=None, report_id=case, started=True)
    return case, appointment


def test_the_counselor_of_the_cases_team_records_attendance_with_a_note(as_user, db, session_of_case):
    case, appointment = session_of_case
    _case_of_team(db, case, "Banjarbaru Utara", "konselor")
    response = form_post(as_user("konselor"), f"/jadwal/{appointment.id}/kehadiran",
                         {"version": appointment.version, "attended": "yes", "note": NOTE})
    assert response.status_code == 303
    assert fresh(db, appointment.id).status == AppointmentStatus.COMPLETED
    notes = db.execute(select(CaseEvent).where(CaseEvent.report_id == case, CaseEvent.kind == "note")).scalars().all()
    assert len(notes) == 1
    assert NOTE in notes[0].body


def test_a_counselor_of_another_team_cannot_write_a_note_into_a_case_they_cannot_open(as_user, db,
                                                                                       session_of_case):
    case, appointment = session_of_case
    _case_of_team(db, case, "Cempaka", "konselor2")  # konselor holds the session, but the case is Cempaka's
    counselor = as_user("konselor")
    before = _trail(db, case, appointment.id)
    response = form_post(counselor, f"/jadwal/{appointment.id}/kehadiran",
                         {"version": appointment.version, "attended": "yes", "note": NOTE})
    assert response.status_code == 422
    assert "Catatan ini tidak bisa disimpan: Anda tidak menangani kasusnya." in response.text
    assert NOTE in response.text  # what was typed is kept
    assert _trail(db, case, appointment.id)[:3] == before[:3]
    assert not db.execute(select(CaseEvent).where(CaseEvent.report_id == case, CaseEvent.kind == "note")).first()
    # Without a note the attendance itself is theirs to record.
    response = form_post(counselor, f"/jadwal/{appointment.id}/kehadiran",
                         {"version": appointment.version, "attended": "yes", "note": ""})
    assert response.status_code == 303
    assert fresh(db, appointment.id).status == AppointmentStatus.COMPLETED


@pytest.mark.parametrize("username", ["konselor2", "guru"])
def test_a_stranger_to_the_session_changes_nothing(as_user, db, session_of_case, username):
    case, appointment = session_of_case
    _case_of_team(db, case, "Cempaka", "konselor2")
    before = _trail(db, case, appointment.id)
    response = form_post(as_user(username), f"/jadwal/{appointment.id}/kehadiran",
                         {"version": appointment.version, "attended": "yes", "note": NOTE})
    assert response.status_code in (403, 404)
    after = _trail(db, case, appointment.id)
    assert after[:3] == before[:3]
    assert not db.execute(select(CaseEvent).where(CaseEvent.report_id == case, CaseEvent.kind == "note")).first()
