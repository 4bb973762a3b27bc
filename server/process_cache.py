"""Values every page reads and a supervisor rarely changes (the service settings, the district and school
lists), kept by each process for a few seconds instead of read from the database on every request.

Pages render on the event loop, and reading the database there could deadlock under load: every pooled connection
can be held by a request whose session is closed only on that same loop, and the loop would wait for one of them
(bench/pages.py found it at 32 connections, a 30 s stall until the pool timed out). So `refresh()` re-reads the
value in a worker thread before a request needs it, and `current()` only returns this process's copy (reading the
database only when there is none yet, e.g. right after `forget()`).

A middleware (server/app.py) calls `refresh_all()` before each request. The process that saves a change calls
`forget()` after committing, so it shows the change at once; other processes show it within `max_age` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar, cast

import anyio.to_thread
from sqlalchemy.engine import Engine
from sqlmodel import Session

T = TypeVar("T")
log = logging.getLogger("bintang.process_cache")
_all: list[ProcessCopy[Any]] = []


class ProcessCopy(Generic[T]):
    def __init__(self, name: str, load: Callable[[Session], T], max_age: float = 10.0) -> None:
        self.name = name
        self.load = load
        self.max_age = max_age
        self._read_at = 0.0
        self._value: T | None = None
        self._engine: Engine | None = None  # the copy is of this database (tests run apps on several)
        self._has_value = False
        self._refreshing = False
        # Goes up whenever a read finds a different value (or is the first since `forget()`), so that what is built
        # from the value (a rendered page) can tell whether it is still current without comparing the whole value.
        self.version = 0
        _all.append(self)

    def _read(self, engine: Engine) -> T:
        with Session(engine) as session:
            value = self.load(session)
        if not self._has_value or value != self._value:
            self.version += 1
        self._value, self._engine, self._has_value, self._read_at = value, engine, True, time.monotonic()
        return value

    def _held(self, engine: Engine) -> bool:
        return self._has_value and self._engine is engine

    def current(self, engine: Engine) -> T:
        """This process's copy; read from the database only when there is none (`refresh()` keeps it fresh)."""
        return cast(T, self._value) if self._held(engine) else self._read(engine)

    async def refresh(self, engine: Engine) -> None:
        """Read the value again, in a worker thread, when the copy is older than `max_age`. While one request
        does so, the others go on with the copy they have."""
        if self._held(engine) and (self._refreshing or time.monotonic() - self._read_at <= self.max_age):
            return
        self._refreshing = True
        try:
            await anyio.to_thread.run_sync(self._read, engine)
        except Exception:  # noqa: BLE001 - the request may not need the value (/healthz answers 503 on its own)
            kept = "the last copy" if self._has_value else "none"
            log.warning("could not read %s; going on with %s", self.name, kept)
        finally:
            self._refreshing = False

    def forget(self) -> None:
        """Drop this process's copy, so the next request reads the committed value."""
        self._has_value = False
        self._value = None


async def refresh_all(engine: Engine) -> None:
    """Before each request (server/app.py): every copy that is older than its max_age is read again."""
    for copy in _all:
        await copy.refresh(engine)


class Remembered(Generic[T]):
    """What was worked out under a key, kept by this process; the least recently used go beyond `size` entries.
    The key must name everything the value depends on: the database, and a version number that every committed
    change to what the value is computed from raises (server/appointments/freshness.py,
    server/reports/freshness.py). Nothing is ever refreshed: a new version is a new key."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        _remembered.append(self)

    def get(self, key: Hashable, work_out: Callable[[], T]) -> T:
        """What is kept under `key`, or `work_out()` kept under it."""
        known = self.known(key)
        return known if known is not None else self.keep(key, work_out())

    def known(self, key: Hashable) -> T | None:
        """What is kept under `key`, or None."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return cast(T, self._values[key])
        return None

    def keep(self, key: Hashable, value: T) -> T:
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def forget(self) -> None:
        with self._lock:
            self._values.clear()


_remembered: list[Remembered[Any]] = []


def forget_all() -> None:
    """Every copy and everything remembered by this process (tests, between databases)."""
    for copy in _all:
        copy.forget()
    for remembered in _remembered:
        remembered.forget()
