"""`bintang upgrade`: a backup first, then the migrations (all or none), then the restart; a failed backup or
migration stops it with the database as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from server import cli, migrate
from server.backups.archive import write_identity
from server.db import make_engine

OLD = "0011_job_event_at"


class Done:
    def __init__(self, returncode: int) -> None:
        self.returncode = returncode  # the newest migration of the version before backups


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An SQLite install at an older migration, with a district in it, and a backup recipient."""
    data_dir = tmp_path / "var"
    recipient = write_identity(tmp_path / "backup-identity.txt")
    for name, value in {"DATA_DIR": str(data_dir), "DATABASE_URL": "", "BACKUP_RECIPIENTS": recipient,
                        "BACKUP_DIR": str(tmp_path / "backups")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BACKUP_REMOTE", raising=False)
    data_dir.mkdir(mode=0o700)
    engine = make_engine(f"sqlite:///{data_dir / 'bintang.sqlite3'}")
    migrate.upgrade(engine, target=OLD)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO district (name, active) VALUES ('Cempaka', 1)"))
    engine.dispose()
    return tmp_path


def revision_of(install: Path) -> str | None:
    engine = make_engine(f"sqlite:///{install / 'var' / 'bintang.sqlite3'}")
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def test_upgrade_backs_up_then_migrates_then_says_what_to_restart(install, monkeypatch, capsys):
    monkeypatch.setattr(cli, "under_systemd", lambda: False)
    cli.main(["upgrade"])
    out = capsys.readouterr().out
    archives = list((install / "backups").glob("bintang-*.age"))
    assert len(archives) == 1
    assert f"the database is at {OLD}; migrations to run: " in out
    assert f"backup before upgrading: {archives[0]}" in out
    assert out.index("backup before upgrading") < out.index("the database is at the newest migration")
    assert revision_of(install) == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert "restart the app processes yourself now" in out


def test_under_systemd_upgrade_restarts_the_web_and_worker_units(install, monkeypatch, capsys):
    ran: list[list[str]] = []
    monkeypatch.setattr(cli, "under_systemd", lambda: True)
    monkeypatch.setattr(cli, "installed_units", lambda: list(cli.SERVICE_UNITS))
    monkeypatch.setattr(cli.subprocess, "run", lambda command, **kwargs: ran.append(command) or Done(0))
    cli.main(["upgrade"])
    assert ran == [["systemctl", "restart", "bintang-web.service", "bintang-worker.service"]]
    assert "restarted bintang-web.service, bintang-worker.service" in capsys.readouterr().out


def test_a_refused_restart_says_the_database_is_upgraded_and_what_to_run(install, monkeypatch):
    monkeypatch.setattr(cli, "under_systemd", lambda: True)
    monkeypatch.setattr(cli, "installed_units", lambda: list(cli.SERVICE_UNITS))
    monkeypatch.setattr(cli.subprocess, "run", lambda command, **kwargs: Done(1))  # e.g. not root
    with pytest.raises(SystemExit) as stopped:
        cli.main(["upgrade"])
    assert str(stopped.value) == ("bintang: the database is upgraded, but restarting failed: run `systemctl "
                                  "restart bintang-web.service bintang-worker.service` as root")
    assert revision_of(install) == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def test_no_restart_leaves_it_to_the_installer(install, monkeypatch, capsys):
    monkeypatch.setattr(cli, "restart_services", lambda: pytest.fail("restarted"))
    cli.main(["upgrade", "--no-restart"])
    assert "not restarted (--no-restart)" in capsys.readouterr().out


def test_a_failed_backup_stops_the_upgrade_before_any_migration(install, monkeypatch):
    monkeypatch.setenv("BACKUP_RECIPIENTS", "")
    monkeypatch.setattr(cli, "restart_services", lambda: pytest.fail("restarted"))
    with pytest.raises(SystemExit) as stopped:
        cli.main(["upgrade"])
    assert "upgrade stopped before migrating, the backup FAILED" in str(stopped.value)
    assert revision_of(install) == OLD


def test_a_failed_migration_says_nothing_changed_and_restarts_nothing(install, monkeypatch):
    def fails(_engine, *args, **kwargs):
        raise migrate.MigrationFailed("RuntimeError: planted failure")

    monkeypatch.setattr(cli.migrate, "upgrade", fails)
    monkeypatch.setattr(cli, "restart_services", lambda: pytest.fail("restarted"))
    with pytest.raises(SystemExit) as stopped:
        cli.main(["upgrade"])
    message = str(stopped.value)
    assert f"upgrade FAILED, nothing changed: the database is still at {OLD}" in message
    assert "planted failure" in message
    assert "nothing was restarted" in message
    assert revision_of(install) == OLD


def test_an_empty_database_needs_no_backup(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("BACKUP_RECIPIENTS", "")
    cli.main(["upgrade", "--no-restart"])
    out = capsys.readouterr().out
    assert "an empty database: nothing to back up" in out
    assert "the database is at the newest migration" in out


@pytest.mark.both_databases
def test_upgrade_of_a_seeded_database_on_either_database(database_url, tmp_path, monkeypatch, capsys):
    """The whole command on PostgreSQL too (its backup is pg_dump's), from the version before backups."""
    engine = make_engine(database_url)
    migrate.downgrade(engine, OLD)
    engine.dispose()
    recipient = write_identity(tmp_path / "backup-identity.txt")
    for name, value in {"DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": database_url,
                        "BACKUP_RECIPIENTS": recipient, "BACKUP_DIR": str(tmp_path / "backups")}.items():
        monkeypatch.setenv(name, value)
    cli.main(["upgrade", "--no-restart"])
    out = capsys.readouterr().out
    archives = list((tmp_path / "backups").glob("bintang-*.age"))
    assert len(archives) == 1
    assert f"backup before upgrading: {archives[0]}" in out
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert f"the database is at the newest migration ({head})" in out
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM user_account")).scalar_one() == 6
    engine.dispose()



def test_with_nothing_to_migrate_no_backup_is_taken(install, capsys):
    """The installer runs `bintang upgrade` on every run: a re-run with the same code adds no archive."""
    cli.main(["upgrade", "--no-restart"])
    assert len(list((install / "backups").iterdir())) == 1
    capsys.readouterr()
    cli.main(["upgrade", "--no-restart"])
    out = capsys.readouterr().out
    assert "migrations to run: none" in out
    assert "nothing to migrate: no backup needed" in out
    assert len(list((install / "backups").iterdir())) == 1
