"""The readiness checks: a list of small functions, each answering one question about whether the service can do its
work. `/readyz`, the supervisor's "Kesehatan layanan" page and its banner all run this one list, so a check added
here (the backups' ages, for one) shows everywhere: `CHECKS.append(Check("backup", last_good_backup))`.

A check must be cheap (the banner runs them every few seconds per process) and its detail must hold nothing about
anyone: /readyz answers without signing in."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

from server import clock, migrate
from server.health import heartbeat
from server.settings import Settings

log = logging.getLogger("bintang.health")


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    # What the state is, in a few words of English for /readyz and the logs ("at head", "no heartbeat"); the page
    # says it in the person's language from `value`.
    detail: str
    # The number behind the state, when there is one (seconds since the heartbeat, free megabytes).
    value: float | None = None


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Engine, Settings, datetime], Result]


@cache
def migration_heads() -> frozenset[str]:
    """The newest migrations this code knows (read from the files once per process)."""
    return frozenset(ScriptDirectory.from_config(migrate.alembic_config()).get_heads())


def database(engine: Engine, _settings: Settings, _now: datetime) -> Result:
    """Reachable, and its schema is the one this code expects (a version that was deployed without `bintang
    migrate`, or a migration that failed halfway, is not ready)."""
    try:
        with engine.connect() as connection:
            versions = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception:  # noqa: BLE001 - unreachable or not migrated at all: either way not ready
        log.warning("readiness: the database cannot be read")
        return Result("database", False, "unreachable or not migrated")
    if versions != migration_heads():
        return Result("database", False, "migrations not at head")
    return Result("database", True, "reachable, migrations at head")


def dispatcher(engine: Engine, settings: Settings, now: datetime) -> Result:
    """Some dispatcher has written its heartbeat lately: notifications (an emergency's alert to the counselors on
    duty among them) are being sent."""
    age = heartbeat.age_seconds(engine, now)
    if age is None:
        return Result("dispatcher", False, "no heartbeat")
    ok = age <= settings.heartbeat_max_age_seconds
    return Result("dispatcher", ok, f"last heartbeat {age:.0f} s ago", age)


def disk(_engine: Engine, settings: Settings, _now: datetime) -> Result:
    """Free space where the data lives: a full disk stops SQLite, uploads of exports and backups."""
    # The folder may not be made yet (PostgreSQL with the VAPID key in the environment needs nothing in it): then
    # the disk it would be made on.
    where = settings.data_dir
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free_mb = shutil.disk_usage(where).free / 2**20
    except OSError:
        return Result("disk", False, "DATA_DIR cannot be read")
    return Result("disk", free_mb >= settings.min_free_disk_mb, f"{free_mb:.0f} MB free", free_mb)


CHECKS: list[Check] = [
    Check("database", database),
    Check("dispatcher", dispatcher),
    Check("disk", disk),
]


def run_all(engine: Engine, settings: Settings, now: datetime | None = None,
            checks: list[Check] | None = None) -> list[Result]:
    """Every check's result; a check that raises is red, and the others still run."""
    now = now or clock.now()
    results = []
    for check in CHECKS if checks is None else checks:
        try:
            results.append(check.run(engine, settings, now))
        except Exception as exc:  # noqa: BLE001 - a check that cannot tell is a check that is not green
            log.warning("readiness: the check %s failed: %s", check.name, type(exc).__qualname__)
            results.append(Result(check.name, False, "check failed"))
    return results


def all_ok(results: list[Result]) -> bool:
    return all(result.ok for result in results)
