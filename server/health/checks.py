"""The readiness checks: a list of small functions, each answering one question about whether the service can do its
work. `/readyz`, `/metrics` (`bintang_check_ok`), the supervisor's "Kesehatan layanan" page and its banner all run
this one list, so a check added to `CHECKS` (the backups' ages, for one:
`Check("backup", last_good_backup, _l("Cadangan data"), explain_backup)`) shows everywhere.

A check must be cheap (the banner runs them every few seconds per process) and its detail must hold nothing about
anyone: /readyz answers without signing in."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from babel.dates import format_timedelta
from babel.numbers import format_decimal
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server import clock, i18n, migrate
from server.backups import service as backups
from server.backups.models import RunKind
from server.health import heartbeat
from server.i18n import gettext as _
from server.i18n import lazy_gettext as _l
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
    # What the supervisor's page and banner call it, and a sentence in plain words of what its result means (in
    # the request's language); without one the page shows `detail`.
    label: Any = ""
    explain: Callable[[Result, Settings], str] | None = None


def duration(seconds: float) -> str:
    """"45 detik", "5 menit", "2 jam" in the request's language."""
    return format_timedelta(timedelta(seconds=seconds), locale=i18n.current_language())


def megabytes(value: float) -> str:
    """Free space as a person reads it: "850 MB", "12,3 GB"."""
    language = i18n.current_language()
    if value < 1024:
        return f"{format_decimal(value, format='#,##0', locale=language)} MB"
    return f"{format_decimal(value / 1024, format='#,##0.0', locale=language)} GB"


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


def _explain_database(result: Result, _settings: Settings) -> str:
    if result.ok:
        return _("Terhubung, dan strukturnya sesuai dengan versi aplikasi ini.")
    if result.detail == "migrations not at head":
        return _("Struktur basis data belum sesuai dengan versi aplikasi ini: jalankan bintang migrate.")
    return _("Basis data tidak bisa dihubungi. Aplikasi tidak bisa menyimpan atau menampilkan apa pun.")


def dispatcher(engine: Engine, settings: Settings, now: datetime) -> Result:
    """Some dispatcher has written its heartbeat lately: notifications (an emergency's alert to the counselors on
    duty among them) are being sent."""
    seen = heartbeat.last_seen(engine)
    if seen.any is None:
        return Result("dispatcher", False, "no heartbeat")
    if seen.running is None:
        age = max(0.0, (now - seen.any).total_seconds())
        return Result("dispatcher", False, f"stopped {age:.0f} s ago", age)
    age = max(0.0, (now - seen.running).total_seconds())
    return Result("dispatcher", age <= settings.heartbeat_max_age_seconds, f"last heartbeat {age:.0f} s ago", age)


def _explain_dispatcher(result: Result, settings: Settings) -> str:
    if result.value is None:
        return _("Belum pernah berjalan. Pemberitahuan, juga peringatan darurat untuk konselor, tidak terkirim "
                 "sampai bintang worker berjalan.")
    if result.ok:
        return _("Berjalan: terakhir aktif %(ago)s yang lalu.", ago=duration(result.value))
    if result.detail.startswith("stopped"):
        return _("Dihentikan %(ago)s yang lalu. Pemberitahuan, juga peringatan darurat untuk konselor, tidak "
                 "terkirim sampai bintang worker berjalan lagi.", ago=duration(result.value))
    return _("Berhenti: terakhir aktif %(ago)s yang lalu (batasnya %(limit)s). Pemberitahuan, juga peringatan "
             "darurat untuk konselor, tidak terkirim sampai bintang worker berjalan lagi.",
             ago=duration(result.value), limit=duration(settings.heartbeat_max_age_seconds))


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


def _explain_disk(result: Result, settings: Settings) -> str:
    if result.value is None:
        return _("Folder data tidak bisa dibaca.")
    if result.ok:
        return _("%(free)s kosong.", free=megabytes(result.value))
    return _("Tinggal %(free)s kosong (batasnya %(limit)s). Kosongkan ruang sebelum basis data berhenti menyimpan.",
             free=megabytes(result.value), limit=megabytes(settings.min_free_disk_mb))


def _backup_check(kind: RunKind) -> Callable[[Engine, Settings, datetime], Result]:
    """The age of the last good run of `kind` (a backup, a verified restore, an off-host copy): red when there never
    was one, when it is older than 26 hours (8 days for a verified restore), or when the last run failed. Checked
    once backups are set up (`BACKUP_RECIPIENTS`; the off-host copy once `BACKUP_REMOTE` is set), and in
    production always: there, none set up is red."""

    def run(engine: Engine, settings: Settings, now: datetime) -> Result:
        name = f"backup_{kind.value}"
        if not settings.backup_recipients or (kind == RunKind.OFF_HOST and not settings.backup_remote):
            return Result(name, not settings.is_production, "not set up")
        with Session(engine) as session:
            found = backups.status(session, now, off_host=kind == RunKind.OFF_HOST)[kind]
        ended = found.last_good.ended_at if found.last_good else None
        age = (now - ended).total_seconds() if ended else None
        return Result(name, not found.red, found.why or "recent", age)

    return run


def _explain_backup(kind: RunKind) -> Callable[[Result, Settings], str]:
    what = {RunKind.BACKUP: _l("Cadangan"), RunKind.VERIFY: _l("Uji pemulihan"),
            RunKind.OFF_HOST: _l("Salinan di luar server")}[kind]

    def explain(result: Result, _settings: Settings) -> str:
        if result.detail == "not set up":
            if kind == RunKind.OFF_HOST and result.ok:
                return _("Belum diatur (BACKUP_REMOTE).")
            if kind == RunKind.OFF_HOST:
                return _("Belum diatur (BACKUP_REMOTE): satu kejadian di server ini bisa menghapus semua cadangan.")
            return _("Cadangan belum diatur (BACKUP_RECIPIENTS): tidak ada cadangan data sama sekali.")
        last = _("terakhir berhasil %(ago)s yang lalu", ago=duration(result.value)) if result.value is not None \
            else _("belum pernah berhasil")
        if result.detail == "failed":
            return _("%(what)s gagal pada percobaan terakhir (%(last)s). Lihat log layanan cadangan.",
                     what=what, last=last)
        if result.detail == "stale":
            return _("%(what)s terlalu lama: %(last)s.", what=what, last=last)
        if result.detail == "never":
            return _("%(what)s belum pernah berhasil.", what=what)
        return _("%(what)s %(last)s.", what=what, last=last)

    return explain


CHECKS: list[Check] = [
    Check("database", database, _l("Basis data"), _explain_database),
    Check("dispatcher", dispatcher, _l("Pengirim pemberitahuan"), _explain_dispatcher),
    Check("disk", disk, _l("Ruang disk"), _explain_disk),
    Check("backup_backup", _backup_check(RunKind.BACKUP), _l("Cadangan data"), _explain_backup(RunKind.BACKUP)),
    Check("backup_verify", _backup_check(RunKind.VERIFY), _l("Uji pemulihan cadangan"),
          _explain_backup(RunKind.VERIFY)),
    Check("backup_offhost", _backup_check(RunKind.OFF_HOST), _l("Salinan cadangan di luar server"),
          _explain_backup(RunKind.OFF_HOST)),
]


def check_named(name: str) -> Check | None:
    return next((check for check in CHECKS if check.name == name), None)


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
