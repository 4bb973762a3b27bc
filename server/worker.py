"""Background work of the service: lapsed appointment holds, check-ins left unanswered after both tries, the
notification dispatcher, and retention (expired sessions, rate-limit counters with their addresses,
long-finished notification jobs are purged; the UU PDP retention schedule of server/dataprotection is applied and
reported).

It runs inside the app as a lifespan task (DISPATCHER=inline, for a single-process install) or on its own as
`bintang worker` (DISPATCHER=off on the web processes). Several may run at once: claims are safe (see
server/notifications/dispatcher.py) and expiring a hold is a conditional update."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from litestar import Litestar
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server import clock, ratelimit
from server.accounts import auth
from server.aftercare import service as aftercare
from server.appointments import service as appointments
from server.dataprotection import requests as data_requests
from server.dataprotection import retention
from server.health import heartbeat
from server.notifications import channels, dispatcher, ladder
from server.notifications.push import Sender, load_vapid
from server.settings import Settings
from server.waitlist import service as waitlist

log = logging.getLogger("bintang.worker")
# Retention is cheap but needs no 5-second rhythm: a worker purges on its first round and then this often.
PURGE_INTERVAL = timedelta(minutes=10)


def make_sender(settings: Settings, session: object = None) -> Sender:
    return Sender(load_vapid(settings), settings.vapid_subject, timeout=settings.push_timeout_seconds,
                  session=session, allowed_hosts=settings.push_allowed_hosts, secret_key=settings.secret_key,
                  channels=channels.messengers(settings))


def purge(engine: Engine, settings: Settings) -> dict[str, int]:
    """Delete what the service promises not to keep: expired web and case sessions, rate-limit counters older
    than a day and failed attempts no delay remembers (they hold client addresses), and notification jobs
    finished long ago; then release the children's session ratings that wait in groups large enough
    (server/aftercare/service.py)."""
    now = clock.now()
    with Session(engine, expire_on_commit=False) as session:
        purged = {
            **auth.purge_expired_sessions(session, settings, now),
            "rate_limit_counters": ratelimit.purge_expired(session, now=now),
            # The longest memory of any backoff: sign-in's setting, or the report codes' day.
            "attempt_throttles": ratelimit.purge_forgotten_failures(
                session, max(timedelta(hours=settings.login_forget_hours), timedelta(days=1)), now),
            "notification_jobs": dispatcher.purge_finished(session, now),
        }
        session.commit()
    purged["dispatcher_heartbeats"] = heartbeat.forget_stopped(engine, now)
    if any(purged.values()):
        log.info("worker: purged %s", ", ".join(f"{n} {what}" for what, n in purged.items() if n))
    # The retention schedule (UU PDP) with its destruction reports, and the supervisors' alerts for requests whose
    # 3x24 hours run out: a fault here is logged and tried again next round, never the end of the purge.
    try:
        with Session(engine) as session:
            retention.apply(session, purged, now)
            data_requests.alert_running_out(session, now)
            session.commit()
    except Exception:
        log.exception("worker: the retention schedule failed; trying again next round")
    # The children's ratings leave their sealed waiting room in a transaction of their own, never the rating's.
    with Session(engine) as session:
        try:
            purged["ratings_released"] = aftercare.release_ratings(session, settings.secret_key)
            session.commit()
        except aftercare.ReleasedElsewhere:
            session.rollback()
            purged["ratings_released"] = 0
    return purged


def housekeeping(engine: Engine, settings: Settings, *, purge_due: bool = True) -> None:
    """Purge what expired (when `purge_due`), let lapsed holds go (their requesters hear of it), offer free times
    to the waiting lists, and climb the reminder ladder (WhatsApp, SMS, a counselor's call)."""
    if purge_due:
        purge(engine, settings)
    with Session(engine, expire_on_commit=False) as session:
        expired = appointments.expire_unanswered(session)
        lapsed = aftercare.mark_unanswered(session)
        session.commit()
    # The waiting list after the holds: a time a lapsed request let go is offered to the first in line. A fault
    # there must not hold up sending what is due.
    try:
        with Session(engine, expire_on_commit=False) as session:
            offers = waitlist.offer_round(session, hold=timedelta(minutes=settings.waitlist_hold_minutes),
                                          quiet_hours=settings.waitlist_quiet_hours)
            session.commit()
        if offers.offered or offers.lapsed:
            log.info("worker: waiting list: %d offer(s) made, %d lapsed", offers.offered, offers.lapsed)
    except Exception:
        log.exception("worker: the waiting list's round failed; trying again next round")
    try:
        climb_ladder(engine, settings)
    except Exception:
        log.exception("worker: the reminder ladder's round failed; trying again next round")
    if expired:
        log.info("worker: %d unanswered request(s) expired", len(expired))
    if lapsed:
        log.info("worker: %d check-in(s) marked unanswered", len(lapsed))


def climb_ladder(engine: Engine, settings: Settings, now: datetime | None = None) -> ladder.Climbed:
    """Reminders push did not bring to their person climb to WhatsApp, SMS, and a counselor's call."""
    with Session(engine, expire_on_commit=False) as session:
        climbed = ladder.climb(session, wait=timedelta(minutes=settings.ladder_push_wait_minutes),
                               call_before=timedelta(hours=settings.ladder_call_hours), now=now)
        session.commit()
    if climbed.whatsapp or climbed.sms or climbed.last_resort:
        log.info("worker: ladder: %d to WhatsApp, %d to SMS, %d call(s) asked for", climbed.whatsapp, climbed.sms,
                 climbed.last_resort)
    return climbed


def tick(engine: Engine, sender: Sender, settings: Settings, *, worker: str | None = None,
         lane: str | None = None, purge_due: bool = True) -> dispatcher.Stats:
    """One round, waiting for every send: the housekeeping, then everything that is due (of `lane` only, when
    given; the urgent lane leaves the housekeeping to the other)."""
    if lane != "urgent":
        housekeeping(engine, settings, purge_due=purge_due)
    return dispatcher.drain(engine, sender, worker=worker, lease_seconds=settings.dispatch_lease_seconds,
                            max_attempts=settings.push_max_attempts, lane=lane)


def stop_within(settings: Settings) -> float:
    """How long a dispatcher asked to stop may take: its sends in flight end within their own deadline (and are
    recorded), nothing new is claimed or started, and what was claimed but not sent is released."""
    return settings.push_timeout_seconds + 5.0


def _beat(engine: Engine, worker: str, started_at: datetime) -> None:
    """The heartbeat readiness and the supervisor's page look at; a failure to write it is logged, never the end
    of the loop (the database may be back on the next round)."""
    try:
        heartbeat.beat(engine, worker, started_at=started_at)
    except Exception:
        log.exception("worker: could not write the heartbeat")


def _lane(name: str, stop: threading.Event, engine: Engine, sender: Sender, settings: Settings, worker: str,
          started_at: datetime, housekeeping_too: bool = False) -> None:
    """One lane's rounds until `stop` is set (the normal lane also does the housekeeping), then its close."""
    lane = dispatcher.Lane(engine, sender, worker=worker, lane=name, lease_seconds=settings.dispatch_lease_seconds,
                           max_attempts=settings.push_max_attempts, stop=stop)
    last_purge = None
    try:
        while not stop.is_set():
            # Both lanes beat: a round of the other lane may be long (a batch to slow push services), and the urgent
            # lane's rounds are short, so a live dispatcher never looks dead.
            _beat(engine, worker, started_at)
            try:
                if housekeeping_too:
                    purge_due = last_purge is None or clock.now() - last_purge >= PURGE_INTERVAL
                    housekeeping(engine, settings, purge_due=purge_due)
                    if purge_due:
                        last_purge = clock.now()
                lane.rounds()
            except Exception:
                log.exception("worker: a round of the %s lane failed; trying again in %.0f s", name,
                              settings.dispatch_interval_seconds)
            stop.wait(settings.dispatch_interval_seconds)
    finally:
        if not lane.close(stop_within(settings)):
            log.warning("worker: %s sends still unanswered when stopping; their jobs are taken over when their "
                        "lease runs out", name)


def run_until(stop: threading.Event, engine: Engine, settings: Settings) -> None:
    """The `bintang worker` loop: a round every DISPATCH_INTERVAL_SECONDS until `stop` is set, in two lanes that
    never wait for each other (dispatcher.Lane): urgent jobs in a thread of their own, everything else and the
    housekeeping in this one. Once `stop` is set it returns within stop_within(): no round claims again, sends that
    had not started are not started and their jobs are released for another dispatcher, and the sends in flight
    end within their own deadline (a job they did not deliver is released too)."""
    sender = make_sender(settings)
    worker = dispatcher.worker_name()
    sender = make_sender(settings)
    worker = dispatcher.worker_name()
    started_at = clock.now()
    log.info("worker %s started", worker, extra={"event": "worker_started", "worker": worker})
    _beat(engine, worker, started_at)
    urgent = threading.Thread(target=_lane, args=("urgent", stop, engine, sender, settings, worker, started_at),
                              name="bintang-dispatcher-urgent", daemon=True)
    urgent.start()
    _lane("normal", stop, engine, sender, settings, worker, started_at, housekeeping_too=True)
    urgent.join(stop_within(settings) + 1.0)
    try:
        heartbeat.stopped(engine, worker)
    except Exception:
        log.exception("worker: could not record that it stopped")
    log.info("worker %s stopped", worker, extra={"event": "worker_stopped", "worker": worker})


@asynccontextmanager
async def inline_dispatcher(app: Litestar) -> AsyncIterator[None]:
    """Lifespan: with DISPATCHER=inline the app process runs the worker's rounds in a thread of its own."""
    settings: Settings = app.state.settings
    if settings.dispatcher != "inline":
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(target=run_until, args=(stop, app.state.engine, settings), name="bintang-dispatcher",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        # A send in flight ends within its timeout; a job left `sending` is taken again when its lease runs out.
        await asyncio.to_thread(thread.join, stop_within(settings) + 2.0)
