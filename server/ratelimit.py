"""Limits kept in the database, so every app process counts the same attempts.

Two kinds: fixed-window counters (how many reports or messages per hour), and growing delays for guesses at a
secret (passwords, PINs, sign-in codes). A hard lock after N failures would let anyone lock a counselor or a
child out by typing wrong on purpose; a delay that doubles with each failure, up to a cap, keeps guessing
impractical. The delay belongs to whoever guesses (the secret from one address, or from one device that got in
before), never to the secret alone: otherwise a few wrong guesses an hour from anywhere would keep the owner out
for ever (see `Guesses`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from server import clock
from server.db import rows_changed
from server.models import AttemptThrottle, RateLimitCounter


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def count(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """Attempts recorded for `key` in the current window."""
    start = _window_start(now or clock.now(), window)
    value = session.execute(
        select(col(RateLimitCounter.count))
        .where(col(RateLimitCounter.key) == key, col(RateLimitCounter.window_start) == start)
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
            index_elements=["key", "window_start"], set_={"count": col(RateLimitCounter.count) + 1}
        )
        .returning(col(RateLimitCounter.count))
    )
    return session.execute(statement).scalar_one()


def is_over(session: Session, key: str, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    return count(session, key, window, now) >= limit


def first_refusal(session: Session, key: str, window: timedelta, now: datetime | None = None) -> bool:
    """Count one refusal of `key` and say whether it is the window's first: callers audit that one, not a flood
    of fifty."""
    return hit(session, f"refused:{key}", window, now) == 1


def reset(session: Session, key: str) -> None:
    session.execute(delete(RateLimitCounter).where(col(RateLimitCounter.key) == key))


def purge_expired(session: Session, older_than: timedelta = timedelta(days=1), now: datetime | None = None) -> int:
    """Counters hold client addresses: keep them no longer than the longest window needs (the worker's duty)."""
    cutoff = (now or clock.now()) - older_than
    result = session.execute(delete(RateLimitCounter).where(col(RateLimitCounter.window_start) < cutoff))
    return rows_changed(result) or 0


def purge_forgotten_failures(session: Session, older_than: timedelta, now: datetime | None = None) -> int:
    """Failures hold client addresses: delete those no backoff remembers any more (the worker's duty)."""
    cutoff = (now or clock.now()) - older_than
    result = session.execute(delete(AttemptThrottle).where(col(AttemptThrottle.last_failure_at) < cutoff))
    return rows_changed(result) or 0


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
        select(col(AttemptThrottle.wait_until))
        .where(col(AttemptThrottle.key).in_(keys), col(AttemptThrottle.wait_until) > now)
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
    forgotten = col(AttemptThrottle.last_failure_at) < now - backoff.memory
    statement = (
        insert(AttemptThrottle)
        .values(key=key, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": case((forgotten, 1), else_=col(AttemptThrottle.failures) + 1),
                "last_failure_at": now,
            },
        )
        .returning(col(AttemptThrottle.failures))
    )
    failures = session.execute(statement).scalar_one()
    delay = backoff.delay_after(failures)
    session.execute(
        update(AttemptThrottle).where(col(AttemptThrottle.key) == key).values(wait_until=now + delay if delay else None)
    )
    return failures


def clear(session: Session, key: str) -> None:
    session.execute(delete(AttemptThrottle).where(col(AttemptThrottle.key) == key))



# --- guesses at one secret, counted per guesser ----------------------------------------------------------------


@dataclass(frozen=True)
class Guesses:
    """How guesses at one secret (an account's password, its sign-in codes, a report code's PIN) slow down.

    Failures count per secret and client: the client is its address, or a device that got in with this secret
    before (a signed token in a cookie, OWASP's "device cookies"). Someone guessing from elsewhere therefore
    never makes the owner wait: the right secret from an address or device without failures is checked at once.
    An address is also slowed across every secret it tries (`per_address`), except on a known device, which
    proved itself before.

    The unknown clients that failed at one secret are counted too, and that count alone never makes anyone
    wait; once `crowded` different clients have (many addresses at one secret), each unknown client waits the
    cap after its first failure. So a guesser with many addresses gets one guess per address and cap, while the
    owner's first attempt from anywhere is still checked at once and a typo costs them at most the cap. One
    address failing again and again does not count more than once: it is slowed by its own key."""

    per_client: Backoff
    per_address: Backoff
    crowded: int

    def crowded_backoff(self) -> Backoff:
        return replace(self.per_client, free_failures=1, first_delay_seconds=self.per_client.max_delay_seconds)


@dataclass(frozen=True)
class Guesser:
    """One attempt's secret and client. `secret` names what is guessed (e.g. `signin:account:konselor`),
    `address_key` the address across secrets of that kind (e.g. `signin:address:203.0.113.5`), `device` the
    nonce of a device token valid for this secret, if the browser sent one."""

    secret: str
    address_key: str
    ip: str
    device: str | None = None

    @property
    def client_key(self) -> str:
        # An address is at most 45 characters (IPv6); the cap keeps any key within its column.
        return f"{self.secret}|device:{self.device}" if self.device else f"{self.secret}|address:{self.ip[:64]}"

    @property
    def keys(self) -> list[str]:
        return [self.client_key] if self.device else [self.client_key, self.address_key]


def guess_wait(session: Session, guesser: Guesser, now: datetime | None = None) -> int:
    """Whole seconds before this client's next guess at this secret may be checked; 0 when it may be now."""
    return wait_left(session, guesser.keys, now)


def guess_failed(session: Session, guesser: Guesser, guesses: Guesses, now: datetime | None = None) -> None:
    now = now or clock.now()
    if guesser.device:
        record_failure(session, guesser.client_key, guesses.per_client, now)
        return
    memory = guesses.per_client.memory
    crowd_key = f"{guesser.secret}|unknown"
    crowd = session.execute(select(col(AttemptThrottle.failures)).where(
        col(AttemptThrottle.key) == crowd_key, col(AttemptThrottle.last_failure_at) >= now - memory)).scalar() or 0
    backoff = guesses.crowded_backoff() if crowd >= guesses.crowded else guesses.per_client
    if record_failure(session, guesser.client_key, backoff, now) == 1:
        # A client failing for the first time: one more at this secret. The count never makes anyone wait by
        # itself (no free failures run out); it only chooses the backoff above.
        record_failure(session, crowd_key, Backoff(2**31, 0, 0, memory), now)
    record_failure(session, guesser.address_key, guesses.per_address, now)


def guess_succeeded(session: Session, guesser: Guesser) -> None:
    """The client got in: its failures at this secret are forgotten (not those of other clients, nor the
    address's at other secrets)."""
    clear(session, guesser.client_key)


def first_refusal_of(session: Session, guesser: Guesser, window: timedelta, now: datetime | None = None) -> bool:
    """As `first_refusal`, per secret and client: a flood inside the waits is one audit entry a window."""
    return first_refusal(session, guesser.client_key, window, now)


# --- device tokens ----------------------------------------------------------------------------------------------

# A browser keeps the tokens of the last few secrets it got in with (a shared office computer, a family phone).
DEVICE_TOKENS_KEPT = 5
_DEVICE_TOKEN = re.compile(r"^[0-9a-f]{32}\.[0-9a-f]{32}$")


def _device_signature(secret_key: str, secret: str, nonce: str) -> str:
    # Bound to the secret it got in with; the cookie itself names no account and no report.
    message = f"device-token|{secret}|{nonce}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def _device_tokens(cookie: str | None) -> list[str]:
    return [token for token in (cookie or "").split("-") if _DEVICE_TOKEN.match(token)][:DEVICE_TOKENS_KEPT]


def known_device(cookie: str | None, *, secret: str, secret_key: str) -> str | None:
    """The nonce of the cookie's token for `secret`, if it holds one signed by us; else None."""
    for token in _device_tokens(cookie):
        nonce, signature = token.split(".")
        if hmac.compare_digest(signature, _device_signature(secret_key, secret, nonce)):
            return nonce
    return None


def remember_device(cookie: str | None, *, secret: str, secret_key: str) -> str:
    """The cookie's new value after this browser got in with `secret`: its token for it first (a new one if it
    had none), then the others, the oldest dropped."""
    tokens = _device_tokens(cookie)
    nonce = known_device(cookie, secret=secret, secret_key=secret_key) or secrets.token_hex(16)
    token = f"{nonce}.{_device_signature(secret_key, secret, nonce)}"
    return "-".join([token, *[other for other in tokens if other != token]][:DEVICE_TOKENS_KEPT])
