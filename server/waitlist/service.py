"""The waiting list's rules: joining when no time is free, offers that hold a time for the first in line, taking
or skipping an offer, leaving, and how long people wait.

Free time appears when the schedule changes: a request cancelled, declined or expired, new weekly hours, time
away removed, a service type changed. Each of those raises `schedule_version` in its own transaction
(server/appointments/freshness.py); the worker's round (`offer_round`) looks for free time again whenever that
number moved (or a new half hour came into the booking window, or someone joined), and offers each free time to
the first person of that service type's list (first come, first served) who can take it. The offer holds the time
as an appointment row in the state `offered`: the database's overlap rule refuses everyone else that time until
the hold lapses (WAITLIST_HOLD_MINUTES); then the round offers it to the next person. The person who let it lapse
or skipped it keeps their place, and is not offered that time again.

Every change is audited; an entry is seen and changed only by the person who joined (the signed-in account, or
the holder of the case code it was made with)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from server import audit, clock
from server.accounts.models import Role, User
from server.accounts.service import children_of
from server.accounts.visitor import Visitor
from server.appointments import service as appointments
from server.appointments.models import Appointment, AppointmentStatus, ScheduleVersion, ServiceType
from server.appointments.slots import SLOT_STEP, Slot, block_of, free_slots
from server.db import existing, rows_changed
from server.i18n import LOCAL
from server.i18n import gettext as _
from server.notifications import outbox
from server.notifications.models import NotificationJob
from server.waitlist.models import (
    OPEN_STATUSES,
    EntryStatus,
    OfferOutcome,
    WaitlistEntry,
    WaitlistOffer,
)

DEFAULT_HOLD = timedelta(minutes=30)
DEFAULT_KEEP = timedelta(days=42)
OFFER_KIND = "waitlist_offer"


class WaitlistError(Exception):
    """A change to the waiting list that is not allowed; the message is for the person who tried it, shown next to
    `field` (or above the form)."""

    def __init__(self, message: str, field: str = "form") -> None:
        super().__init__(message)
        self.field = field


class NotYours(WaitlistError):
    """The entry belongs to someone else (the pages answer "not found")."""


# --- who owns an entry ---------------------------------------------------------------------------------------


def _owner_filter(owner: Visitor):
    if owner.user is not None:
        return col(WaitlistEntry.requester_user_id) == owner.user.id
    return (col(WaitlistEntry.report_id) == owner.case_report_id) & col(WaitlistEntry.requester_user_id).is_(None)


def is_owner(entry: WaitlistEntry, owner: Visitor) -> bool:
    if entry.requester_user_id is not None:
        return owner.user is not None and owner.user.active and owner.user.id == entry.requester_user_id
    return owner.user is None and owner.case_report_id is not None and owner.case_report_id == entry.report_id


def may_join(owner: Visitor) -> bool:
    """Who books may wait: a signed-in child, parent or teacher, or the holder of a case code."""
    if owner.user is not None:
        return owner.user.active and owner.user.role in (Role.CHILD, Role.PARENT, Role.TEACHER)
    return owner.case_report_id is not None


def entries_of(session: Session, owner: Visitor) -> list[WaitlistEntry]:
    """The person's entries, open ones first, newest first."""
    return list(session.execute(
        select(WaitlistEntry).where(_owner_filter(owner))
        .order_by(col(WaitlistEntry.status).in_(list(OPEN_STATUSES)).desc(), col(WaitlistEntry.created_at).desc(),
                  col(WaitlistEntry.id).desc()).limit(20)
    ).scalars())


def entry_of(session: Session, owner: Visitor, entry_id: int) -> WaitlistEntry:
    """The entry, if it is the person's own; NotYours otherwise (whether or not it exists)."""
    entry = session.get(WaitlistEntry, entry_id)
    if entry is None or not is_owner(entry, owner):
        raise NotYours(_("Daftar tunggu ini tidak ditemukan."))
    return entry


# --- joining and leaving -------------------------------------------------------------------------------------


def _constraint(session: Session, owner: Visitor) -> int | None:
    """The counselor whose time the person waits for: the one of their case (as when booking), else anyone."""
    return appointments.continuity_counselor(session, owner)


def _free(session: Session, service_type: ServiceType, counselor_id: int | None, now: datetime) -> list[Slot]:
    """Every bookable slot of the service type's booking window, earliest first."""
    found = free_slots(session, service_type, now=now, days=service_type.max_days_ahead + 2,
                       counselor_id=counselor_id)
    return [slot for day in sorted(found) for slot in found[day]]


def join(session: Session, owner: Visitor, *, service_type_id: int, child_id: int | None = None,
         ip: str = "", now: datetime | None = None, keep: timedelta = DEFAULT_KEEP) -> WaitlistEntry:
    """Put the person on the service type's list. Refused while a time is free (they can book it) and when they
    already wait for it."""
    now = now or clock.now()
    if not may_join(owner):
        raise appointments.NotAllowed(_("Hanya yang bisa meminta konseling yang bisa masuk daftar tunggu."))
    service_type = session.get(ServiceType, service_type_id)
    if service_type is None or not service_type.active:
        raise WaitlistError(_("Pilih layanan dari daftar."))
    if child_id is not None and not (owner.user is not None and owner.user.role == Role.PARENT
                                     and child_id in {c.id for c in children_of(session, owner.user.id)}):
        raise WaitlistError(_("Pilih anak Anda dari daftar."))
    if _free(session, service_type, _constraint(session, owner), now):
        raise WaitlistError(_("Masih ada waktu kosong untuk layanan ini. Pilih salah satu dari daftar."))
    if session.execute(select(col(WaitlistEntry.id)).where(
        _owner_filter(owner), col(WaitlistEntry.service_type_id) == service_type.id,
        col(WaitlistEntry.status).in_(list(OPEN_STATUSES)),
    )).first() is not None:
        raise WaitlistError(_("Anda sudah ada di daftar tunggu layanan ini."))
    entry = WaitlistEntry(
        service_type_id=service_type.id, requester_user_id=owner.user.id if owner.user else None,
        report_id=owner.case_report_id if owner.user is None else None, child_id=child_id,
        expires_at=now + keep, created_at=now, updated_at=now,
    )
    session.add(entry)
    session.flush()
    audit.record(session, "waitlist.joined", actor_id=owner.user.id if owner.user else None, actor_label=owner.label,
                 object_type="waitlist_entry", object_id=entry.id, ip=ip, service_type_id=service_type.id)
    return entry


def _entry_changed(session: Session, entry: WaitlistEntry, current: EntryStatus, **values: object) -> bool:
    """A conditional update: only the entry as it was read (same version and state)."""
    result = session.execute(
        update(WaitlistEntry)
        .where(col(WaitlistEntry.id) == entry.id, col(WaitlistEntry.version) == entry.version,
               col(WaitlistEntry.status) == current)
        .values(version=col(WaitlistEntry.version) + 1, updated_at=clock.now(), **values)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        return False
    session.refresh(entry)
    return True


def _release_hold(session: Session, entry: WaitlistEntry, outcome: OfferOutcome, now: datetime) -> None:
    """Let the offered time go (it is free again for the next in line) and note what became of the offer."""
    if entry.offer_appointment_id is None:
        return
    session.execute(
        update(Appointment)
        .where(col(Appointment.id) == entry.offer_appointment_id, col(Appointment.status) == AppointmentStatus.OFFERED)
        .values(status=AppointmentStatus.EXPIRED if outcome == OfferOutcome.LAPSED else AppointmentStatus.CANCELLED,
                is_live=False, version=col(Appointment.version) + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    _close_offer(session, entry, outcome, now)


def _close_offer(session: Session, entry: WaitlistEntry, outcome: OfferOutcome, now: datetime) -> None:
    session.execute(
        update(WaitlistOffer)
        .where(col(WaitlistOffer.entry_id) == entry.id, col(WaitlistOffer.appointment_id) == entry.offer_appointment_id,
               col(WaitlistOffer.outcome) == OfferOutcome.OPEN)
        .values(outcome=outcome, answered_at=now)
    )
    outbox.cancel_pending(session, object_type="waitlist_entry", object_id=entry.id)


def leave(session: Session, owner: Visitor, entry_id: int, *, ip: str = "", now: datetime | None = None) -> None:
    """Leave the list; a time held for the person is let go at once."""
    now = now or clock.now()
    entry = entry_of(session, owner, entry_id)
    if entry.status not in OPEN_STATUSES:
        raise WaitlistError(_("Anda sudah tidak ada di daftar tunggu ini."))
    held = entry.offer_appointment_id
    if entry.status == EntryStatus.OFFERED:
        _release_hold(session, entry, OfferOutcome.SKIPPED, now)
    if not _entry_changed(session, entry, EntryStatus(entry.status), status=EntryStatus.LEFT, ended_at=now,
                          offer_appointment_id=None, offer_expires_at=None):
        raise WaitlistError(_("Daftar tunggu ini baru saja berubah. Lihat keadaan terbaru."))
    audit.record(session, "waitlist.exited", actor_id=owner.user.id if owner.user else None, actor_label=owner.label,
                 object_type="waitlist_entry", object_id=entry.id, ip=ip, released_appointment=held)


def skip(session: Session, owner: Visitor, entry_id: int, *, ip: str = "", now: datetime | None = None) -> None:
    """Not this time: the time goes to the next in line; the person keeps their place for another time."""
    now = now or clock.now()
    entry = entry_of(session, owner, entry_id)
    if entry.status != EntryStatus.OFFERED:
        raise WaitlistError(_("Tidak ada waktu yang sedang ditawarkan kepada Anda."))
    held = entry.offer_appointment_id
    _release_hold(session, entry, OfferOutcome.SKIPPED, now)
    if not _entry_changed(session, entry, EntryStatus.OFFERED, status=EntryStatus.WAITING,
                          offer_appointment_id=None, offer_expires_at=None):
        raise WaitlistError(_("Daftar tunggu ini baru saja berubah. Lihat keadaan terbaru."))
    audit.record(session, "waitlist.skipped", actor_id=owner.user.id if owner.user else None,
                 actor_label=owner.label, object_type="waitlist_entry", object_id=entry.id, ip=ip,
                 released_appointment=held)


def accept(session: Session, owner: Visitor, entry_id: int, *, phone: str = "", child_agreed: str = "",
           ip: str = "", now: datetime | None = None,
           reminder_hours: tuple[int, ...] = appointments.DEFAULT_REMINDER_HOURS) -> Appointment:
    """Take the time offered: the hold becomes an ordinary request (the counselor confirms it), or a confirmed
    session where the service type needs no confirmation."""
    now = now or clock.now()
    entry = entry_of(session, owner, entry_id)
    if entry.status != EntryStatus.OFFERED or entry.offer_appointment_id is None:
        raise WaitlistError(_("Tidak ada waktu yang sedang ditawarkan kepada Anda."))
    if entry.offer_expires_at is None or entry.offer_expires_at <= now:
        raise WaitlistError(_("Waktu yang ditawarkan sudah lewat batasnya. Anda tetap di daftar tunggu."))
    held = existing(session, Appointment, entry.offer_appointment_id)
    service_type = existing(session, ServiceType, held.service_type_id)
    requester = Visitor(user=owner.user) if owner.user is not None else Visitor(case_report_id=owner.case_report_id)
    try:
        number = appointments.number_to_call(session, requester, service_type, phone)
    except appointments.BookingError as exc:
        raise WaitlistError(str(exc), field="phone_number") from exc
    if owner.user is not None and owner.user.role == Role.TEACHER and child_agreed not in appointments.CHILD_AGREED:
        raise WaitlistError(_("Apakah murid setuju dengan jadwal konseling ini? Pilih salah satu."),
                            field="child_agreed")
    if appointments.open_requests(session, requester) >= appointments.MAX_OPEN_REQUESTS:
        raise WaitlistError(_("Anda sudah punya %(n)s permintaan yang menunggu jawaban. Tunggu jawaban konselor dulu.",
                              n=appointments.MAX_OPEN_REQUESTS))
    confirmed = not service_type.needs_confirmation
    taken = rows_changed(session.execute(
        update(Appointment)
        .where(col(Appointment.id) == held.id, col(Appointment.status) == AppointmentStatus.OFFERED,
               col(Appointment.hold_expires_at) > now)
        .values(status=AppointmentStatus.CONFIRMED if confirmed else AppointmentStatus.REQUESTED,
                hold_expires_at=None if confirmed else min(now + appointments.DEFAULT_HOLD, held.starts_at),
                requester_user_id=owner.user.id if owner.user else None,
                report_id=owner.case_report_id if owner.user is None else entry.report_id,
                child_id=entry.child_id, child_agreed=child_agreed if owner.user and owner.user.role == Role.TEACHER
                else "", phone_number=number, version=col(Appointment.version) + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ))
    if taken != 1:
        raise WaitlistError(_("Waktu yang ditawarkan sudah lewat batasnya. Anda tetap di daftar tunggu."))
    _close_offer(session, entry, OfferOutcome.ACCEPTED, now)
    if not _entry_changed(session, entry, EntryStatus.OFFERED, status=EntryStatus.BOOKED, ended_at=now,
                          offer_expires_at=None):
        raise WaitlistError(_("Daftar tunggu ini baru saja berubah. Lihat keadaan terbaru."))
    session.refresh(held)
    actor_id = owner.user.id if owner.user else None
    audit.record(session, "waitlist.accepted", actor_id=actor_id, actor_label=owner.label,
                 object_type="waitlist_entry", object_id=entry.id, ip=ip, appointment_id=held.id)
    audit.record(session, "appointment.requested", actor_id=actor_id, actor_label=owner.label,
                 object_type="appointment", object_id=held.id, ip=ip, from_waitlist=True)
    if confirmed:
        appointments._schedule_reminders(session, held, now, reminder_hours)
    appointments._notify_counselor(session, held, "appointment_requested")
    return held


# --- the worker's round --------------------------------------------------------------------------------------


@dataclass
class RoundResult:
    lapsed: int = 0
    expired: int = 0
    withdrawn: int = 0
    offered: int = 0


_last_scan: dict[str, tuple[object, ...]] = {}


def _scan_key(session: Session, now: datetime) -> tuple[object, ...]:
    """What decides whether free time may have appeared since the last round: the schedule's version (raised by
    every change to it), the half hour (a new one enters the booking window), and who waits."""
    version = session.execute(select(col(ScheduleVersion.n)).where(col(ScheduleVersion.id) == 1)).scalar()
    waiting = session.execute(select(func.count(), func.max(col(WaitlistEntry.updated_at))).where(
        col(WaitlistEntry.status) == EntryStatus.WAITING)).one()
    step = int(now.timestamp()) // int(SLOT_STEP.total_seconds())
    return (version, step, waiting[0], waiting[1])


def offer_round(session: Session, *, hold: timedelta = DEFAULT_HOLD, now: datetime | None = None,
                always: bool = False, quiet_hours: bool = True) -> RoundResult:
    """Let lapsed offers go, end entries past their time, then offer free times to the first in line. The caller
    commits. The search for free time runs only when something it depends on changed (or `always`), and with
    `quiet_hours` never between 21.00 and 07.00 local time (the times stay free to book; the first round after 07.00
    offers what is left)."""
    now = now or clock.now()
    result = RoundResult()
    result.lapsed = _lapse_offers(session, now)
    result.expired = _expire_entries(session, now)
    session.flush()
    if quiet_hours and outbox.outside_quiet_hours(now) != now:
        return result
    key = _scan_key(session, now)
    where = str(session.get_bind().engine.url)
    if not always and _last_scan.get(where) == key:
        return result
    result.withdrawn = _withdraw_unfit_offers(session, now)
    result.offered = _offer_free_times(session, hold, now)
    session.flush()
    _last_scan[where] = _scan_key(session, now) if not result.offered else ()
    return result


def _lapse_offers(session: Session, now: datetime) -> int:
    """Offers whose hold ran out (or whose time someone else took after it ran out): back to waiting."""
    rows = list(session.execute(
        select(WaitlistEntry)
        .join(Appointment, col(Appointment.id) == col(WaitlistEntry.offer_appointment_id), isouter=True)
        .where(col(WaitlistEntry.status) == EntryStatus.OFFERED,
               (col(WaitlistEntry.offer_expires_at) <= now) | (col(Appointment.status) != AppointmentStatus.OFFERED))
    ).scalars())
    lapsed = 0
    for entry in rows:
        held = entry.offer_appointment_id
        _release_hold(session, entry, OfferOutcome.LAPSED, now)
        if _entry_changed(session, entry, EntryStatus.OFFERED, status=EntryStatus.WAITING,
                          offer_appointment_id=None, offer_expires_at=None):
            audit.record(session, "waitlist.offer_lapsed", actor_label="worker", object_type="waitlist_entry",
                         object_id=entry.id, released_appointment=held)
            lapsed += 1
    return lapsed


def _withdraw_unfit_offers(session: Session, now: datetime) -> int:
    """Offers whose time the schedule no longer gives (the counselor's leave or a holiday added over it, their
    hours removed, the service changed): the hold is let go and the person waits on in their place."""
    rows = list(session.execute(
        select(WaitlistEntry, Appointment)
        .join(Appointment, col(Appointment.id) == col(WaitlistEntry.offer_appointment_id))
        .where(col(WaitlistEntry.status) == EntryStatus.OFFERED, col(Appointment.status) == AppointmentStatus.OFFERED)
    ).all())
    withdrawn = 0
    for entry, held in rows:
        service_type = existing(session, ServiceType, held.service_type_id)
        day = held.starts_at.astimezone(LOCAL).date()
        still = free_slots(session, service_type, now=now, first_day=day, days=1, counselor_id=held.counselor_id,
                           within_notice=True, ignoring=held.id).get(day, [])
        if service_type.active and any(slot.starts_at == held.starts_at for slot in still):
            continue
        _release_hold(session, entry, OfferOutcome.LAPSED, now)
        if _entry_changed(session, entry, EntryStatus.OFFERED, status=EntryStatus.WAITING,
                          offer_appointment_id=None, offer_expires_at=None):
            audit.record(session, "waitlist.offer_withdrawn", actor_label="worker", object_type="waitlist_entry",
                         object_id=entry.id, released_appointment=held.id)
            withdrawn += 1
    return withdrawn


def _expire_entries(session: Session, now: datetime) -> int:
    rows = list(session.execute(
        select(WaitlistEntry)
        .where(col(WaitlistEntry.status) == EntryStatus.WAITING, col(WaitlistEntry.expires_at) <= now)
    ).scalars())
    expired = 0
    for entry in rows:
        if _entry_changed(session, entry, EntryStatus.WAITING, status=EntryStatus.EXPIRED, ended_at=now):
            audit.record(session, "waitlist.expired", actor_label="worker", object_type="waitlist_entry",
                         object_id=entry.id)
            expired += 1
    return expired


def _offer_free_times(session: Session, hold: timedelta, now: datetime) -> int:
    waiting = list(session.execute(
        select(WaitlistEntry).join(ServiceType, col(ServiceType.id) == col(WaitlistEntry.service_type_id))
        .where(col(WaitlistEntry.status) == EntryStatus.WAITING, col(ServiceType.active))
        .order_by(col(WaitlistEntry.service_type_id), col(WaitlistEntry.created_at), col(WaitlistEntry.id))
    ).scalars())
    offered = 0
    free: dict[tuple[int, int | None], list[Slot]] = {}
    for entry in waiting:
        service_type = existing(session, ServiceType, entry.service_type_id)
        # Nothing free for anyone: nothing free for a counselor of one's own either, so the rest of this service's
        # list need not be looked at one by one.
        if (service_type.id, None) not in free:
            free[(service_type.id, None)] = _free(session, service_type, None, now)
        if not free[(service_type.id, None)]:
            continue
        owner = _owner_of(session, entry)
        if owner is None:
            continue
        counselor_id = _constraint(session, owner)
        key = (service_type.id, counselor_id)
        if key not in free:
            free[key] = _free(session, service_type, counselor_id, now)
        if not free[key]:
            continue
        had = set(session.execute(
            select(col(WaitlistOffer.starts_at)).where(col(WaitlistOffer.entry_id) == entry.id)).scalars())
        slot = next((slot for slot in free[key] if slot.starts_at not in had), None)
        if slot is None:
            continue
        if _offer(session, entry, service_type, slot, hold, now):
            offered += 1
        # The time is held now (or someone took it meanwhile): work the free times out again for whoever is next.
        free = {}
    return offered


def _owner_of(session: Session, entry: WaitlistEntry) -> Visitor | None:
    if entry.requester_user_id is not None:
        user = session.get(User, entry.requester_user_id)
        return Visitor(user=user) if user is not None and user.active else None
    return Visitor(case_report_id=entry.report_id)


def _offer(session: Session, entry: WaitlistEntry, service_type: ServiceType, slot: Slot, hold: timedelta,
           now: datetime) -> bool:
    """Hold the slot for the entry and tell them, all or nothing: the database refuses the hold if the time was
    taken meanwhile, and another worker may have offered this entry something already."""
    block_start, block_end = block_of(service_type, slot.starts_at)
    expires = min(now + hold, slot.starts_at)
    held = Appointment(counselor_id=slot.counselor_id, service_type_id=service_type.id, starts_at=slot.starts_at,
                       ends_at=slot.ends_at, block_start=block_start, block_end=block_end,
                       status=AppointmentStatus.OFFERED, hold_expires_at=expires, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(held)
            session.flush()
            if not _entry_changed(session, entry, EntryStatus.WAITING, status=EntryStatus.OFFERED,
                                  offer_appointment_id=held.id, offer_expires_at=expires):
                raise _Lost()
            session.add(WaitlistOffer(entry_id=entry.id, appointment_id=held.id, starts_at=slot.starts_at,
                                      offered_at=now))
            session.flush()
    except (IntegrityError, _Lost):
        session.expire(entry)
        return False
    audit.record(session, "waitlist.offered", actor_label="worker", object_type="waitlist_entry",
                 object_id=entry.id, appointment_id=held.id)
    # Discreet like every push: the service's name and "there is news"; the in-app item says a time is free.
    outbox.enqueue(session, OFFER_KIND, url=f"/daftar-tunggu/{entry.id}", topic=f"wait-{entry.id}",
                   user_ids=[entry.requester_user_id] if entry.requester_user_id else [],
                   report_id=entry.report_id if entry.requester_user_id is None else None, urgency="high",
                   object_type="waitlist_entry", object_id=entry.id, object_version=entry.version, event_at=expires)
    return True


class _Lost(Exception):
    """Another round offered this entry a time first."""


def _job_still_applies(session: Session, job: NotificationJob, now: datetime) -> bool:
    """An offer's push is worth sending while that very offer is open and its hold has not run out."""
    entry = session.get(WaitlistEntry, job.object_id)
    return (entry is not None and entry.status == EntryStatus.OFFERED and entry.version == job.object_version
            and entry.offer_expires_at is not None and entry.offer_expires_at > now)


outbox.register_check("waitlist_entry", _job_still_applies)


# --- how long people wait (counselors, supervisors) ----------------------------------------------------------


@dataclass(frozen=True)
class WaitRow:
    service_type: str
    waiting_now: int
    longest_now_days: float | None
    booked_this_month: int
    median_days: float | None
    longest_days: float | None


def may_see_waits(user: User | None) -> bool:
    return user is not None and user.active and user.role in (Role.COUNSELOR, Role.SUPERVISOR)


def waits(session: Session, viewer: User | None, *, now: datetime | None = None) -> list[WaitRow]:
    """Per service type: who waits now and for how long the longest has, and of those who got a time this month
    (local time), the median and longest wait in days. Counts only, never who."""
    if not may_see_waits(viewer):
        raise appointments.NotAllowed(_("Hanya konselor dan supervisor yang bisa melihat daftar tunggu."))
    now = now or clock.now()
    today = now.astimezone(LOCAL).date()
    month_start = datetime.combine(date(today.year, today.month, 1), datetime.min.time(), tzinfo=LOCAL)
    rows = session.execute(
        select(col(ServiceType.name), col(WaitlistEntry.status), col(WaitlistEntry.created_at),
               col(WaitlistEntry.ended_at))
        .join(ServiceType, col(ServiceType.id) == col(WaitlistEntry.service_type_id))
        .where((col(WaitlistEntry.status).in_(list(OPEN_STATUSES)))
               | ((col(WaitlistEntry.status) == EntryStatus.BOOKED) & (col(WaitlistEntry.ended_at) >= month_start)))
    ).all()
    by_type: dict[str, tuple[list[float], list[float]]] = {}
    for name, status, created_at, ended_at in rows:
        now_waits, done = by_type.setdefault(name, ([], []))
        if status in OPEN_STATUSES:
            now_waits.append((now - created_at).total_seconds() / 86400)
        else:
            done.append((ended_at - created_at).total_seconds() / 86400)
    return [WaitRow(name, len(now_waits), max(now_waits) if now_waits else None, len(done),
                    statistics.median(done) if done else None, max(done) if done else None)
            for name, (now_waits, done) in sorted(by_type.items())]
