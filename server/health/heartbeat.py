"""Every dispatcher (`bintang worker`, or the inline one in an app process) stamps its row on each round, so that
readiness, the metrics and the supervisor's page can tell that notifications are being sent: a dispatcher that
died or hangs stops stamping. Rows of dispatchers gone for longer than `FORGET_AFTER` are deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from server import clock
from server.health.models import DispatcherHeartbeat

# A stopped dispatcher's row stays this long (the supervisor's page shows when it was last seen), then goes.
FORGET_AFTER = timedelta(days=7)


def beat(engine: Engine, worker: str, *, started_at: datetime, now: datetime | None = None) -> None:
    """Stamp `worker`'s row with now. One UPDATE on every round; the INSERT only on the first (a worker's name holds
    its process id, so no other process writes this row)."""
    now = now or clock.now()
    with engine.begin() as connection:
        updated = connection.execute(
            update(DispatcherHeartbeat).where(DispatcherHeartbeat.worker == worker).values(last_seen=now)
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
                update(DispatcherHeartbeat).where(DispatcherHeartbeat.worker == worker).values(last_seen=now)
            )


def forget_stopped(engine: Engine, now: datetime | None = None) -> int:
    """Delete the rows of dispatchers not seen for `FORGET_AFTER`."""
    cutoff = (now or clock.now()) - FORGET_AFTER
    with engine.begin() as connection:
        return connection.execute(
            delete(DispatcherHeartbeat).where(DispatcherHeartbeat.last_seen < cutoff)
        ).rowcount or 0


def last_seen(engine: Engine) -> datetime | None:
    """The newest heartbeat of any dispatcher, or None when none ever beat (or all were forgotten)."""
    with engine.connect() as connection:
        # max() keeps the column's type, so the value comes back an aware UTC datetime on SQLite too.
        return connection.execute(select(func.max(DispatcherHeartbeat.last_seen))).scalar_one_or_none()


def age_seconds(engine: Engine, now: datetime | None = None) -> float | None:
    """Seconds since any dispatcher last beat; None when there is no heartbeat at all."""
    seen = last_seen(engine)
    if seen is None:
        return None
    return max(0.0, ((now or clock.now()) - seen).total_seconds())
