"""A report arriving: the submission limit, the report and its chronology, audit entry and alerts, and the
receipt (given again, within limits, to a form sent twice).

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from server import audit, clock, ratelimit
from server.accounts import auth
from server.accounts.models import School, User
from server.db import existing
from server.notifications import outbox
from server.reports.access import on_duty_staff
from server.reports.codes import code_hash, format_code, make_code_and_pin, seal_receipt, token_hash, unseal_receipt
from server.reports.deadlines import FIRST_FOLLOW_UP_WORKING_DAYS, POLICE_DEADLINE, next_deadline
from server.reports.models import (
    FAR_FUTURE,
    CaseEvent,
    Category,
    Report,
    ReportCategory,
    Status,
    Urgency,
)
from server.reports.report_form import ReportForm, contact_number, files_into_account, int_or_none
from server.reports.urgency import initial_urgency
from server.reports.village import district_of
from server.reports.vocabulary import (
    ADULT_REPORTER_KINDS,
    PHONE_CONTACT_METHODS,
)
from server.settings import Settings
from server.workdays import add_working_days

SUBMISSIONS_PER_ADDRESS_PER_HOUR = 10


# A report form sent again (Back then Reload, or an offline queue whose answer was lost): counted per address, so
# nobody can try idempotency keys at speed; the receipt is given again, to the browser that sent it, for a day.
RESENDS_PER_ADDRESS_PER_HOUR = 20


RECEIPT_RESEND_WINDOW = timedelta(hours=24)


def submissions_over_limit(session: Session, ip: str) -> bool:
    return ratelimit.is_over(session, f"report:address:{ip}", SUBMISSIONS_PER_ADDRESS_PER_HOUR, timedelta(hours=1))


@dataclass
class Receipt:
    """What the person who sent a report is shown. A report sent again (`resent`) carries the code and PIN only
    when they may be shown again; otherwise the page says it was already sent, and nothing more."""

    report: Report
    code: str = ""
    pin: str = ""
    resent: bool = False
    limited: bool = False

    @property
    def formatted_code(self) -> str:
        return format_code(self.code)


def sent_before(session: Session, form: ReportForm) -> Report | None:
    """The report that already arrived with this form's idempotency key, if any."""
    if not form.idempotency_key:
        return None
    return session.execute(
        select(Report).where(col(Report.idempotency_key_hash) == token_hash(form.idempotency_key))
    ).scalar_one_or_none()


def answer_resend(
    session: Session, settings: Settings, report: Report, *, browser_token: str | None, wants_receipt: bool,
    user: User | None, ip: str,
) -> Receipt:
    """A form that already arrived, sent again. Nothing new is made, so the submission limit does not apply, but
    resends are counted (the key must not be guessable at speed). The code and PIN come back only to the offline
    queue (`wants_receipt`) of the browser that sent the report, whose answer may have been lost, within a day;
    the receipt page itself is shown once, and Back then Reload gets "already sent"."""
    limited = ratelimit.hit(session, f"report:resend:{ip}", timedelta(hours=1)) > RESENDS_PER_ADDRESS_PER_HOUR
    receipt = Receipt(report, resent=True, limited=limited)
    if report.sealed_receipt and clock.now() - report.created_at > RECEIPT_RESEND_WINDOW:
        report.sealed_receipt = None
    same_browser = bool(browser_token and report.browser_token_hash
                        and hmac.compare_digest(report.browser_token_hash, token_hash(browser_token)))
    if wants_receipt and same_browser and not limited and report.sealed_receipt:
        opened = unseal_receipt(settings, browser_token or "", report.sealed_receipt)
        if opened is not None:
            receipt.code, receipt.pin = opened
    audit.record(session, "report.resent", actor_id=user.id if user else None,
                 actor_label=user.username if user else audit.CODE_HOLDER, object_type="report", object_id=report.id,
                 ip=ip, receipt_given=bool(receipt.pin), limited=limited)
    return receipt


def submit_report(
    session: Session, settings: Settings, form: ReportForm, *, user: User | None, ip: str,
    browser_token: str | None = None, wants_receipt: bool = False,
) -> Receipt:
    """Create the report from a validated form, with its deadlines, chronology, audit entry and alerts.

    A form sent again with the same idempotency key is answered by `answer_resend`. `browser_token` names the
    browser that sent it; for an offline queue (`wants_receipt`) the receipt is kept sealed under that token, for
    the queue to get it again if this answer is lost."""
    earlier = sent_before(session, form)
    if earlier is not None:
        return answer_resend(session, settings, earlier, browser_token=browser_token,
                             wants_receipt=wants_receipt, user=user, ip=ip)
    owner = user if files_into_account(form, user) else None
    code, pin = make_code_and_pin()
    ratelimit.hit(session, f"report:address:{ip}", timedelta(hours=1))
    # Whole seconds, so that deadlines make exact keyset cursors in the inbox.
    now = clock.now().replace(microsecond=0)
    # A report that filled the honeypot is kept (never lose a report) but sorted last and marked for staff.
    urgency = Urgency.LOW if form.website else initial_urgency(form)
    district_id = int_or_none(form.district_id) or district_of(session, form.village_id)
    school_id = int_or_none(form.school_id)
    if school_id and not district_id:
        district_id = existing(session, School, school_id).district_id
    consent_instead = form.parent_consent == "parent_may_harm" and form.reporter_kind in ADULT_REPORTER_KINDS
    report = Report(
        created_at=now,
        updated_at=now,
        code_hash=code_hash(code),
        pin_hash=auth.hash_password(pin),
        idempotency_key_hash=token_hash(form.idempotency_key) if form.idempotency_key else None,
        browser_token_hash=token_hash(browser_token) if browser_token else None,
        sealed_receipt=seal_receipt(settings, browser_token, code, pin) if browser_token and wants_receipt
        else None,
        submitted_by_id=owner.id if owner else None,
        reporter_kind=form.reporter_kind,
        child_id=int_or_none(form.child_id) if owner else None,
        danger_now=form.danger_now == "yes",
        urgency=urgency,
        urgency_rank=urgency.rank,
        happened_when=form.happened_when,
        happened_where=form.happened_where,
        where_detail=form.where_detail,
        district_id=district_id,
        village_id=int_or_none(form.village_id),
        school_id=school_id,
        child_age=int_or_none(form.child_age),
        child_gender=form.child_gender,
        student_name=form.student_name if form.reporter_kind == "teacher" else "",
        student_class=form.student_class if form.reporter_kind == "teacher" else "",
        child_words=form.child_words,
        how_learned=form.how_learned if form.reporter_kind in ADULT_REPORTER_KINDS else "",
        others_involved=form.others_involved,
        child_knows=form.child_knows if form.reporter_kind in ADULT_REPORTER_KINDS else "",
        afraid_to_go_home=form.afraid_to_go_home,
        child_assent=form.child_assent,
        parent_consent=form.parent_consent,
        consent_by=form.consent_by if consent_instead else "",
        consent_reason=form.consent_reason if consent_instead else "",
        contact_method=form.contact_method,
        contact_detail=contact_number(form).e164 if form.contact_method in PHONE_CONTACT_METHODS else "",
        contact_safe_time=form.contact_safe_time if form.contact_method in PHONE_CONTACT_METHODS else "",
        team_district_id=district_id,
        first_response_due_at=now if urgency == Urgency.EMERGENCY
        else add_working_days(session, now, FIRST_FOLLOW_UP_WORKING_DAYS),
        police_due_at=now + POLICE_DEADLINE if Category.SEXUAL in form.categories else None,
        suspected_spam=bool(form.website),
        next_due_at=FAR_FUTURE,  # worked out from the deadlines above, just below
    )
    report.next_due_at = next_deadline(report)
    # A phone's page and its service worker may replay the same offline form at the same moment: the database
    # keeps the first (the idempotency key is unique) and the other gets that report's receipt, not an error.
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        earlier = sent_before(session, form)
        if earlier is None:
            raise
        return answer_resend(session, settings, earlier, browser_token=browser_token,
                             wants_receipt=wants_receipt, user=user, ip=ip)
    session.add_all(ReportCategory(report_id=report.id, category=c) for c in dict.fromkeys(form.categories))
    # Sent without the account: neither the chronology nor the audit log ties the report to it.
    session.add(CaseEvent(report_id=report.id, at=now, actor_id=owner.id if owner else None, kind="submitted",
                          to_status=Status.SUBMITTED))
    audit.record(session, "report.submitted", actor_id=owner.id if owner else None,
                 actor_label=owner.username if owner else audit.CODE_HOLDER, object_type="report", object_id=report.id,
                 ip=ip)
    if urgency == Urgency.EMERGENCY and not report.suspected_spam:
        outbox.enqueue(session, "emergency_report", url=f"/kasus/{report.id}", topic=f"report-{report.id}-urgent",
                       user_ids=on_duty_staff(session, report), urgency="high", object_type="report",
                       object_id=report.id)
    return Receipt(report, code, pin)
