"""Devices that receive push, and the in-app list of notifications (for every person, with or without push).

A subscription belongs to whoever is let in on the device when it is sent: the signed-in person and/or the
holder of an opened case code. Knowing an endpoint is proof enough to remove it: only the device (and its push
service) knows that URL."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func, or_, select, update
from sqlmodel import Session, col

from server import clock
from server.accounts.visitor import KAMU, Visitor
from server.db import rows_changed
from server.i18n import gettext as _
from server.notifications.models import JobStatus, NotificationJob, PushSubscription
from server.notifications.transport import EndpointRefused, check_endpoint, parse_allowed_hosts

MAX_DEVICES = 10
ENDPOINT_LIMIT = 1000


class SubscriptionError(ValueError):
    """What a page sent is not a push subscription we can use; the message names the problem."""


def _belongs_to(visitor: Visitor, user_column: Any = PushSubscription.user_id,
                report_column: Any = PushSubscription.report_id) -> Any:
    """Rows that belong to this visitor (the signed-in person's, the held case's, or both): by default their
    devices; pass the columns of another table."""
    clauses = []
    if visitor.user is not None:
        clauses.append(user_column == visitor.user.id)
    if visitor.case_report_id is not None:
        clauses.append(report_column == visitor.case_report_id)
    return or_(*clauses)


def _decode(value: object, size: int, name: str) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise SubscriptionError(f"{name} missing")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SubscriptionError(f"{name} is not base64url") from exc
    if len(raw) != size:
        raise SubscriptionError(f"{name} has the wrong length")
    return value


def check_subscription(data: object, *, allowed_hosts: tuple[str, ...] = ()) -> tuple[str, str, str]:
    """(endpoint, p256dh, auth) from a PushSubscription's JSON, or SubscriptionError. Endpoints are https URLs of
    public hosts (transport.check_endpoint; the server connects there), or of a host in PUSH_ALLOWED_HOSTS."""
    if not isinstance(data, dict):
        raise SubscriptionError("not a subscription")
    endpoint = data.get("endpoint")
    sent_keys = data.get("keys")
    keys = sent_keys if isinstance(sent_keys, dict) else {}
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= ENDPOINT_LIMIT:
        raise SubscriptionError("endpoint missing or too long")
    try:
        check_endpoint(endpoint, parse_allowed_hosts(allowed_hosts))
    except EndpointRefused as exc:
        raise SubscriptionError(str(exc)) from exc
    p256dh = _decode(keys.get("p256dh"), 65, "p256dh")
    try:
        # A point on P-256, or nothing could ever be encrypted to this device.
        raw = base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError as exc:
        raise SubscriptionError("p256dh is not a P-256 public key") from exc
    return endpoint, p256dh, _decode(keys.get("auth"), 16, "auth")


def device_label(user_agent: str) -> str:
    """A short, recognisable name for the settings page ('Android · Chrome'); never the whole user agent."""
    agent = user_agent.lower()
    system = next((name for key, name in (("iphone", "iPhone"), ("ipad", "iPad"), ("android", "Android"),
                                          ("windows", "Windows"), ("mac os", "Mac"), ("linux", "Linux"))
                   if key in agent), _("Perangkat lain"))
    browser = next((name for key, name in (("edg/", "Edge"), ("firefox", "Firefox"), ("samsungbrowser", "Samsung"),
                                           ("chrome", "Chrome"), ("safari", "Safari")) if key in agent), "")
    return f"{system} · {browser}" if browser else system


def subscribe(session: Session, owner: Visitor, data: object, *, language: str, user_agent: str,
              allowed_hosts: tuple[str, ...] = ()) -> PushSubscription:
    """Add this device, or bring its existing row up to date (same endpoint): it now belongs to `owner`."""
    endpoint, p256dh, auth = check_subscription(data, allowed_hosts=allowed_hosts)
    now = clock.now()
    row = session.execute(
        select(PushSubscription).where(col(PushSubscription.endpoint) == endpoint)).scalar_one_or_none()
    if row is None:
        row = PushSubscription(endpoint=endpoint, created_at=now, p256dh=p256dh, auth=auth)
        session.add(row)
    row.p256dh, row.auth, row.language = p256dh, auth, language
    row.user_id = owner.user.id if owner.user is not None else None
    row.report_id = owner.case_report_id
    row.device, row.last_seen_at = device_label(user_agent), now
    session.flush()
    # A person keeps at most MAX_DEVICES: the ones not seen for longest make way.
    extra = list(session.execute(
        select(col(PushSubscription.id)).where(_belongs_to(owner))
        .order_by(col(PushSubscription.last_seen_at).desc(), col(PushSubscription.id).desc()).offset(MAX_DEVICES)
    ).scalars())
    if extra:
        session.execute(delete(PushSubscription).where(col(PushSubscription.id).in_(extra)))
    return row


def change(session: Session, old_endpoint: str, data: object, *, allowed_hosts: tuple[str, ...] = ()) -> bool:
    """The browser replaced a subscription (`pushsubscriptionchange`): the new one inherits the old one's owner.
    Returns False when the old endpoint is unknown (nothing is created for a stranger)."""
    old = session.execute(
        select(PushSubscription).where(col(PushSubscription.endpoint) == old_endpoint)).scalar_one_or_none()
    if old is None:
        return False
    endpoint, p256dh, auth = check_subscription(data, allowed_hosts=allowed_hosts)
    if endpoint != old.endpoint:
        session.execute(delete(PushSubscription).where(col(PushSubscription.endpoint) == endpoint))
    old.endpoint, old.p256dh, old.auth, old.last_seen_at = endpoint, p256dh, auth, clock.now()
    return True


def unsubscribe(session: Session, endpoint: str) -> bool:
    deleted = session.execute(delete(PushSubscription).where(col(PushSubscription.endpoint) == endpoint))
    return (rows_changed(deleted) or 0) > 0


def devices_of(session: Session, owner: Visitor) -> list[PushSubscription]:
    return list(session.execute(
        select(PushSubscription).where(_belongs_to(owner)).order_by(col(PushSubscription.last_seen_at).desc())
    ).scalars())


def remove_device(session: Session, owner: Visitor, device_id: int) -> bool:
    """Only one's own device: a stranger's id removes nothing."""
    return (rows_changed(session.execute(
        delete(PushSubscription).where(col(PushSubscription.id) == device_id, _belongs_to(owner))
    )) or 0) > 0


# --- the in-app list ----------------------------------------------------------------------------------------

SHOWN = (JobStatus.SENT, JobStatus.NO_DEVICE, JobStatus.FAILED, JobStatus.SENDING, JobStatus.PENDING)


def _for_owner(owner: Visitor):
    return _belongs_to(owner, col(NotificationJob.recipient_user_id), col(NotificationJob.recipient_report_id))


def inbox(session: Session, owner: Visitor, *, now: datetime | None = None, limit: int = 50) -> list[NotificationJob]:
    """What the person was told (or is being told): everything due, newest first. A reminder whose time has not
    come is not shown yet; one that no longer applies (cancelled) is not shown at all."""
    now = now or clock.now()
    return list(session.execute(
        select(NotificationJob).where(_for_owner(owner), col(NotificationJob.status).in_(SHOWN),
                                      col(NotificationJob.due_at) <= now, col(NotificationJob.channel) == "push")
        .order_by(col(NotificationJob.due_at).desc(), col(NotificationJob.id).desc()).limit(limit)
    ).scalars())


def mark_read(session: Session, owner: Visitor, *, now: datetime | None = None) -> None:
    now = now or clock.now()
    session.execute(
        update(NotificationJob).where(_for_owner(owner), col(NotificationJob.read_at).is_(None),
                                      col(NotificationJob.due_at) <= now)
        .values(read_at=now)
    )


def speaks_to_a_child(visitor: Visitor) -> bool:
    """Whether this visitor reads "kamu" (see accounts.visitor.voice, the one place that decides)."""
    return visitor.voice == KAMU


def describe(kind: str, kamu: bool = False) -> str:
    """What an item says inside the app (behind sign-in or the case code, so it may say what happened), in the
    voice of the rest of the person's pages."""
    if kind in ("check_in", "rating_invite"):  # never what it is about: the list may be read over a shoulder
        return _("Ada pesan baru")
    if kamu:
        own = {
            "appointment_confirmed": _("Jadwal konselingmu sudah dikonfirmasi."),
            "appointment_declined": _("Permintaan jadwal konselingmu tidak bisa diterima."),
            "appointment_moved": _("Jadwal konselingmu dipindah ke waktu lain."),
            "case_status": _("Ada kabar baru tentang laporanmu."),
            "waitlist_offer": _("Ada waktu konseling kosong untukmu."),
        }
        if kind.startswith("reminder_"):
            return _("Pengingat: jadwal konselingmu segera tiba.")
        if kind in own:
            return own[kind]
        if kind not in ("appointment_requested", "appointment_cancelled", "appointment_expired", "case_message"):
            return _("Ada kabar baru untukmu.")
    texts = {
        "appointment_requested": _("Ada permintaan jadwal konseling baru."),
        "appointment_confirmed": _("Jadwal konseling Anda sudah dikonfirmasi."),
        "appointment_declined": _("Permintaan jadwal konseling Anda tidak bisa diterima."),
        "appointment_moved": _("Jadwal konseling Anda dipindah ke waktu lain."),
        "appointment_cancelled": _("Jadwal konseling dibatalkan."),
        "appointment_expired": _("Permintaan jadwal belum dijawab dan sudah kedaluwarsa."),
        "emergency_report": _("Ada laporan darurat yang harus segera ditanggapi."),
        "case_assigned": _("Sebuah kasus diserahkan kepada Anda."),
        "case_message": _("Ada pesan baru tentang sebuah laporan."),
        "case_status": _("Ada kabar baru tentang laporan Anda."),
        "check_in_follow_up": _("Ada jawaban pemantauan yang perlu ditindaklanjuti."),
        "waitlist_offer": _("Ada waktu konseling kosong untuk Anda."),
    }
    if kind.startswith("reminder_"):
        return _("Pengingat: jadwal konseling Anda segera tiba.")
    return texts.get(kind, _("Ada kabar baru untuk Anda."))


# --- for supervisors: how delivery goes ----------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    counts: dict[str, int]
    failed: list[NotificationJob]
    devices: int


_GAVE_UP = re.compile(r"^gave up after (\d+) tries: (.*)$")
_STATUS = re.compile(r"^(\d{3})\b")


def failure_cause(last_error: str) -> str:
    """What a failed job's recorded cause (dispatcher.py: "refused: 413 Payload Too Large", "gave up after 5
    tries: timeout") means, in words a supervisor can act on; the page shows the recorded cause beside it."""
    if match := _GAVE_UP.match(last_error):
        tries, cause = int(match.group(1)), match.group(2)
        if cause.startswith(("timeout", "connection")):
            return _("Layanan push perangkat tidak bisa dihubungi, juga setelah %(n)s kali dicoba. Periksa "
                     "sambungan internet server.", n=tries)
        return _("Layanan push perangkat sibuk atau sedang bermasalah, juga setelah %(n)s kali dicoba.", n=tries)
    refused = last_error.removeprefix("refused: ")
    if refused.startswith("endpoint refused:"):  # push.py: the endpoint names a host that is not public
        return _("Perangkat ini mendaftar dengan alamat yang bukan layanan push publik, jadi tidak dikirimi dan "
                 "dihapus dari daftar perangkat.")
    if refused == "unusable subscription keys":
        return _("Kunci langganan perangkat ini tidak bisa dipakai. Pemilik perangkat perlu menyalakan "
                 "pemberitahuan lagi.")
    status = int(match.group(1)) if (match := _STATUS.match(refused)) else 0
    if status in (401, 403):
        return _("Layanan push menolak tanda tangan aplikasi. Minta pengelola server memeriksa VAPID_PRIVATE_KEY "
                 "dan VAPID_SUBJECT.")
    if status == 413:
        return _("Layanan push menolak pesan ini karena terlalu besar.")
    return _("Layanan push menolak pesan ini.")


@dataclass(frozen=True)
class QueueState:
    due: int  # pending jobs whose time has come, and claimed ones whose lease ran out
    oldest_due_at: datetime | None
    sent: int  # in the period asked for
    failed: int


def queue_state(session: Session, *, since: datetime, now: datetime | None = None) -> QueueState:
    """What the service's health page and metrics show of the outbox: what waits to be sent and since when, and
    how many were sent and failed since `since`. Counts off the (status, due_at) index; a failed job's `due_at`
    is its last try."""
    now = now or clock.now()
    waiting = or_(
        (col(NotificationJob.status) == JobStatus.PENDING) & (col(NotificationJob.due_at) <= now),
        (col(NotificationJob.status) == JobStatus.SENDING) & (col(NotificationJob.lease_until) < now),
    )
    due, oldest = session.execute(select(func.count(), func.min(col(NotificationJob.due_at))).where(waiting)).one()
    sent = session.execute(select(func.count()).where(
        col(NotificationJob.status) == JobStatus.SENT, col(NotificationJob.sent_at) >= since)).scalar_one()
    failed = session.execute(select(func.count()).where(
        col(NotificationJob.status) == JobStatus.FAILED, col(NotificationJob.due_at) >= since)).scalar_one()
    return QueueState(due, oldest, sent, failed)


def delivery_report(session: Session, *, since: datetime, limit: int = 50) -> DeliveryReport:
    """Jobs of the period by state, and the latest that failed with why: nothing ends unseen."""
    counts = dict(session.execute(
        select(col(NotificationJob.status), func.count()).where(col(NotificationJob.created_at) >= since)
        .group_by(col(NotificationJob.status))
    ).all())
    failed = list(session.execute(
        select(NotificationJob)
        .where(col(NotificationJob.status) == JobStatus.FAILED, col(NotificationJob.created_at) >= since)
        .order_by(col(NotificationJob.due_at).desc(), col(NotificationJob.id).desc()).limit(limit)
    ).scalars())
    devices = session.execute(select(func.count()).select_from(PushSubscription)).scalar_one()
    return DeliveryReport({status.value: counts.get(status.value, 0) for status in JobStatus}, failed, devices)
