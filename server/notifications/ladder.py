"""The channel ladder: a reminder climbs from push to WhatsApp to SMS until one is known to have reached its person,
and a few hours before the event, if none has, the domain that wrote it is handed the last resort (appointments:
a counselor's "call to confirm" task).

A laddered reminder is a push job written with `ladder=True` (its domain decides which: appointments ladders the
requester's reminders, not the counselor's). What counts as reached: the service worker acknowledged the push as
shown (POST /push/tampil), WhatsApp reported the message delivered or read, the SMS gateway reported it delivered.

The next rung is written when the one below gave up: push ended without a device or failed, or was sent but not
shown within LADDER_PUSH_WAIT_MINUTES; WhatsApp ended without an agreed number (or unconfigured) or failed, or was
not delivered within the same wait. Each rung is a job of its own (the dispatcher sends it, with its retries, in
the quiet hours' bounds), with `step_of_id` the push job: the unique (step_of_id, channel) makes every rung exist
once, whichever worker climbs; the last resort is handed over by the one worker whose conditional update set
`ladder_done_at` (which also marks a reminder that reached its person: it climbs no further).

This module knows no appointments: the domain registers its last resort, as it registers its still-applies check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from server import clock
from server.db import rows_changed
from server.i18n import LOCAL
from server.notifications.models import JobStatus, NotificationJob

RUNGS = ("push", "whatsapp", "sms")
GAVE_UP = (JobStatus.NO_DEVICE, JobStatus.FAILED)

LastResort = Callable[[Session, NotificationJob, datetime], None]
_last_resorts: dict[str, LastResort] = {}


def register_last_resort(object_type: str, handler: LastResort) -> None:
    """What to do about `object_type` when nothing reached its person in time (called once per reminder, in the
    climbing transaction; the handler makes its own result unique per object)."""
    _last_resorts[object_type] = handler


@dataclass
class Climbed:
    whatsapp: int = 0
    sms: int = 0
    last_resort: int = 0


def _gave_up(job: NotificationJob, now: datetime, wait: timedelta) -> bool:
    if job.shown_at is not None:
        return False
    if job.status in GAVE_UP:
        return True
    return job.status == JobStatus.SENT and job.sent_at is not None and job.sent_at + wait <= now


def _same_person(job: NotificationJob):
    return and_(col(NotificationJob.object_type) == job.object_type, col(NotificationJob.object_id) == job.object_id,
                col(NotificationJob.recipient_user_id).is_(None) if job.recipient_user_id is None
                else col(NotificationJob.recipient_user_id) == job.recipient_user_id,
                col(NotificationJob.recipient_report_id).is_(None) if job.recipient_report_id is None
                else col(NotificationJob.recipient_report_id) == job.recipient_report_id)


def reached(session: Session, job: NotificationJob) -> bool:
    """Whether any laddered reminder about the same object is known to have reached this job's person."""
    return session.execute(select(func.count()).where(
        _same_person(job), or_(col(NotificationJob.ladder), col(NotificationJob.step_of_id).is_not(None)),
        col(NotificationJob.shown_at).is_not(None))).scalar_one() > 0


def _add_rung(session: Session, root: NotificationJob, channel: str, now: datetime) -> bool:
    rung = NotificationJob(
        kind=root.kind, channel=channel, step_of_id=root.id, recipient_user_id=root.recipient_user_id,
        recipient_report_id=root.recipient_report_id, url=root.url, topic=root.topic, urgency=root.urgency,
        object_type=root.object_type, object_id=root.object_id, object_version=root.object_version,
        event_at=root.event_at, due_at=now, created_at=now)
    try:
        with session.begin_nested():
            session.add(rung)
            session.flush()
    except IntegrityError:  # another worker wrote this rung first
        return False
    return True


def climb(session: Session, *, wait: timedelta, call_before: timedelta, now: datetime | None = None,
          limit: int = 500) -> Climbed:
    """One round: the next rung of every laddered reminder whose rung gave up, and the last resort where its time
    came with nothing known to have arrived. The caller commits."""
    now = now or clock.now()
    climbed = Climbed()
    # Only reminders that may climb now (their rung gave up), or whose time for the last resort has come: one
    # whose push or WhatsApp is still on its way or waiting to be shown, or that reached its person, is left out,
    # so that a long backlog is never stuck behind the same `limit` reminders.
    rung, waited_from = aliased(NotificationJob), now - wait
    to_the_top = exists().where(col(rung.step_of_id) == col(NotificationJob.id), col(rung.channel) == "sms")
    whatsapp_on_its_way = exists().where(
        col(rung.step_of_id) == col(NotificationJob.id), col(rung.channel) == "whatsapp",
        or_(col(rung.status).in_((JobStatus.PENDING, JobStatus.SENDING)),
            and_(col(rung.status) == JobStatus.SENT,
                 or_(col(rung.shown_at).is_not(None), col(rung.sent_at) > waited_from))))
    push_on_its_way = and_(col(NotificationJob.status) == JobStatus.SENT,
                           or_(col(NotificationJob.shown_at).is_not(None), col(NotificationJob.sent_at) > waited_from))
    may_climb = and_(~to_the_top, ~whatsapp_on_its_way, ~push_on_its_way)
    roots = list(session.execute(
        select(NotificationJob).where(
            col(NotificationJob.ladder), col(NotificationJob.ladder_done_at).is_(None),
            col(NotificationJob.event_at) > now,
            col(NotificationJob.status).in_((JobStatus.SENT, JobStatus.NO_DEVICE, JobStatus.FAILED)),
            or_(may_climb, col(NotificationJob.event_at) <= now + call_before))
        .order_by(col(NotificationJob.event_at), col(NotificationJob.id)).limit(limit)
    ).scalars())
    if not roots:
        return climbed
    rungs: dict[int, dict[str, NotificationJob]] = {}
    for rung in session.execute(select(NotificationJob).where(
            col(NotificationJob.step_of_id).in_([root.id for root in roots]))).scalars():
        rungs.setdefault(rung.step_of_id or 0, {})[rung.channel] = rung
    for root in roots:
        if reached(session, root):
            session.execute(update(NotificationJob).where(col(NotificationJob.id) == root.id,
                                                          col(NotificationJob.ladder_done_at).is_(None))
                            .values(ladder_done_at=now))
            continue
        mine = rungs.get(root.id or 0, {})
        if "whatsapp" not in mine and _gave_up(root, now, wait) and _add_rung(session, root, "whatsapp", now):
            climbed.whatsapp += 1
        elif ("whatsapp" in mine and "sms" not in mine and _gave_up(mine["whatsapp"], now, wait)
              and _add_rung(session, root, "sms", now)):
            climbed.sms += 1
        if root.event_at is not None and now >= root.event_at - call_before:
            handed = rows_changed(session.execute(
                update(NotificationJob).where(col(NotificationJob.id) == root.id,
                                              col(NotificationJob.ladder_done_at).is_(None))
                .values(ladder_done_at=now)
            )) == 1
            handler = _last_resorts.get(root.object_type)
            if handed and handler is not None:
                handler(session, root, now)
                climbed.last_resort += 1
    return climbed


# --- what the providers and the phone say ---------------------------------------------------------------------


def acknowledge_shown(session: Session, job_id: int, now: datetime | None = None) -> bool:
    """The service worker showed the push of `job_id` (its token was checked by the caller)."""
    return rows_changed(session.execute(
        update(NotificationJob).where(col(NotificationJob.id) == job_id, col(NotificationJob.channel) == "push",
                                      col(NotificationJob.shown_at).is_(None))
        .values(shown_at=now or clock.now())
    )) > 0


def record_status(session: Session, channel: str, provider_id: str, status: str, at: datetime | None = None) -> bool:
    """A provider's status report about one of our messages: delivered / read mark it reached, failed ends it
    failed (so the ladder climbs). Unknown ids (another app's messages) change nothing."""
    if not provider_id:
        return False
    at = at or clock.now()
    mine = and_(col(NotificationJob.channel) == channel, col(NotificationJob.provider_id) == provider_id[:128])
    if status == "delivered":
        statement = update(NotificationJob).where(mine, col(NotificationJob.shown_at).is_(None)).values(shown_at=at)
    elif status == "read":
        statement = update(NotificationJob).where(mine, col(NotificationJob.seen_at).is_(None)).values(
            seen_at=at, shown_at=func.coalesce(col(NotificationJob.shown_at), at))
    elif status in ("failed", "undelivered"):
        statement = update(NotificationJob).where(mine, col(NotificationJob.status) == JobStatus.SENT,
                                                  col(NotificationJob.shown_at).is_(None)).values(
            status=JobStatus.FAILED, last_error=f"{channel}: reported {status}")
    else:  # "sent" and anything new: nothing to learn
        return False
    return rows_changed(session.execute(statement)) > 0


UNSHOWN_IN_A_ROW = 2  # pushes not shown in a row before the person is told about their phone's battery settings


def pushes_go_unshown(session: Session, *, user_id: int | None, report_id: int | None, wait: timedelta,
                      now: datetime | None = None) -> bool:
    """Whether the last UNSHOWN_IN_A_ROW push-carried reminders sent to this person were never acknowledged as shown
    by their phone's service worker within `wait` of being sent: the mark of a phone maker's battery saver that
    puts the browser to sleep (a push shown since then clears it)."""
    if user_id is None and report_id is None:
        return False
    now = now or clock.now()
    recipient = (col(NotificationJob.recipient_user_id) == user_id if user_id is not None
                 else and_(col(NotificationJob.recipient_report_id) == report_id,
                           col(NotificationJob.recipient_user_id).is_(None)))
    last = session.execute(
        select(col(NotificationJob.shown_at)).where(
            recipient, col(NotificationJob.ladder), col(NotificationJob.channel) == "push",
            col(NotificationJob.status) == JobStatus.SENT, col(NotificationJob.sent_at) <= now - wait)
        .order_by(col(NotificationJob.sent_at).desc(), col(NotificationJob.id).desc()).limit(UNSHOWN_IN_A_ROW)
    ).scalars().all()
    return len(last) == UNSHOWN_IN_A_ROW and all(shown_at is None for shown_at in last)


# --- what the counselor and the supervisors see ---------------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    channel: str
    state: str  # waiting, sent, delivered, read, no_device (nothing to send to), failed, cancelled


@dataclass(frozen=True)
class ReminderTrail:
    kind: str
    due_at: datetime
    rungs: list[Rung] = field(default_factory=list)
    reached: bool = False
    done: bool = False  # it reached its person, or the last resort (a call) was asked for


def _state(job: NotificationJob) -> str:
    if job.seen_at is not None:
        return "read"
    if job.shown_at is not None:
        return "delivered"
    if job.status in (JobStatus.PENDING, JobStatus.SENDING):
        return "waiting"
    return str(job.status)


def trail(session: Session, *, object_type: str, object_id: int) -> list[ReminderTrail]:
    """How each laddered reminder about an object went, rung by rung."""
    roots = list(session.execute(select(NotificationJob).where(
        col(NotificationJob.object_type) == object_type, col(NotificationJob.object_id) == object_id,
        col(NotificationJob.ladder))
        .order_by(col(NotificationJob.due_at), col(NotificationJob.id))).scalars())
    if not roots:
        return []
    steps: dict[int, list[NotificationJob]] = {}
    for rung in session.execute(select(NotificationJob).where(
            col(NotificationJob.step_of_id).in_([root.id for root in roots]))).scalars():
        steps.setdefault(rung.step_of_id or 0, []).append(rung)
    trails = []
    for root in roots:
        jobs = [root] + sorted(steps.get(root.id or 0, []), key=lambda job: RUNGS.index(job.channel))
        trails.append(ReminderTrail(root.kind, root.due_at, [Rung(job.channel, _state(job)) for job in jobs],
                                    reached=any(job.shown_at is not None for job in jobs),
                                    done=root.ladder_done_at is not None))
    return trails


@dataclass(frozen=True)
class MonthReach:
    month: str  # YYYY-MM (the service's zone)
    objects: int
    reached: int

    @property
    def share(self) -> float:
        return self.reached / self.objects if self.objects else 0.0


def reach_by_month(session: Session, *, object_type: str, since: datetime, until: datetime | None = None
                   ) -> list[MonthReach]:
    """Per month of the event (in the service's zone), how many objects had laddered reminders sent (sessions still to come
    included, once a reminder went out), and how many of them reached someone (a push shown, a WhatsApp or SMS
    delivered). Reads the jobs of the period once."""
    statement = select(
        col(NotificationJob.object_id), col(NotificationJob.event_at), col(NotificationJob.shown_at),
    ).where(
        col(NotificationJob.object_type) == object_type, col(NotificationJob.event_at) >= since,
        or_(col(NotificationJob.ladder), col(NotificationJob.step_of_id).is_not(None)),
        col(NotificationJob.status).notin_((JobStatus.PENDING, JobStatus.CANCELLED)))
    if until is not None:
        statement = statement.where(col(NotificationJob.event_at) < until)
    rows = session.execute(statement).all()
    months: dict[str, dict[int, bool]] = {}
    for object_id, event_at, shown_at in rows:
        if event_at is None or object_id is None:
            continue
        month = event_at.astimezone(LOCAL).strftime("%Y-%m")
        seen = months.setdefault(month, {})
        seen[object_id] = seen.get(object_id, False) or shown_at is not None
    return [MonthReach(month, len(seen), sum(seen.values())) for month, seen in sorted(months.items())]
