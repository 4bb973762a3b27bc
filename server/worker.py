"""Background work of the service: lapsed appointment holds and the notification dispatcher.

It runs inside the app as a lifespan task (DISPATCHER=inline, for a single-process install) or on its own as
`bintang worker` (DISPATCHER=off on the web processes). Several may run at once: claims are safe (see
server/notifications/dispatcher.py) and expiring a hold is a conditional update."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.appointments import service as appointments
from server.notifications import dispatcher
from server.notifications.push import Sender, load_vapid
from server.settings import Settings

log = logging.getLogger("bintang.worker")


def make_sender(settings: Settings, session: object = None) -> Sender:
    return Sender(load_vapid(settings), settings.vapid_subject, timeout=settings.push_timeout_seconds,
                  session=session, allowed_hosts=settings.push_allowed_hosts, secret_key=settings.secret_key)


def tick(engine: Engine, sender: Sender, settings: Settings, *, worker: str | None = None,
         lane: str | None = None) -> dispatcher.Stats:
    """One round: let lapsed holds go (their requesters hear of it), then send everything that is due (of
    `lane` only, when given; the urgent lane leaves the holds to the other)."""
    if lane != "urgent":
        with Session(engine, expire_on_commit=False) as session:
            expired = appointments.expire_unanswered(session)
            session.commit()
        if expired:
            log.info("worker: %d unanswered request(s) expired", len(expired))
    return dispatcher.drain(engine, sender, worker=worker, lease_seconds=settings.dispatch_lease_seconds,
                            max_attempts=settings.push_max_attempts, lane=lane)


def _urgent_lane(stop: threading.Event, engine: Engine, sender: Sender, settings: Settings, worker: str) -> None:
    lane = dispatcher.UrgentLane(engine, sender, worker=worker, lease_seconds=settings.dispatch_lease_seconds,
                                 max_attempts=settings.push_max_attempts)
    try:
        while not stop.is_set():
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
    log.info("worker %s started", worker)
    urgent = threading.Thread(target=_urgent_lane, args=(stop, engine, sender, settings, worker),
                              name="bintang-dispatcher-urgent", daemon=True)
    urgent.start()
    while not stop.is_set():
        try:
            tick(engine, sender, settings, worker=worker, lane="normal")
        except Exception:
            log.exception("worker: a round failed; trying again in %.0f s", settings.dispatch_interval_seconds)
        stop.wait(settings.dispatch_interval_seconds)
    urgent.join(settings.push_timeout_seconds + 5)
    log.info("worker %s stopped", worker)


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
