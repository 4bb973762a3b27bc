"""The dispatcher: claims due notification jobs, checks that each still applies, sends it to every device of
its recipient, and records how it ended.

Several dispatchers may run at once (one inside each app process, or `bintang worker`s). A claim is one
UPDATE that marks a batch `sending` with a lease: on PostgreSQL the batch is chosen with
`FOR UPDATE SKIP LOCKED`, so two dispatchers never take the same job; SQLite runs the statement under its
single write lock, which serialises claims. A dispatcher that dies leaves its jobs `sending`; when the lease
runs out another claims them. Finishing a job is conditional on still holding it.

Every job ends `sent`, `no_device`, `cancelled` or `failed`; transient trouble (429, 5xx, timeouts) puts it
back to `pending` with a later `due_at` until `max_attempts` claims have been used.

Each device's send ends on its own (see SendPool and _Flight): the sends of a claim go out side by side, each in a
thread of its own with the push timeout as its deadline, and each is recorded as it ends. The first delivery
finishes the job as sent at once, so a device that never answers holds neither the person's other devices nor
anyone else's message; at most SENDS_PER_SERVICE sends of a lane wait on one push service at a time.

Urgent jobs (urgency `high`: emergencies, the last reminder) have a lane of their own (`lane="urgent"`), so that
no send of an ordinary job, however slow its push service, stands before them. A worker runs each lane as a
`Lane`: each job is started as soon as it is claimed, and a job waiting for a slow device holds no place another
job needs.

A dispatcher asked to stop claims nothing more, starts no send that has not started (its job is released: due as
it was, no lease, not counted as a try, so another dispatcher takes it at once), and lets the sends in flight end
within their deadline; a job they did not deliver is released the same way. So stopping takes at most the push
timeout, and a message is sent twice only when a dispatcher dies mid-send (its lease then runs out)."""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from server import clock, service_info
from server.db import rows_changed
from server.notifications import consent
from server.notifications.models import JobStatus, NotificationJob, PushSubscription
from server.notifications.outbox import QUIET_KINDS, outside_quiet_hours, still_applies
from server.notifications.push import DEFAULT_SERVICE_NAME, Device, Outcome, Sender, ack_token, payload

log = logging.getLogger("bintang.dispatcher")

MAX_TTL = 24 * 3600
MIN_TTL = 60
BACKOFF_FIRST = 30.0
BACKOFF_MAX = 3600.0
URGENT = "high"
LANES = ("urgent", "normal")
JOBS_IN_FLIGHT = 256  # jobs of a lane claimed and waiting for their sends at once (no thread each)
SENDS_AT_ONCE = 128  # device sends of one lane in flight at once, a thread each
SENDS_PER_SERVICE = 32  # of them to one push service: one that never answers leaves the others their places
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
    released: int = 0  # given back untried (or unanswered) because the dispatcher was stopping

    def add(self, other: Stats) -> None:
        for name in ("claimed", "sent", "no_device", "cancelled", "failed", "retried", "lost", "released"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def claim(engine: Engine, worker: str, *, batch: int = 50, lease_seconds: int = 60,
          now: datetime | None = None, lane: str | None = None) -> list[int]:
    """Take up to `batch` due jobs (or jobs whose lease ran out) for `worker`; returns their ids. `lane`
    'urgent' takes only urgent jobs, 'normal' only the others, None any."""
    now = now or clock.now()
    due = (
        select(col(NotificationJob.id))
        .where(or_(
            and_(col(NotificationJob.status) == JobStatus.PENDING, col(NotificationJob.due_at) <= now),
            and_(col(NotificationJob.status) == JobStatus.SENDING, col(NotificationJob.lease_until) < now),
        ))
        .order_by(col(NotificationJob.due_at), col(NotificationJob.id))
        .limit(batch)
    )
    if lane is not None:
        if lane not in LANES:
            raise ValueError(f"no lane {lane!r}")
        urgent = col(NotificationJob.urgency) == URGENT
        due = due.where(urgent if lane == "urgent" else ~urgent)
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(NotificationJob)
        .where(col(NotificationJob.id).in_(due.scalar_subquery()))
        .values(status=JobStatus.SENDING, claimed_by=worker, lease_until=now + timedelta(seconds=lease_seconds),
                attempts=col(NotificationJob.attempts) + 1)
        .returning(col(NotificationJob.id))
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
            .where(col(NotificationJob.id) == job_id, col(NotificationJob.claimed_by) == worker,
                   col(NotificationJob.status) == JobStatus.SENDING)
            .values(lease_until=None, **values)
        )
        return rows_changed(result) == 1


def _renew(engine: Engine, job_id: int, worker: str, lease_seconds: int, now: datetime) -> bool:
    """A fresh lease as the job's turn in the batch comes: a batch may outlast one lease when a push service is
    slow. If another dispatcher already took the job over, this one leaves it alone."""
    with engine.begin() as connection:
        return connection.execute(
            update(NotificationJob)
            .where(col(NotificationJob.id) == job_id, col(NotificationJob.claimed_by) == worker,
                   col(NotificationJob.status) == JobStatus.SENDING)
            .values(lease_until=now + timedelta(seconds=lease_seconds))
        ).rowcount == 1


# --- sending a claimed job --------------------------------------------------------------------------------------


def push_service_of(endpoint: str) -> str:
    """The push service an endpoint belongs to (scheme, host and port): the unit a SendPool keeps apart."""
    try:
        parts = urlsplit(endpoint)
        return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"
    except ValueError:
        return "?"


class SendPool:
    """Device sends, each in a thread of its own from the moment it may start: at most `limit` at once in all and
    `per_service` to one push service, the others waiting in the order they came. Every send ends within the push
    timeout (transport.py), so a push service that never answers holds at most `per_service` places, for that
    long, and never a send to another push service. Once `stop` is set, sends that have not started are not
    started: each is handed its `skip` instead."""

    def __init__(self, limit: int = SENDS_AT_ONCE, per_service: int = SENDS_PER_SERVICE,
                 stop: threading.Event | None = None) -> None:
        self.limit, self.per_service = limit, per_service
        self.stop = stop or threading.Event()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._waiting: deque[tuple[str, Callable[[], None], Callable[[], None]]] = deque()
        self._running: Counter[str] = Counter()

    def submit(self, service: str, run: Callable[[], None], skip: Callable[[], None]) -> None:
        with self._lock:
            self._waiting.append((service, run, skip))
            skipped = self._start_what_may()
        for later in skipped:
            later()

    def _start_what_may(self) -> list[Callable[[], None]]:
        """Starts the waiting sends there is room for (the lock held); returns the skips to call once it is not."""
        if self.stop.is_set():
            skipped = [skip for _service, _run, skip in self._waiting]
            self._waiting.clear()
            return skipped
        total = sum(self._running.values())
        still: deque[tuple[str, Callable[[], None], Callable[[], None]]] = deque()
        for service, run, skip in self._waiting:
            if total < self.limit and self._running[service] < self.per_service:
                self._running[service] += 1
                total += 1
                threading.Thread(target=self._run, args=(service, run), name="push-send", daemon=True).start()
            else:
                still.append((service, run, skip))
        self._waiting = still
        return []

    def _run(self, service: str, run: Callable[[], None]) -> None:
        try:
            run()
        finally:
            with self._lock:
                self._running[service] -= 1
                if self._running[service] <= 0:
                    del self._running[service]
                skipped = self._start_what_may()
                self._idle.notify_all()
            for later in skipped:
                later()

    def wait_idle(self, timeout: float) -> bool:
        """Whether every send (started or waiting) ended within `timeout` seconds."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._running and not self._waiting, timeout)

    def halt(self) -> None:
        """Set `stop` now and hand the waiting sends their skip at once (not when a running send ends)."""
        self.stop.set()
        with self._lock:
            skipped = self._start_what_may()
        for later in skipped:
            later()


@dataclass(frozen=True)
class _Target:
    """What a send needs of one subscription, read while the job was prepared."""

    id: int
    endpoint: str
    p256dh: str
    auth: str
    language: str
    # A WhatsApp or SMS rung of the ladder: its channel, the agreed number, whether the service may be named.
    channel: str = "push"
    phone: str = ""
    show_service_name: bool = False


STOPPED = Outcome(0, reason="dispatcher stopped before sending")
NOT_SENT = Outcome(0, reason="not sent: another dispatcher took the job over")


class _Flight:
    """A claimed job on its way to its recipient's devices. Each device's send ends on its own and is recorded as it
    ends: the first delivery finishes the job as sent at once (a device that never answers does not hold it), and
    the last send to end decides the rest (a note of how many devices got it, or a retry, or a failure). When the
    dispatcher is stopping, a job no device got is released for another dispatcher (due at once, its lease
    cleared), not retried later."""

    def __init__(self, engine: Engine, job_id: int, worker: str, *, kind: str, attempts: int,
                 event_at: datetime | None, targets: list[_Target], max_attempts: int, lease_seconds: int,
                 now: datetime | None, stopping: threading.Event | None) -> None:
        self.engine, self.job_id, self.worker, self.kind = engine, job_id, worker, kind
        self.attempts, self.event_at, self.targets = attempts, event_at, targets
        self.max_attempts, self.lease_seconds, self.now, self.stopping = max_attempts, lease_seconds, now, stopping
        self.outcomes: list[Outcome | None] = [None] * len(targets)
        self.sent = False  # finished as sent by this dispatcher
        self.lost = False  # another dispatcher holds the job now
        self.ending: str | None = None
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._leased_at = time.monotonic()

    def may_send(self) -> bool:
        """Before a send that waited for its place: the job is still this dispatcher's, with a lease fresh enough."""
        with self._lock:
            if self.sent or self.lost:
                return not self.lost
            if time.monotonic() - self._leased_at > self.lease_seconds / 3:
                if _renew(self.engine, self.job_id, self.worker, self.lease_seconds, clock.now()):
                    self._leased_at = time.monotonic()
                else:
                    self.lost = True
            return not self.lost

    def record(self, index: int, outcome: Outcome) -> None:
        try:
            with self._lock:
                self._record(index, outcome)
                if any(o is None for o in self.outcomes):
                    return
                self.ending = _handled(self.job_id, self.worker, self._end())
        except Exception:  # a database error while recording: the job is left to its lease, never hung
            log.exception("push: job %s: a device's outcome could not be recorded", self.job_id)
            with self._lock:
                self.outcomes[index] = self.outcomes[index] or outcome
                if any(o is None for o in self.outcomes):
                    return
                if self.ending is None:
                    self.ending = _handled(self.job_id, self.worker, "lost")
        self.done.set()

    def _record(self, index: int, outcome: Outcome) -> None:
        self.outcomes[index] = outcome
        target = self.targets[index]
        if outcome.blocked:
            log.warning("push: job %s: subscription %s removed: %s", self.job_id, target.id, outcome.reason)
        if (outcome.gone or outcome.blocked) and target.channel == "push":
            with self.engine.begin() as connection:
                connection.execute(delete(PushSubscription).where(col(PushSubscription.id) == target.id))
            log.info("push: job %s removed an expired or refused subscription", self.job_id)
        elif not (outcome.delivered or outcome.transient):
            # The cause goes to the log and the job; never the payload, which is the person's business.
            log.warning("push: job %s (%s) refused by the push service: %s", self.job_id, self.kind, outcome.reason)
        if outcome.delivered and not (self.sent or self.lost):
            # The person has it: the job ends now, whatever the other devices' push services still take.
            self.sent = _finish(self.engine, self.job_id, self.worker, status=JobStatus.SENT, sent_at=clock.now(),
                                last_error="", provider_id=outcome.message_id)
            self.lost = not self.sent

    def _end(self) -> str:
        outcomes = [o for o in self.outcomes if o is not None]
        delivered = [o for o in outcomes if o.delivered]
        if self.lost:
            return "lost"
        if self.sent:
            if len(delivered) < len(outcomes):
                with self.engine.begin() as connection:
                    connection.execute(
                        update(NotificationJob)
                        .where(col(NotificationJob.id) == self.job_id, col(NotificationJob.claimed_by) == self.worker,
                               col(NotificationJob.status) == JobStatus.SENT)
                        .values(last_error=f"{len(delivered)}/{len(outcomes)} devices"))
            return JobStatus.SENT
        transient = [o for o in outcomes if o.transient]
        refused = [o for o in outcomes if not (o.delivered or o.gone or o.transient)]
        engine, job_id, worker = self.engine, self.job_id, self.worker
        if transient and self.stopping is not None and self.stopping.is_set():
            return _release(engine, job_id, worker)
        if transient:
            now = self.now or clock.now()
            wait = max([backoff(self.attempts)] + [o.retry_after or 0.0 for o in transient])
            retry_at = now + timedelta(seconds=wait)
            cause = transient[0].reason or str(transient[0].status)
            if self.attempts >= self.max_attempts or (self.event_at is not None and retry_at >= self.event_at):
                log.warning("push: job %s (%s) given up after %d tries: %s", job_id, self.kind, self.attempts, cause)
                ok = _finish(engine, job_id, worker, status=JobStatus.FAILED,
                             last_error=f"gave up after {self.attempts} tries: {cause}"[:200])
                return JobStatus.FAILED if ok else "lost"
            ok = _finish(engine, job_id, worker, status=JobStatus.PENDING, due_at=retry_at, claimed_by="",
                         last_error=f"retry: {cause}"[:200])
            return "retry" if ok else "lost"
        if refused:
            ok = _finish(engine, job_id, worker, status=JobStatus.FAILED,
                         last_error=f"refused: {refused[0].reason}"[:200])
            return JobStatus.FAILED if ok else "lost"
        # Every device had gone away (404/410): the person has no device left (or, WhatsApp/SMS, no such number).
        return JobStatus.NO_DEVICE if _finish(engine, job_id, worker, status=JobStatus.NO_DEVICE) else "lost"


def _handled(job_id: int, worker: str, ended: str) -> str:
    """One line per job a dispatcher handled: its id and how it ended, never whom it was for or what it said."""
    log.info("push: job %s %s", job_id, ended, extra={"event": "push_job", "job": job_id, "outcome": str(ended),
                                                      "worker": worker})
    return ended


def _release(engine: Engine, job_id: int, worker: str) -> str:
    """Give a claimed job back untried (the dispatcher is stopping): due as it was, no lease, so that another
    dispatcher takes it at once; the claim is not counted as a try."""
    ok = _finish(engine, job_id, worker, status=JobStatus.PENDING, claimed_by="",
                 attempts=col(NotificationJob.attempts) - 1, last_error="released: dispatcher stopped")
    return "released" if ok else "lost"


def _send_one(sender: Sender, flight: _Flight, index: int, *, kind: str, url: str, topic: str, urgency: str,
              ttl: int, service_name: str, ack: bool = False) -> None:
    target = flight.targets[index]
    if not flight.may_send():
        flight.record(index, NOT_SENT)
        return
    try:
        tag = sender.topic(topic, target.endpoint)
        message = payload(kind, url, tag, target.language, service_name,
                          ack=(flight.job_id, ack_token(sender.secret_key, flight.job_id)) if ack else None)
        outcome = sender.send(Device(target.endpoint, target.p256dh, target.auth), message, ttl=ttl,
                              urgency=urgency, topic=tag)
    except Exception:  # recorded as a failed send of this device, not the end of the job
        log.exception("push: a send failed unexpectedly")
        outcome = Outcome(0, reason="internal error")
    flight.record(index, outcome)


def _send_message(sender: Sender, flight: _Flight, index: int, *, service_name: str) -> None:
    """One WhatsApp or SMS rung of the ladder to the number its person agreed to."""
    target = flight.targets[index]
    if not flight.may_send():
        flight.record(index, NOT_SENT)
        return
    try:
        outcome = sender.channels[target.channel].send(
            target.phone, reference=flight.job_id, service_name=service_name,
            show_service_name=target.show_service_name, language=target.language)
    except Exception:
        log.exception("%s: a send failed unexpectedly", target.channel)
        outcome = Outcome(0, reason="internal error")
    flight.record(index, outcome)


def _message_target(engine: Engine, session: Session, job: NotificationJob, worker: str,
                    channels: dict[str, object]) -> tuple[str, list[_Target]]:
    """A WhatsApp or SMS rung: to the number its person agreed to for that channel, or it ends `no_device` (the
    channel is not configured, or there is no agreement: withdrawn with BERHENTI, never given)."""
    agreed = consent.number_for(session, user_id=job.recipient_user_id, report_id=job.recipient_report_id,
                                channel=job.channel)
    if job.channel not in channels or agreed is None:
        why = "channel not configured" if job.channel not in channels else "no consent for this channel"
        return (JobStatus.NO_DEVICE if _finish(engine, job.id, worker, status=JobStatus.NO_DEVICE,
                                               last_error=why) else "lost"), []
    language = session.execute(select(col(PushSubscription.language)).where(
        col(PushSubscription.user_id) == job.recipient_user_id if job.recipient_user_id is not None
        else col(PushSubscription.report_id) == job.recipient_report_id).limit(1)).scalar_one_or_none() or "id"
    return "send", [_Target(-1, job.channel, "", "", language, channel=job.channel, phone=agreed.phone,
                            show_service_name=agreed.show_service_name)]


def _prepare(engine: Engine, session: Session, job: NotificationJob | None, devices: list[PushSubscription],
             worker: str, moment: datetime, channels: dict[str, object] | None = None) -> tuple[str, list[_Target]]:
    """Whether a claimed job is to be sent ('send', and to which devices), or how it ended without a send."""
    if job is None or job.claimed_by != worker or job.status != JobStatus.SENDING:
        return "lost", []
    if not still_applies(session, job, moment):
        return (JobStatus.CANCELLED if _finish(engine, job.id, worker, status=JobStatus.CANCELLED,
                                               last_error="no longer applies") else "lost"), []
    quiet = job.kind in QUIET_KINDS or job.channel != "push"  # a WhatsApp or SMS tone at night is heard by others
    if quiet and (morning := outside_quiet_hours(moment)) != moment:
        # Due during the quiet hours (a dispatcher was down, or a retry fell there): it waits for 07.00 local time, and
        # the wait is not a try.
        ok = _finish(engine, job.id, worker, status=JobStatus.PENDING, due_at=morning, claimed_by="",
                     attempts=col(NotificationJob.attempts) - 1)
        return ("retry" if ok else "lost"), []
    if job.channel != "push":
        return _message_target(engine, session, job, worker, channels or {})
    mine = [d for d in devices if (d.user_id == job.recipient_user_id if job.recipient_user_id is not None
                                   else d.report_id == job.recipient_report_id)]
    if not mine:
        return (JobStatus.NO_DEVICE if _finish(engine, job.id, worker, status=JobStatus.NO_DEVICE) else "lost"), []
    return "send", [_Target(d.id, d.endpoint, d.p256dh, d.auth, d.language) for d in sorted(mine, key=lambda d: d.id)]


def _start_claimed(engine: Engine, sender: Sender, pool: SendPool, ids: list[int], worker: str, *,
                   max_attempts: int, lease_seconds: int, now: datetime | None,
                   stopping: threading.Event | None, claimed_at: float | None = None,
                   service_name: str | None = None) -> tuple[list[_Flight], list[str]]:
    """Start every job of a claim: the jobs and their recipients' devices are read at once, and each job's sends go
    to `pool` as soon as it is checked (they end on their own, see _Flight). Once `stopping` is set, the jobs not
    started yet are released. `claimed_at` (time.monotonic() of the claim) spares renewing leases just taken.
    Returns the jobs in flight and how the others ended."""
    moment = now or clock.now()
    flights: list[_Flight] = []
    endings: list[str] = []
    if claimed_at is None or time.monotonic() - claimed_at > lease_seconds / 3:
        held = [job_id for job_id in ids if _renew(engine, job_id, worker, lease_seconds, moment)]
        endings += [_handled(job_id, worker, "lost") for job_id in ids if job_id not in held]
        ids = held
    try:
        with Session(engine, expire_on_commit=False) as session:
            if service_name is None:  # once a claim: a supervisor may rename the service at any time
                service_name = service_info.load(session).service_name
            jobs = {job.id: job for job in session.execute(
                select(NotificationJob).where(col(NotificationJob.id).in_(ids))).scalars()}
            users = {job.recipient_user_id for job in jobs.values() if job.recipient_user_id is not None}
            reports = {job.recipient_report_id for job in jobs.values() if job.recipient_report_id is not None}
            devices = list(session.execute(select(PushSubscription).where(or_(
                col(PushSubscription.user_id).in_(users), col(PushSubscription.report_id).in_(reports)))).scalars())
    except Exception:  # the claim could not be read: each job is tried again later
        log.exception("push: a claim of %d job(s) could not be read", len(ids))
        return flights, endings + [
            _handled(job_id, worker, _give_back(engine, job_id, worker, max_attempts=max_attempts, now=moment))
            for job_id in ids]
    with Session(engine) as session:  # for the domains' still-applies checks
        for job_id in ids:
            if stopping is not None and stopping.is_set():
                endings.append(_handled(job_id, worker, _release(engine, job_id, worker)))
                continue
            job = jobs.get(job_id)
            try:
                ended, targets = _prepare(engine, session, job, devices, worker, moment, sender.channels)
            except Exception:  # one bad job must not stop the others
                log.exception("push: job %s could not be processed", job_id)
                endings.append(_handled(job_id, worker,
                                        _give_back(engine, job_id, worker, max_attempts=max_attempts, now=moment)))
                continue
            if ended != "send" or job is None:
                endings.append(_handled(job_id, worker, ended))
                continue
            flight = _Flight(engine, job_id, worker, kind=job.kind, attempts=job.attempts, event_at=job.event_at,
                             targets=targets, max_attempts=max_attempts, lease_seconds=lease_seconds, now=now,
                             stopping=stopping)
            ttl = ttl_for(job.event_at, moment)
            for index, target in enumerate(targets):
                if target.channel != "push":
                    pool.submit(target.channel, functools.partial(_send_message, sender, flight, index,
                                                                  service_name=service_name),
                                functools.partial(flight.record, index, STOPPED))
                    continue
                pool.submit(push_service_of(target.endpoint),
                            functools.partial(_send_one, sender, flight, index, kind=job.kind, url=job.url,
                                              topic=job.topic, urgency=job.urgency, ttl=ttl,
                                              service_name=service_name, ack=job.ladder),
                            functools.partial(flight.record, index, STOPPED))
            flights.append(flight)
    return flights, endings


def process(engine: Engine, sender: Sender, job_id: int, worker: str, *, max_attempts: int,
            lease_seconds: int = 60, now: datetime | None = None, service_name: str = DEFAULT_SERVICE_NAME) -> str:
    """Send one claimed job to every device of its recipient and wait for them; returns how it ended (or 'retry',
    'lost')."""
    flights, endings = _start_claimed(engine, sender, SendPool(), [job_id], worker, max_attempts=max_attempts,
                                      lease_seconds=lease_seconds, now=now, stopping=None, service_name=service_name)
    for flight in flights:
        flight.done.wait()  # each send ends within its timeout
        endings.append(str(flight.ending))
    return endings[0]


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


def dispatch_once(engine: Engine, sender: Sender, *, worker: str | None = None, batch: int = 50,
                  lease_seconds: int = 60, max_attempts: int = 5, now: datetime | None = None,
                  lane: str | None = None, pool: SendPool | None = None, stop: threading.Event | None = None) -> Stats:
    """Claim one batch (of `lane`, or of any job) and send it: every device's send of the batch side by side (in
    `pool`, within its limits), each recorded as it ends; returns once all have ended. `claimed` is 0 when nothing
    was due, or when `stop` is set (then nothing more is claimed, and jobs not started are released)."""
    worker = worker or worker_name()
    stats = Stats()
    if stop is not None and stop.is_set():
        return stats
    ids = claim(engine, worker, batch=batch, lease_seconds=lease_seconds, now=now, lane=lane)
    stats.claimed = len(ids)
    if not ids:
        return stats
    flights, endings = _start_claimed(engine, sender, pool or SendPool(stop=stop), ids, worker,
                                      max_attempts=max_attempts, lease_seconds=lease_seconds, now=now, stopping=stop,
                                      claimed_at=time.monotonic())
    for flight in flights:
        flight.done.wait()  # each send ends within its timeout, or is skipped once stopping
        endings.append(str(flight.ending))
    for ended in endings:
        name = {"retry": "retried", "lost": "lost", "released": "released"}.get(ended, str(ended))
        setattr(stats, name, getattr(stats, name) + 1)
    return stats


class Lane:
    """The jobs of one lane ('urgent' or 'normal'), each started as soon as a round claims it: its sends go to the
    lane's own SendPool, side by side with every other send in flight, and it ends per device (see _Flight). A
    device that never answers holds its own send for at most the push timeout, never another job's, nor a place
    another job needs: up to `jobs_in_flight` jobs may wait for their sends at once, and a job waiting costs no
    thread. Rounds never wait for sends."""

    def __init__(self, engine: Engine, sender: Sender, *, worker: str, lane: str = "urgent", lease_seconds: int = 60,
                 max_attempts: int = 5, batch: int = 50, jobs_in_flight: int = JOBS_IN_FLIGHT,
                 stop: threading.Event | None = None) -> None:
        if lane not in LANES:
            raise ValueError(f"no lane {lane!r}")
        self.engine, self.sender, self.worker, self.lane = engine, sender, worker, lane
        self.lease_seconds, self.max_attempts, self.batch = lease_seconds, max_attempts, batch
        self.jobs_in_flight = jobs_in_flight
        self.stop = stop or threading.Event()
        self.pool = SendPool(stop=self.stop)
        self._in_flight: set[_Flight] = set()

    def round(self, now: datetime | None = None) -> int:
        """Claim the lane's jobs that are due, as many as there is room for (a batch at most), and start sending
        them; returns how many were claimed."""
        self._in_flight = {flight for flight in self._in_flight if not flight.done.is_set()}
        room = min(self.batch, self.jobs_in_flight - len(self._in_flight))
        if room <= 0 or self.stop.is_set():
            return 0
        ids = claim(self.engine, self.worker, batch=room, lease_seconds=self.lease_seconds, now=now, lane=self.lane)
        if not ids:
            return 0
        flights, _endings = _start_claimed(self.engine, self.sender, self.pool, ids, self.worker,
                                           max_attempts=self.max_attempts, lease_seconds=self.lease_seconds, now=now,
                                           stopping=self.stop, claimed_at=time.monotonic())
        self._in_flight.update(flights)
        return len(ids)

    def rounds(self, now: datetime | None = None) -> int:
        """Rounds until nothing more is due or there is no room; returns how many jobs were claimed."""
        claimed = 0
        while (n := self.round(now)) > 0:
            claimed += n
        return claimed

    def close(self, timeout: float) -> bool:
        """Stop: nothing more is claimed, sends not started are not started (their jobs released), and the sends in
        flight end within their own deadline and are recorded; returns whether all ended within `timeout`."""
        self.stop.set()
        self.pool.halt()
        deadline = time.monotonic() + timeout
        return all(flight.done.wait(max(0.0, deadline - time.monotonic())) for flight in self._in_flight)


def drain(engine: Engine, sender: Sender, *, worker: str | None = None, batch: int = 50, lease_seconds: int = 60,
          max_attempts: int = 5, now: datetime | None = None, lane: str | None = None, pool: SendPool | None = None,
          stop: threading.Event | None = None) -> Stats:
    """Dispatch until nothing (of `lane`) is due, or `stop` is set."""
    total = Stats()
    pool = pool or SendPool(stop=stop)
    while True:
        stats = dispatch_once(engine, sender, worker=worker, batch=batch, lease_seconds=lease_seconds,
                              max_attempts=max_attempts, now=now, lane=lane, pool=pool, stop=stop)
        total.add(stats)
        if stats.claimed == 0:
            return total


def purge_finished(session: Session, now: datetime | None = None, older_than: timedelta = JOB_RETENTION) -> int:
    """Delete jobs that ended longer ago than `older_than`; pending and claimed jobs stay, however old."""
    cutoff = (now or clock.now()) - older_than
    result = session.execute(delete(NotificationJob).where(col(NotificationJob.status).in_(FINISHED),
                                                           col(NotificationJob.created_at) < cutoff))
    return rows_changed(result) or 0
