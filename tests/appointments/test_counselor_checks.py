"""The checks a counselor's schedule page relies on, made by the service itself: a cancellation the requester
reads needs a reason, attendance is yes or no, and its note has a limit."""

from datetime import UTC, datetime, timedelta

import pytest

from server.accounts.visitor import Visitor
from server.appointments import service
from server.appointments.models import AppointmentStatus
from server.i18n import LOCAL
from tests.support.appointments import NOW, person

WEDNESDAY_9 = datetime(2026, 12, 2, 9, 0, tzinfo=LOCAL).astimezone(UTC)


def _booked(db, service_type):
    appointment = service.request_appointment(
        db, Visitor(user=person(db, "orangtua")), service_type_id=service_type.id,
        counselor_id=person(db, "konselor").id, starts_at=WEDNESDAY_9, now=NOW)
    db.commit()
    return appointment


def test_it_refuses_a_counselor_cancellation_without_a_reason(db, service_type, office_hours):
    appointment = _booked(db, service_type)
    with pytest.raises(service.BookingError, match="alasan pembatalan"):
        service.cancel_by_counselor(db, appointment, person(db, "konselor"), reason="  ", version=appointment.version)
    service.cancel_by_counselor(db, appointment, person(db, "konselor"), reason="Sakit", version=appointment.version)
    db.commit()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Sakit"


def test_it_reads_attendance_as_yes_or_no_only():
    assert service.attended("yes") is True
    assert service.attended("no") is False
    with pytest.raises(service.BookingError, match="hadir atau tidak hadir"):
        service.attended("maybe")


def test_it_refuses_an_attendance_note_over_the_limit(db, service_type, office_hours):
    appointment = _booked(db, service_type)
    counselor = person(db, "konselor")
    service.confirm(db, appointment, counselor, version=appointment.version, now=NOW)
    after_start = WEDNESDAY_9 + timedelta(minutes=20)
    with pytest.raises(service.BookingError, match="Catatan terlalu panjang"):
        service.record_attendance(db, appointment, counselor, attended=True, version=appointment.version,
                                  note="n" * (service.ATTENDANCE_NOTE_LIMIT + 1), now=after_start)
    service.record_attendance(db, appointment, counselor, attended=True, version=appointment.version,
                              note="n" * service.ATTENDANCE_NOTE_LIMIT, now=after_start)
    db.commit()
    assert appointment.status == AppointmentStatus.COMPLETED
