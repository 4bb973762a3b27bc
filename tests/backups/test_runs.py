"""Every run is recorded and a failed one exits non-zero with its reason: missing recipients, a full disk, an
unreachable off-host target, a damaged archive. Restore refuses a database that holds data. `status()` is red
when the last good run is too old or the last run failed."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlmodel import Session

from server import migrate
from server.backups import retention
from server.backups import service as backups
from server.backups.models import BackupRun, RunKind
from server.reports.models import Report
from tests.servers import free_port
from tests.support.backups import fill, runs
from tests.support.reports import make_report


def archive_of(ran) -> Path:
    assert ran.code == 0, ran.err
    return Path(ran.out.strip().splitlines()[-1])


def test_a_good_backup_is_recorded_with_its_archive_size_and_sentinel(bintang, settings, app, engine):
    archive = archive_of(bintang(settings, "backup"))
    [run] = runs(engine, "backup")
    assert (run.ok, run.archive, run.size_bytes) == (True, archive.name, archive.stat().st_size)
    assert len(run.sentinel) == 32
    assert run.ended_at is not None
    assert [r.kind for r in runs(engine)] == ["backup", "prune"]


def test_a_backup_without_recipients_writes_nothing_is_recorded_and_exits_non_zero(bintang, settings, app, engine):
    ran = bintang(replace(settings, backup_recipients=()), "backup")
    assert ran.code == 1
    assert "backup FAILED: BACKUP_RECIPIENTS is empty" in ran.err
    [run] = runs(engine, "backup")
    assert run.ok is False
    assert "BACKUP_RECIPIENTS is empty" in run.reason
    assert not settings.backup_dir.exists() or not any(settings.backup_dir.iterdir())
    with Session(engine) as session:
        state = backups.status(session, run.ended_at)[RunKind.BACKUP]
    assert state.red
    assert state.why == "failed"
    assert "Cadangan terakhir gagal: BACKUP_RECIPIENTS is empty" in state.message


def test_a_recipient_that_is_not_one_is_refused_by_name(bintang, settings, app, engine):
    ran = bintang(replace(settings, backup_recipients=("age1notakey",)), "backup")
    assert ran.code == 1
    assert "which is not an age recipient" in ran.err


@pytest.fixture
def full_disk(tmp_path: Path):
    """A folder on a 16 KiB tmpfs: the archive does not fit."""
    folder = tmp_path / "full"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_fails_the_backup_loudly_and_leaves_no_partial_file(bintang, settings, app, db, engine,
                                                                        full_disk):
    fill(db, settings, 30)
    ran = bintang(settings, "backup", "--to", str(full_disk))
    assert ran.code == 1
    assert "backup FAILED: disk full: no space left for the archive" in ran.err
    assert list(full_disk.iterdir()) == []
    [run] = runs(engine, "backup")
    assert run.ok is False
    assert run.reason.startswith("disk full")


def test_an_unreachable_off_host_target_is_a_failure_but_the_local_archive_stays(bintang, settings, app, engine):
    remote = replace(settings, backup_remote=f"rest:http://127.0.0.1:{free_port()}/bintang",
                     backup_remote_password="repository-secret")
    ran = bintang(remote, "backup")
    assert ran.code == 1
    assert "off-host copy FAILED: the off-host copy failed: the off-host target is unreachable" in ran.err
    archive = Path(ran.out.strip().splitlines()[-1])
    assert archive.exists()
    assert "repository-secret" not in ran.err + ran.out
    [backup], [off_host] = runs(engine, "backup"), runs(engine, "offhost")
    assert backup.ok is True
    assert off_host.ok is False
    assert "unreachable" in off_host.reason
    with Session(engine) as session:
        state = backups.status(session, off_host.ended_at)
    assert not state[RunKind.BACKUP].red
    assert state[RunKind.OFF_HOST].red
    assert state[RunKind.OFF_HOST].why == "failed"


@pytest.mark.both_databases
def test_verify_records_its_result_and_a_damaged_archive_fails(bintang, settings, app, db, engine, key):
    fill(db, settings, 10)
    archive = archive_of(bintang(settings, "backup"))
    ran = bintang(settings, "backup", "verify", "--identity", str(key.identity))
    assert ran.code == 0, ran.err
    assert f"verified {archive}: restored into a scratch database" in ran.out
    [good] = runs(engine, "verify")
    assert good.ok is True
    assert good.archive == archive.name
    assert "as the manifest says" in good.reason

    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged = archive.with_name("bintang-20261201T011800Z.age")
    damaged.write_bytes(bytes(data))
    ran = bintang(settings, "backup", "verify", "--identity", str(key.identity))  # the newest: the damaged one
    assert ran.code == 1
    assert "verify FAILED: bintang-20261201T011800Z.age cannot be decrypted" in ran.err
    bad = runs(engine, "verify")[-1]
    assert bad.ok is False
    assert "cannot be decrypted" in bad.reason
    with Session(engine) as session:
        assert backups.status(session, bad.ended_at)[RunKind.VERIFY].why == "failed"


@pytest.mark.both_databases
def test_restore_refuses_a_database_that_holds_data_unless_forced(bintang, settings, app, db, engine, key):
    fill(db, settings, 5)
    archive = archive_of(bintang(settings, "backup"))
    later = make_report(app, db, child_words="Ditulis setelah cadangan dibuat.")
    refused = bintang(settings, "restore", str(archive), "--identity", str(key.identity))
    assert refused.code == 1
    assert "restore FAILED: the database already holds data" in refused.err
    assert "refuses to overwrite it without --force" in refused.err
    engine.dispose()
    with Session(engine) as session:
        assert session.get(Report, later.report.id) is not None

    forced = bintang(settings, "restore", str(archive), "--identity", str(key.identity), "--force")
    assert forced.code == 0, forced.err
    engine.dispose()
    with Session(engine) as session:
        assert session.get(Report, later.report.id) is None
        assert session.execute(select(Report.id)).scalars().all().__len__() == 5


@pytest.mark.only_database("postgresql")
def test_an_archive_of_one_database_kind_is_not_restored_into_the_other(bintang, settings, app, key, tmp_path):
    archive = archive_of(bintang(settings, "backup"))
    manifest = backups.read_manifest(archive, key.identity)
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert manifest["database"] == "postgresql"
    assert manifest["migration_head"] == head
    sqlite = replace(settings, database_url=f"sqlite:///{tmp_path / 'other' / 'bintang.sqlite3'}",
                     data_dir=tmp_path / "other")
    ran = bintang(sqlite, "restore", str(archive), "--identity", str(key.identity))
    assert ran.code == 1
    assert "the archive holds a postgresql database; DATABASE_URL is sqlite" in ran.err


def test_status_turns_red_when_the_last_good_run_is_too_old(app, engine):
    at = datetime(2026, 12, 1, 1, 17, tzinfo=UTC)
    with Session(engine) as session:
        for kind in (RunKind.BACKUP, RunKind.VERIFY, RunKind.OFF_HOST):
            session.add(BackupRun(kind=kind.value, started_at=at, ended_at=at, ok=True))
        session.commit()
        fresh = backups.status(session, at + timedelta(hours=25))
        assert [s.red for s in fresh.values()] == [False, False, False]
        later = backups.status(session, at + timedelta(hours=27))
        assert (later[RunKind.BACKUP].why, later[RunKind.VERIFY].why, later[RunKind.OFF_HOST].why) == (
            "stale", "", "stale")
        assert backups.status(session, at + timedelta(days=8, hours=1))[RunKind.VERIFY].why == "stale"
        assert list(backups.status(session, at, off_host=False)) == [RunKind.BACKUP, RunKind.VERIFY]


def test_status_is_red_before_any_backup(app, engine):
    with Session(engine) as session:
        state = backups.status(session, datetime(2026, 12, 1, tzinfo=UTC))
    assert all(s.red and s.why == "never" for s in state.values())
    assert state[RunKind.BACKUP].message == "Cadangan terakhir: belum pernah berhasil"


def test_retention_keeps_seven_daily_four_weekly_and_twelve_monthly():
    start = datetime(2025, 1, 1, 18, 30, tzinfo=UTC)  # 02.30 WITA the next day
    moments = [start + timedelta(days=n) for n in range(700)]
    kept = sorted(retention.to_keep(moments, daily=7, weekly=4, monthly=12), reverse=True)
    newest = moments[-1]
    wita = [m.astimezone(retention.LOCAL) for m in kept]
    assert kept[:7] == [newest - timedelta(days=n) for n in range(7)]
    assert len({m.isocalendar()[:2] for m in wita}) >= 4
    assert len({(m.year, m.month) for m in wita}) == 12
    assert kept[-1] > newest - timedelta(days=366)
    # Each week and month is held by its newest archive: the Sunday, the last day of the month.
    assert all(m.weekday() == 6 or m.day >= 28 for m in wita[7:])


def test_prune_deletes_what_retention_does_not_keep(bintang, settings, app, engine, pinned_clock):
    settings.backup_dir.mkdir(parents=True)
    for n in range(40):
        moment = datetime(2026, 10, 20, 18, 30, tzinfo=UTC) + timedelta(days=n)
        (settings.backup_dir / f"bintang-{moment:%Y%m%dT%H%M%SZ}.age").write_bytes(b"x")
    (settings.backup_dir / "notes.txt").write_text("not ours")
    archive_of(bintang(settings, "backup"))
    names = sorted(p.name for p in settings.backup_dir.iterdir())
    assert "notes.txt" in names
    kept = [n for n in names if n.endswith(".age")]
    # Days in WITA: today's archive (1 December) and 24-29 November; the newest of the weeks before (22 and
    # 15 November: weeks 47 and 46); and of October (31 October).
    assert kept == ["bintang-20261030T183000Z.age", "bintang-20261114T183000Z.age", "bintang-20261121T183000Z.age",
                    *[f"bintang-202611{d}T183000Z.age" for d in range(23, 29)], "bintang-20261201T011700Z.age"]
    prune = runs(engine, "prune")[-1]
    assert prune.ok
    assert prune.reason == f"{41 - len(kept)} deleted, {len(kept)} kept"


def test_a_database_that_cannot_be_reached_fails_the_backup_in_plain_words(bintang, settings):
    """It cannot be recorded in the database it cannot reach: the exit status and the journal tell, and the
    health page turns red when the last good backup grows older than 26 hours."""
    ran = bintang(replace(settings, database_url=f"postgresql://bintang@127.0.0.1:{free_port()}/bintang"), "backup")
    assert ran.code == 1
    assert "backup FAILED: the database cannot be reached (connection failed:" in ran.err


def test_a_backup_to_another_folder_prunes_nothing(bintang, settings, app, engine, tmp_path):
    settings.backup_dir.mkdir(parents=True)
    old = [settings.backup_dir / f"bintang-2025{month:02d}01T183000Z.age" for month in range(1, 13)]
    for path in old:
        path.write_bytes(b"x")
    elsewhere = tmp_path / "before-upgrade"
    archive = archive_of(bintang(settings, "backup", "--to", str(elsewhere), "--no-remote"))
    assert archive.parent == elsewhere
    assert list(elsewhere.iterdir()) == [archive]
    assert sorted(settings.backup_dir.iterdir()) == old
    assert [r.kind for r in runs(engine)] == ["backup"]
