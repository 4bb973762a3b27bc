"""The dispatcher: claims due notification jobs, checks that each still applies, sends it to every device of
its recipient, and records how it ended.

Several dispatchers may run at once (one inside each app process, or `bintang worker`s). A claim is one
UPDATE that marks a batch `sending` with a lease: on PostgreSQL the batch is chosen with
`FOR UPDATE SKIP LOCKED`, so two dispatchers never take the same job; SQLite runs the statement under its
single write lock, which serialises claims. A dispatcher that dies leaves its jobs `sending`; when the lease
runs out another claims them. Finishing a job is conditional on still holding it.

Every job ends `sent`, `no_device`, `cancelled` or `failed`; transient trouble (429, 5xx, timeouts) puts it
back to `pending` with a later `due_at` until `max_attempts` claims have been used.

Urgent jobs (urgency `high`: emergencies, the last reminder) have a lane of their own (`lane="urgent"`,
`UrgentLane`), so that no send of an ordinary job, however slow its push service, stands before them; in that
lane each job is sent as soon as it is claimed, side by side with the others in flight, and within any job the
person's devices are sent to side by side."""

from __future__ import annotations

import logging
import os
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server import clock, service_info
from server.notifications.models import JobStatus, NotificationJob, PushSubscription
from server.notifications.outbox import QUIET_KINDS, outside_quiet_hours, still_applies
from server.notifications.push import DEFAULT_SERVICE_NAME, Device, Outcome, Sender, payload

log = logging.getLogger("bintang.dispatcher")

MAX_TTL = 24 * 3600
MIN_TTL = 60
BACKOFF_FIRST = 30.0
BACKOFF_MAX = 3600.0
URGENT = "high"
LANES = ("urgent", "normal")
URGENT_SIDE_BY_SIDE = 16  # jobs of the urgent lane sent at once
# How long a finished job stays in the person's list (/notifikasi) and the delivery report before it is purged.
JOB_RETENTION = timedelta(days=90)
FINISHED = (JobStatus.SENT, JobStatus.NO_DEVICE, JobStatus.CANCELLED, JobStatus.FAILED)


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass
class Stats:
    claimed: int = 0
    sent: int = 0
    no_device: int = 0
    cancelled: int = 0
    failed: int = 0
    retried: int = 0
    lost: int = 0  # lease ran out and another dispatcher took the job before this one finished

    def add(self, other: Stats) -> None:
        for name in ("claimed", "sent", "no_device", "cancelled", "failed", "retried", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def claim(engine: Engine, worker: str, *, batch: int = 50, lease_seconds: int = 60,
          now: datetime | None = None, lane: str | None = None) -> list[int]:
    """Take up to `batch` due jobs (or jobs whose lease ran out) for `worker`; returns their ids. `lane`
    'urgent' takes only urgent jobs, 'normal' only the others, None any."""
    now = now or clock.now()
    due = (
        select(NotificationJob.id)
        .where(or_(
            and_(NotificationJob.status == JobStatus.PENDING, NotificationJob.due_at <= now),
            and_(NotificationJob.status == JobStatus.SENDING, NotificationJob.lease_until < now),
        ))
        .order_by(NotificationJob.due_at, NotificationJob.id)
        .limit(batch)
    )
    if lane is not None:
        if lane not in LANES:
            raise ValueError(f"no lane {lane!r}")
        urgent = NotificationJob.urgency == URGENT
        due = due.where(urgent if lane == "urgent" else ~urgent)
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(NotificationJob)
        .where(NotificationJob.id.in_(due.scalar_subquery()))
        .values(status=JobStatus.SENDING, claimed_by=worker, lease_until=now + timedelta(seconds=lease_seconds),
                attempts=NotificationJob.attempts + 1)
        .returning(NotificationJob.id)
        .execution_options(synchronize_session=False)
    )
    with engine.begin() as connection:
        return sorted(connection.execute(statement).scalars())


def ttl_for(event_at: datetime | None, now: datetime) -> int:
    """Time left before the event, at most 24 hours and never 0 (a push service drops TTL 0 at once when the
    phone is off)."""
    if event_at is None:
        return MAX_TTL
    return int(max(MIN_TTL, min(MAX_TTL, (event_at - now).total_seconds())))


def backoff(attempts: int) -> float:
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1))


def _finish(engine: Engine, job_id: int, worker: str, **values: object) -> bool:
    with engine.begin() as connection:
        result = connection.execute(
            update(NotificationJob)
            .where(NotificationJob.id == job_id, NotificationJob.claimed_by == worker,
                   NotificationJob.status == JobStatus.SENDING)
            .values(lease_until=None, **values)
        )
        return result.rowcount == 1


def _renew(engine: Engine, job_id: int, worker: str, lease_seconds: int, now: datetime) -> bool:
    """A fresh lease as the job's turn in the batch comes: a batch may outlast one lease when a push service is
    slow. If another dispatcher already took the job over, this one leaves it alone."""
    with engine.begin() as connection:
        return connection.execute(
            update(NotificationJob)
            .where(NotificationJob.id == job_id, NotificationJob.claimed_by == worker,
                   NotificationJob.status == JobStatus.SENDING)
            .values(lease_until=now + timedelta(seconds=lease_seconds))
        ).rowcount == 1


def process(engine: Engine, sender: Sender, job_id: int, worker: str, *, max_attempts: int,
            lease_seconds: int = 60, now: datetime | None = None, service_name: str = DEFAULT_SERVICE_NAME) -> str:
    """Send one claimed job to every device of its recipient; returns how it ended (or 'retry', 'lost')."""
    now = now or clock.now()
    if not _renew(engine, job_id, worker, lease_seconds, now):
        return "lost"
    with Session(engine, expire_on_commit=False) as session:
        job = session.get(NotificationJob, job_id)
        if job is None or job.claimed_by != worker or job.status != JobStatus.SENDING:
            return "lost"
        event_at = job.event_at
        if not still_applies(session, job, now):
            return JobStatus.CANCELLED if _finish(engine, job_id, worker, status=JobStatus.CANCELLED,
                                                  last_error="no longer applies") else "lost"
        if job.kind in QUIET_KINDS and (morning := outside_quiet_hours(now)) != now:
            # Due during the quiet hours (a dispatcher was down, or a retry fell there): it waits for 07.00 WITA,
            # and the wait is not a try.
            ok = _finish(engine, job_id, worker, status=JobStatus.PENDING, due_at=morning, claimed_by="",
                         attempts=NotificationJob.attempts - 1)
            return "retry" if ok else "lost"
        recipient = (PushSubscription.user_id == job.recipient_user_id if job.recipient_user_id is not None
                     else PushSubscription.report_id == job.recipient_report_id)
        devices = list(session.execute(select(PushSubscription).where(recipient)).scalars())
        kind, url, topic, urgency, attempts = job.kind, job.url, job.topic, job.urgency, job.attempts
    if not devices:
        return JobStatus.NO_DEVICE if _finish(engine, job_id, worker, status=JobStatus.NO_DEVICE) else "lost"

    ttl = ttl_for(event_at, now)
    outcomes = list(zip(devices, _send_to_each(sender, devices, kind, url, topic, urgency, ttl, service_name),
                        strict=True))

    for device, outcome in outcomes:
        if outcome.blocked:
            log.warning("push: job %s: subscription %s removed: %s", job_id, device.id, outcome.reason)
    gone = [device.id for device, outcome in outcomes if outcome.gone or outcome.blocked]
    if gone:
        with engine.begin() as connection:
            connection.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        log.info("push: job %s removed %d expired or refused subscription(s)", job_id, len(gone))
    delivered = [o for _d, o in outcomes if o.delivered]
    transient = [o for _d, o in outcomes if o.transient]
    refused = [o for _d, o in outcomes if not (o.delivered or o.gone or o.transient)]
    for outcome in refused:
        # The cause goes to the log and the job; never the payload, which is the person's business.
        log.warning("push: job %s (%s) refused by the push service: %s", job_id, kind, outcome.reason)

    if delivered:
        note = "" if len(delivered) == len(outcomes) else f"{len(delivered)}/{len(outcomes)} devices"
        ok = _finish(engine, job_id, worker, status=JobStatus.SENT, sent_at=clock.now(), last_error=note[:200])
        return JobStatus.SENT if ok else "lost"
    if transient:
        wait = max([backoff(attempts)] + [o.retry_after or 0.0 for o in transient])
        retry_at = now + timedelta(seconds=wait)
        cause = transient[0].reason or str(transient[0].status)
        if attempts >= max_attempts or (event_at is not None and retry_at >= event_at):
            log.warning("push: job %s (%s) given up after %d tries: %s", job_id, kind, attempts, cause)
            ok = _finish(engine, job_id, worker, status=JobStatus.FAILED,
                         last_error=f"gave up after {attempts} tries: {cause}"[:200])
            return JobStatus.FAILED if ok else "lost"
        ok = _finish(engine, job_id, worker, status=JobStatus.PENDING, due_at=retry_at, claimed_by="",
                     last_error=f"retry: {cause}"[:200])
        return "retry" if ok else "lost"
    if refused:
        ok = _finish(engine, job_id, worker, status=JobStatus.FAILED, last_error=f"refused: {refused[0].reason}"[:200])
        return JobStatus.FAILED if ok else "lost"
    # Every device had gone away (404/410): the person has no device left.
    return JobStatus.NO_DEVICE if _finish(engine, job_id, worker, status=JobStatus.NO_DEVICE) else "lost"


def _send_to_each(sender: Sender, devices: list[PushSubscription], kind: str, url: str, topic: str, urgency: str,
                  ttl: int, service_name: str) -> list[Outcome]:
    """One message to each device, side by side: one slow push service does not hold up the person's others."""

    def send(device: PushSubscription) -> Outcome:
        tag = sender.topic(topic, device.endpoint)
        message = payload(kind, url, tag, device.language, service_name)
        return sender.send(Device(device.endpoint, device.p256dh, device.auth), message, ttl=ttl, urgency=urgency,
                           topic=tag)

    if len(devices) == 1:
        return [send(devices[0])]
    outcomes: list[Outcome | None] = [None] * len(devices)

    def send_into(index: int) -> None:
        try:
            outcomes[index] = send(devices[index])
        except Exception:  # recorded as a failed send of this device, not the end of the job
            log.exception("push: a send failed unexpectedly")
            outcomes[index] = Outcome(0, reason="internal error")

    threads = [threading.Thread(target=send_into, args=(index,), name="push-send") for index in range(1, len(devices))]
    for thread in threads:
        thread.start()
    send_into(0)
    for thread in threads:
        thread.join()
    return [outcome or Outcome(0, reason="internal error") for outcome in outcomes]


def _give_back(engine: Engine, job_id: int, worker: str, *, max_attempts: int, now: datetime) -> str:
    """After an unexpected error: try again later like a 5xx, and fail after the last try, never loop for ever."""
    with Session(engine) as session:
        job = session.get(NotificationJob, job_id)
        attempts = job.attempts if job is not None else max_attempts
    if attempts >= max_attempts:
        ok = _finish(engine, job_id, worker, status=JobStatus.FAILED,
                     last_error=f"gave up after {attempts} tries: internal error")
        return JobStatus.FAILED if ok else "lost"
    ok = _finish(engine, job_id, worker, status=JobStatus.PENDING, claimed_by="",
                 due_at=now + timedelta(seconds=backoff(attempts)), last_error="retry: internal error")
    return "retry" if ok else "lost"


def _process_or_give_back(engine: Engine, sender: Sender, job_id: int, worker: str, *, max_attempts: int,
                          lease_seconds: int, now: datetime | None, service_name: str) -> str:
    try:
        ended = process(engine, sender, job_id, worker, max_attempts=max_attempts, lease_seconds=lease_seconds,
                        now=now, service_name=service_name)
    except Exception:  # one bad job must not stop the others
        log.exception("push: job %s could not be processed", job_id)
        ended = _give_back(engine, job_id, worker, max_attempts=max_attempts, now=now or clock.now())
    # One line per job a dispatcher handled: its id and how it ended, never whom it was for or what it said.
    log.info("push: job %s %s", job_id, ended, extra={"event": "push_job", "job": job_id, "outcome": str(ended),
                                                      "worker": worker})
    return ended


def dispatch_once(engine: Engine, sender: Sender, *, worker: str | None = None, batch: int = 50,
                  lease_seconds: int = 60, max_attempts: int = 5, now: datetime | None = None,
                  lane: str | None = None) -> Stats:
    """Claim one batch (of `lane`, or of any job) and send it. Returns what happened; `claimed` is 0 when nothing
    was due. The urgent lane sends its batch's jobs side by side, the others one after another."""
    worker = worker or worker_name()
    stats = Stats()
    ids = claim(engine, worker, batch=batch, lease_seconds=lease_seconds, now=now, lane=lane)
    stats.claimed = len(ids)
    if not ids:
        return stats
    with Session(engine) as session:  # once a batch: a supervisor may rename the service at any time
        service_name = service_info.load(session).service_name

    def one(job_id: int) -> str:
        return _process_or_give_back(engine, sender, job_id, worker, max_attempts=max_attempts,
                                     lease_seconds=lease_seconds, now=now, service_name=service_name)

    if lane == "urgent" and len(ids) > 1:
        with ThreadPoolExecutor(max_workers=min(URGENT_SIDE_BY_SIDE, len(ids)),
                                thread_name_prefix="push-urgent") as pool:
            endings = list(pool.map(one, ids))
    else:
        endings = [one(job_id) for job_id in ids]
    for ended in endings:
        name = {"retry": "retried", "lost": "lost"}.get(ended, str(ended))
        setattr(stats, name, getattr(stats, name) + 1)
    return stats


class UrgentLane:
    """The urgent jobs, each sent as soon as a round claims it, up to `side_by_side` at once: a slow push service
    holds one place in the lane for at most its timeout, never the jobs claimed after it."""

    def __init__(self, engine: Engine, sender: Sender, *, worker: str, lease_seconds: int = 60,
                 max_attempts: int = 5, side_by_side: int = URGENT_SIDE_BY_SIDE) -> None:
        self.engine, self.sender, self.worker = engine, sender, worker
        self.lease_seconds, self.max_attempts, self.side_by_side = lease_seconds, max_attempts, side_by_side
        self._pool = ThreadPoolExecutor(max_workers=side_by_side, thread_name_prefix="push-urgent")
        self._in_flight: set[Future[str]] = set()

    def round(self, now: datetime | None = None) -> int:
        """Claim the urgent jobs that are due, as many as there is room for, and start sending them; returns how
        many were claimed."""
        self._in_flight = {future for future in self._in_flight if not future.done()}
        room = self.side_by_side - len(self._in_flight)
        if room <= 0:
            return 0
        ids = claim(self.engine, self.worker, batch=room, lease_seconds=self.lease_seconds, now=now, lane="urgent")
        if not ids:
            return 0
        with Session(self.engine) as session:
            service_name = service_info.load(session).service_name
        for job_id in ids:
            self._in_flight.add(self._pool.submit(_process_or_give_back, self.engine, self.sender, job_id, self.worker,
                                                  max_attempts=self.max_attempts, lease_seconds=self.lease_seconds,
                                                  now=now, service_name=service_name))
        return len(ids)

    def close(self) -> None:
        """Wait for the sends in flight (each ends within its timeout)."""
        self._pool.shutdown(wait=True)


def drain(engine: Engine, sender: Sender, *, worker: str | None = None, batch: int = 50, lease_seconds: int = 60,
          max_attempts: int = 5, now: datetime | None = None, lane: str | None = None) -> Stats:
    """Dispatch until nothing (of `lane`) is due."""
    total = Stats()
    while True:
        stats = dispatch_once(engine, sender, worker=worker, batch=batch, lease_seconds=lease_seconds,
                              max_attempts=max_attempts, now=now, lane=lane)
        total.add(stats)
        if stats.claimed == 0:
            return total


def purge_finished(session: Session, now: datetime | None = None, older_than: timedelta = JOB_RETENTION) -> int:
    """Delete jobs that ended longer ago than `older_than`; pending and claimed jobs stay, however old."""
    cutoff = (now or clock.now()) - older_than
    result = session.execute(delete(NotificationJob).where(NotificationJob.status.in_(FINISHED),
                                                           NotificationJob.created_at < cutoff))
    return result.rowcount or 0
