"""Background work of the service: lapsed appointment holds, check-ins left unanswered after both tries, the
notification dispatcher, and retention (expired sessions, rate-limit counters with their addresses,
long-finished notification jobs are purged).

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
from server.health import heartbeat
from server.notifications import dispatcher
from server.notifications.push import Sender, load_vapid
from server.settings import Settings

log = logging.getLogger("bintang.worker")
# Retention is cheap but needs no 5-second rhythm: a worker purges on its first round and then this often.
PURGE_INTERVAL = timedelta(minutes=10)


def make_sender(settings: Settings, session: object = None) -> Sender:
    return Sender(load_vapid(settings), settings.vapid_subject, timeout=settings.push_timeout_seconds,
                  session=session, allowed_hosts=settings.push_allowed_hosts, secret_key=settings.secret_key)


def purge(engine: Engine, settings: Settings) -> dict[str, int]:
    """Delete what the service promises not to keep: expired web and case sessions, rate-limit counters older
    than a day (they hold client addresses), and notification jobs finished long ago."""
    now = clock.now()
    with Session(engine, expire_on_commit=False) as session:
        purged = {
            **auth.purge_expired_sessions(session, settings, now),
            "rate_limit_counters": ratelimit.purge_expired(session, now=now),
            "notification_jobs": dispatcher.purge_finished(session, now),
        }
        session.commit()
    purged["dispatcher_heartbeats"] = heartbeat.forget_stopped(engine, now)
    if any(purged.values()):
        log.info("worker: purged %s", ", ".join(f"{n} {what}" for what, n in purged.items() if n))
    return purged


def tick(engine: Engine, sender: Sender, settings: Settings, *, worker: str | None = None,
         lane: str | None = None, purge_due: bool = True) -> dispatcher.Stats:
    """One round: purge what expired (when `purge_due`), let lapsed holds go (their requesters hear of it), then
    send everything that is due (of `lane` only, when given; the urgent lane leaves holds and purging to the
    other)."""
    if lane != "urgent":
        if purge_due:
            purge(engine, settings)
        with Session(engine, expire_on_commit=False) as session:
            expired = appointments.expire_unanswered(session)
            lapsed = aftercare.mark_unanswered(session)
            session.commit()
        if expired:
            log.info("worker: %d unanswered request(s) expired", len(expired))
        if lapsed:
            log.info("worker: %d check-in(s) marked unanswered", len(lapsed))
    return dispatcher.drain(engine, sender, worker=worker, lease_seconds=settings.dispatch_lease_seconds,
                            max_attempts=settings.push_max_attempts, lane=lane)


def _beat(engine: Engine, worker: str, started_at: datetime) -> None:
    """The heartbeat readiness and the supervisor's page look at; a failure to write it is logged, never the end
    of the loop (the database may be back on the next round)."""
    try:
        heartbeat.beat(engine, worker, started_at=started_at)
    except Exception:
        log.exception("worker: could not write the heartbeat")


def _urgent_lane(stop: threading.Event, engine: Engine, sender: Sender, settings: Settings, worker: str,
                 started_at: datetime) -> None:
    lane = dispatcher.UrgentLane(engine, sender, worker=worker, lease_seconds=settings.dispatch_lease_seconds,
                                 max_attempts=settings.push_max_attempts)
    try:
        while not stop.is_set():
            # Both lanes beat: a round of the other lane may be long (a batch to slow push services), and the urgent
            # lane's rounds are short, so a live dispatcher never looks dead.
            _beat(engine, worker, started_at)
            try:
                lane.round()
            except Exception:
                log.exception("worker: a round of the urgent lane failed; trying again in %.0f s",
                              settings.dispatch_interval_seconds)
            stop.wait(settings.dispatch_interval_seconds)
    finally:
        lane.close()


def run_until(stop: threading.Event, engine: Engine, settings: Settings) -> None:
    """The `bintang worker` loop: a round every DISPATCH_INTERVAL_SECONDS until `stop` is set, in two lanes that
    never wait for each other: urgent jobs in a thread of their own (each sent as soon as it is claimed, see
    dispatcher.UrgentLane), everything else in this one."""
    sender = make_sender(settings)
    worker = dispatcher.worker_name()
    started_at = clock.now()
    log.info("worker %s started", worker, extra={"event": "worker_started", "worker": worker})
    _beat(engine, worker, started_at)
    urgent = threading.Thread(target=_urgent_lane, args=(stop, engine, sender, settings, worker, started_at),
                              name="bintang-dispatcher-urgent", daemon=True)
    urgent.start()
    last_purge = None
    while not stop.is_set():
        _beat(engine, worker, started_at)
        try:
            purge_due = last_purge is None or clock.now() - last_purge >= PURGE_INTERVAL
            tick(engine, sender, settings, worker=worker, lane="normal", purge_due=purge_due)
            if purge_due:
                last_purge = clock.now()
        except Exception:
            log.exception("worker: a round failed; trying again in %.0f s", settings.dispatch_interval_seconds)
        stop.wait(settings.dispatch_interval_seconds)
    urgent.join(settings.push_timeout_seconds + 5)
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
        await asyncio.to_thread(thread.join, 2 * settings.push_timeout_seconds + 5)
