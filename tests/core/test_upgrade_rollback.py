"""A migration that fails leaves the database as it was, still at the old head, so the old version goes on serving:
one transaction for the whole run on PostgreSQL and on SQLite, and on SQLite a snapshot put back if anything
escaped it. The failing migration is planted in a versions folder of the test's own, after the real head."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from contextlib import closing
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from server import migrate
from server.settings import ROOT

pytestmark = pytest.mark.both_databases  # the database's own transactions are under test

PLANTED = '''
from alembic import op
import sqlalchemy as sa

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("service_type", sa.Column("{revision}_probe", sa.String(20), nullable=False,
                                            server_default="x"))
    op.create_table("{revision}_table", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO {revision}_table (id) VALUES (1)")
    op.execute("UPDATE user_account SET display_name = 'diubah oleh migrasi'")
    {fail}


def downgrade():
    pass
'''


def plant(folder: Path, *revisions: tuple[str, bool]) -> str:
    """Test-only migrations after the real head, each (name, fails). Returns the real head."""
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    down = head
    for number, (revision, fails) in enumerate(revisions):
        fail = 'raise RuntimeError("planted failure")' if fails else "pass"
        (folder / f"99{number}_{revision}.py").write_text(PLANTED.format(revision=revision, down=down, fail=fail))
        down = revision
    return head


def config_with(engine: Engine, folder: Path):
    config = migrate.alembic_config(engine)
    config.set_main_option("version_locations", os.pathsep.join([str(ROOT / "server/migrations/versions"),
                                                                   str(folder)]))
    return config


def sqlite_file(engine: Engine) -> Path | None:
    return migrate.sqlite_path(engine)


def dump(engine: Engine) -> str:
    """Everything in the database, schema and rows, as text: SQLite's own dump, or pg_dump."""
    path = sqlite_file(engine)
    if path is not None:
        with closing(sqlite3.connect(path)) as connection:
            return "\n".join(connection.iterdump())
    url = engine.url
    out = subprocess.run(
        ["pg_dump", "--no-owner", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username, url.database],
        check=True, capture_output=True, text=True).stdout
    # pg_dump marks each dump with a random key (\restrict ...); everything else is the database's.
    return "\n".join(line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def checkpointed_bytes(engine: Engine) -> bytes:
    path = sqlite_file(engine)
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes()


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    folder = tmp_path / "planted_versions"
    folder.mkdir()
    return folder


def test_a_planted_migration_runs_from_the_extra_folder(engine, planted):
    """The planting works: without a failure the run reaches the planted head (so the failing tests below fail
    because of the planted failure, not because the folder was ignored)."""
    plant(planted, ("p_ok", False))
    migrate.upgrade(engine, config_with(engine, planted))
    assert migrate.current_revision(engine) == "p_ok"
    assert "p_ok_probe" in {column["name"] for column in inspect(engine).get_columns("service_type")}


def test_a_failing_migration_leaves_the_database_unchanged_and_at_the_old_head(engine, planted):
    # Two pending migrations: the first succeeds on its own, the second fails; neither may stay.
    head = plant(planted, ("p_ok", False), ("p_fails", True))
    engine.dispose()
    before_bytes = checkpointed_bytes(engine) if sqlite_file(engine) else b""
    before = dump(engine)

    with pytest.raises(migrate.MigrationFailed, match="planted failure") as failure:
        migrate.upgrade(engine, config_with(engine, planted))

    engine.dispose()
    assert dump(engine) == before
    assert migrate.current_revision(engine) == head
    assert failure.value.restored_snapshot is False  # the transaction alone undid it
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM user_account "
                                       "WHERE display_name = 'diubah oleh migrasi'")).scalar_one() == 0
    if sqlite_file(engine):
        assert checkpointed_bytes(engine) == before_bytes
        assert not list(sqlite_file(engine).parent.glob("*" + migrate.SNAPSHOT_SUFFIX))


def test_the_old_head_still_serves_after_a_failed_upgrade(engine, planted, client):
    plant(planted, ("p_fails", True))
    with pytest.raises(migrate.MigrationFailed):
        migrate.upgrade(engine, config_with(engine, planted))
    page = client.get("/lapor")
    assert page.status_code == 200
    assert "Lapor" in page.text


@pytest.mark.only_database("sqlite")
def test_sqlite_keeps_a_private_snapshot_beside_the_database_while_migrating_and_deletes_it(engine, planted,
                                                                                           monkeypatch):
    plant(planted, ("p_ok", False))
    seen = {}
    real_run = migrate.run_in_one_transaction

    def run_and_look(*args, **kwargs):
        snapshots = list(sqlite_file(engine).parent.glob("*" + migrate.SNAPSHOT_SUFFIX))
        seen["snapshots"] = [(path.name, stat.S_IMODE(path.stat().st_mode)) for path in snapshots]
        with closing(sqlite3.connect(snapshots[0])) as copy:
            seen["users"] = copy.execute("SELECT count(*) FROM user_account").fetchone()[0]
        return real_run(*args, **kwargs)

    monkeypatch.setattr(migrate, "run_in_one_transaction", run_and_look)
    migrate.upgrade(engine, config_with(engine, planted))
    assert seen["snapshots"] == [(sqlite_file(engine).name + migrate.SNAPSHOT_SUFFIX, 0o600)]
    assert seen["users"] == 6  # the demo people: a real copy, not an empty file
    assert not list(sqlite_file(engine).parent.glob("*" + migrate.SNAPSHOT_SUFFIX))
    assert migrate.current_revision(engine) == "p_ok"


@pytest.mark.only_database("sqlite")
def test_sqlite_puts_the_snapshot_back_when_a_failed_run_left_changes_behind(engine, planted, monkeypatch):
    """Should anything escape the transaction (a migration that commits on its own, a failure at COMMIT), the
    snapshot taken before the run is put back."""
    head = plant(planted, ("p_fails", True))
    engine.dispose()
    before = dump(engine)
    real_run = migrate.run_in_one_transaction

    def escape_then_run(*args, **kwargs):
        with closing(sqlite3.connect(sqlite_file(engine))) as connection:
            connection.execute("CREATE TABLE escaped (id INTEGER PRIMARY KEY)")
            connection.commit()
        return real_run(*args, **kwargs)

    monkeypatch.setattr(migrate, "run_in_one_transaction", escape_then_run)
    with pytest.raises(migrate.MigrationFailed, match="planted failure") as failure:
        migrate.upgrade(engine, config_with(engine, planted))

    assert failure.value.restored_snapshot is True
    engine.dispose()
    assert dump(engine) == before
    assert migrate.current_revision(engine) == head
    assert not list(sqlite_file(engine).parent.glob("*" + migrate.SNAPSHOT_SUFFIX))


LOCK_PROBE = '''
import sqlite3

from alembic import op
import sqlalchemy as sa

revision = "p_lock"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    other = sqlite3.connect(op.get_bind().engine.url.database, timeout=0)
    try:
        other.execute("INSERT INTO district (name, active) VALUES ('Ditulis saat migrasi', 1)")
        other.commit()
        outcome = "written"
    except sqlite3.OperationalError as exc:
        outcome = str(exc)
    finally:
        other.close()
    op.create_table("lock_probe", sa.Column("outcome", sa.String(100)))
    op.execute(sa.text("INSERT INTO lock_probe (outcome) VALUES (:outcome)").bindparams(outcome=outcome))


def downgrade():
    pass
'''


@pytest.mark.only_database("sqlite")
def test_on_sqlite_nobody_else_commits_while_the_migrations_run(engine, planted):
    """The run holds SQLite's write lock from its first statement: the running app's writes wait for it (up to
    its busy timeout) instead of landing between the snapshot and a failure."""
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    (planted / "990_p_lock.py").write_text(LOCK_PROBE.format(down=head))
    migrate.upgrade(engine, config_with(engine, planted))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT outcome FROM lock_probe")).scalar_one() == "database is locked"
        assert connection.execute(text("SELECT count(*) FROM district "
                                       "WHERE name = 'Ditulis saat migrasi'")).scalar_one() == 0


@pytest.mark.only_database("sqlite")
def test_without_room_for_the_snapshot_no_migration_runs(engine, planted, monkeypatch):
    head = plant(planted, ("p_ok", False))

    def disk_full(_database, snapshot):
        snapshot.write_bytes(b"half a copy")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(migrate, "take_snapshot", disk_full)
    with pytest.raises(migrate.MigrationFailed, match="no migration ran: the snapshot beside the database could "
                                                      "not be taken .*disk is full"):
        migrate.upgrade(engine, config_with(engine, planted))
    assert migrate.current_revision(engine) == head
    assert not list(sqlite_file(engine).parent.glob("*" + migrate.SNAPSHOT_SUFFIX))


@pytest.mark.only_database("postgresql")
def test_a_failed_migration_is_told_without_the_values_of_any_row(engine, planted):
    """PostgreSQL's message can quote a row ("invalid input syntax for type integer: ..."): the failure names the
    error's kind, its SQLSTATE and the migration's own statement, never the data."""
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    (planted / "990_p_values.py").write_text(f'''
from alembic import op

revision = "p_values"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE user_account ALTER COLUMN display_name TYPE integer USING display_name::integer")


def downgrade():
    pass
''')
    with pytest.raises(migrate.MigrationFailed) as failure:
        migrate.upgrade(engine, config_with(engine, planted))
    assert str(failure.value) == ("InvalidTextRepresentation (SQLSTATE 22P02) in: ALTER TABLE user_account ALTER "
                                  "COLUMN display_name TYPE integer USING display_name::integer")
    assert "invalid input syntax" in str(failure.value.__cause__)  # what it hides: the row's value
    assert migrate.current_revision(engine) == head
