"""Limits kept in the database, so every app process counts the same attempts.

Two kinds: fixed-window counters (how many reports or messages per hour), and growing delays for guesses at a
secret (passwords, PINs, sign-in codes). A hard lock after N failures would let anyone lock a counselor or a
child out by typing wrong on purpose; a delay that doubles with each failure, up to a cap, keeps guessing
impractical while the right person gets in once they have waited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from server import clock
from server.models import AttemptThrottle, RateLimitCounter


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def count(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """Attempts recorded for `key` in the current window."""
    start = _window_start(now or clock.now(), window)
    value = session.execute(
        select(RateLimitCounter.count).where(RateLimitCounter.key == key, RateLimitCounter.window_start == start)
    ).scalar()
    return value or 0


def hit(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """Record one attempt and return the window's count, atomically (an upsert, not read-then-write)."""
    start = _window_start(now or clock.now(), window)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(RateLimitCounter)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"count": RateLimitCounter.count + 1}
        )
        .returning(RateLimitCounter.count)
    )
    return session.execute(statement).scalar_one()


def is_over(session: Session, key: str, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    return count(session, key, window, now) >= limit


def first_refusal(session: Session, key: str, window: timedelta, now: datetime | None = None) -> bool:
    """Count one refusal of `key` and say whether it is the window's first: callers audit that one, not a flood
    of fifty."""
    return hit(session, f"refused:{key}", window, now) == 1


def reset(session: Session, key: str) -> None:
    session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


def purge_expired(session: Session, older_than: timedelta = timedelta(days=1), now: datetime | None = None) -> int:
    """Counters hold client addresses: keep them no longer than the longest window needs (the worker's duty)."""
    cutoff = (now or clock.now()) - older_than
    result = session.execute(delete(RateLimitCounter).where(RateLimitCounter.window_start < cutoff))
    return result.rowcount or 0


# --- growing delays ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """`free_failures` failures cost nothing; the one that reaches it makes the next attempt wait
    `first_delay_seconds`, and each further failure doubles the wait, up to `max_delay_seconds`. Failures are
    forgotten `memory` after the last one (sooner only by `clear`, at a success). The memory must be much
    longer than the cap, or waiting out the cap would hand a guesser a fresh set of free failures."""

    free_failures: int
    first_delay_seconds: int
    max_delay_seconds: int
    memory: timedelta

    def delay_after(self, failures: int) -> timedelta:
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 32)
        return timedelta(seconds=min(self.first_delay_seconds * 2**doublings, self.max_delay_seconds))


def wait_left(session: Session, keys: list[str], now: datetime | None = None) -> int:
    """Whole seconds until an attempt on all of `keys` may be checked; 0 when it may be checked now."""
    now = now or clock.now()
    until = session.execute(
        select(AttemptThrottle.wait_until).where(AttemptThrottle.key.in_(keys), AttemptThrottle.wait_until > now)
    ).scalars().all()
    if not until:
        return 0
    return max(1, math.ceil((max(until) - now).total_seconds()))


def record_failure(session: Session, key: str, backoff: Backoff, now: datetime | None = None) -> int:
    """Count one failed attempt at `key` and set the wait before the next; returns the failures counted.
    The count is an upsert, so two processes failing at once both count."""
    now = now or clock.now()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    forgotten = AttemptThrottle.last_failure_at < now - backoff.memory
    statement = (
        insert(AttemptThrottle)
        .values(key=key, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": case((forgotten, 1), else_=AttemptThrottle.failures + 1),
                "last_failure_at": now,
            },
        )
        .returning(AttemptThrottle.failures)
    )
    failures = session.execute(statement).scalar_one()
    delay = backoff.delay_after(failures)
    session.execute(
        update(AttemptThrottle).where(AttemptThrottle.key == key).values(wait_until=now + delay if delay else None)
    )
    return failures


def clear(session: Session, key: str) -> None:
    session.execute(delete(AttemptThrottle).where(AttemptThrottle.key == key))

