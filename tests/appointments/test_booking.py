from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.accounts.visitor import Visitor
from server.appointments import access, service
from server.appointments.models import Appointment, AppointmentStatus, AvailabilityException
from server.appointments.slots import free_slots
from server.i18n import LOCAL
from server.notifications.models import NotificationJob
from tests.support.appointments import NOW, person

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL

WEDNESDAY_9 = datetime(2026, 12, 2, 9, 0, tzinfo=LOCAL).astimezone(UTC)


def _jobs(db, appointment_id: int) -> list[tuple[str, str]]:
    return [(j.kind, j.status) for j in db.execute(select(NotificationJob).where(
        NotificationJob.object_type == "appointment", NotificationJob.object_id == appointment_id
    ).order_by(NotificationJob.id)).scalars()]


def _book(db, service_type, username="orangtua", start=WEDNESDAY_9, counselor="konselor", now=NOW):
    appointment = service.request_appointment(
        db, Visitor(user=person(db, username)), service_type_id=service_type.id,
        counselor_id=person(db, counselor).id, starts_at=start, now=now,
        child_agreed="yes" if username == "guru" else "",
    )
    db.commit()
    return appointment


def test_slots_follow_weekly_hours_in_wita_after_the_notice_period(db, service_type, office_hours):
    slots = free_slots(db, service_type, now=NOW, days=2, counselor_id=person(db, "konselor").id)
    assert date(2026, 12, 1) not in slots  # within the 24-hour notice
    wednesday = [s.starts_at.astimezone(LOCAL).strftime("%H.%M") for s in slots[date(2026, 12, 2)]]
    assert wednesday == ["08.00", "08.30", "09.00", "09.30", "10.00", "10.30", "11.00"]


def test_slots_skip_weekends_holidays_and_exceptions(db, service_type, office_hours):
    counselor = person(db, "konselor")
    db.add(AvailabilityException(counselor_id=counselor.id, starts_at=datetime(2026, 12, 3, 0, tzinfo=UTC),
                                 ends_at=datetime(2026, 12, 3, 2, tzinfo=UTC), reason="training"))
    db.commit()
    slots = free_slots(db, service_type, now=NOW, first_day=date(2026, 12, 3), days=1, counselor_id=counselor.id)
    assert [s.starts_at.astimezone(LOCAL).hour for s in slots[date(2026, 12, 3)]][0] == 10
    christmas = free_slots(db, service_type, now=datetime(2026, 12, 20, tzinfo=UTC), first_day=date(2026, 12, 24),
                           days=4)
    assert christmas == {}  # 24 cuti bersama, 25 Natal, 26–27 weekend


def test_a_request_holds_its_slot_and_tells_the_counselor(db, service_type, office_hours):
    appointment = _book(db, service_type)
    assert appointment.status == AppointmentStatus.REQUESTED
    assert appointment.hold_expires_at == NOW + timedelta(hours=24)
    assert _jobs(db, appointment.id) == [("appointment_requested", "pending")]
    slots = free_slots(db, service_type, now=NOW, first_day=date(2026, 12, 2), days=1,
                       counselor_id=appointment.counselor_id)[date(2026, 12, 2)]
    taken = {s.starts_at.astimezone(LOCAL).strftime("%H.%M") for s in slots}
    assert not {"08.30", "09.00", "09.30", "10.00"} & taken  # 09.00–10.00 plus the 15-minute buffer


def test_the_loser_of_a_slot_gets_a_clear_answer(db, service_type, office_hours):
    _book(db, service_type)
    with pytest.raises(service.SlotTaken):
        _book(db, service_type, username="guru")


def test_a_person_holds_at_most_three_open_requests(db, service_type, office_hours):
    for hour, minute in ((8, 0), (9, 30), (11, 0)):
        _book(db, service_type, start=datetime(2026, 12, 2, hour, minute, tzinfo=LOCAL).astimezone(UTC))
    with pytest.raises(service.BookingError, match="3 permintaan"):
        _book(db, service_type, start=datetime(2026, 12, 3, 8, tzinfo=LOCAL).astimezone(UTC))


def test_confirming_is_a_conditional_update_and_schedules_reminders(db, service_type, office_hours):
    appointment = _book(db, service_type)
    counselor = person(db, "konselor")
    with pytest.raises(service.BookingError):
        service.confirm(db, appointment, counselor, version=appointment.version + 1, now=NOW)
    service.confirm(db, appointment, counselor, version=appointment.version, now=NOW)
    db.commit()
    assert appointment.status == AppointmentStatus.CONFIRMED
    jobs = _jobs(db, appointment.id)
    assert ("appointment_confirmed", "pending") in jobs
    reminders = db.execute(select(NotificationJob).where(NotificationJob.kind.like("reminder_%"))).scalars().all()
    assert sorted((j.kind, j.due_at, j.urgency) for j in reminders) == sorted(
        [("reminder_24h", WEDNESDAY_9 - timedelta(hours=24), "normal")] * 2
        + [("reminder_1h", WEDNESDAY_9 - timedelta(hours=1), "high")] * 2
    )
    with pytest.raises(service.BookingError):
        service.confirm(db, appointment, counselor, version=appointment.version - 1, now=NOW)


def test_declining_needs_a_reason_frees_the_slot_and_tells_the_requester(db, service_type, office_hours):
    appointment = _book(db, service_type)
    counselor = person(db, "konselor")
    with pytest.raises(service.BookingError, match="alasan"):
        service.decline(db, appointment, counselor, version=appointment.version, reason=" ")
    service.decline(db, appointment, counselor, version=appointment.version, reason="Konselor sedang dinas luar")
    db.commit()
    assert appointment.status == AppointmentStatus.DECLINED
    assert not appointment.is_live
    assert ("appointment_declined", "pending") in _jobs(db, appointment.id)
    _book(db, service_type, username="guru")


def test_unanswered_requests_expire_and_stop_holding_the_slot(db, service_type, office_hours):
    appointment = _book(db, service_type)
    later = NOW + timedelta(hours=25)
    assert service.expire_unanswered(db, later) == [appointment.id]
    db.commit()
    assert appointment.status == AppointmentStatus.EXPIRED
    assert ("appointment_expired", "pending") in _jobs(db, appointment.id)
    with pytest.raises(service.BookingError, match="kedaluwarsa"):
        service.confirm(db, appointment, person(db, "konselor"), version=appointment.version, now=later)


def test_requesters_cancel_only_before_the_notice_period_counselors_any_time(db, service_type, office_hours):
    appointment = _book(db, service_type)
    requester = Visitor(user=person(db, "orangtua"))
    too_late = WEDNESDAY_9 - timedelta(hours=2)
    with pytest.raises(service.BookingError, match="terlalu dekat"):
        service.cancel(db, appointment, by_counselor=None, requester=requester, version=appointment.version, now=too_late)
    service.cancel(db, appointment, by_counselor=person(db, "konselor"), requester=None, reason="Sakit",
                   version=appointment.version, now=too_late)
    db.commit()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancelled_by == "counselor"


def test_cancelling_a_confirmed_appointment_cancels_its_reminders(db, service_type, office_hours):
    appointment = _book(db, service_type)
    service.confirm(db, appointment, person(db, "konselor"), version=appointment.version, now=NOW)
    service.cancel(db, appointment, by_counselor=None, requester=Visitor(user=person(db, "orangtua")),
                   version=appointment.version, now=NOW)
    db.commit()
    states = {kind: status for kind, status in _jobs(db, appointment.id) if kind.startswith("reminder")}
    assert states == {"reminder_24h": "cancelled", "reminder_1h": "cancelled"}


def test_moving_links_old_and_new_and_a_counselor_move_is_confirmed(db, service_type, office_hours):
    appointment = _book(db, service_type)
    new_start = datetime(2026, 12, 3, 10, tzinfo=LOCAL).astimezone(UTC)
    with pytest.raises(service.BookingError, match="alasan"):
        service.move(db, appointment, by_counselor=person(db, "konselor"), requester=None, starts_at=new_start,
                     version=appointment.version, now=NOW)
    moved = service.move(db, appointment, by_counselor=person(db, "konselor"), requester=None, starts_at=new_start,
                         reason="Bentrok rapat", version=appointment.version, now=NOW)
    db.commit()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert moved.rescheduled_from_id == appointment.id
    assert moved.status == AppointmentStatus.CONFIRMED
    assert moved.starts_at == new_start
    assert ("appointment_moved", "pending") in _jobs(db, moved.id)


def test_attendance_is_recorded_after_the_start_only(db, service_type, office_hours):
    appointment = _book(db, service_type)
    counselor = person(db, "konselor")
    service.confirm(db, appointment, counselor, version=appointment.version, now=NOW)
    with pytest.raises(service.BookingError):
        service.record_attendance(db, appointment, counselor, attended=True, version=appointment.version, now=NOW)
    service.record_attendance(db, appointment, counselor, attended=False, version=appointment.version,
                              now=WEDNESDAY_9 + timedelta(minutes=20))
    db.commit()
    assert appointment.status == AppointmentStatus.NO_SHOW
    assert not appointment.is_live


def test_who_may_see_an_appointment(db, service_type, office_hours):
    appointment = _book(db, service_type)
    assert access.may_see(appointment, user=person(db, "orangtua"), case_report_id=None)
    assert access.may_see(appointment, user=person(db, "konselor"), case_report_id=None)
    assert access.may_see(appointment, user=person(db, "supervisor"), case_report_id=None)
    assert not access.may_see(appointment, user=person(db, "konselor2"), case_report_id=None)
    assert not access.may_see(appointment, user=person(db, "guru"), case_report_id=None)
    assert not access.may_see(appointment, user=None, case_report_id=appointment.report_id or 12345)


def test_a_teacher_says_whether_the_student_agreed(db, service_type, office_hours):
    with pytest.raises(service.BookingError, match="murid setuju"):
        service.request_appointment(db, Visitor(user=person(db, "guru")), service_type_id=service_type.id,
                                    counselor_id=person(db, "konselor").id, starts_at=WEDNESDAY_9, now=NOW)
    assert db.execute(select(Appointment)).first() is None


# --- who may handle an appointment, configurable reminders, moving by a little ---------------------------------


@pytest.mark.parametrize("username", ["konselor2", "orangtua", "guru"])
def test_only_the_appointments_counselor_or_a_supervisor_may_answer_it_the_service_checks_too(
        db, service_type, office_hours, username):
    appointment = _book(db, service_type)
    stranger = person(db, username)
    actions = [
        lambda: service.confirm(db, appointment, stranger, version=appointment.version, now=NOW),
        lambda: service.decline(db, appointment, stranger, version=appointment.version, reason="Tidak bisa"),
        lambda: service.cancel(db, appointment, by_counselor=stranger, requester=None, reason="x",
                               version=appointment.version, now=NOW),
        lambda: service.move(db, appointment, by_counselor=stranger, requester=None, reason="x",
                             starts_at=WEDNESDAY_9 + timedelta(hours=2), version=appointment.version, now=NOW),
        lambda: service.record_attendance(db, appointment, stranger, attended=True, version=appointment.version,
                                          now=WEDNESDAY_9 + timedelta(hours=1)),
    ]
    for action in actions:
        with pytest.raises(service.NotAllowed):
            action()
        db.rollback()
    assert db.get(Appointment, appointment.id).status == AppointmentStatus.REQUESTED


def test_a_supervisor_may_confirm_any_appointment(db, service_type, office_hours):
    appointment = _book(db, service_type)
    service.confirm(db, appointment, person(db, "supervisor"), version=appointment.version, now=NOW)
    db.commit()
    assert db.get(Appointment, appointment.id).status == AppointmentStatus.CONFIRMED


def test_reminder_offsets_come_from_the_settings(db, service_type, office_hours):
    appointment = _book(db, service_type)
    service.confirm(db, appointment, person(db, "konselor"), version=appointment.version, now=NOW,
                    reminder_hours=(48, 2, 1))
    db.commit()
    reminders = db.execute(select(NotificationJob).where(NotificationJob.kind.like("reminder_%"),
                                                         NotificationJob.object_id == appointment.id)).scalars().all()
    # 48 hours before 2 Dec 09.00 WITA is already past on 1 Dec 08.00: only the 2 h and 1 h reminders remain.
    assert sorted({(j.kind, j.due_at, j.urgency) for j in reminders}) == [
        ("reminder_1h", WEDNESDAY_9 - timedelta(hours=1), "high"),
        ("reminder_2h", WEDNESDAY_9 - timedelta(hours=2), "normal"),
    ]


def test_the_move_picker_offers_the_times_next_to_the_appointment_itself(db, service_type, office_hours):
    appointment = _book(db, service_type)
    counselor_id = appointment.counselor_id
    day = date(2026, 12, 2)
    without = {s.starts_at for s in free_slots(db, service_type, now=NOW, first_day=day, days=1,
                                                counselor_id=counselor_id).get(day, [])}
    ignoring = {s.starts_at for s in free_slots(db, service_type, now=NOW, first_day=day, days=1,
                                                 counselor_id=counselor_id, ignoring=appointment.id).get(day, [])}
    half_past = WEDNESDAY_9 + timedelta(minutes=30)
    assert half_past not in without
    assert half_past in ignoring
    assert WEDNESDAY_9 in ignoring
    moved = service.move(db, appointment, by_counselor=person(db, "konselor"), requester=None, reason="Rapat",
                         starts_at=half_past, version=appointment.version, now=NOW)
    db.commit()
    assert moved.starts_at == half_past
    assert moved.status == AppointmentStatus.CONFIRMED


def test_a_new_holiday_counts_the_sessions_already_booked_that_day(db, service_type, office_hours):
    _book(db, service_type)
    assert service.live_on_days(db, [date(2026, 12, 2)]) == 1
    assert service.live_on_days(db, [date(2026, 12, 3), date(2026, 12, 4)]) == 0


def test_two_workers_expiring_at_once_tell_the_requester_once(db, engine, service_type, office_hours):
    import threading

    from sqlmodel import Session

    appointment = _book(db, service_type)
    later = NOW + timedelta(hours=25)
    start = threading.Barrier(4)
    results: list[list[int]] = []

    def expire() -> None:
        with Session(engine) as session:
            start.wait()
            results.append(service.expire_unanswered(session, later))
            session.commit()

    threads = [threading.Thread(target=expire) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(len, results)) == [0, 0, 0, 1]
    db.expire_all()
    assert [kind for kind, _status in _jobs(db, appointment.id)].count("appointment_expired") == 1


def test_every_job_about_an_appointment_carries_its_start(db, service_type, office_hours):
    """The dispatcher counts a push's TTL down to the start it finds on the job (it reads no appointments), and the
    version tells the appointments' check whether that start is still the start."""
    appointment = _book(db, service_type)
    jobs = list(db.execute(select(NotificationJob).where(NotificationJob.object_type == "appointment",
                                                          NotificationJob.object_id == appointment.id)).scalars())
    assert jobs
    assert {(job.event_at, job.object_version) for job in jobs} == {(WEDNESDAY_9, appointment.version)}
