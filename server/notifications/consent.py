"""A person's own agreement that their number may get reminders by WhatsApp and/or SMS.

Only the person records it, for themselves: the signed-in person for their account, the holder of a case code
for that case. Nobody agrees for another (a parent's tick is for the parent's number; a child's account must tick
it itself). Every agreement is kept with its time; a change or a withdrawal closes the row with when and how, so
that what was allowed at any moment can be told. "BERHENTI" by WhatsApp (or the template's opt-out button)
withdraws every agreement for that number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session, col

from server import audit, clock
from server.accounts.visitor import Visitor
from server.db import rows_changed
from server.notifications.models import ChannelConsent
from server.privacy import phone as phones

# Words a person sends back to stop the messages (case and spaces do not matter).
STOP_WORDS = frozenset({"berhenti", "stop", "henti", "unsubscribe"})


class ConsentError(ValueError):
    """What to show next to the number field."""


def _owner_clause(user_id: int | None, report_id: int | None):
    if user_id is not None:
        return col(ChannelConsent.user_id) == user_id
    return (col(ChannelConsent.report_id) == report_id) & col(ChannelConsent.user_id).is_(None)


def current(session: Session, *, user_id: int | None, report_id: int | None) -> ChannelConsent | None:
    """The agreement in force for a recipient (a person, or a case code's holder), if any."""
    if user_id is None and report_id is None:
        return None
    return session.execute(
        select(ChannelConsent).where(_owner_clause(user_id, report_id), col(ChannelConsent.withdrawn_at).is_(None))
        .order_by(col(ChannelConsent.id).desc()).limit(1)
    ).scalar_one_or_none()


def of(session: Session, owner: Visitor) -> ChannelConsent | None:
    return current(session, user_id=owner.user.id if owner.user else None,
                   report_id=None if owner.user else owner.case_report_id)


def _close(session: Session, user_id: int | None, report_id: int | None, how: str, now: datetime) -> int:
    return rows_changed(session.execute(
        update(ChannelConsent).where(_owner_clause(user_id, report_id), col(ChannelConsent.withdrawn_at).is_(None))
        .values(withdrawn_at=now, withdrawn_how=how)
    ))


def agree(session: Session, owner: Visitor, *, number: str, whatsapp: bool, sms: bool,
          show_service_name: bool = False, ip: str = "", now: datetime | None = None) -> ChannelConsent | None:
    """Record `owner`'s own agreement for `number` (typed in any form; stored E.164). Neither channel ticked
    withdraws what was agreed before. Raises ConsentError with the field's message."""
    if not owner:
        raise ConsentError("not signed in")
    now = now or clock.now()
    user_id = owner.user.id if owner.user else None
    report_id = None if owner.user else owner.case_report_id
    if not (whatsapp or sms):
        if _close(session, user_id, report_id, "person", now):
            audit.record(session, "channel_consent.withdrawn", actor_id=user_id, actor_label=owner.label, ip=ip)
        return None
    try:
        phone = phones.parse_mobile(number)
    except phones.PhoneError as exc:
        raise ConsentError(str(exc)) from exc
    _close(session, user_id, report_id, "changed", now)
    row = ChannelConsent(user_id=user_id, report_id=report_id, phone=phone.e164, whatsapp=whatsapp, sms=sms,
                         show_service_name=show_service_name, agreed_at=now)
    session.add(row)
    audit.record(session, "channel_consent.agreed", actor_id=user_id, actor_label=owner.label, ip=ip,
                 whatsapp=whatsapp, sms=sms)
    return row


def withdraw(session: Session, owner: Visitor, *, ip: str = "", now: datetime | None = None) -> bool:
    user_id = owner.user.id if owner.user else None
    report_id = None if owner.user else owner.case_report_id
    closed = _close(session, user_id, report_id, "person", now or clock.now())
    if closed:
        audit.record(session, "channel_consent.withdrawn", actor_id=user_id, actor_label=owner.label, ip=ip)
    return closed > 0


def is_stop_word(text: str) -> bool:
    return " ".join(text.split()).strip(" .!").lower() in STOP_WORDS


def withdraw_number(session: Session, e164: str, *, how: str, now: datetime | None = None) -> int:
    """The number's owner said stop (by WhatsApp or SMS): every agreement for it ends now."""
    closed = rows_changed(session.execute(
        update(ChannelConsent).where(col(ChannelConsent.phone) == e164, col(ChannelConsent.withdrawn_at).is_(None))
        .values(withdrawn_at=now or clock.now(), withdrawn_how=how)
    ))
    if closed:
        audit.record(session, "channel_consent.withdrawn", actor_label="phone", how=how, consents=closed)
    return closed


def number_for(session: Session, *, user_id: int | None, report_id: int | None, channel: str) -> ChannelConsent | None:
    """The agreement that lets `channel` ('whatsapp' or 'sms') reach this recipient, or None."""
    row = current(session, user_id=user_id, report_id=report_id)
    if row is None or not getattr(row, channel, False):
        return None
    return row

