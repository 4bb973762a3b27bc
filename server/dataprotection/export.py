""""Unduh data saya": what the service holds about one person, as they gave it (UU PDP Art. 7), at once.

For a signed-in person: the account, their own reports with the messages they could already read, their
appointments, the consents they gave, their devices, check-in answers and their requests. For a code holder: the
one report the code opens, with the same limits.

Never in it: counselors' internal notes (case events the reporter cannot see), the identity of other people
(the student named in a report, others involved, who gave consent, the counselor handling it), nor any report
someone else made, not even about the person's own child (a parent may be the one reported). Each field is
chosen here by name: a column added later stays out until it is put in on purpose."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from server.accounts import service as accounts
from server.accounts.models import District, Guardianship, Passkey, School, User
from server.aftercare.models import CheckIn
from server.appointments.models import Appointment, ServiceType
from server.dataprotection.models import DataRequest
from server.notifications.models import ChannelConsent, PushSubscription
from server.reports.models import CaseEvent, Report, ReportCategory
from server.waitlist.models import WaitlistEntry

# The report's fields the reporter gave (or reads on their own page), by name.
REPORT_FIELDS = (
    "id", "created_at", "reporter_kind", "danger_now", "happened_when", "happened_where", "where_detail",
    "child_age", "child_gender", "child_words", "how_learned", "child_knows", "afraid_to_go_home", "contact_method",
    "contact_detail", "contact_safe_time", "status", "is_open",
)
CONSENT_FIELDS = ("child_assent", "parent_consent", "consent_reason")
APPOINTMENT_FIELDS = ("id", "created_at", "starts_at", "ends_at", "status", "note", "phone_number", "child_agreed",
                      "decline_reason", "cancel_reason")


def _value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _pick(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _value(getattr(row, name)) for name in names}


def _report(session: Session, report: Report) -> dict[str, Any]:
    categories = session.execute(select(col(ReportCategory.category)).where(col(ReportCategory.report_id) == report.id)
                                 .order_by(col(ReportCategory.category))).scalars().all()
    # Only what the reporter's own page shows: messages both ways and the answers meant for them.
    events = session.execute(select(CaseEvent).where(col(CaseEvent.report_id) == report.id,
                                                     col(CaseEvent.visible_to_reporter).is_(True))
                             .order_by(col(CaseEvent.at), col(CaseEvent.id))).scalars().all()
    return {
        **_pick(report, REPORT_FIELDS),
        "categories": list(categories),
        "consent": _pick(report, CONSENT_FIELDS),
        "messages": [{"at": _value(event.at), "from": "saya" if event.from_reporter else "layanan",
                      "kind": event.kind, "body": event.body} for event in events],
    }


def _appointments(session: Session, *conditions: Any) -> list[dict[str, Any]]:
    rows = session.execute(select(Appointment, col(ServiceType.name)).join(ServiceType)
                           .where(*conditions).order_by(col(Appointment.starts_at))).all()
    return [{**_pick(appointment, APPOINTMENT_FIELDS), "service": name} for appointment, name in rows]


def _devices(session: Session, *conditions: Any) -> list[dict[str, Any]]:
    rows = session.execute(select(PushSubscription).where(*conditions).order_by(col(PushSubscription.id))).scalars()
    return [_pick(row, ("device", "language", "created_at", "last_seen_at")) for row in rows]


def _reminder_consents(session: Session, *conditions: Any) -> list[dict[str, Any]]:
    rows = session.execute(select(ChannelConsent).where(*conditions).order_by(col(ChannelConsent.id))).scalars()
    return [_pick(row, ("phone", "whatsapp", "sms", "show_service_name", "agreed_at", "withdrawn_at", "withdrawn_how"))
            for row in rows]


def _requests(session: Session, *conditions: Any) -> list[dict[str, Any]]:
    rows = session.execute(select(DataRequest).where(*conditions).order_by(col(DataRequest.id))).scalars()
    return [_pick(row, ("id", "received_at", "kind", "details", "status", "decided_at", "answer")) for row in rows]


def of_user(session: Session, user: User) -> dict[str, Any]:
    school = session.get(School, user.school_id) if user.school_id else None
    district = session.get(District, user.district_id) if user.district_id else None
    passkeys = session.execute(select(Passkey).where(col(Passkey.user_id) == user.id)).scalars()
    reports = session.execute(select(Report).where(col(Report.submitted_by_id) == user.id)
                              .order_by(col(Report.id))).scalars()
    relations = dict(session.execute(select(col(Guardianship.child_id), col(Guardianship.relation))
                                     .where(col(Guardianship.parent_id) == user.id)).all())
    check_ins = session.execute(select(CheckIn).where(col(CheckIn.recipient_user_id) == user.id,
                                                      col(CheckIn.answered_at).is_not(None))
                                .order_by(col(CheckIn.answered_at))).scalars()
    waits = session.execute(select(WaitlistEntry).where(col(WaitlistEntry.requester_user_id) == user.id)
                            .order_by(col(WaitlistEntry.id))).scalars()
    return {
        "account": {
            **_pick(user, ("username", "display_name", "role", "created_at", "last_sign_in_at", "active")),
            "school": school.name if school else None,
            "district": district.name if district else None,
            "two_factor": user.two_factor_enabled_at is not None,
            "passkeys": [_pick(key, ("name", "created_at", "last_used_at")) for key in passkeys],
        },
        "children": [{"nickname": child.nickname, "birth_year": child.birth_year,
                      "relation": relations.get(child.id, "")} for child in accounts.children_of(session, user.id)],
        "reports": [_report(session, report) for report in reports],
        "appointments": _appointments(session, col(Appointment.requester_user_id) == user.id),
        "waiting_lists": [_pick(entry, ("created_at", "status", "expires_at")) for entry in waits],
        "check_ins": [_pick(check_in, ("answered_at", "answer", "message")) for check_in in check_ins],
        "devices": _devices(session, col(PushSubscription.user_id) == user.id),
        "reminder_consents": _reminder_consents(session, col(ChannelConsent.user_id) == user.id),
        "data_requests": _requests(session, col(DataRequest.requester_user_id) == user.id),
    }


def of_code_holder(session: Session, report: Report) -> dict[str, Any]:
    return {
        "reports": [_report(session, report)],
        "appointments": _appointments(session, col(Appointment.report_id) == report.id,
                                      col(Appointment.requester_user_id).is_(None)),
        "devices": _devices(session, col(PushSubscription.report_id) == report.id),
        "reminder_consents": _reminder_consents(session, col(ChannelConsent.report_id) == report.id),
        "data_requests": _requests(session, col(DataRequest.report_id) == report.id),
    }


def as_json(data: dict[str, Any], generated_at: datetime) -> str:
    return json.dumps({"generated_at": generated_at.isoformat(), **data}, ensure_ascii=False, indent=2)
