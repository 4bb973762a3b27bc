"""The people's requests about their own data (UU PDP Art. 6-11): asked in plain words by a signed-in person or a
code holder, answered by a supervisor within 3×24 hours (Art. 32-33) with a reason, the answer sent to the
person in the app (and by push), all of it audited.

Erasure removes what the law lets the service remove (the account's sign-in, contact numbers, push devices) and
keeps the child-protection record under legal hold (Art. 15(1): restricted, not destroyed); the answer says what
was kept and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from server import audit, clock
from server.accounts import auth
from server.accounts.models import Passkey, PendingSignIn, RecoveryCode, Role, SetupLink, User
from server.appointments.models import Appointment, CallTask
from server.dataprotection.models import DataRequest, RequestKind, RequestStatus
from server.db import existing
from server.forms import PostedForm, posted, text_error
from server.i18n import gettext as _
from server.i18n import lazy_gettext as _l
from server.notifications import outbox
from server.notifications.models import ChannelConsent, PushSubscription
from server.reports.models import Report

ANSWER_WITHIN = timedelta(hours=72)  # 3×24 hours
ALERT_BEFORE = timedelta(hours=24)
DETAILS_MAX = 2000
ANSWER_MAX = 2000

KIND_LABELS: dict[str, object] = {
    RequestKind.ACCESS: _l("Melihat data saya"),
    RequestKind.CORRECTION: _l("Membetulkan data saya"),
    RequestKind.ERASURE: _l("Menghapus data saya"),
    RequestKind.RESTRICTION: _l("Membatasi pemakaian data saya"),
}
KIND_HINTS = {
    RequestKind.ACCESS: _l("Misalnya: siapa saja yang sudah membaca laporan saya. Data yang saya berikan bisa langsung diunduh."),
    RequestKind.CORRECTION: _l("Tulis data mana yang salah dan yang benar."),
    RequestKind.ERASURE: _l("Akun, nomor telepon dan perangkat dihapus. Laporan tentang anak tetap disimpan untuk "
                            "melindunginya, tetapi dibatasi."),
    RequestKind.RESTRICTION: _l("Data saya tidak dipakai untuk hal lain selain yang wajib."),
}
STATUS_LABELS: dict[str, object] = {
    RequestStatus.OPEN: _l("Menunggu jawaban"),
    RequestStatus.GRANTED: _l("Dipenuhi"),
    RequestStatus.PARTLY: _l("Dipenuhi sebagian"),
    RequestStatus.REFUSED: _l("Ditolak"),
}
# What an erasure keeps, in the answer the person reads.
LEGAL_HOLD = _l("Laporan dan catatan kasus perlindungan anak tidak dimusnahkan: undang-undang mewajibkan kami "
                "menyimpannya untuk melindungi anak (UU PDP Pasal 15 ayat 1; UU 35/2014). Data itu kini dibatasi: "
                "hanya dipakai untuk perlindungan anak dan dimusnahkan sesuai jadwal retensi.")


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@dataclass
class RequestForm(PostedForm):
    MULTILINE = frozenset({"details"})

    kind: str = ""
    details: str = ""
    errors: dict[str, str] = posted({}, read=False)

    def validate(self) -> bool:
        self.details = self.details.strip()
        if self.kind not in set(RequestKind):
            self.errors["kind"] = _("Pilih apa yang diminta.")
        needs_details = self.kind in (RequestKind.CORRECTION, RequestKind.ACCESS)
        if error := text_error(self.details, limit=DETAILS_MAX, multiline=True,
                               required=_("Tulis sedikit apa yang diminta, supaya kami bisa menjawabnya.")
                               if needs_details else "",
                               too_long=_("Paling banyak %(n)s karakter.", n=DETAILS_MAX)):
            self.errors["details"] = error
        return not self.errors


def ask(session: Session, form: RequestForm, *, user: User | None = None, report_id: int | None = None,
        ip: str = "") -> DataRequest | None:
    """Record a request with its 3×24 hour clock; None (and the form's errors) when it is not valid."""
    if not form.validate():
        return None
    now = clock.now()
    request = DataRequest(received_at=now, due_at=now + ANSWER_WITHIN, kind=form.kind, details=form.details,
                          requester_user_id=user.id if user else None, report_id=None if user else report_id)
    session.add(request)
    session.flush()
    audit.record(session, "dataprotection.request_received", actor_id=user.id if user else None,
                 actor_label=user.username if user else audit.CODE_HOLDER, object_type="data_request",
                 object_id=request.id, ip=ip, kind=form.kind)
    return request


def of_user(session: Session, user_id: int) -> list[DataRequest]:
    return list(session.execute(select(DataRequest).where(col(DataRequest.requester_user_id) == user_id)
                                .order_by(col(DataRequest.id).desc())).scalars())


def of_report(session: Session, report_id: int) -> list[DataRequest]:
    return list(session.execute(select(DataRequest).where(col(DataRequest.report_id) == report_id,
                                                          col(DataRequest.requester_user_id).is_(None))
                                .order_by(col(DataRequest.id).desc())).scalars())


def register(session: Session) -> list[DataRequest]:
    """Open requests first, the nearest deadline first; then the decided ones, newest first."""
    open_ = session.execute(select(DataRequest).where(col(DataRequest.status) == RequestStatus.OPEN)
                            .order_by(col(DataRequest.due_at))).scalars().all()
    decided = session.execute(select(DataRequest).where(col(DataRequest.status) != RequestStatus.OPEN)
                              .order_by(col(DataRequest.decided_at).desc()).limit(100)).scalars().all()
    return [*open_, *decided]


def who_asked(session: Session, request: DataRequest) -> str:
    if request.requester_user_id is not None:
        user = session.get(User, request.requester_user_id)
        return f"{user.display_name} ({user.role_label})" if user else "?"
    return _("Pemegang kode laporan #%(id)s", id=request.report_id)


# --- deciding ----------------------------------------------------------------------------------------------------

@dataclass
class DecisionForm(PostedForm):
    MULTILINE = frozenset({"answer"})

    status: str = ""
    answer: str = ""
    version: str = ""
    errors: dict[str, str] = posted({}, read=False)

    def validate(self) -> bool:
        self.answer = self.answer.strip()
        if self.status not in (RequestStatus.GRANTED, RequestStatus.PARTLY, RequestStatus.REFUSED):
            self.errors["status"] = _("Pilih keputusannya.")
        if error := text_error(self.answer, limit=ANSWER_MAX, multiline=True,
                               required=_("Tulis jawaban dan alasannya. Orang yang meminta membacanya."),
                               too_long=_("Paling banyak %(n)s karakter.", n=ANSWER_MAX)):
            self.errors["answer"] = error
        return not self.errors


def _clear_phones(session: Session, *whose: Any) -> None:
    """The numbers given for these appointments, and the one a counselor was asked to call before them."""
    session.execute(update(Appointment).where(*whose).values(phone_number=""))
    session.execute(update(CallTask).where(col(CallTask.appointment_id).in_(select(col(Appointment.id)).where(*whose)))
                    .values(phone=""))


def _erase(session: Session, request: DataRequest) -> list[str]:
    """Carry out an erasure: what was removed, in words for the answer."""
    done: list[str] = []
    if request.requester_user_id is not None:
        user = existing(session, User, request.requester_user_id)
        for table in (PushSubscription, ChannelConsent, Passkey, RecoveryCode, SetupLink, PendingSignIn):
            session.execute(delete(table).where(col(table.user_id) == user.id))
        auth.end_all_sessions(session, user.id)
        _clear_phones(session, col(Appointment.requester_user_id) == user.id)
        session.execute(update(Report).where(col(Report.submitted_by_id) == user.id)
                        .values(contact_detail="", contact_safe_time=""))
        user.username = f"dihapus-{user.id}"
        user.display_name = _("Akun dihapus")
        user.password_hash = auth.UNUSABLE_PASSWORD
        user.totp_secret = None
        user.two_factor_enabled_at = None
        user.active = False
        session.add(user)
        done.append(_("Akun, nomor telepon dan perangkat penerima pemberitahuan sudah dihapus."))
    else:
        for table in (PushSubscription, ChannelConsent):
            session.execute(delete(table).where(col(table.report_id) == request.report_id))
        session.execute(update(Report).where(col(Report.id) == request.report_id)
                        .values(contact_detail="", contact_safe_time=""))
        _clear_phones(session, col(Appointment.report_id) == request.report_id,
                      col(Appointment.requester_user_id).is_(None))
        done.append(_("Nomor telepon dan perangkat penerima pemberitahuan sudah dihapus."))
    done.append(str(LEGAL_HOLD))
    return done


def decide(session: Session, request: DataRequest, form: DecisionForm, actor: User, *, ip: str) -> bool:
    """Decide an open request in one transaction: carry out an erasure or restriction when granted, keep the
    reason, tell the person, write the audit entry. False (with the form's errors) when it cannot be."""
    if not form.validate():
        return False
    if request.status != RequestStatus.OPEN:
        form.errors["form"] = _("Permintaan ini sudah dijawab.")
        return False
    if form.version and form.version != str(request.version):
        form.errors["form"] = _("Permintaan ini baru saja diubah orang lain. Muat ulang halamannya.")
        return False
    answer = form.answer
    carried_out: list[str] = []
    if form.status in (RequestStatus.GRANTED, RequestStatus.PARTLY):
        if request.kind == RequestKind.ERASURE:
            carried_out = _erase(session, request)
        elif request.kind == RequestKind.RESTRICTION:
            carried_out = [str(LEGAL_HOLD)]
    if carried_out:
        answer = "\n\n".join([answer, *carried_out])
    now = clock.now()
    request.status, request.answer, request.decided_at, request.decided_by_id = form.status, answer, now, actor.id
    request.version += 1
    session.add(request)
    audit.record(session, "dataprotection.request_decided", actor_id=actor.id, actor_label=actor.username,
                 object_type="data_request", object_id=request.id, ip=ip, kind=request.kind, decision=form.status,
                 late=now > request.due_at)
    user_id = request.requester_user_id
    account_erased = request.kind == RequestKind.ERASURE and bool(carried_out)
    if user_id is not None and not account_erased:
        outbox.enqueue(session, "data_request_answered", url="/akun/permintaan-data", topic="data-request",
                       user_ids=[user_id], object_type="data_request", object_id=request.id)
    elif user_id is None:
        outbox.enqueue(session, "data_request_answered", url="/cek/permintaan-data", topic="data-request",
                       report_id=request.report_id, object_type="data_request", object_id=request.id)
    return True


# --- the clock ---------------------------------------------------------------------------------------------------

def supervisor_ids(session: Session) -> list[int]:
    return list(session.execute(select(col(User.id)).where(col(User.active), col(User.role) == Role.SUPERVISOR))
                .scalars())


def alert_running_out(session: Session, now: datetime | None = None) -> int:
    """Tell the supervisors, once, of each open request whose 3×24 hours end within a day (the worker's duty)."""
    now = now or clock.now()
    due = session.execute(select(DataRequest).where(col(DataRequest.status) == RequestStatus.OPEN,
                                                    col(DataRequest.alerted_at).is_(None),
                                                    col(DataRequest.due_at) <= now + ALERT_BEFORE)).scalars().all()
    supervisors = supervisor_ids(session)
    for request in due:
        outbox.enqueue(session, "data_request_due", url=f"/perlindungan-data/permintaan/{request.id}",
                       topic="data-request-due", user_ids=supervisors, urgency="high")
        request.alerted_at = now
        session.add(request)
    return len(due)


def open_count(session: Session) -> int:
    return len(session.execute(select(col(DataRequest.id)).where(col(DataRequest.status) == RequestStatus.OPEN)).all())
