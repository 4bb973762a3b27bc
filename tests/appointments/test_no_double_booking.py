"""The database itself refuses two live appointments of one counselor that overlap (buffers included),
whatever Python checked before: many real connections race for one slot and exactly one wins."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from server.accounts.models import User
from server.accounts.visitor import Visitor
from server.appointments import service
from server.appointments.models import Appointment, AppointmentStatus, ServiceType

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL

START = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Monday 10.00 WITA


@pytest.fixture
def counselor_and_service(db):
    counselor = db.execute(select(User).where(User.username == "konselor")).scalar_one()
    service_type = ServiceType(name="Konseling individu", duration_minutes=60, buffer_after_minutes=15)
    db.add(service_type)
    db.commit()
    return counselor.id, service_type.id


def _appointment(counselor_id: int, service_type_id: int, start: datetime, minutes: int = 60) -> Appointment:
    return Appointment(counselor_id=counselor_id, service_type_id=service_type_id, starts_at=start,
                       ends_at=start + timedelta(minutes=minutes), block_start=start,
                       block_end=start + timedelta(minutes=minutes + 15))


def _race(engine, rows: list[Appointment]) -> int:
    """Insert each row from its own thread and connection, all released at once; returns how many won."""
    barrier = threading.Barrier(len(rows))
    won = []

    def book(row: Appointment) -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                session.add(row)
                session.commit()
                won.append(row)
            except (IntegrityError, OperationalError):
                session.rollback()

    threads = [threading.Thread(target=book, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(won)


def test_twenty_simultaneous_requests_for_one_slot_hold_it_once(engine, db, counselor_and_service):
    counselor_id, service_type_id = counselor_and_service
    assert _race(engine, [_appointment(counselor_id, service_type_id, START) for _ in range(20)]) == 1
    assert len(db.execute(select(Appointment).where(Appointment.is_live)).scalars().all()) == 1


def test_overlapping_but_not_equal_slots_also_hold_once(engine, db, counselor_and_service):
    counselor_id, service_type_id = counselor_and_service
    # Every start lies within 75 minutes of every other, so each pair overlaps and only one may hold.
    rows = [_appointment(counselor_id, service_type_id, START + timedelta(minutes=3 * n)) for n in range(20)]
    assert _race(engine, rows) == 1


def test_the_buffer_after_a_session_is_held_too(db, counselor_and_service):
    counselor_id, service_type_id = counselor_and_service
    db.add(_appointment(counselor_id, service_type_id, START))
    db.commit()
    db.add(_appointment(counselor_id, service_type_id, START + timedelta(minutes=70)))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    db.add(_appointment(counselor_id, service_type_id, START + timedelta(minutes=75)))
    db.commit()


def test_a_booking_that_starts_earlier_and_runs_into_one_already_held_is_refused(db, counselor_and_service):
    """In a fixed order, not left to a race: the held session starts at 10.30, the new one at 10.00 would run
    until 11.00 (11.15 with its buffer). A rule that only looks whether the new start falls inside a held
    session misses it."""
    counselor_id, service_type_id = counselor_and_service
    db.add(_appointment(counselor_id, service_type_id, START + timedelta(minutes=30)))
    db.commit()
    db.add(_appointment(counselor_id, service_type_id, START))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    held = db.execute(select(Appointment.starts_at).where(Appointment.is_live)).scalars().all()
    assert [start.astimezone(UTC) for start in held] == [START + timedelta(minutes=30)]


def test_a_cancelled_appointment_frees_its_time(db, counselor_and_service):
    counselor_id, service_type_id = counselor_and_service
    first = _appointment(counselor_id, service_type_id, START)
    db.add(first)
    db.commit()
    first.status, first.is_live = AppointmentStatus.CANCELLED, False
    db.commit()
    db.add(_appointment(counselor_id, service_type_id, START))
    db.commit()


def test_reviving_an_appointment_into_taken_time_is_refused(db, counselor_and_service):
    counselor_id, service_type_id = counselor_and_service
    first = _appointment(counselor_id, service_type_id, START)
    first.is_live = False
    db.add(first)
    db.add(_appointment(counselor_id, service_type_id, START))
    db.commit()
    first.is_live = True
    with pytest.raises(IntegrityError):
        db.commit()


def test_other_counselors_keep_their_own_time(db, counselor_and_service):
    counselor_id, service_type_id = counselor_and_service
    other = db.execute(select(User).where(User.username == "konselor2")).scalar_one()
    db.add(_appointment(counselor_id, service_type_id, START))
    db.add(_appointment(other.id, service_type_id, START))
    db.commit()



def _user(db, username: str) -> User:
    return db.execute(select(User).where(User.username == username)).scalar_one()


def test_a_booking_whose_assigned_counselor_was_taken_meanwhile_goes_to_the_next_free_one(db, monkeypatch):
    """The service assigns counselors from a list read before the insert; when another booker took the first
    counselor's time in between, the database refuses that insert and the next counselor on the list gets it.
    With nobody left, the booker is told the time is gone: never two sessions at one counselor's time."""
    konselor, konselor2 = _user(db, "konselor").id, _user(db, "konselor2").id
    service_type = ServiceType(name="Konseling individu", duration_minutes=60, buffer_after_minutes=15,
                               min_notice_hours=0)
    db.add(service_type)
    db.commit()
    db.add(_appointment(konselor, service_type.id, START))  # the other booker, landed a moment ago
    db.commit()
    stale = [konselor, konselor2]  # what the list said just before
    monkeypatch.setattr(service, "assignable_counselors", lambda *args, **kwargs: list(stale))
    now = START - timedelta(days=1)
    booked = service.request_appointment(db, Visitor(user=_user(db, "anak")),
                                         service_type_id=service_type.id, starts_at=START, now=now)
    db.commit()
    assert booked.counselor_id == konselor2
    stale[:] = [konselor]
    with pytest.raises(service.SlotTaken, match="baru saja dipesan"):
        service.request_appointment(db, Visitor(user=_user(db, "guru")), service_type_id=service_type.id,
                                    starts_at=START, child_agreed="yes", now=now)
    db.rollback()
    live = db.execute(select(Appointment.counselor_id).where(Appointment.starts_at == START, Appointment.is_live))
    assert sorted(live.scalars()) == sorted([konselor, konselor2])
