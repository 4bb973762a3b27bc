"""Backups: take one, send it off the host, prune, restore, verify; every run recorded; their status.

A backup never fails silently: each run is a `backup_run` row written when it starts and when it ends (ok or
failed, with the reason), the command exits non-zero on failure, and `status()` turns red when the last good run is
too old or the last run failed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col

from server import audit, clock, i18n
from server.backups import remote, retention, snapshot
from server.backups.archive import (
    ArchiveError,
    open_encrypted,
    parse_recipients,
    read_identities,
    tar_stream,
    write_encrypted,
)
from server.backups.models import BackupRun, RunKind
from server.db import existing, make_engine, private_dir, private_file
from server.settings import Settings

FORMAT_VERSION = 1
ARCHIVE_NAME = re.compile(r"^bintang-(\d{8}T\d{6}Z)(?:-\d+)?\.age$")
PARTIAL_SUFFIX = ".partial"
VAPID_FILE = "vapid-private-key.txt"  # where development keeps the generated key (server/notifications/push.py)
VAPID_MEMBER = "secrets/vapid-private-key.txt"
DB_MEMBER = "database/"
# Tables a fresh install fills by itself (migrations and `bintang migrate`): their rows are not "data" that a
# restore would overwrite.
INSTALL_TABLES = frozenset({"alembic_version", "district", "holiday", "service_setting", "report_month_version",
                            "schedule_version"})
# How old the last good run of each kind may be before it is red.
LIMITS = {RunKind.BACKUP: timedelta(hours=26), RunKind.VERIFY: timedelta(days=8), RunKind.OFF_HOST: timedelta(hours=26)}


BackupError = ArchiveError


def app_version() -> str:
    try:
        return metadata.version("bintang-ceria")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- recording runs -------------------------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == 28:
        return f"disk full: no space left for the archive ({exc.filename or 'BACKUP_DIR'})"
    if isinstance(exc, ArchiveError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc.strerror or exc)
    return f"{type(exc).__name__}: {exc}"


def _can_record(engine: Engine) -> bool:
    """False on a database from before backup_run (migration 0012): the backup `bintang upgrade` takes before
    migrating such a database is taken all the same, unrecorded (the command prints its outcome)."""
    return inspect(engine).has_table(BackupRun.__tablename__)


@contextmanager
def recorded(engine: Engine, kind: RunKind, **fields: Any) -> Iterator[BackupRun]:
    """A run written before it starts and after it ends, each in its own transaction. A failure is recorded
    with its reason and raised again as an ArchiveError the command prints."""
    if not _can_record(engine):
        run = BackupRun(kind=kind.value, started_at=clock.now(), **fields)
        try:
            yield run
        except Exception as exc:
            raise ArchiveError(_describe(exc)) from exc
        return
    with Session(engine, expire_on_commit=False) as session:
        run = BackupRun(kind=kind.value, started_at=clock.now(), **fields)
        session.add(run)
        session.commit()
    try:
        yield run
    except BaseException as exc:
        reason = _describe(exc)
        _finish(engine, run, ok=False, reason=reason)
        if isinstance(exc, Exception):
            raise ArchiveError(reason) from exc
        raise
    _finish(engine, run, ok=True, reason=run.reason)


def _finish(engine: Engine, run: BackupRun, *, ok: bool, reason: str) -> None:
    with Session(engine, expire_on_commit=False) as session:
        row = existing(session, BackupRun, run.id)
        row.ended_at, row.ok, row.reason = clock.now(), ok, reason[:2000]
        row.archive, row.size_bytes = run.archive, run.size_bytes
        session.commit()
    run.ended_at, run.ok, run.reason = row.ended_at, ok, row.reason


def record_failure(engine: Engine, kind: RunKind, reason: str) -> None:
    """A run that could not even start (no recipients, an unreadable identity): recorded all the same."""
    if not _can_record(engine):
        return
    with Session(engine) as session:
        now = clock.now()
        session.add(BackupRun(kind=kind.value, started_at=now, ended_at=now, ok=False, reason=reason[:2000]))
        session.commit()


# --- backup ----------------------------------------------------------------------------------------------------


def archive_name(now: datetime, directory: Path) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path, n = directory / f"bintang-{stamp}.age", 1
    while path.exists():
        n += 1
        path = directory / f"bintang-{stamp}-{n}.age"
    return path


def vapid_key(settings: Settings) -> str | None:
    """The key every push subscription is bound to: the setting in production, else development's file."""
    if settings.vapid_private_key:
        return settings.vapid_private_key.strip()
    path = settings.data_dir / VAPID_FILE
    return path.read_text().strip() if path.exists() else None


@contextmanager
def _snapshot(engine: Engine, settings: Settings, sentinel: str) -> Iterator[snapshot.Snapshot]:
    if engine.dialect.name == "sqlite":
        with snapshot.sqlite_snapshot(engine, sentinel) as snap:
            yield snap
    else:
        with snapshot.pg_snapshot(engine, settings.db_url, sentinel) as snap:
            yield snap


def manifest_of(engine: Engine, snap: snapshot.Snapshot, sentinel: str, *, has_vapid: bool) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "app_version": app_version(),
        "created_at": clock.now().isoformat(),
        "database": engine.dialect.name,
        "database_format": snap.format,
        "migration_head": snap.contents.migration_head,
        "sentinel": sentinel,
        "tables": snap.contents.tables,
        "vapid_key": has_vapid,
    }


@dataclass
class BackupResult:
    path: Path
    size: int
    manifest: dict[str, Any]


def backup(engine: Engine, settings: Settings, directory: Path | None = None) -> BackupResult:
    """One archive of the database and the VAPID key, encrypted to BACKUP_RECIPIENTS, into `directory`
    (BACKUP_DIR by default): written under a temporary name and renamed once whole and on disk."""
    try:
        recipients = parse_recipients(settings.backup_recipients)
    except ArchiveError as exc:
        record_failure(engine, RunKind.BACKUP, str(exc))
        raise
    directory = directory or settings.backup_dir
    sentinel = secrets.token_hex(16)
    with recorded(engine, RunKind.BACKUP, sentinel=sentinel) as run:
        private_dir(directory)
        final = archive_name(clock.now(), directory)
        partial = final.with_name("." + final.name + PARTIAL_SUFFIX)
        run.archive = final.name
        key = vapid_key(settings)
        with _snapshot(engine, settings, sentinel) as snap:
            manifest = manifest_of(engine, snap, sentinel, has_vapid=key is not None)

            def members() -> Iterator[tuple[str, bytes]]:
                yield "manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode()
                if key is not None:
                    yield VAPID_MEMBER, (key + "\n").encode()
                for n, chunk in enumerate(snap.chunks):
                    yield f"{DB_MEMBER}{n:06d}", chunk

            run.size_bytes = write_encrypted(partial, tar_stream(members()), recipients)
        os.replace(partial, final)
        _sync_dir(directory)
    return BackupResult(final, run.size_bytes, manifest)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def send_off_host(engine: Engine, settings: Settings, archive: Path) -> None:
    with recorded(engine, RunKind.OFF_HOST, archive=archive.name) as run:
        remote.send(settings, archive)
        run.size_bytes = archive.stat().st_size


def archives_in(directory: Path) -> list[tuple[datetime, Path]]:
    found = []
    for path in directory.glob("bintang-*.age") if directory.is_dir() else []:
        match = ARCHIVE_NAME.match(path.name)
        if match:
            found.append((datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC), path))
    return sorted(found)


def newest_archive(directory: Path) -> Path:
    found = archives_in(directory)
    if not found:
        raise ArchiveError(f"no archive (bintang-*.age) in {directory}")
    return found[-1][1]


def prune(engine: Engine, settings: Settings, directory: Path | None = None) -> list[Path]:
    """Deletes the archives the retention rule does not keep, and partial files left by a run that died more
    than a day ago. Returns what was deleted."""
    directory = directory or settings.backup_dir
    with recorded(engine, RunKind.PRUNE) as run:
        found = archives_in(directory)
        keep = retention.to_keep([moment for moment, _ in found], daily=settings.backup_keep_daily,
                                 weekly=settings.backup_keep_weekly, monthly=settings.backup_keep_monthly)
        deleted = [path for moment, path in found if moment not in keep]
        # Two archives of the same second: only the first name is the one kept.
        seen: set[datetime] = set()
        for moment, path in found:
            if moment in keep and moment in seen:
                deleted.append(path)
            seen.add(moment)
        stale = clock.now() - timedelta(days=1)
        deleted.extend(path for path in (directory.glob(".bintang-*" + PARTIAL_SUFFIX) if directory.is_dir() else [])
                       if datetime.fromtimestamp(path.stat().st_mtime, UTC) < stale)
        for path in deleted:
            path.unlink(missing_ok=True)
        run.reason = f"{len(deleted)} deleted, {len(found) - len([p for p in deleted if p.suffix == '.age'])} kept"
    return deleted


# --- restore and verify ---------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    vapid_note: str


def _read_archive(path: Path, identity_file: Path, sink_for) -> tuple[dict[str, Any], str | None]:
    """Decrypts `path`, checks its manifest, hands the database chunks to the sink `sink_for(manifest)` gives,
    and returns the manifest and the VAPID key."""
    identities = read_identities(identity_file)
    with open_encrypted(path, identities) as tar:
        members = iter(tar)
        first = next(members, None)
        if first is None or first.name != "manifest.json":
            raise ArchiveError(f"{path.name} does not start with its manifest: not a Bintang Ceria archive")
        try:
            manifest = json.loads(_member_bytes(tar, first))
        except ValueError:
            raise ArchiveError(f"{path.name}: its manifest is not readable") from None
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ArchiveError(f"{path.name} is of format {manifest.get('format_version')}, this version reads "
                               f"{FORMAT_VERSION}")
        key = None
        sink = None
        try:
            for member in members:
                data = _member_bytes(tar, member)
                if member.name == VAPID_MEMBER:
                    key = data.decode().strip()
                elif member.name.startswith(DB_MEMBER):
                    if sink is None:
                        sink = sink_for(manifest)
                    sink.write(data)
            if sink is None:
                sink = sink_for(manifest)
            sink.close()
        except BaseException:
            if sink is not None and hasattr(sink, "abort"):
                sink.abort()
            raise
    return manifest, key


def read_manifest(path: Path, identity_file: Path) -> dict[str, Any]:
    """Only the manifest (the first member): what an archive holds, without restoring it."""
    with open_encrypted(path, read_identities(identity_file)) as tar:
        first = next(iter(tar), None)
        if first is None or first.name != "manifest.json":
            raise ArchiveError(f"{path.name} does not start with its manifest: not a Bintang Ceria archive")
        return json.loads(_member_bytes(tar, first))



def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    """A member's content: an archive holds files only, so anything else means it is not one of ours."""
    stream = tar.extractfile(member)
    if stream is None:
        raise ArchiveError(f"{member.name} in the archive is not a file")
    return stream.read()


def _same_kind(manifest: dict[str, Any], engine: Engine) -> None:
    if manifest["database"] != engine.dialect.name:
        raise ArchiveError(f"the archive holds a {manifest['database']} database; DATABASE_URL is "
                           f"{engine.dialect.name} (restore it into the same kind)")


def holds_data(engine: Engine) -> list[str]:
    """Tables with rows that a fresh install does not put there itself."""
    if engine.dialect.name == "sqlite" and not snapshot.sqlite_path(engine).exists():
        return []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = [r[0] for r in conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))]
        else:
            names = list(conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars())
        # The names come from the database's own catalogue, quoted (hence the noqa: S608 below).
        return sorted(name for name in names if name not in INSTALL_TABLES
                      and conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{name}")')).scalar())  # noqa: S608


def restore(engine: Engine, settings: Settings, archive: Path, identity_file: Path, *, force: bool = False) -> RestoreResult:
    """Restores `archive` into the configured database, refusing one that holds data unless `force`, then checks
    the result against the manifest and puts the VAPID key back."""
    occupied = holds_data(engine)
    if occupied and not force:
        raise ArchiveError(f"the database already holds data ({', '.join(occupied[:5])}"
                           f"{', ...' if len(occupied) > 5 else ''}): restore refuses to overwrite it "
                           f"without --force")
    if engine.dialect.name == "sqlite":
        manifest, key = _restore_sqlite(engine, archive, identity_file)
    else:
        manifest, key = _restore_pg(engine, settings, archive, identity_file, clean=True)
    engine.dispose()
    note = _restore_vapid(settings, key)
    with Session(engine) as session:
        now = clock.now()
        session.add(BackupRun(kind=RunKind.RESTORE.value, started_at=now, ended_at=now, ok=True,
                              archive=archive.name, sentinel=manifest["sentinel"],
                              reason=f"restored from {archive.name}, made {manifest['created_at']}"))
        # Every case changed back to the archive's moment: the audit log says when and from what.
        audit.record(session, "database.restored", actor_label="bintang restore", object_type="backup",
                     object_id=archive.name[:64], made_at=manifest["created_at"], forced=force)
        session.commit()
    return RestoreResult(manifest, note)


def _restore_sqlite(engine: Engine, archive: Path, identity_file: Path) -> tuple[dict[str, Any], str | None]:
    target = snapshot.sqlite_path(engine)
    private_dir(target.parent)
    engine.dispose()
    fd, name = tempfile.mkstemp(prefix=".restoring-", suffix=".sqlite3", dir=target.parent)
    partial = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:

            def sink_for(manifest: dict[str, Any]) -> snapshot.SqliteImage:
                _same_kind(manifest, engine)
                return snapshot.SqliteImage(out.write)

            manifest, key = _read_archive(archive, identity_file, sink_for)
            out.flush()
            os.fsync(out.fileno())
        check = sqlite3.connect(partial)
        try:
            _check(snapshot.sqlite_contents(check, manifest["sentinel"]), manifest)
        finally:
            check.close()
        for leftover in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)
        os.replace(partial, target)
        private_file(target)
    finally:
        partial.unlink(missing_ok=True)
    return manifest, key


def _restore_pg(engine: Engine, settings: Settings, archive: Path, identity_file: Path, *, clean: bool,
                url: str | None = None) -> tuple[dict[str, Any], str | None]:
    url = url or settings.db_url

    def sink_for(manifest: dict[str, Any]) -> snapshot.PgRestore:
        _same_kind(manifest, engine)
        return snapshot.PgRestore(url, clean=clean)

    manifest, key = _read_archive(archive, identity_file, sink_for)
    with engine.connect() as conn, conn.begin():
        _check(snapshot.pg_contents(conn, manifest["sentinel"]), manifest)
    return manifest, key


def _check(contents: snapshot.Contents, manifest: dict[str, Any]) -> None:
    problems = contents.differences(manifest)
    if problems:
        raise ArchiveError("the restored database differs from the archive's manifest: " + "; ".join(problems[:8]))


def _restore_vapid(settings: Settings, key: str | None) -> str:
    if key is None:
        return "the archive holds no VAPID key (none existed when it was made); push subscriptions must be renewed"
    if settings.vapid_private_key:
        if settings.vapid_private_key.strip() == key:
            return "VAPID key: VAPID_PRIVATE_KEY already holds the archive's key; push subscriptions keep working"
        private_dir(settings.data_dir)
        path = settings.data_dir / "vapid-private-key.restored"
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        return (f"VAPID key: VAPID_PRIVATE_KEY differs from the archive's. The archive's key is in {path} (0600): "
                f"put it as VAPID_PRIVATE_KEY into the settings file, restart the service, then delete that file; "
                f"until then push subscriptions made before the backup get nothing")
    private_dir(settings.data_dir)
    path = settings.data_dir / VAPID_FILE
    partial = path.with_name(path.name + ".restoring")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    os.replace(partial, path)
    return f"VAPID key: written to {path} (0600), where the app reads it without VAPID_PRIVATE_KEY"


@dataclass
class VerifyResult:
    archive: Path
    manifest: dict[str, Any]


def verify(engine: Engine, settings: Settings, identity_file: Path, archive: Path | None = None) -> VerifyResult:
    """Restores the archive (the newest in BACKUP_DIR by default) into a scratch database, compares it with
    the manifest, drops the scratch database, and records the result in the live database."""
    try:
        archive = archive or newest_archive(settings.backup_dir)
    except ArchiveError as exc:
        record_failure(engine, RunKind.VERIFY, str(exc))
        raise
    with recorded(engine, RunKind.VERIFY, archive=archive.name) as run:
        run.size_bytes = archive.stat().st_size
        if engine.dialect.name == "sqlite":
            manifest = _verify_sqlite(engine, archive, identity_file)
        else:
            manifest = _verify_pg(settings, archive, identity_file)
        run.reason = (f"{sum(t['rows'] for t in manifest['tables'].values())} rows in {len(manifest['tables'])} "
                      f"tables as the manifest says; made {manifest['created_at']}")
    return VerifyResult(archive, manifest)


def _verify_sqlite(engine: Engine, archive: Path, identity_file: Path) -> dict[str, Any]:
    """Into memory: the scratch database never touches the disk."""
    image = bytearray()

    def sink_for(manifest: dict[str, Any]) -> snapshot.SqliteImage:
        _same_kind(manifest, engine)
        return snapshot.SqliteImage(image.extend)

    manifest, _key = _read_archive(archive, identity_file, sink_for)
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.deserialize(bytes(image))
        del image[:]
        _check(snapshot.sqlite_contents(scratch, manifest["sentinel"]), manifest)
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"the database in the archive does not open: {exc}") from None
    finally:
        scratch.close()
    return manifest


def _verify_pg(settings: Settings, archive: Path, identity_file: Path) -> dict[str, Any]:
    base = make_url(settings.backup_verify_database_url or settings.db_url)
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    name = f"bintang_verify_{secrets.token_hex(6)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - told as a reason the operator can act on, whatever the driver raised
        admin.dispose()
        raise ArchiveError(f"cannot create a scratch database to verify into ({type(exc).__name__}); "
                           f"set BACKUP_VERIFY_DATABASE_URL to a role that may CREATE DATABASE") from None
    scratch_url = base.set(database=name).render_as_string(hide_password=False)
    scratch = make_engine(scratch_url)
    try:
        manifest, _key = _restore_pg(scratch, settings, archive, identity_file, clean=False, url=scratch_url)
    finally:
        scratch.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return manifest


# --- status -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindStatus:
    kind: RunKind
    last_good: BackupRun | None
    last_failure: BackupRun | None
    red: bool
    why: str  # "" when green; "never", "stale" or "failed"

    @property
    def message(self) -> str:
        """In the current language, for the health page and readiness."""
        what = {RunKind.BACKUP: i18n.gettext("Cadangan terakhir"),
                RunKind.VERIFY: i18n.gettext("Uji pemulihan terakhir"),
                RunKind.OFF_HOST: i18n.gettext("Salinan di luar server terakhir")}[self.kind]
        if self.why == "never":
            return i18n.gettext("%(what)s: belum pernah berhasil", what=what)
        when = i18n.format_local(self.last_good.ended_at) if self.last_good else ""
        if self.why == "failed":
            reason = self.last_failure.reason if self.last_failure else ""
            return i18n.gettext("%(what)s gagal: %(reason)s", what=what, reason=reason)
        if self.why == "stale":
            return i18n.gettext("%(what)s terlalu lama: %(when)s", what=what, when=when)
        return i18n.gettext("%(what)s: %(when)s", what=what, when=when)


def status(session: Session, now: datetime, *, off_host: bool = True) -> dict[RunKind, KindStatus]:
    """For backup, verify and (when BACKUP_REMOTE is set: `off_host`) the off-host copy: the last good run, the
    last failure, and whether it is red: never succeeded, the last good run older than 26 hours (8 days for
    verify), or the last run that ended failed."""
    kinds = [RunKind.BACKUP, RunKind.VERIFY] + ([RunKind.OFF_HOST] if off_host else [])
    result = {}
    for kind in kinds:
        def last(*conditions, kind: RunKind = kind):
            return session.execute(select(BackupRun).where(col(BackupRun.kind) == kind.value, *conditions)
                                   .order_by(col(BackupRun.ended_at).desc(), col(BackupRun.id).desc())
                                   .limit(1)).scalar_one_or_none()

        good = last(col(BackupRun.ok).is_(True))
        failure = last(col(BackupRun.ok).is_(False))
        latest = last(col(BackupRun.ended_at).is_not(None))
        if latest is not None and latest.ok is False:
            why = "failed"
        elif good is None:
            why = "never"
        elif now - good.ended_at > LIMITS[kind]:
            why = "stale"
        else:
            why = ""
        result[kind] = KindStatus(kind, good, failure, bool(why), why)
    return result
