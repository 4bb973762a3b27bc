"""Appointment rules: requesting a slot, the counselor's answer, cancelling and moving, attendance, expiry.

Every change that someone must hear about writes its notification jobs in the same transaction, and cancels
the jobs that no longer apply (reminders of a cancelled session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from server import audit, clock
from server.accounts.models import Guardianship, Role, User
from server.accounts.service import children_of
from server.accounts.visitor import Visitor
from server.appointments.access import is_requester, may_handle
from server.appointments.models import (
    HELD_STATUSES,
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    CallTask,
    Mode,
    ServiceType,
)
from server.appointments.slots import block_of, free_slots, parse_start
from server.db import existing, rows_changed
from server.forms import PostedForm, has_control_characters, unreadable_message
from server.i18n import LOCAL, format_local_date
from server.i18n import gettext as _
from server.notifications import consent, ladder, outbox
from server.notifications.models import NotificationJob
from server.privacy import phone as phones
from server.reports import access, case_views, cases
from server.reports.models import Report

MAX_OPEN_REQUESTS = 3
DEFAULT_HOLD = timedelta(hours=24)
# Hours before a session that both sides are reminded (REMINDER_HOURS); a reminder an hour or less before is
# urgent, so that a phone in power saving still shows it in time.
DEFAULT_REMINDER_HOURS = (24, 1)
NOTE_LIMIT = 500
ATTENDANCE_NOTE_LIMIT = 2000
CHILD_AGREED = ("yes", "no", "unsure")


class BookingError(Exception):
    """A booking change that is not allowed; the message is for the person who tried it."""


class SlotTaken(BookingError):
    """Someone else holds that time now."""


class NotAllowed(BookingError):
    """The person may not make this change (the pages never offer it; this is the service's own check)."""


def _check_handler(appointment: Appointment, user: User | None) -> None:
    if not may_handle(appointment, user):
        raise NotAllowed(_("Hanya konselor jadwal ini atau supervisor yang bisa mengubahnya."))


def _requester_filter(requester: Visitor):
    if requester.user is not None:
        return col(Appointment.requester_user_id) == requester.user.id
    return (col(Appointment.report_id) == requester.case_report_id) & col(Appointment.requester_user_id).is_(None)


def open_requests(session: Session, requester: Visitor) -> int:
    return session.execute(
        select(func.count()).select_from(Appointment)
        .where(_requester_filter(requester), col(Appointment.status) == AppointmentStatus.REQUESTED)
    ).scalar_one()


def expire_unanswered(session: Session, now: datetime | None = None) -> list[int]:
    """Requests not answered before their hold ran out stop holding the slot; the requester hears of it."""
    now = now or clock.now()
    stale = list(session.execute(select(col(Appointment.id), col(Appointment.version), col(Appointment.status)).where(
        col(Appointment.status).in_(HELD_STATUSES), col(Appointment.hold_expires_at) <= now
    )).all())
    expired = []
    for appointment_id, version, status in stale:
        # Conditional, like every change here: with several workers (or a booking) expiring at once, only one
        # of them expires a request and tells its requester.
        if not _changed(session, appointment_id, version, AppointmentStatus(status),
                        status=AppointmentStatus.EXPIRED, is_live=False):
            continue
        if status == AppointmentStatus.OFFERED:
            # A waiting-list offer nobody took: the time is free again; server/waitlist offers it to the next.
            continue
        appointment = existing(session, Appointment, appointment_id)
        session.refresh(appointment)
        _cancel_jobs(session, appointment)
        _notify_requester(session, appointment, "appointment_expired")
        expired.append(appointment_id)
    return expired


def _cancel_jobs(session: Session, appointment: Appointment) -> None:
    outbox.cancel_pending(session, object_type="appointment", object_id=appointment.id)


def _url(appointment: Appointment) -> str:
    return f"/konseling/{appointment.id}"


def _notify_requester(session: Session, appointment: Appointment, kind: str) -> None:
    outbox.enqueue(session, kind, url=_url(appointment), topic=f"appt-{appointment.id}-{kind}"[:32],
                   user_ids=[appointment.requester_user_id] if appointment.requester_user_id else [],
                   report_id=appointment.report_id if appointment.requester_user_id is None else None,
                   object_type="appointment", object_id=appointment.id, object_version=appointment.version,
                   event_at=appointment.starts_at)


def _notify_counselor(session: Session, appointment: Appointment, kind: str) -> None:
    outbox.enqueue(session, kind, url=f"/jadwal/{appointment.id}", topic=f"appt-{appointment.id}-{kind}"[:32],
                   user_ids=[appointment.counselor_id], object_type="appointment", object_id=appointment.id,
                   object_version=appointment.version, event_at=appointment.starts_at)


def _schedule_reminders(session: Session, appointment: Appointment, now: datetime,
                        reminder_hours: tuple[int, ...] = DEFAULT_REMINDER_HOURS) -> None:
    for hours in reminder_hours:
        kind, urgency = f"reminder_{hours}h", "high" if hours <= 1 else "normal"
        due = appointment.starts_at - timedelta(hours=hours)
        if due <= now:
            continue
        common: dict[str, Any] = dict(
            url=_url(appointment), topic=f"appt-{appointment.id}-{kind}"[:32], urgency=urgency, due_at=due,
            object_type="appointment", object_id=appointment.id, object_version=appointment.version,
            event_at=appointment.starts_at)
        outbox.enqueue(session, kind, user_ids=[appointment.counselor_id], **common)
        # The requester's reminder climbs the ladder (push, WhatsApp, SMS, a call) until it reaches them.
        outbox.enqueue(session, kind, user_ids=[appointment.requester_user_id] if appointment.requester_user_id else [],
                       report_id=appointment.report_id if appointment.requester_user_id is None else None,
                       ladder=True, **common)


@dataclass
class BookingForm(PostedForm):
    """What the booking form sent, as typed, so a refused booking comes back with nothing lost."""

    MULTILINE = frozenset({"note", "alasan_ganti"})

    layanan: str = ""
    slot: str = ""
    note: str = ""
    child_id: str = ""
    child_agreed: str = ""
    report_id: str = ""
    hari: str = ""
    dari: str = ""
    phone_number: str = ""
    # "lain": another counselor than the one of the booker's case, for the reason given.
    konselor: str = ""
    alasan_ganti: str = ""
    # The booker's own agreement to reminders by WhatsApp/SMS on their own number (notifications/consent.py).
    pengingat: list[str] = field(default_factory=list)
    pengingat_nomor: str = ""


def _to_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def phone_number(value: str) -> str | None:
    """An Indonesian phone number in its stored form ("0812-3456-7890" → "+6281234567890"), or None."""
    stored = phones.parse_stored(value)
    return stored.e164 if stored else None


def saved_phone_number(session: Session, requester: Visitor) -> str:
    """The number a code holder gave on their report to be called on, if they chose the telephone."""
    if requester.user is not None or requester.case_report_id is None:
        return ""
    method, detail = session.execute(select(col(Report.contact_method), col(Report.contact_detail))
                                     .where(col(Report.id) == requester.case_report_id)).one()
    return (phone_number(detail) or "") if method in ("phone", "whatsapp") else ""


def number_to_call(session: Session, requester: Visitor, service_type: ServiceType, typed: str) -> str:
    """The number a phone session is called on: the one typed, else the one saved on the code holder's report.
    Raises BookingError when a phone session has no valid number; other services keep none."""
    if service_type.mode != Mode.PHONE:
        return ""
    if typed.strip():
        try:
            return phones.parse(typed).e164
        except phones.PhoneError as exc:
            raise BookingError(str(exc)) from exc
    saved = saved_phone_number(session, requester)
    if not saved:
        raise BookingError(_("Tulis nomor yang bisa kami telepon untuk sesi ini."))
    return saved


def check_booking(session: Session, user: User | None, form: BookingForm,
                  requester: Visitor | None = None) -> dict[str, str]:
    """Which answer of the booking form needs fixing, field by field, in words for the person who books;
    `request_appointment` still has the last word (the slot may be taken meanwhile)."""
    errors: dict[str, str] = dict(form.unreadable)
    chosen = session.get(ServiceType, _to_int(form.layanan) or 0)
    if chosen is None or not chosen.active:
        errors["layanan"] = _("Pilih layanan dari daftar.")
    else:
        if parse_start(form.slot) is None:
            errors["slot"] = _("Pilih salah satu waktu yang masih kosong.")
        try:
            number_to_call(session, requester or Visitor(user=user), chosen, form.phone_number)
        except BookingError as exc:
            errors["phone_number"] = str(exc)
    if len(form.note.strip()) > NOTE_LIMIT:
        errors["note"] = _("Catatan terlalu panjang: paling banyak %(n)s huruf.", n=NOTE_LIMIT)
    if form.konselor == OTHER_COUNSELOR and continuity_counselor(session, requester or Visitor(user=user)):
        try:
            change_reason(form.alasan_ganti)
        except BookingError as exc:
            errors["alasan_ganti"] = str(exc)
    errors.update(_check_for_whom(session, user, form))
    if form.pengingat:
        try:
            phones.parse_mobile(form.pengingat_nomor)
        except phones.PhoneError as exc:
            errors["pengingat_nomor"] = str(exc)
    return errors


def _check_for_whom(session: Session, user: User | None, form: BookingForm) -> dict[str, str]:
    """The answers that depend on who books: a parent's child, a teacher's word that the pupil agreed, and the
    booker's own report."""
    errors: dict[str, str] = {}
    if user is not None and user.role == Role.PARENT:
        children = {child.id for child in children_of(session, user.id)}
        if children and _to_int(form.child_id) not in children:
            errors["child_id"] = _("Pilih anak yang akan ikut konseling.")
    if user is not None and user.role == Role.TEACHER and form.child_agreed not in CHILD_AGREED:
        errors["child_agreed"] = _("Apakah murid setuju dengan konseling ini? Pilih salah satu.")
    if form.report_id:
        own_reports = {report.id for report in case_views.reports_by(session, user)} if user is not None else set()
        if _to_int(form.report_id) not in own_reports:
            errors["report_id"] = _("Pilih laporan Anda dari daftar, atau kosongkan.")
    return errors


OTHER_COUNSELOR = "lain"


def agree_to_reminders(session: Session, requester: Visitor, form: BookingForm, ip: str = "") -> None:
    """The booker ticked reminders by WhatsApp/SMS: their own agreement for their own number (a parent's for the
    parent's, a child's only when the child books), recorded with the booking."""
    if form.pengingat:
        consent.agree(session, requester, number=form.pengingat_nomor, whatsapp="whatsapp" in form.pengingat,
                      sms="sms" in form.pengingat, ip=ip)


def change_reason(value: str) -> str:
    """Why someone wants another counselor than the one of their case: required, kept for supervisors."""
    reason = value.strip()
    if not reason:
        raise BookingError(_("Tulis sedikit alasannya; hanya supervisor yang membacanya."))
    if len(reason) > NOTE_LIMIT:
        raise BookingError(_("Alasan terlalu panjang: paling banyak %(n)s huruf.", n=NOTE_LIMIT))
    return reason


def continuity_counselor(session: Session, requester: Visitor) -> int | None:
    """The counselor who already knows the booker: the one assigned to the code holder's case, or to a child's
    own report (an open one first). Parents and teachers book for someone else: no continuity from their reports."""
    query = (select(col(Report.assigned_to_id)).join(User, col(User.id) == col(Report.assigned_to_id))
             .where(col(User.active), col(User.role) == Role.COUNSELOR))
    if requester.user is None and requester.case_report_id is not None:
        return session.execute(query.where(col(Report.id) == requester.case_report_id)).scalar()
    if requester.user is not None and requester.user.role == Role.CHILD:
        return session.execute(
            query.where(col(Report.submitted_by_id) == requester.user.id)
            .order_by(col(Report.is_open).desc(), col(Report.id).desc()).limit(1)
        ).scalar()
    return None


def upcoming_load(session: Session, counselor_ids: list[int], now: datetime) -> dict[int, int]:
    """How many live sessions each counselor has from now on: the least loaded gets a new booker."""
    if not counselor_ids:
        return {}
    counts = dict(session.execute(
        select(col(Appointment.counselor_id), func.count()).where(
            col(Appointment.counselor_id).in_(counselor_ids), col(Appointment.is_live),
            col(Appointment.starts_at) >= now)
        .group_by(col(Appointment.counselor_id))
    ).all())
    return {counselor_id: counts.get(counselor_id, 0) for counselor_id in counselor_ids}


def assignable_counselors(session: Session, service_type: ServiceType, starts_at: datetime, *, now: datetime,
                          continuity: int | None = None, excluding: int | None = None) -> list[int]:
    """The counselors free at `starts_at`, in the order the service offers the session to them: the counselor
    of the booker's case first, then the least loaded (fewest upcoming sessions), then by id."""
    day = starts_at.astimezone(LOCAL).date()
    free = [slot.counselor_id
            for slot in free_slots(session, service_type, now=now, first_day=day, days=1).get(day, [])
            if slot.starts_at == starts_at and slot.counselor_id != excluding]
    load = upcoming_load(session, free, now)
    return sorted(free, key=lambda counselor_id: (counselor_id != continuity, load[counselor_id], counselor_id))


def _candidates(session: Session, requester: Visitor, service_type: ServiceType, starts_at: datetime, *,
                now: datetime, counselor_id: int | None, other_counselor_reason: str | None) -> tuple[list[int], str]:
    """Who may be given a session at `starts_at`, in the order to try them, and the reason kept when the booker
    asked for someone other than their case's counselor. A chosen counselor only if that time is free for them."""
    if counselor_id is not None:
        day = starts_at.astimezone(LOCAL).date()
        offered = free_slots(session, service_type, now=now, first_day=day, days=1, counselor_id=counselor_id)
        return ([counselor_id] if any(slot.starts_at == starts_at for slot in offered.get(day, [])) else []), ""
    continuity = continuity_counselor(session, requester)
    if continuity is not None and other_counselor_reason is not None:
        reason = change_reason(other_counselor_reason)
        return assignable_counselors(session, service_type, starts_at, now=now, excluding=continuity), reason
    candidates = assignable_counselors(session, service_type, starts_at, now=now, continuity=continuity)
    if continuity is not None:
        candidates = [c for c in candidates if c == continuity]
    return candidates, ""


def request_appointment(
    session: Session, requester: Visitor, *, service_type_id: int, starts_at: datetime,
    counselor_id: int | None = None,
    note: str = "", child_id: int | None = None, child_agreed: str = "", report_id: int | None = None,
    hold: timedelta = DEFAULT_HOLD, ip: str = "", now: datetime | None = None,
    reminder_hours: tuple[int, ...] = DEFAULT_REMINDER_HOURS, phone: str = "", other_counselor_reason: str | None = None,
) -> Appointment:
    """Ask for a session at `starts_at`. Without `counselor_id` the service assigns one: the counselor of the
    booker's case, or, with `other_counselor_reason`, anyone else (the reason is kept for supervisors); without a
    case counselor, the least loaded free counselor."""
    now = now or clock.now()
    service_type = session.get(ServiceType, service_type_id)
    if service_type is None or not service_type.active:
        raise BookingError(_("Pilih layanan dari daftar."))
    phone = number_to_call(session, requester, service_type, phone)
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise BookingError(_("Catatan terlalu panjang: paling banyak %(n)s huruf.", n=NOTE_LIMIT))
    if requester.user is not None and requester.user.role == Role.TEACHER and child_agreed not in ("yes", "no", "unsure"):
        raise BookingError(_("Apakah murid setuju dengan jadwal konseling ini? Pilih salah satu."))
    if child_id is not None and not _may_book_for_child(session, requester, child_id):
        raise BookingError(_("Pilih anak Anda dari daftar."))
    # Lapsed holds first, so that they neither count as open requests nor block the slot.
    expire_unanswered(session, now)
    if open_requests(session, requester) >= MAX_OPEN_REQUESTS:
        raise BookingError(_("Anda sudah punya %(n)s permintaan yang menunggu jawaban. Tunggu jawaban konselor dulu.",
                             n=MAX_OPEN_REQUESTS))
    candidates, reason = _candidates(session, requester, service_type, starts_at, now=now, counselor_id=counselor_id,
                                     other_counselor_reason=other_counselor_reason)
    if not candidates:
        raise SlotTaken(_("Waktu ini sudah tidak tersedia. Pilih waktu lain dari daftar terbaru."))
    # The database decides who gets a contested time: an insert that would overlap is refused, never both kept.
    # When another booker took the first counselor's time meanwhile, the next free counselor gets the session.
    for candidate in candidates:
        appointment = _new_appointment(requester, service_type, candidate, starts_at, now=now, hold=hold,
                                       note=note, child_id=child_id, child_agreed=child_agreed, report_id=report_id)
        appointment.phone_number, appointment.counselor_change_reason = phone, reason
        try:
            with session.begin_nested():
                session.add(appointment)
                session.flush()
            break
        except IntegrityError:
            continue
    else:
        raise SlotTaken(_("Waktu ini baru saja dipesan orang lain. Pilih waktu lain dari daftar terbaru."))
    audit.record(session, "appointment.requested", actor_id=requester.user.id if requester.user else None,
                 actor_label=requester.label, object_type="appointment", object_id=appointment.id, ip=ip,
                 **({"other_counselor": True} if reason else {}))
    if appointment.status == AppointmentStatus.CONFIRMED:
        _schedule_reminders(session, appointment, now, reminder_hours)
    _notify_counselor(session, appointment, "appointment_requested")
    return appointment


def _new_appointment(requester: Visitor, service_type: ServiceType, counselor_id: int,
                     starts_at: datetime, *, now: datetime, hold: timedelta, note: str, child_id: int | None,
                     child_agreed: str, report_id: int | None) -> Appointment:
    block_start, block_end = block_of(service_type, starts_at)
    return Appointment(
        counselor_id=counselor_id, service_type_id=service_type.id, starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=service_type.duration_minutes), block_start=block_start,
        # A hold never outlasts the session it asks for.
        block_end=block_end, hold_expires_at=min(now + hold, starts_at) if service_type.needs_confirmation else None,
        status=AppointmentStatus.REQUESTED if service_type.needs_confirmation else AppointmentStatus.CONFIRMED,
        requester_user_id=requester.user.id if requester.user else None,
        report_id=requester.case_report_id or report_id, child_id=child_id, child_agreed=child_agreed, note=note,
        created_at=now, updated_at=now,
    )


def _may_book_for_child(session: Session, requester: Visitor, child_id: int) -> bool:
    if requester.user is None or requester.user.role != Role.PARENT:
        return False
    return session.execute(select(col(Guardianship.id)).where(
        col(Guardianship.parent_id) == requester.user.id, col(Guardianship.child_id) == child_id
    )).first() is not None


def _changed(session: Session, appointment_id: int, version: int, current: AppointmentStatus, **values: object) -> bool:
    """A conditional update: only the appointment as the person saw it (same version, still `current`)."""
    result = session.execute(
        update(Appointment)
        .where(col(Appointment.id) == appointment_id, col(Appointment.version) == version,
               col(Appointment.status) == current)
        .values(version=col(Appointment.version) + 1, updated_at=clock.now(), **values)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


def confirm(session: Session, appointment: Appointment, counselor: User, *, version: int, ip: str = "",
            now: datetime | None = None, reminder_hours: tuple[int, ...] = DEFAULT_REMINDER_HOURS) -> None:
    now = now or clock.now()
    _check_handler(appointment, counselor)
    if appointment.hold_expires_at and appointment.hold_expires_at <= now:
        raise BookingError(_("Permintaan ini sudah kedaluwarsa."))
    if not _changed(session, appointment.id, version, AppointmentStatus.REQUESTED,
                    status=AppointmentStatus.CONFIRMED, hold_expires_at=None):
        raise BookingError(_("Permintaan ini sudah berubah (dijawab, dibatalkan, atau dipindah). Lihat keadaan terbaru."))
    session.refresh(appointment)
    audit.record(session, "appointment.confirmed", actor_id=counselor.id, actor_label=counselor.username,
                 object_type="appointment", object_id=appointment.id, ip=ip)
    _schedule_reminders(session, appointment, now, reminder_hours)
    _notify_requester(session, appointment, "appointment_confirmed")


def _readable(text: str) -> str:
    """Words a person typed, or the refusal when they hold a character no one types (PostgreSQL refuses NUL)."""
    if has_control_characters(text, multiline=True):
        raise BookingError(unreadable_message())
    return text


def decline(session: Session, appointment: Appointment, counselor: User, *, version: int, reason: str,
            ip: str = "") -> None:
    _check_handler(appointment, counselor)
    reason = _readable(reason).strip()
    if not reason:
        raise BookingError(_("Tulis alasan penolakan; peminta akan membacanya."))
    if len(reason) > NOTE_LIMIT:
        raise BookingError(_("Alasan terlalu panjang: paling banyak %(n)s huruf.", n=NOTE_LIMIT))
    if not _changed(session, appointment.id, version, AppointmentStatus.REQUESTED,
                    status=AppointmentStatus.DECLINED, is_live=False, decline_reason=reason):
        raise BookingError(_("Permintaan ini sudah berubah. Lihat keadaan terbaru."))
    session.refresh(appointment)
    _cancel_jobs(session, appointment)
    audit.record(session, "appointment.declined", actor_id=counselor.id, actor_label=counselor.username,
                 object_type="appointment", object_id=appointment.id, ip=ip)
    _notify_requester(session, appointment, "appointment_declined")


def requester_may_change(appointment: Appointment, service_type: ServiceType, now: datetime) -> bool:
    """Requesters cancel or move only before the service type's notice period starts."""
    return appointment.starts_at - now >= timedelta(hours=service_type.min_notice_hours)


def cancel(session: Session, appointment: Appointment, *, by_counselor: User | None, requester: Visitor | None,
           reason: str = "", version: int, ip: str = "", now: datetime | None = None) -> None:
    now = now or clock.now()
    reason = _readable(reason)
    if by_counselor is not None:
        _check_handler(appointment, by_counselor)
    if appointment.status not in LIVE_STATUSES:
        raise BookingError(_("Jadwal ini sudah tidak aktif."))
    if by_counselor is None:
        service_type = existing(session, ServiceType, appointment.service_type_id)
        if not requester_may_change(appointment, service_type, now):
            raise BookingError(_("Jadwal ini sudah terlalu dekat untuk dibatalkan di aplikasi. Hubungi layanan."))
    if len(reason) > NOTE_LIMIT:
        raise BookingError(_("Alasan terlalu panjang: paling banyak %(n)s huruf.", n=NOTE_LIMIT))
    if not _changed(session, appointment.id, version, AppointmentStatus(appointment.status),
                    status=AppointmentStatus.CANCELLED, is_live=False,
                    cancelled_by="counselor" if by_counselor else "requester", cancel_reason=reason.strip()):
        raise BookingError(_("Jadwal ini sudah berubah. Lihat keadaan terbaru."))
    session.refresh(appointment)
    _cancel_jobs(session, appointment)
    actor = by_counselor or (requester.user if requester else None)
    audit.record(session, "appointment.cancelled", actor_id=actor.id if actor else None,
                 actor_label=actor.username if actor else audit.CODE_HOLDER, object_type="appointment",
                 object_id=appointment.id, ip=ip)
    if by_counselor is not None:
        _notify_requester(session, appointment, "appointment_cancelled")
    else:
        _notify_counselor(session, appointment, "appointment_cancelled")


def move(session: Session, appointment: Appointment, *, by_counselor: User | None, requester: Visitor | None,
         starts_at: datetime, reason: str = "", version: int, ip: str = "", now: datetime | None = None,
         reminder_hours: tuple[int, ...] = DEFAULT_REMINDER_HOURS) -> Appointment:
    """Move to a new time: the old appointment is cancelled and linked to a new one, in one transaction. A move
    by the counselor is confirmed at once; a move asked by the requester waits for confirmation again."""
    reason = _readable(reason)
    now = now or clock.now()
    if by_counselor is not None:
        _check_handler(appointment, by_counselor)
    if appointment.status not in LIVE_STATUSES:
        raise BookingError(_("Jadwal ini sudah tidak aktif."))
    if by_counselor is not None and not reason.strip():
        raise BookingError(_("Tulis alasan pemindahan; peminta akan membacanya."))
    service_type = existing(session, ServiceType, appointment.service_type_id)
    if by_counselor is None and not requester_may_change(appointment, service_type, now):
        raise BookingError(_("Jadwal ini sudah terlalu dekat untuk dipindah di aplikasi. Hubungi layanan."))
    if not _changed(session, appointment.id, version, AppointmentStatus(appointment.status),
                    status=AppointmentStatus.CANCELLED, is_live=False,
                    cancelled_by="counselor" if by_counselor else "requester",
                    cancel_reason=reason.strip() or _("Dipindah ke waktu lain")):
        raise BookingError(_("Jadwal ini sudah berubah. Lihat keadaan terbaru."))
    session.refresh(appointment)
    _cancel_jobs(session, appointment)
    day = starts_at.astimezone(LOCAL).date()
    offered = free_slots(session, service_type, now=now, first_day=day, days=1,
                         counselor_id=appointment.counselor_id, within_notice=by_counselor is not None)
    if not any(slot.starts_at == starts_at for slot in offered.get(day, [])):
        raise SlotTaken(_("Waktu ini sudah tidak tersedia. Pilih waktu lain dari daftar terbaru."))
    block_start, block_end = block_of(service_type, starts_at)
    confirmed = by_counselor is not None or not service_type.needs_confirmation
    moved = Appointment(
        counselor_id=appointment.counselor_id, service_type_id=appointment.service_type_id, starts_at=starts_at,
        ends_at=starts_at + (appointment.ends_at - appointment.starts_at), block_start=block_start,
        block_end=block_end, status=AppointmentStatus.CONFIRMED if confirmed else AppointmentStatus.REQUESTED,
        hold_expires_at=None if confirmed else now + DEFAULT_HOLD, requester_user_id=appointment.requester_user_id,
        report_id=appointment.report_id, child_id=appointment.child_id, child_agreed=appointment.child_agreed,
        note=appointment.note, phone_number=appointment.phone_number,
        counselor_change_reason=appointment.counselor_change_reason, rescheduled_from_id=appointment.id,
        rating_invite=appointment.rating_invite,
        created_at=now, updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(moved)
            session.flush()
    except IntegrityError as exc:
        raise SlotTaken(_("Waktu ini baru saja dipesan orang lain. Pilih waktu lain dari daftar terbaru.")) from exc
    actor = by_counselor or (requester.user if requester else None)
    audit.record(session, "appointment.moved", actor_id=actor.id if actor else None,
                 actor_label=actor.username if actor else audit.CODE_HOLDER, object_type="appointment",
                 object_id=moved.id, ip=ip, moved_from=appointment.id)
    if confirmed:
        _schedule_reminders(session, moved, now, reminder_hours)
    if by_counselor is not None:
        _notify_requester(session, moved, "appointment_moved")
    else:
        _notify_counselor(session, moved, "appointment_requested")
    return moved


def cancel_by_counselor(session: Session, appointment: Appointment, counselor: User, *, reason: str, version: int,
                        ip: str = "") -> None:
    """A counselor (or supervisor) cancelling from the schedule: the requester reads the reason, so one is needed."""
    if not reason.strip():
        raise BookingError(_("Tulis alasan pembatalan; peminta akan membacanya."))
    cancel(session, appointment, by_counselor=counselor, requester=None, reason=reason, version=version, ip=ip)


def attended(answer: str) -> bool:
    """The attendance form's answer: "yes" or "no"."""
    if answer not in ("yes", "no"):
        raise BookingError(_("Pilih: hadir atau tidak hadir."))
    return answer == "yes"


def record_attendance(session: Session, appointment: Appointment, counselor: User, *, attended: bool, version: int,
                      note: str = "", ip: str = "", now: datetime | None = None) -> None:
    """Record whether the session took place; a note goes into the linked case's chronology, and only from
    someone who may open that case (the session's counselor may belong to another team)."""
    now = now or clock.now()
    note = _readable(note)
    if len(note) > ATTENDANCE_NOTE_LIMIT:
        raise BookingError(_("Catatan terlalu panjang: paling banyak %(n)s huruf.", n=ATTENDANCE_NOTE_LIMIT))
    _check_handler(appointment, counselor)
    note = note.strip()
    report = session.get(Report, appointment.report_id) if note and appointment.report_id else None
    if report is not None and not access.can_handle(counselor, report):
        raise NotAllowed(_("Catatan ini tidak bisa disimpan: Anda tidak menangani kasusnya. "
                           "Kosongkan catatan untuk mencatat kehadiran saja."))
    if appointment.starts_at > now:
        raise BookingError(_("Kehadiran baru bisa dicatat setelah jadwal dimulai."))
    target = AppointmentStatus.COMPLETED if attended else AppointmentStatus.NO_SHOW
    if not _changed(session, appointment.id, version, AppointmentStatus.CONFIRMED, status=target, is_live=False):
        raise BookingError(_("Hanya jadwal yang terkonfirmasi yang bisa dicatat kehadirannya."))
    session.refresh(appointment)
    _cancel_jobs(session, appointment)
    audit.record(session, f"appointment.{target.value}", actor_id=counselor.id, actor_label=counselor.username,
                 object_type="appointment", object_id=appointment.id, ip=ip)
    if attended and appointment.rating_invite:
        _invite_rating(session, appointment, now)
    if report is not None:
        what = _("hadir") if attended else _("tidak hadir")
        when = format_local_date(appointment.starts_at, "d MMMM y")
        body = _("Sesi konseling %(when)s (%(what)s): %(note)s", when=when, what=what, note=note)
        cases.add_note(session, report, counselor, body=body, ip=ip)


RATING_INVITE_KIND = "rating_invite"


def _invite_rating(session: Session, appointment: Appointment, now: datetime) -> None:
    """The one push inviting the booker to rate an attended session, written with the attendance (this is the
    only transition to attended, so it is written once). It names nothing (push.neutral_text), waits for the
    morning like a check-in, and is not sent once the session was rated or the consent withdrawn (aftercare
    registers that check)."""
    outbox.enqueue(session, RATING_INVITE_KIND, url=f"/penilaian/{appointment.id}", topic=f"rate-{appointment.id}",
                   user_ids=[appointment.requester_user_id] if appointment.requester_user_id else [],
                   report_id=appointment.report_id if appointment.requester_user_id is None else None,
                   due_at=outbox.outside_quiet_hours(max(now, appointment.ends_at)),
                   object_type=RATING_INVITE_KIND, object_id=appointment.id)


def set_rating_invite(session: Session, appointment: Appointment, *, requester: Visitor, wanted: bool,
                      ip: str = "") -> None:
    """The booker's consent to that one push, given or withdrawn on the appointment's page before it is sent."""
    if not is_requester(appointment, user=requester.user, case_report_id=requester.case_report_id):
        raise NotAllowed(_("Hanya yang meminta jadwal ini yang bisa memilih."))
    if appointment.status not in (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED,
                                  AppointmentStatus.COMPLETED):
        raise BookingError(_("Jadwal ini tidak berlangsung, jadi tidak ada yang bisa dinilai."))
    if appointment.rating_invite == wanted:
        return
    appointment.rating_invite = wanted
    session.add(appointment)
    user = requester.user
    audit.record(session, "appointment.rating_invite_changed", actor_id=user.id if user else None,
                 actor_label=user.username if user else audit.CODE_HOLDER, object_type="appointment",
                 object_id=appointment.id, ip=ip, wanted=wanted)


def movable_by_requester(session: Session, appointment: Appointment, now: datetime) -> bool:
    """Whether its requester may still move or cancel it (live, and not too close to its time)."""
    service_type = existing(session, ServiceType, appointment.service_type_id)
    return (shown_status(appointment, now) in LIVE_STATUSES
            and requester_may_change(appointment, service_type, now))


# --- what the pages list (queries only) --------------------------------------------------------------------


def shown_status(appointment: Appointment, now: datetime) -> AppointmentStatus:
    """The state to show: a request whose hold ran out is expired even before expire_unanswered marks it."""
    if (appointment.status == AppointmentStatus.REQUESTED and appointment.hold_expires_at is not None
            and appointment.hold_expires_at <= now):
        return AppointmentStatus.EXPIRED
    return AppointmentStatus(appointment.status)


def appointments_of(session: Session, requester: Visitor, *, limit: int = 100) -> list[Appointment]:
    """A requester's own appointments (a code holder's: those booked with the case code), latest time first."""
    return list(session.execute(
        select(Appointment).where(_requester_filter(requester))
        .order_by(col(Appointment.starts_at).desc(), col(Appointment.id).desc()).limit(limit)
    ).scalars())


def upcoming_of(session: Session, requester: Visitor, now: datetime, *, limit: int = 3) -> list[Appointment]:
    """A requester's live appointments not yet over, soonest first: what /konseling shows before a new booking."""
    return list(session.execute(
        select(Appointment)
        .where(_requester_filter(requester), col(Appointment.is_live), col(Appointment.ends_at) > now)
        .order_by(col(Appointment.starts_at), col(Appointment.id)).limit(limit)
    ).scalars())


def waiting_for(session: Session, counselor_id: int | None, now: datetime) -> list[Appointment]:
    """Requests still waiting for an answer, soonest session first; every counselor's when `counselor_id` is None."""
    query = select(Appointment).where(
        col(Appointment.status) == AppointmentStatus.REQUESTED,
        (col(Appointment.hold_expires_at).is_(None)) | (col(Appointment.hold_expires_at) > now),
    )
    if counselor_id is not None:
        query = query.where(col(Appointment.counselor_id) == counselor_id)
    return list(session.execute(query.order_by(col(Appointment.starts_at), col(Appointment.id))).scalars())


def agenda(session: Session, counselor_id: int, start: datetime, end: datetime) -> list[Appointment]:
    """A counselor's sessions starting in [start, end): held, confirmed and those already attended or missed."""
    shown = (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED, AppointmentStatus.COMPLETED,
             AppointmentStatus.NO_SHOW)
    return list(session.execute(
        select(Appointment).where(col(Appointment.counselor_id) == counselor_id, col(Appointment.starts_at) >= start,
                                  col(Appointment.starts_at) < end, col(Appointment.status).in_(shown))
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    ).scalars())


def moved_to(session: Session, appointment: Appointment) -> Appointment | None:
    """The appointment this one was moved to, if it was."""
    return session.execute(
        select(Appointment).where(col(Appointment.rescheduled_from_id) == appointment.id)
        .order_by(col(Appointment.id).desc())
    ).scalars().first()


def active_service_types(session: Session) -> list[ServiceType]:
    return list(session.execute(
        select(ServiceType).where(col(ServiceType.active)).order_by(col(ServiceType.name), col(ServiceType.id))
    ).scalars())


def display_names(session: Session, user_ids: set[int | None]) -> dict[int, str]:
    ids = [user_id for user_id in user_ids if user_id is not None]
    if not ids:
        return {}
    return dict(session.execute(select(col(User.id), col(User.display_name)).where(col(User.id).in_(ids))).all())


# A time held for the waiting list is nobody's session yet: the waiting list's round lets it go when the schedule
# no longer gives it, so it is never a clash to warn of.
_booked = col(Appointment.status) != AppointmentStatus.OFFERED


def live_on_days(session: Session, days: list[date]) -> int:
    """How many live appointments start on any of these local days (a new holiday falling on booked sessions)."""
    if not days:
        return 0
    clauses = []
    for day in set(days):
        start = datetime.combine(day, datetime.min.time(), tzinfo=LOCAL)
        clauses.append((col(Appointment.starts_at) >= start) & (col(Appointment.starts_at) < start + timedelta(days=1)))
    return session.execute(
        select(func.count()).select_from(Appointment).where(col(Appointment.is_live), _booked, or_(*clauses))
    ).scalar_one()


def live_between(session: Session, counselor_id: int, start: datetime, end: datetime) -> int:
    """How many live appointments of a counselor overlap [start, end): what a new leave would clash with."""
    return session.execute(
        select(func.count()).select_from(Appointment).where(
            col(Appointment.counselor_id) == counselor_id, col(Appointment.is_live), _booked,
            col(Appointment.starts_at) < end,
            col(Appointment.ends_at) > start)
    ).scalar_one()


def _job_still_applies(session: Session, job: NotificationJob, now: datetime) -> bool:
    """A job about an appointment applies while the appointment is as it was when the job was written (same
    version, so the start the job carries is still the start) and has not begun (the expiry notice excepted)."""
    appointment = session.get(Appointment, job.object_id)
    if appointment is None:
        return False
    if job.object_version is not None and appointment.version != job.object_version:
        return False
    starts_at = job.event_at or appointment.starts_at  # a job written before jobs carried the time
    return starts_at > now or job.kind == "appointment_expired"


outbox.register_check("appointment", _job_still_applies)


# --- the ladder's last resort: the counselor calls -------------------------------------------------------------


def number_for_call(session: Session, appointment: Appointment) -> str:
    """Who to call about a session: the number its phone session is on, else the number the requester agreed to
    be sent reminders on, else the number a code holder left on their report; "" when none is known."""
    if appointment.phone_number:
        return appointment.phone_number
    agreed = consent.current(session, user_id=appointment.requester_user_id,
                             report_id=appointment.report_id if appointment.requester_user_id is None else None)
    if agreed is not None:
        return agreed.phone
    if appointment.requester_user_id is None and appointment.report_id is not None:
        method, detail = session.execute(select(col(Report.contact_method), col(Report.contact_detail))
                                         .where(col(Report.id) == appointment.report_id)).one()
        return (phone_number(detail) or "") if method in ("phone", "whatsapp") else ""
    return ""


def _ask_for_call(session: Session, job: NotificationJob, now: datetime) -> None:
    """No reminder is known to have reached the requester a few hours before the session: their counselor gets a
    "call to confirm" task, once per appointment (the unique appointment_id keeps it once among workers)."""
    appointment = session.get(Appointment, job.object_id)
    if appointment is None or appointment.status != AppointmentStatus.CONFIRMED or appointment.starts_at <= now:
        return
    task = CallTask(appointment_id=appointment.id, counselor_id=appointment.counselor_id,
                    phone=number_for_call(session, appointment), created_at=now)
    try:
        with session.begin_nested():
            session.add(task)
            session.flush()
    except IntegrityError:
        return
    audit.record(session, "appointment.call_requested", object_type="appointment", object_id=appointment.id)


def call_task_of(session: Session, appointment_id: int) -> CallTask | None:
    return session.execute(select(CallTask).where(col(CallTask.appointment_id) == appointment_id)).scalar_one_or_none()


def open_call_tasks(session: Session, counselor_id: int, now: datetime) -> dict[int, CallTask]:
    """The counselor's calls still to make, for sessions not yet begun: by appointment id."""
    return {task.appointment_id: task for task in session.execute(
        select(CallTask).join(Appointment, col(Appointment.id) == col(CallTask.appointment_id)).where(
            col(CallTask.counselor_id) == counselor_id, col(CallTask.done_at).is_(None),
            col(Appointment.starts_at) > now,
            col(Appointment.status) == AppointmentStatus.CONFIRMED)).scalars()}


def mark_called(session: Session, appointment: Appointment, counselor: User, now: datetime | None = None) -> bool:
    _check_handler(appointment, counselor)
    done = rows_changed(session.execute(
        update(CallTask).where(col(CallTask.appointment_id) == appointment.id, col(CallTask.done_at).is_(None))
        .values(done_at=now or clock.now())))
    if done:
        audit.record(session, "appointment.called", actor_id=counselor.id, actor_label=counselor.username,
                     object_type="appointment", object_id=appointment.id)
    return done > 0


def reminder_trail(session: Session, appointment: Appointment) -> list[ladder.ReminderTrail]:
    return ladder.trail(session, object_type="appointment", object_id=appointment.id)


ladder.register_last_resort("appointment", _ask_for_call)
