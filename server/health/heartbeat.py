"""Every dispatcher (`bintang worker`, or the inline one in an app process) stamps its row on each round, so that
readiness, the metrics and the supervisor's page can tell that notifications are being sent: a dispatcher that
died or hangs stops stamping, and one that stops cleanly says so at once. Rows of dispatchers gone for longer than
`FORGET_AFTER` are deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, insert, select, type_coerce, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from server import clock
from server.db import UTCDateTime
from server.health.models import DispatcherHeartbeat

# A stopped dispatcher's row stays this long (the supervisor's page shows when it was last seen), then goes.
FORGET_AFTER = timedelta(days=7)


def beat(engine: Engine, worker: str, *, started_at: datetime, now: datetime | None = None) -> None:
    """Stamp `worker`'s row with now. One UPDATE on every round; the INSERT only on the first (a worker's name holds
    its process id, so no other process writes this row)."""
    now = now or clock.now()
    with engine.begin() as connection:
        updated = connection.execute(
            update(DispatcherHeartbeat).where(col(DispatcherHeartbeat.worker) == worker)
            .values(last_seen=now, stopped_at=None)
        ).rowcount
    if updated:
        return
    try:
        with engine.begin() as connection:
            connection.execute(insert(DispatcherHeartbeat).values(worker=worker, started_at=started_at,
                                                                  last_seen=now))
    except IntegrityError:  # a purge and an insert raced: the row is there now
        with engine.begin() as connection:
            connection.execute(
                update(DispatcherHeartbeat).where(col(DispatcherHeartbeat.worker) == worker).values(last_seen=now)
            )


def stopped(engine: Engine, worker: str, now: datetime | None = None) -> None:
    """`worker` stopped cleanly: readiness need not wait for its heartbeat to grow old."""
    now = now or clock.now()
    with engine.begin() as connection:
        connection.execute(update(DispatcherHeartbeat).where(col(DispatcherHeartbeat.worker) == worker)
                           .values(last_seen=now, stopped_at=now))


@dataclass(frozen=True)
class Seen:
    running: datetime | None  # the newest heartbeat of a dispatcher that has not said it stopped
    any: datetime | None  # the newest heartbeat of any, stopped ones included


def last_seen(engine: Engine) -> Seen:
    """When dispatchers last beat; None where there is no such heartbeat."""
    running = func.max(case((col(DispatcherHeartbeat.stopped_at).is_(None), col(DispatcherHeartbeat.last_seen))))
    with engine.connect() as connection:
        newest_running, newest = connection.execute(
            select(type_coerce(running, UTCDateTime()), func.max(col(DispatcherHeartbeat.last_seen)))).one()
    return Seen(newest_running, newest)


def forget_stopped(engine: Engine, now: datetime | None = None) -> int:
    """Delete the rows of dispatchers not seen for `FORGET_AFTER`."""
    cutoff = (now or clock.now()) - FORGET_AFTER
    with engine.begin() as connection:
        return connection.execute(
            delete(DispatcherHeartbeat).where(col(DispatcherHeartbeat.last_seen) < cutoff)
        ).rowcount or 0
