"""The waiting list: joining only when nothing is free, the first in line offered a time that opens (a
cancellation, new hours, a counselor back from leave), the hold the database itself keeps for them, the hand-over
to the next person when it lapses, taking it as an ordinary request, leaving, expiry, who may do what, and the
waiting times counselors see."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from server import worker
from server.accounts.visitor import Visitor
from server.appointments import availability
from server.appointments import service as appointments
from server.appointments.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    ServiceType,
    WeeklyHours,
)
from server.audit import AuditEntry
from server.i18n import LOCAL
from server.notifications import push
from server.notifications.models import NotificationJob
from server.waitlist import service
from server.waitlist.models import EntryStatus, WaitlistEntry
from tests.support.appointments import person
from tests.support.reports import make_report
from tests.support.web import post_form

pytestmark = pytest.mark.both_databases  # the hold is the database's overlap rule: SQLite and PostgreSQL

# Thursday 3 December 2026, 09.00 WITA: the only hour the one counselor gives this service in its window.
THURSDAY_9 = datetime(2026, 12, 3, 9, 0, tzinfo=LOCAL).astimezone(UTC)
NOW = datetime(2026, 12, 1, 1, 17, tzinfo=UTC)  # the pinned clock


@pytest.fixture
def scarce(db) -> ServiceType:
    """A service one counselor gives one hour a week (Thursdays 09.00–10.00), and that hour already taken."""
    service_type = ServiceType(name="Konseling keluarga", duration_minutes=60, buffer_after_minutes=0,
                               min_notice_hours=24, max_days_ahead=7)
    db.add(service_type)
    db.flush()
    counselor = person(db, "konselor")
    db.add(WeeklyHours(counselor_id=counselor.id, weekday=3, starts=time(9), ends=time(10),
                       service_type_id=service_type.id))
    db.add(Appointment(counselor_id=counselor.id, service_type_id=service_type.id, starts_at=THURSDAY_9,
                       ends_at=THURSDAY_9 + timedelta(hours=1), block_start=THURSDAY_9,
                       block_end=THURSDAY_9 + timedelta(hours=1), status=AppointmentStatus.CONFIRMED))
    db.commit()
    return service_type


def _taken(db) -> Appointment:
    return db.execute(select(Appointment).where(Appointment.status == AppointmentStatus.CONFIRMED)).scalar_one()


def _visitor(db, username: str) -> Visitor:
    return Visitor(user=person(db, username))


def _join(db, scarce, username: str) -> WaitlistEntry:
    entry = service.join(db, _visitor(db, username), service_type_id=scarce.id)
    db.commit()
    return entry


def _cancel_the_taken_hour(db) -> None:
    taken = _taken(db)
    appointments.cancel_by_counselor(db, taken, person(db, "konselor"), reason="Sakit", version=taken.version)
    db.commit()


def _round(db, **kwargs) -> service.RoundResult:
    result = service.offer_round(db, **kwargs)
    db.commit()
    return result


def _fresh(db, entry: WaitlistEntry) -> WaitlistEntry:
    db.expire_all()
    return db.get(WaitlistEntry, entry.id)


def _offer_jobs(db) -> list[NotificationJob]:
    db.expire_all()
    return list(db.execute(select(NotificationJob).where(NotificationJob.kind == "waitlist_offer")
                           .order_by(NotificationJob.id)).scalars())


def _audit(db, action: str) -> int:
    return db.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)).scalar_one()


# --- joining ------------------------------------------------------------------------------------------------


def test_joining_is_refused_while_a_time_is_free(db, scarce):
    _cancel_the_taken_hour(db)
    with pytest.raises(service.WaitlistError, match="Masih ada waktu kosong"):
        service.join(db, _visitor(db, "orangtua"), service_type_id=scarce.id)
    db.rollback()
    assert db.execute(select(func.count()).select_from(WaitlistEntry)).scalar_one() == 0


def test_joining_when_nothing_is_free_once_per_service(db, scarce):
    entry = _join(db, scarce, "orangtua")
    assert entry.status == EntryStatus.WAITING
    assert entry.expires_at == NOW + timedelta(days=42)
    assert _audit(db, "waitlist.joined") == 1
    with pytest.raises(service.WaitlistError, match="sudah ada di daftar tunggu"):
        service.join(db, _visitor(db, "orangtua"), service_type_id=scarce.id)
    db.rollback()


def test_staff_cannot_join(db, scarce):
    with pytest.raises(appointments.NotAllowed):
        service.join(db, _visitor(db, "konselor"), service_type_id=scarce.id)
    db.rollback()
    assert db.execute(select(func.count()).select_from(WaitlistEntry)).scalar_one() == 0


# --- offers -------------------------------------------------------------------------------------------------


def test_a_cancellation_is_offered_to_the_first_in_line_and_held_for_them(db, scarce):
    first, second = _join(db, scarce, "orangtua"), _join(db, scarce, "guru")
    assert _round(db).offered == 0  # nothing free yet
    _cancel_the_taken_hour(db)
    assert _round(db).offered == 1
    first, second = _fresh(db, first), _fresh(db, second)
    assert first.status == EntryStatus.OFFERED
    assert second.status == EntryStatus.WAITING
    assert first.offer_expires_at == NOW + timedelta(minutes=30)
    held = db.get(Appointment, first.offer_appointment_id)
    assert (held.status, held.is_live, held.starts_at, held.requester_user_id) == (
        AppointmentStatus.OFFERED, True, THURSDAY_9, None)
    # The person hears of it once, through the outbox, in neutral words.
    [job] = _offer_jobs(db)
    assert (job.recipient_user_id, job.status, job.url) == (person(db, "orangtua").id, "pending",
                                                            f"/daftar-tunggu/{first.id}")
    body = push.neutral_text(job.kind, "Bintang Ceria")
    assert body == "Bintang Ceria: ada kabar baru untuk Anda"
    assert "keluarga" not in body.lower()
    assert "konseling" not in body.lower()
    assert _audit(db, "waitlist.offered") == 1
    # The same round again offers nothing more.
    assert _round(db, always=True).offered == 0


def test_the_database_refuses_anyone_else_the_held_time(db, scarce, engine):
    _join(db, scarce, "orangtua")
    _cancel_the_taken_hour(db)
    _round(db)
    with pytest.raises(appointments.SlotTaken):
        appointments.request_appointment(db, _visitor(db, "anak"), service_type_id=scarce.id,
                                         counselor_id=person(db, "konselor").id, starts_at=THURSDAY_9)
    db.rollback()
    # Past the Python checks too: the overlap rule itself refuses a second live row.
    db.add(Appointment(counselor_id=person(db, "konselor").id, service_type_id=scarce.id, starts_at=THURSDAY_9,
                       ends_at=THURSDAY_9 + timedelta(hours=1), block_start=THURSDAY_9,
                       block_end=THURSDAY_9 + timedelta(hours=1)))
    with pytest.raises((IntegrityError, OperationalError)):
        db.commit()
    db.rollback()


def test_a_lapsed_hold_goes_to_the_next_person_in_the_worker_round(db, scarce, engine, settings, pinned_clock):
    first, second = _join(db, scarce, "orangtua"), _join(db, scarce, "guru")
    _cancel_the_taken_hour(db)
    sender = worker.make_sender(settings)
    worker.tick(engine, sender, settings)
    first_hold = _fresh(db, first).offer_appointment_id
    assert _fresh(db, first).status == EntryStatus.OFFERED

    pinned_clock.move_to(NOW + timedelta(minutes=31))
    worker.tick(engine, sender, settings)
    first, second = _fresh(db, first), _fresh(db, second)
    assert first.status == EntryStatus.WAITING  # keeps their place, not offered that time again
    assert second.status == EntryStatus.OFFERED
    assert db.get(Appointment, first_hold).status == AppointmentStatus.EXPIRED
    assert db.get(Appointment, second.offer_appointment_id).starts_at == THURSDAY_9
    assert [j.recipient_user_id for j in _offer_jobs(db)] == [person(db, "orangtua").id, person(db, "guru").id]
    assert _audit(db, "waitlist.offer_lapsed") == 1


def test_accepting_turns_the_hold_into_an_ordinary_request(db, scarce):
    entry = _join(db, scarce, "orangtua")
    _cancel_the_taken_hour(db)
    _round(db)
    appointment = service.accept(db, _visitor(db, "orangtua"), entry.id)
    db.commit()
    assert (appointment.status, appointment.requester_user_id, appointment.starts_at) == (
        AppointmentStatus.REQUESTED, person(db, "orangtua").id, THURSDAY_9)
    assert appointment.hold_expires_at == NOW + timedelta(hours=24)
    assert _fresh(db, entry).status == EntryStatus.BOOKED
    requested = db.execute(select(NotificationJob).where(
        NotificationJob.kind == "appointment_requested", NotificationJob.object_id == appointment.id)).scalar_one()
    assert requested.recipient_user_id == person(db, "konselor").id
    # The counselor confirms it as any request.
    appointments.confirm(db, appointment, person(db, "konselor"), version=appointment.version)
    db.commit()
    assert db.get(Appointment, appointment.id).status == AppointmentStatus.CONFIRMED
    assert _audit(db, "waitlist.accepted") == 1


def test_an_offer_cannot_be_taken_after_its_hold_lapsed(db, scarce, pinned_clock):
    entry = _join(db, scarce, "orangtua")
    _cancel_the_taken_hour(db)
    _round(db)
    pinned_clock.move_to(NOW + timedelta(minutes=31))
    with pytest.raises(service.WaitlistError, match="sudah lewat"):
        service.accept(db, _visitor(db, "orangtua"), entry.id)
    db.rollback()
    assert _fresh(db, entry).status == EntryStatus.OFFERED


def test_skipping_keeps_the_place_and_hands_the_time_on(db, scarce):
    first, second = _join(db, scarce, "orangtua"), _join(db, scarce, "guru")
    _cancel_the_taken_hour(db)
    _round(db)
    service.skip(db, _visitor(db, "orangtua"), first.id)
    db.commit()
    _round(db)
    assert _fresh(db, first).status == EntryStatus.WAITING
    assert _fresh(db, second).status == EntryStatus.OFFERED


def test_leaving_lets_a_held_time_go(db, scarce):
    entry = _join(db, scarce, "orangtua")
    _cancel_the_taken_hour(db)
    _round(db)
    held = _fresh(db, entry).offer_appointment_id
    service.leave(db, _visitor(db, "orangtua"), entry.id)
    db.commit()
    assert _fresh(db, entry).status == EntryStatus.LEFT
    assert db.get(Appointment, held).is_live is False
    assert _audit(db, "waitlist.exited") == 1
    assert [j.status for j in _offer_jobs(db)] == ["cancelled"]  # the push not yet sent is not sent


def test_new_weekly_hours_and_a_counselor_back_from_leave_open_times(db, scarce):
    entry = _join(db, scarce, "orangtua")
    counselor = person(db, "konselor2")
    away = AvailabilityException(counselor_id=counselor.id, starts_at=NOW, ends_at=NOW + timedelta(days=30))
    db.add(away)
    db.add(WeeklyHours(counselor_id=counselor.id, weekday=4, starts=time(9), ends=time(10),
                       service_type_id=scarce.id))
    db.commit()
    assert _round(db).offered == 0  # new hours, but she is away
    assert availability.remove_time_away(db, counselor, counselor, away.id, ip="")
    db.commit()
    assert _round(db).offered == 1
    held = db.get(Appointment, _fresh(db, entry).offer_appointment_id)
    assert held.counselor_id == counselor.id


def test_an_offer_the_schedule_no_longer_gives_is_withdrawn(db, scarce):
    entry = _join(db, scarce, "orangtua")
    _cancel_the_taken_hour(db)
    _round(db)
    held = _fresh(db, entry).offer_appointment_id
    counselor = person(db, "konselor")
    away, _errors = availability.check_time_away(counselor, {"away_from": "2026-12-03T08:00",
                                                            "away_until": "2026-12-03T12:00", "away_reason": "leave"})
    # The held time is nobody's session: the counselor is not warned of a clash with it.
    assert availability.add_time_away(db, counselor, away, ip="") is False
    db.commit()
    result = _round(db)
    assert (result.withdrawn, result.offered) == (1, 0)
    assert _fresh(db, entry).status == EntryStatus.WAITING
    assert db.get(Appointment, held).is_live is False
    assert [j.status for j in _offer_jobs(db)] == ["cancelled"]
    assert _audit(db, "waitlist.offer_withdrawn") == 1


@pytest.mark.parametrize("ending", ["declined", "expired"])
def test_a_request_declined_or_left_unanswered_opens_its_time(db, scarce, pinned_clock, ending):
    _cancel_the_taken_hour(db)
    request = appointments.request_appointment(db, _visitor(db, "guru"), service_type_id=scarce.id,
                                               starts_at=THURSDAY_9, child_agreed="yes", hold=timedelta(hours=2))
    db.commit()
    entry = _join(db, scarce, "orangtua")
    assert _round(db).offered == 0
    if ending == "declined":
        appointments.decline(db, request, person(db, "konselor"), version=request.version, reason="Penuh")
        db.commit()
    else:
        pinned_clock.move_to(NOW + timedelta(hours=2))  # the request's hold runs out unanswered
        assert appointments.expire_unanswered(db) == [request.id]
        db.commit()
    assert _round(db).offered == 1
    assert db.get(Appointment, _fresh(db, entry).offer_appointment_id).starts_at == THURSDAY_9


def test_entries_expire_after_six_weeks(db, scarce, pinned_clock):
    entry = _join(db, scarce, "orangtua")
    pinned_clock.move_to(NOW + timedelta(days=42))
    assert _round(db).expired == 1
    assert _fresh(db, entry).status == EntryStatus.EXPIRED


# --- who may do what ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["guru", "anak", "konselor", "supervisor", None])
def test_someone_else_can_neither_take_skip_nor_leave_an_entry(db, scarce, who):
    """Another person, staff, or a stranger (nobody signed in, no code)."""
    entry = _join(db, scarce, "orangtua")
    _cancel_the_taken_hour(db)
    _round(db)
    before = _fresh(db, entry).version
    for action in (service.accept, service.skip, service.leave):
        with pytest.raises(service.NotYours):
            action(db, _visitor(db, who) if who else Visitor(), entry.id)
        db.rollback()
    assert (_fresh(db, entry).status, _fresh(db, entry).version) == (EntryStatus.OFFERED, before)


def test_a_code_holder_owns_only_their_case_s_entry(app, db, scarce):
    mine, theirs = make_report(app, db).report, make_report(app, db).report
    entry = service.join(db, Visitor(case_report_id=mine.id), service_type_id=scarce.id)
    db.commit()
    for stranger in (Visitor(case_report_id=theirs.id), Visitor(user=person(db, "orangtua"))):
        with pytest.raises(service.NotYours):
            service.leave(db, stranger, entry.id)
        db.rollback()
    assert _fresh(db, entry).status == EntryStatus.WAITING
    service.leave(db, Visitor(case_report_id=entry.report_id), entry.id)
    db.commit()
    assert _fresh(db, entry).status == EntryStatus.LEFT


# --- pages --------------------------------------------------------------------------------------------------


def test_the_booking_page_offers_the_list_when_nothing_is_free(as_user, db, scarce):
    parent = as_user("orangtua")
    page = parent.get(f"/konseling?layanan={scarce.id}")
    assert page.status_code == 200
    assert "Belum ada waktu kosong untuk layanan ini." in page.text
    assert "Masuk daftar tunggu" in page.text
    assert "Waktu itu kami simpan sebentar untuk Anda." in page.text  # an adult is spoken to as "Anda"
    child_page = as_user("anak").get(f"/konseling?layanan={scarce.id}")
    assert child_page.status_code == 200
    assert "Waktu itu kami simpan sebentar untukmu." in child_page.text
    joined = post_form(parent, "/daftar-tunggu", {"layanan": scarce.id}, token_from="/konseling",
                       follow_redirects=False)
    assert joined.status_code == 303
    assert joined.headers["location"] == "/daftar-tunggu?pesan=masuk"
    mine = parent.get("/daftar-tunggu?pesan=masuk")
    assert mine.status_code == 200
    assert "Anda masuk daftar tunggu" in mine.text
    assert "Konseling keluarga" in mine.text


def test_another_person_gets_not_found_and_changes_nothing(as_user, make_client, db, scarce):
    entry = _join(db, scarce, "orangtua")
    _cancel_the_taken_hour(db)
    _round(db)
    teacher = as_user("guru")
    assert teacher.get(f"/daftar-tunggu/{entry.id}").status_code == 404
    for action in ("ambil", "lewati", "keluar"):
        response = post_form(teacher, f"/daftar-tunggu/{entry.id}/{action}", {}, token_from="/konseling")
        assert response.status_code == 404
    stranger = make_client()
    page = stranger.get(f"/daftar-tunggu/{entry.id}")
    assert page.status_code == 200
    assert "Cek laporan" in page.text
    assert "Ambil waktu ini" not in page.text
    for action in ("ambil", "lewati", "keluar"):
        response = post_form(stranger, f"/daftar-tunggu/{entry.id}/{action}", {}, token_from="/masuk")
        assert response.status_code == 404
    assert _fresh(db, entry).status == EntryStatus.OFFERED


def test_the_owner_takes_the_offer_from_the_page(as_user, db, scarce):
    entry = _join(db, scarce, "orangtua")
    _cancel_the_taken_hour(db)
    _round(db)
    parent = as_user("orangtua")
    told = parent.get("/notifikasi")
    assert told.status_code == 200
    assert "Ada waktu konseling kosong untuk Anda." in told.text
    assert f'href="/daftar-tunggu/{entry.id}"' in told.text
    page = parent.get(f"/daftar-tunggu/{entry.id}")
    assert page.status_code == 200
    assert "Ada waktu kosong untuk Anda:" in page.text
    assert "Ambil waktu ini" in page.text
    taken = post_form(parent, f"/daftar-tunggu/{entry.id}/ambil", {}, token_from="/konseling",
                      follow_redirects=False)
    assert taken.status_code == 303
    appointment_id = int(taken.headers["location"].split("/")[2].split("?")[0])
    assert db.get(Appointment, appointment_id).status == AppointmentStatus.REQUESTED


def test_counselors_and_supervisors_see_how_long_people_wait(as_user, db, scarce, pinned_clock):
    _join(db, scarce, "orangtua")
    pinned_clock.move_to(NOW + timedelta(days=1, hours=12))
    _join(db, scarce, "guru")
    for who in ("konselor", "supervisor"):
        response = as_user(who).get("/jadwal/daftar-tunggu")
        assert response.status_code == 200
        assert "Konseling keluarga" in response.text
        assert "<td>2</td>" in response.text
        assert "<td>1,5</td>" in response.text  # the longest wait now, in days, with a decimal comma
        assert "orangtua" not in response.text
    for who in ("orangtua", "anak", "guru"):
        assert as_user(who).get("/jadwal/daftar-tunggu").status_code == 404


def test_a_teacher_taking_an_offer_is_asked_whether_the_student_agrees_next_to_the_question(as_user, db, scarce):
    entry = _join(db, scarce, "guru")
    _cancel_the_taken_hour(db)
    _round(db)
    teacher = as_user("guru")
    refused = post_form(teacher, f"/daftar-tunggu/{entry.id}/ambil", {}, token_from="/konseling")
    assert refused.status_code == 422
    assert 'id="error-child_agreed"' in refused.text
    assert "Apakah murid setuju dengan jadwal konseling ini? Pilih salah satu." in refused.text
    assert _fresh(db, entry).status == EntryStatus.OFFERED
    taken = post_form(teacher, f"/daftar-tunggu/{entry.id}/ambil", {"child_agreed": "yes"}, token_from="/konseling",
                      follow_redirects=False)
    assert taken.status_code == 303
    assert _fresh(db, entry).status == EntryStatus.BOOKED


def test_the_counselor_sees_a_held_time_as_offered_from_the_waiting_list(as_user, db, scarce):
    entry = _join(db, scarce, "orangtua")
    _cancel_the_taken_hour(db)
    _round(db)
    page = as_user("konselor").get(f"/jadwal/{_fresh(db, entry).offer_appointment_id}")
    assert page.status_code == 200
    assert "Ditawarkan dari daftar tunggu" in page.text


def test_no_offer_is_made_at_night(db, scarce, pinned_clock):
    entry = _join(db, scarce, "orangtua")
    pinned_clock.move_to(datetime(2026, 12, 1, 22, 0, tzinfo=LOCAL))
    _cancel_the_taken_hour(db)
    assert _round(db).offered == 0
    assert _fresh(db, entry).status == EntryStatus.WAITING
    assert _offer_jobs(db) == []
    pinned_clock.move_to(datetime(2026, 12, 2, 6, 59, tzinfo=LOCAL))
    assert _round(db).offered == 0
    pinned_clock.move_to(datetime(2026, 12, 2, 7, 0, tzinfo=LOCAL))
    assert _round(db).offered == 1
    [job] = _offer_jobs(db)
    assert job.due_at == datetime(2026, 12, 2, 7, 0, tzinfo=LOCAL)



def test_once_a_hold_lapsed_anyone_may_book_the_time_before_the_worker_comes(db, scarce, pinned_clock):
    entry = _join(db, scarce, "orangtua")
    _cancel_the_taken_hour(db)
    _round(db)
    pinned_clock.move_to(NOW + timedelta(minutes=31))
    booked = appointments.request_appointment(db, _visitor(db, "guru"), service_type_id=scarce.id,
                                              starts_at=THURSDAY_9, child_agreed="yes")
    db.commit()
    assert booked.status == AppointmentStatus.REQUESTED
    assert _round(db).lapsed == 1
    assert _fresh(db, entry).status == EntryStatus.WAITING
