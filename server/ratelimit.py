"""Fixed-window rate limits kept in the database, so every app process counts the same attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from server.db import utcnow
from server.models import RateLimitCounter


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def count(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """Attempts recorded for `key` in the current window."""
    start = _window_start(now or utcnow(), window)
    value = session.execute(
        select(RateLimitCounter.count).where(RateLimitCounter.key == key, RateLimitCounter.window_start == start)
    ).scalar()
    return value or 0


def hit(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """Record one attempt and return the window's count, atomically (an upsert, not read-then-write)."""
    start = _window_start(now or utcnow(), window)
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
    cutoff = (now or utcnow()) - older_than
    result = session.execute(delete(RateLimitCounter).where(RateLimitCounter.window_start < cutoff))
    return result.rowcount or 0


