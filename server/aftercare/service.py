"""After the case: check-ins by push once a case is closed, and the child's own rating of each attended session.

Check-ins. Closing a case (reports.cases.change_status, its one call into this module) starts the plan the
counselor chose: by default 2 weeks, 1, 3 and 6 months after closing, or none when the child or parent declined
(the reason is kept). Each check-in's two notification jobs (the first try and the one repeat, RETRY_AFTER later)
are written at closing time with their due times, in the closing transaction, so nothing else has to remember
them: the dispatcher sends each when it is due. Nothing is due between 21.00 and 07.00 local time (`outside_quiet_hours`),
and a dispatcher that finds one due in those hours (it was down, or retrying) keeps it until 07.00.
An answer cancels the repeat; "tidak baik" or a message gives the case's counselor a follow-up task due within one
working day, with an alert. No answer after both tries: the worker marks it unanswered (`mark_unanswered`) and it
is shown on the counselor's list; it is never sent a third time.

What a check-in says anywhere outside the page behind sign-in or code + PIN is "Ada pesan baru" and the service's
name: never the case, its subject or the word "check-in".

Ratings. After a session recorded as attended, the person who booked it (or the child it was for, from their own
account) rates it once: a face, whether it felt safe to talk, optional words. Nothing may lead from a rating back
to the child, in the database, a backup or a page:
- which appointment was rated is kept apart (`session_rating_given`, for once-only), with nothing of the answer;
  the audit entry says that the person rated a session, not which one;
- the answer waits sealed (`session_rating_pending`: AES-GCM under a key from SECRET_KEY, padded to one length),
  so neither its words nor its place among the others (rowid, heap order) can be read against the audit log;
- the worker releases the answers of a month and service type once RELEASE_AT_LEAST of them wait, in one
  transaction of its own, shuffled, with new random ids and only the month of the session: the rows of
  `session_rating` fall in batches whose order says nothing of who rated first;
- supervisors see totals per month and service type, and the words, only of groups of SHOWN_AT_LEAST or more.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from server import audit, clock
from server.accounts.models import Child, Role, User
from server.aftercare.models import (
    CheckIn,
    CheckInPlan,
    CheckInStatus,
    SessionRating,
    SessionRatingGiven,
    SessionRatingPending,
)
from server.appointments import access as appointment_access
from server.appointments import service as appointments
from server.appointments.models import Appointment, AppointmentStatus, ServiceType
from server.db import existing, rows_changed
from server.forms import PostedForm, posted, text_error
from server.i18n import LOCAL
from server.i18n import gettext as _
from server.notifications import outbox
from server.notifications.models import NotificationJob
from server.notifications.outbox import outside_quiet_hours
from server.reports import access, case_hooks, case_record
from server.reports.models import CaseEvent, Report, Status
from server.workdays import add_working_days

log = logging.getLogger("bintang.aftercare")

STEPS = ("2w", "1m", "3m", "6m")
RETRY_AFTER = timedelta(days=3)  # the one repeat of a check-in not answered
GIVE_UP_AFTER = timedelta(days=3)  # after the repeat: marked unanswered, shown to the counselor
FOLLOW_UP_WORKING_DAYS = 1
MESSAGE_LIMIT = 1000
REASON_LIMIT = 1000
FACES = ("baik", "biasa", "tidak_baik")
CHECK_IN_KIND = "check_in"
FOLLOW_UP_KIND = "check_in_follow_up"
# Ratings of one month and service type are released together once this many wait, and a group is shown to
# supervisors only from this many: fewer could point at one child.
RELEASE_AT_LEAST = 5
SHOWN_AT_LEAST = 5
# Every sealed rating is this long before encryption (1,000 characters of words at 4 bytes each, and the rest),
# so the length of a sealed row says nothing about its words.
SEALED_LENGTH = 4400
# Shuffles a released batch; a test may give a seeded one.
_shuffler: Any = secrets.SystemRandom()


def step_labels() -> dict[str, str]:
    return {"2w": _("2 minggu"), "1m": _("1 bulan"), "3m": _("3 bulan"), "6m": _("6 bulan")}


def face_labels() -> dict[str, str]:
    return {"baik": _("Baik"), "biasa": _("Biasa saja"), "tidak_baik": _("Tidak baik")}


# --- when a check-in is sent -------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def step_time(closed_at: datetime, step: str) -> datetime:
    """When a step of the plan falls (at the hour of closing, in local time), before quiet hours are applied."""
    local = closed_at.astimezone(LOCAL)
    if step.endswith("w"):
        later = local + timedelta(weeks=int(step[:-1]))
    else:
        later = datetime.combine(_add_months(local.date(), int(step[:-1])), local.timetz())
    return later.astimezone(closed_at.tzinfo)


# --- choosing the plan when a case is closed ---------------------------------------------------------------


@dataclass
class PlanForm(PostedForm):
    """The closing form's plan: `choice` "plan" (the steps ticked) or "none" (declined, with a reason); empty when
    the form did not ask (the default plan, or none when nobody can be asked)."""

    choice: str = posted(name="check_in_plan")
    steps: list[str] = posted([], name="check_in_steps")
    reason: str = posted(name="check_in_reason")


def recipient_of(session: Session, report: Report) -> tuple[bool, int | None]:
    """(anyone to ask, their account). The child's own account when the report names a child who has one; else
    the child's or parent's account the report was sent from; else the code holder (a report sent without an
    account). A teacher's report has nobody to ask: a teacher is not the child."""
    if report.child_id is not None:
        child = session.get(Child, report.child_id)
        if child is not None and child.user_id is not None:
            return True, child.user_id
    if report.submitted_by_id is not None:
        reporter = session.get(User, report.submitted_by_id)
        if reporter is not None and reporter.active and reporter.role in (Role.CHILD, Role.PARENT):
            return True, reporter.id
        return False, None
    return True, None


def check_plan(session: Session, report: Report, plan: PlanForm | dict[str, Any] | None) -> PlanForm:
    """The plan to start (from the closing form's fields, or a PlanForm), or case_record.CaseError with the reason (the
    closing form shows it next to the status)."""
    if isinstance(plan, dict):
        plan = PlanForm.from_data(plan)
    plan = plan or PlanForm()
    anyone, _user_id = recipient_of(session, report)
    if plan.choice == "":
        if anyone:
            return PlanForm("plan", list(STEPS))
        return PlanForm("none", [], _("Tidak ada anak atau orang tua yang bisa ditanya lewat aplikasi."))
    if plan.choice == "none":
        if error := text_error(
                plan.reason, limit=REASON_LIMIT, multiline=True,
                required=_("Tulis alasan tanpa pemantauan, misalnya anak atau orang tua menolak."),
                too_long=_("Alasan terlalu panjang: paling banyak %(n)s huruf.", n=REASON_LIMIT)):
            raise case_record.CaseError(error)
        return PlanForm("none", [], plan.reason)
    if plan.choice != "plan":
        raise case_record.CaseError(_("Pilih rencana pemantauan dari daftar."))
    if not plan.steps or any(step not in STEPS for step in plan.steps):
        raise case_record.CaseError(_("Pilih setidaknya satu waktu pemantauan, atau pilih tanpa pemantauan."))
    if not anyone:
        raise case_record.CaseError(_("Laporan ini dikirim guru dari akunnya: tidak ada anak atau orang tua yang bisa "
                                  "ditanya. Pilih tanpa pemantauan dan tulis alasannya."))
    return PlanForm("plan", [step for step in STEPS if step in plan.steps])


def start_plan(session: Session, report: Report, actor: User, plan: PlanForm, *, ip: str) -> CheckInPlan:
    """The plan, its check-ins, and each check-in's two notification jobs (first try, then once more), all in the
    closing transaction."""
    now = clock.now().replace(microsecond=0)
    row = CheckInPlan(report_id=report.id, created_at=now, created_by_id=actor.id, offsets=",".join(plan.steps),
                      declined=plan.choice == "none", declined_reason=plan.reason)
    session.add(row)
    session.flush()
    _anyone, user_id = recipient_of(session, report)
    for step in plan.steps:
        _schedule(session, row, report, step, user_id)
    labels = step_labels()
    body = (_("Pemantauan: %(steps)s setelah ditutup.", steps=", ".join(labels[s] for s in plan.steps))
            if plan.steps else _("Tanpa pemantauan (ditolak): %(reason)s", reason=plan.reason))
    session.add(CaseEvent(report_id=report.id, actor_id=actor.id, kind="check_in_plan", body=body))
    audit.record(session, "report.check_in_planned", actor_id=actor.id, actor_label=actor.username,
                 object_type="report", object_id=report.id, ip=ip, steps=plan.steps, declined=plan.choice == "none")
    return row


def cancel_open(session: Session, report: Report) -> int:
    """The case was opened again: check-ins not yet answered stop, and their messages are not sent."""
    waiting = list(session.execute(select(CheckIn).where(
        col(CheckIn.report_id) == report.id, col(CheckIn.status) == CheckInStatus.SCHEDULED)).scalars())
    for check_in in waiting:
        check_in.status = CheckInStatus.CANCELLED
        check_in.version += 1
        outbox.cancel_pending(session, object_type="check_in", object_id=check_in.id)
    return len(waiting)


# --- changing or stopping the plan of a closed case ---------------------------------------------------------


class NotAllowed(Exception):
    """The person may not handle this case: the page answers "not found", as for any case of another team."""


@dataclass(frozen=True)
class PlanState:
    """A closed case's plan as its page shows it: each step, and whether it still waits, was sent, or is off."""

    plan: CheckInPlan | None
    steps: list[tuple[str, str, CheckIn | None]]  # (step, its label, its check-in if any; not cancelled)
    anyone: bool  # someone can be asked at all (not a teacher's report)

    def waiting(self) -> list[str]:
        return [step for step, _label, c in self.steps if c is not None and c.status == CheckInStatus.SCHEDULED
                and c.due_at > clock.now()]

    def sent(self) -> list[str]:
        return [step for step, _label, c in self.steps if c is not None and (c.status != CheckInStatus.SCHEDULED
                                                                            or c.due_at <= clock.now())]


def plan_state(session: Session, report: Report, *, lock: bool = False) -> PlanState | None:
    """The plan of a closed case (the latest one chosen at closing), or None while the case is open. `lock` holds
    the plan's row until the transaction ends (PostgreSQL; SQLite has one writer), so two changes made at once
    are made one after the other, the second seeing the first's check-ins."""
    if report.status != Status.CLOSED:
        return None
    query = (select(CheckInPlan).where(col(CheckInPlan.report_id) == report.id)
             .order_by(col(CheckInPlan.id).desc()).limit(1))
    plan = session.execute(query.with_for_update() if lock else query).scalars().first()
    found: dict[str, CheckIn] = {}
    if plan is not None:
        for check_in in session.execute(select(CheckIn).where(
                col(CheckIn.plan_id) == plan.id, col(CheckIn.status) != CheckInStatus.CANCELLED,
        ).order_by(col(CheckIn.id))).scalars():
            found[check_in.step] = check_in
    labels = step_labels()
    anyone, _user_id = recipient_of(session, report)
    return PlanState(plan, [(step, labels[step], found.get(step)) for step in STEPS], anyone)


@dataclass
class PlanChangeForm(PostedForm):
    """The case page's panel: `choice` "change" (the steps ticked) or "stop" (with a reason)."""

    choice: str = posted(name="plan_choice")
    steps: list[str] = posted([], name="plan_steps")
    reason: str = posted(name="plan_reason")


def _schedule(session: Session, plan: CheckInPlan, report: Report, step: str, user_id: int | None) -> CheckIn:
    due_at = outside_quiet_hours(step_time(plan.created_at, step))
    retry_at = outside_quiet_hours(due_at + RETRY_AFTER)
    check_in = CheckIn(plan_id=plan.id, report_id=report.id, step=step, recipient_user_id=user_id,
                       due_at=due_at, retry_at=retry_at, give_up_at=retry_at + GIVE_UP_AFTER)
    session.add(check_in)
    session.flush()
    for when in (due_at, retry_at):
        outbox.enqueue(session, CHECK_IN_KIND, url=f"/pemantauan/{check_in.id}", topic=f"checkin-{check_in.id}",
                       user_ids=[user_id] if user_id is not None else [],
                       report_id=report.id if user_id is None else None, due_at=when,
                       object_type="check_in", object_id=check_in.id)
    return check_in


def _withdraw(session: Session, check_in: CheckIn) -> None:
    check_in.status = CheckInStatus.CANCELLED
    check_in.version += 1
    outbox.cancel_pending(session, object_type="check_in", object_id=check_in.id)


def _stopped(form: PlanChangeForm, waiting: set[str]) -> list[str]:
    """Stopping every check-in still to come: a readable reason, and something to stop. No step is wanted."""
    if error := text_error(
            form.reason, limit=REASON_LIMIT, multiline=True, required=_("Tulis alasan menghentikan pemantauan."),
            too_long=_("Alasan terlalu panjang: paling banyak %(n)s huruf.", n=REASON_LIMIT)):
        raise case_record.CaseError(error)
    if not waiting:
        raise case_record.CaseError(_("Tidak ada pemantauan yang masih menunggu untuk dihentikan."))
    return []


def _changed(state: PlanState, form: PlanChangeForm, now: datetime, waiting: set[str], sent: set[str]) -> list[str]:
    """The steps wanted from now on (those not sent yet): someone to ask, none already past, and a change."""
    wanted = [step for step in STEPS if step in form.steps and step not in sent]
    if not state.anyone and wanted:
        raise case_record.CaseError(_("Laporan ini dikirim guru dari akunnya: tidak ada anak atau orang tua yang "
                                  "bisa ditanya."))
    plan_row = state.plan
    closed_at = plan_row.created_at if plan_row is not None else now
    late = [step for step in wanted if step not in waiting and step_time(closed_at, step) <= now]
    if late:
        labels = step_labels()
        raise case_record.CaseError(_("Waktu ini sudah lewat: %(steps)s. Pilih waktu yang belum tiba.",
                                  steps=", ".join(labels[s] for s in late)))
    if set(wanted) == waiting:
        raise case_record.CaseError(_("Tidak ada yang berubah: pilih waktu lain, atau hentikan pemantauan."))
    return wanted


def _plan_change_line(form: PlanChangeForm, wanted: list[str]) -> str:
    """The chronology's line for a changed or stopped plan."""
    if form.choice == "stop":
        return _("Pemantauan dihentikan: %(reason)s", reason=form.reason)
    if wanted:
        labels = step_labels()
        return _("Pemantauan diubah: %(steps)s setelah ditutup.", steps=", ".join(labels[s] for s in wanted))
    return _("Pemantauan diubah: tidak ada lagi yang akan dikirim.")


def change_plan(session: Session, report: Report, actor: User, form: PlanChangeForm, *, ip: str) -> list[str]:
    """Change which check-ins of a closed case are still to come, or stop them all: check-ins not sent yet are
    withdrawn with their messages, new steps are scheduled from the closing time (quiet hours apply), in the
    caller's transaction, with a line in the chronology and an audit entry. A check-in already sent stays as it
    is. NotAllowed for someone who may not handle the case; case_record.CaseError with the reason otherwise. Returns
    the steps that now wait."""
    if not access.can_handle(actor, report):
        raise NotAllowed()
    state = plan_state(session, report, lock=True)
    if state is None:
        raise case_record.CaseError(_("Rencana pemantauan hanya bisa diubah setelah kasus ditutup."))
    if form.choice not in ("change", "stop"):
        raise case_record.CaseError(_("Pilih: ubah waktu pemantauan, atau hentikan pemantauan."))
    if any(step not in STEPS for step in form.steps):
        raise case_record.CaseError(_("Pilih waktu pemantauan dari daftar."))
    now = clock.now()
    waiting = set(state.waiting())
    sent = set(state.sent())
    wanted = _stopped(form, waiting) if form.choice == "stop" else _changed(state, form, now, waiting, sent)
    plan = state.plan
    if plan is None:  # closed before plans existed: the change starts one, counted from now
        plan = CheckInPlan(report_id=report.id, created_at=now.replace(microsecond=0), created_by_id=actor.id,
                           declined=True)
        session.add(plan)
        session.flush()
    _anyone, user_id = recipient_of(session, report)
    for step, _label, check_in in state.steps:
        if check_in is not None and step in waiting and step not in wanted:
            _withdraw(session, check_in)
        elif step in wanted and step not in waiting:
            _schedule(session, plan, report, step, user_id)
    kept = [step for step in STEPS if step in sent or step in wanted]
    plan.offsets = ",".join(kept)
    plan.declined = not wanted and form.choice == "stop"
    if form.choice == "stop":
        plan.declined_reason = form.reason
    session.add(CaseEvent(report_id=report.id, actor_id=actor.id, kind="check_in_plan",
                          body=_plan_change_line(form, wanted)))
    report.updated_at = now
    audit.record(session, "report.check_in_plan_stopped" if form.choice == "stop" else "report.check_in_plan_changed",
                 actor_id=actor.id, actor_label=actor.username, object_type="report", object_id=report.id, ip=ip,
                 before=sorted(waiting, key=STEPS.index), after=wanted)
    return wanted


# --- the check-in page -------------------------------------------------------------------------------------


def may_answer(check_in: CheckIn, *, user: User | None, case_report_id: int | None) -> bool:
    """Only its recipient: the account it was sent to, or the holder of the case's code when it went to the code."""
    if check_in.recipient_user_id is not None:
        return user is not None and user.active and user.id == check_in.recipient_user_id
    return case_report_id is not None and case_report_id == check_in.report_id


def visible_check_in(session: Session, check_in_id: int, *, user: User | None,
                     case_report_id: int | None) -> CheckIn | None:
    """The check-in, for its recipient, once it has been sent (before that it does not exist for anyone)."""
    check_in = session.get(CheckIn, check_in_id)
    if (check_in is None or check_in.due_at > clock.now()
            or not may_answer(check_in, user=user, case_report_id=case_report_id)):
        return None
    return check_in


def is_open(check_in: CheckIn, now: datetime | None = None) -> bool:
    """It may be answered: it was sent (its time came) and not answered or withdrawn. A late answer, after it was
    marked unanswered, is still welcome."""
    now = now or clock.now()
    return check_in.status in (CheckInStatus.SCHEDULED, CheckInStatus.UNANSWERED) and check_in.due_at <= now


def record_view(session: Session, check_in: CheckIn, *, user: User | None, ip: str) -> None:
    report = existing(session, Report, check_in.report_id)
    access.record_view(session, report, user=user, ip=ip, as_="check_in")


@dataclass
class AnswerForm(PostedForm):
    face: str = ""
    message: str = ""


def validate_answer(form: AnswerForm) -> dict[str, str]:
    errors = {}
    if form.face not in FACES:
        errors["face"] = _("Pilih salah satu wajah: baik, biasa saja, atau tidak baik.")
    if error := text_error(form.message, limit=MESSAGE_LIMIT, multiline=True,
                           too_long=_("Pesan terlalu panjang: paling banyak %(n)s huruf.", n=MESSAGE_LIMIT)):
        errors["message"] = error
    return errors


class AlreadyAnswered(Exception):
    """The check-in was answered (or withdrawn) in the meantime."""


def answer(session: Session, check_in: CheckIn, form: AnswerForm, *, user: User | None, ip: str) -> None:
    """Keep the answer, stop the repeat, and give the counselor a task when it is "tidak baik" or has words."""
    now = clock.now()
    changed = rows_changed(session.execute(
        update(CheckIn).where(col(CheckIn.id) == check_in.id, col(CheckIn.version) == check_in.version,
                              col(CheckIn.status).in_([CheckInStatus.SCHEDULED, CheckInStatus.UNANSWERED]))
        .values(status=CheckInStatus.ANSWERED, answered_at=now, answer=form.face, message=form.message,
                version=col(CheckIn.version) + 1)
        .execution_options(synchronize_session=False)
    ))
    if changed != 1:
        raise AlreadyAnswered()
    session.refresh(check_in)
    outbox.cancel_pending(session, object_type="check_in", object_id=check_in.id)
    report = existing(session, Report, check_in.report_id)
    body = face_labels()[form.face] + (f": {form.message}" if form.message else "")
    session.add(CaseEvent(report_id=report.id, actor_id=user.id if user else None, kind="check_in_answer",
                          body=body, from_reporter=True))
    audit.record(session, "report.check_in_answered", actor_id=user.id if user else None,
                 actor_label=user.username if user else audit.CODE_HOLDER, object_type="report", object_id=report.id,
                 ip=ip, check_in_id=check_in.id)
    if form.face == "tidak_baik" or form.message:
        check_in.follow_up_due_at = add_working_days(session, now, FOLLOW_UP_WORKING_DAYS)
        recipients = [report.assigned_to_id] if report.assigned_to_id else access.on_duty_staff(session, report)
        outbox.enqueue(session, FOLLOW_UP_KIND, url="/kasus/pemantauan", topic=f"report-{report.id}-checkin",
                       user_ids=recipients, urgency="high" if form.face == "tidak_baik" else "normal",
                       object_type="report", object_id=report.id)


# --- the worker's duty and the counselor's list ------------------------------------------------------------


def mark_unanswered(session: Session, now: datetime | None = None) -> list[int]:
    """Check-ins with no answer after both tries: marked, written in the case's chronology, and shown on the
    counselor's list. Nothing more is sent."""
    now = now or clock.now()
    lapsed = list(session.execute(select(CheckIn).where(
        col(CheckIn.status) == CheckInStatus.SCHEDULED, col(CheckIn.give_up_at) <= now)).scalars())
    for check_in in lapsed:
        check_in.status = CheckInStatus.UNANSWERED
        check_in.version += 1
        session.add(CaseEvent(report_id=check_in.report_id, kind="check_in_none",
                              body=_("Tidak dijawab setelah dua kali dikirim.")))
    return [check_in.id for check_in in lapsed]


@dataclass(frozen=True)
class FollowUp:
    check_in: CheckIn
    report: Report
    overdue: bool


def follow_ups(session: Session, user: User, now: datetime | None = None) -> list[FollowUp]:
    """Check-ins that need the counselor: a "tidak baik" or a message (with its deadline), or no answer at all; only
    of cases the person may handle. Oldest deadline first."""
    now = now or clock.now()
    rows = session.execute(
        select(CheckIn, Report).join(Report, col(Report.id) == col(CheckIn.report_id))
        .where(col(CheckIn.follow_up_done_at).is_(None),
               (col(CheckIn.follow_up_due_at).is_not(None)) | (col(CheckIn.status) == CheckInStatus.UNANSWERED))
        .order_by(col(CheckIn.follow_up_due_at).is_(None), col(CheckIn.follow_up_due_at), col(CheckIn.id)).limit(500)
    ).all()
    return [FollowUp(check_in, report, check_in.follow_up_due_at is not None and check_in.follow_up_due_at < now)
            for check_in, report in rows if access.can_handle(user, report)]


def follow_up_for(session: Session, check_in_id: int, user: User) -> CheckIn | None:
    check_in = session.get(CheckIn, check_in_id)
    if check_in is None:
        return None
    report = existing(session, Report, check_in.report_id)
    return check_in if access.can_handle(user, report) else None


def mark_follow_up_done(session: Session, check_in: CheckIn, actor: User, *, ip: str) -> None:
    if check_in.follow_up_done_at is not None:
        raise case_record.CaseError(_("Sudah dicatat ditindaklanjuti."))
    if check_in.follow_up_due_at is None and check_in.status != CheckInStatus.UNANSWERED:
        raise case_record.CaseError(_("Pemantauan ini tidak memerlukan tindak lanjut."))
    check_in.follow_up_done_at, check_in.follow_up_done_by_id = clock.now(), actor.id
    check_in.version += 1
    session.add(CaseEvent(report_id=check_in.report_id, actor_id=actor.id, kind="follow_up_done"))
    audit.record(session, "report.check_in_followed_up", actor_id=actor.id, actor_label=actor.username,
                 object_type="report", object_id=check_in.report_id, ip=ip, check_in_id=check_in.id)


def waiting_for(session: Session, *, user: User | None, case_report_id: int | None,
                now: datetime | None = None) -> list[CheckIn]:
    """The person's check-ins that are due and not answered yet (the code holder's page links to them)."""
    now = now or clock.now()
    query = select(CheckIn).where(col(CheckIn.status).in_([CheckInStatus.SCHEDULED, CheckInStatus.UNANSWERED]),
                                  col(CheckIn.due_at) <= now)
    if user is not None:
        query = query.where(col(CheckIn.recipient_user_id) == user.id)
    elif case_report_id is not None:
        query = query.where(col(CheckIn.recipient_user_id).is_(None), col(CheckIn.report_id) == case_report_id)
    else:
        return []
    return list(session.execute(query.order_by(col(CheckIn.due_at), col(CheckIn.id))).scalars())


# --- for statistics -----------------------------------------------------------------------------------------


def check_ins_sent(session: Session, start: datetime, end: datetime, now: datetime | None = None) -> int:
    """Check-ins whose (first) message went out in [start, end): due in the period, already due, not withdrawn."""
    now = now or clock.now()
    return session.execute(select(func.count()).select_from(CheckIn).where(
        col(CheckIn.due_at) >= start, col(CheckIn.due_at) < end, col(CheckIn.due_at) <= now,
        col(CheckIn.status) != CheckInStatus.CANCELLED)).scalar_one()


def check_ins_answered(session: Session, start: datetime, end: datetime) -> int:
    """Check-ins answered in [start, end) (monitoring done, for the KLA pack)."""
    return session.execute(select(func.count()).select_from(CheckIn).where(
        col(CheckIn.answered_at) >= start, col(CheckIn.answered_at) < end)).scalar_one()


# --- the child's voice: rating an attended session ----------------------------------------------------------


def may_rate(session: Session, appointment: Appointment, *, user: User | None, case_report_id: int | None) -> bool:
    """The one who booked it, or the child it was for from their own account."""
    if appointment_access.is_requester(appointment, user=user, case_report_id=case_report_id):
        return True
    if user is not None and user.active and appointment.child_id is not None:
        child = session.get(Child, appointment.child_id)
        return child is not None and child.user_id == user.id
    return False


def was_attended(appointment: Appointment) -> bool:
    return appointment.status == AppointmentStatus.COMPLETED


def already_rated(session: Session, appointment_id: int) -> bool:
    return session.get(SessionRatingGiven, appointment_id) is not None


@dataclass
class RatingForm(PostedForm):
    face: str = ""
    safe: str = ""
    words: str = ""


def validate_rating(form: RatingForm) -> dict[str, str]:
    errors = {}
    if form.face not in FACES:
        errors["face"] = _("Pilih salah satu wajah: baik, biasa saja, atau tidak baik.")
    if form.safe not in ("yes", "no"):
        errors["safe"] = _("Jawab dulu: apakah aman untuk bercerita?")
    if error := text_error(form.words, limit=MESSAGE_LIMIT, multiline=True):
        errors["words"] = error
    return errors


class AlreadyRated(Exception):
    """This session was rated already (one rating per appointment)."""


def rate(session: Session, appointment: Appointment, form: RatingForm, *, user: User | None, ip: str,
         secret_key: str) -> None:
    """Mark the appointment rated (once), and keep the answer sealed until it is released with others of its month
    and service type (`release_ratings`); the audit entry names no appointment."""
    try:
        with session.begin_nested():
            session.add(SessionRatingGiven(appointment_id=appointment.id))
            session.flush()
    except IntegrityError as exc:
        raise AlreadyRated() from exc
    answer = {"month": appointment.starts_at.astimezone(LOCAL).strftime("%Y-%m"),
              "service_type_id": appointment.service_type_id, "face": form.face, "safe_to_talk": form.safe == "yes",
              "words": form.words}
    session.add(SessionRatingPending(id=secrets.token_hex(16), sealed=_seal(secret_key, answer)))
    audit.record(session, "appointment.rated", actor_id=user.id if user else None,
                 actor_label=user.username if user else audit.CODE_HOLDER, object_type="appointment", ip=ip)


def _rating_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"bintang-ceria session rating", hashlib.sha256).digest()


def _seal(secret_key: str, answer: dict[str, Any]) -> bytes:
    plain = json.dumps(answer, ensure_ascii=False, sort_keys=True).encode()
    if len(plain) > SEALED_LENGTH:
        raise ValueError("rating too long to seal")
    nonce = secrets.token_bytes(12)
    padded = plain + b" " * (SEALED_LENGTH - len(plain))
    return nonce + AESGCM(_rating_key(secret_key)).encrypt(nonce, padded, b"session_rating")


def _unseal(secret_key: str, sealed: bytes) -> dict[str, Any] | None:
    """The answer, or None when it cannot be opened (SECRET_KEY was changed since it was given)."""
    try:
        plain = AESGCM(_rating_key(secret_key)).decrypt(sealed[:12], sealed[12:], b"session_rating")
    except (InvalidTag, ValueError):
        return None
    return json.loads(plain)


class ReleasedElsewhere(Exception):
    """Another worker released (some of) the same ratings first: this transaction must be rolled back."""


def release_ratings(session: Session, secret_key: str) -> int:
    """Move the sealed ratings of every month and service type with RELEASE_AT_LEAST or more waiting into
    `session_rating`, in shuffled order, with new random ids; how many were released. The caller commits (or
    rolls back on ReleasedElsewhere). A group with fewer waits for more."""
    groups: dict[tuple[str, int], list[tuple[str, dict[str, Any]]]] = {}
    unreadable = 0
    pending = select(col(SessionRatingPending.id), col(SessionRatingPending.sealed))
    for pending_id, sealed in session.execute(pending).all():
        answer = _unseal(secret_key, bytes(sealed))
        if answer is None:
            unreadable += 1
            continue
        groups.setdefault((answer["month"], answer["service_type_id"]), []).append((pending_id, answer))
    if unreadable:
        log.warning("aftercare: %s waiting ratings cannot be opened with this SECRET_KEY", unreadable)
    released = 0
    for (month, service_type_id), waiting in groups.items():
        if len(waiting) < RELEASE_AT_LEAST:
            continue
        ids = [pending_id for pending_id, _answer in waiting]
        gone = rows_changed(session.execute(delete(SessionRatingPending).where(col(SessionRatingPending.id).in_(ids))
                               .execution_options(synchronize_session=False)))
        if gone != len(ids):
            raise ReleasedElsewhere()
        # Sorted first, so the order read from the database plays no part; then shuffled.
        answers = sorted((answer for _id, answer in waiting),
                         key=lambda a: (a["face"], a["safe_to_talk"], a["words"]))
        _shuffler.shuffle(answers)
        session.execute(insert(SessionRating), [
            {"id": secrets.token_hex(16), "month": month, "service_type_id": service_type_id, "face": a["face"],
             "safe_to_talk": a["safe_to_talk"], "words": a["words"]} for a in answers])
        released += len(answers)
    return released


@dataclass
class RatingTotals:
    month: str
    service_type: str
    count: int = 0
    faces: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FACES, 0))
    safe: int = 0
    not_safe: int = 0
    words: list[str] = field(default_factory=list)


def rating_totals(session: Session, *, months: int = 12) -> list[RatingTotals]:
    """Totals per month and service type, newest month first, of groups of SHOWN_AT_LEAST ratings or more (a
    smaller group, and its words, is left out); the words as written, in no particular order."""
    names = dict(session.execute(select(col(ServiceType.id), col(ServiceType.name))).all())
    totals: dict[tuple[str, int], RatingTotals] = {}
    in_order = select(SessionRating).order_by(col(SessionRating.month).desc(), col(SessionRating.id))
    for rating in session.execute(in_order).scalars():
        key = (rating.month, rating.service_type_id)
        if key not in totals:
            if len({month for month, _id in totals} | {rating.month}) > months:
                break
            totals[key] = RatingTotals(rating.month, names.get(rating.service_type_id, "?"))
        row = totals[key]
        row.count += 1
        row.faces[rating.face] = row.faces.get(rating.face, 0) + 1
        row.safe += rating.safe_to_talk
        row.not_safe += not rating.safe_to_talk
        if rating.words:
            row.words.append(rating.words)
    shown = [row for row in totals.values() if row.count >= SHOWN_AT_LEAST]
    for row in shown:
        _shuffler.shuffle(row.words)
    return sorted(shown, key=lambda t: (t.month, t.service_type), reverse=True)


def _job_still_applies(session: Session, job: NotificationJob, _now: datetime) -> bool:
    """An answered or withdrawn check-in is not sent (again), even if cancelling its job was missed."""
    check_in = session.get(CheckIn, job.object_id)
    return check_in is not None and check_in.status == CheckInStatus.SCHEDULED


outbox.register_check("check_in", _job_still_applies)


def _rating_invite_applies(session: Session, job: NotificationJob, _now: datetime) -> bool:
    """The one invitation to rate goes out only while it still makes sense: the session attended, the consent
    not withdrawn, and not rated yet."""
    appointment = session.get(Appointment, job.object_id)
    return (appointment is not None and was_attended(appointment) and appointment.rating_invite
            and not already_rated(session, appointment.id))


outbox.register_check(appointments.RATING_INVITE_KIND, _rating_invite_applies)


# Reports sits below this domain and does not import it: it announces a closed or reopened case, and its pages ask
# for their parts, through what is registered here.
def _checked_plan(session: Session, report: Report, form: Any) -> PlanForm:
    return check_plan(session, report, form)


def _start_checked_plan(session: Session, report: Report, actor: User, plan: PlanForm, ip: str) -> None:
    start_plan(session, report, actor, plan, ip=ip)


def _change_plan_from_form(session: Session, report: Report, actor: User, form: Any, ip: str) -> None:
    try:
        change_plan(session, report, actor, PlanChangeForm.from_data(form), ip=ip)
    except NotAllowed:
        raise case_hooks.NotFound() from None


case_hooks.on_close("aftercare", _checked_plan, _start_checked_plan)
case_hooks.on_reopen("aftercare", cancel_open)


def _plan_part(session: Session, report: Report) -> case_hooks.Part | None:
    """The staff's case page: a closed case's check-in plan, for the panel that changes or stops it."""
    state = plan_state(session, report)
    return None if state is None else case_hooks.Part("aftercare/_case_plan.html", {"check_in_plan": state})


def _waiting_part(session: Session, report: Report) -> case_hooks.Part | None:
    """The code holder's page: check-ins sent to this code and not answered yet (one tapped on a phone whose case
    session had ended is found again here, after code and PIN)."""
    waiting = waiting_for(session, user=None, case_report_id=report.id)
    return case_hooks.Part("aftercare/_waiting_check_ins.html", {"check_ins": waiting}) if waiting else None


case_hooks.register_close_part("aftercare", lambda _session, _report: case_hooks.Part("aftercare/_close_plan.html", {}))
case_hooks.register_case_part("aftercare", _plan_part)
case_hooks.register_holder_part("aftercare", _waiting_part)
case_hooks.register_case_action("check_in_plan", _change_plan_from_form)
