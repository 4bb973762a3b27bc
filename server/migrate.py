"""Run Alembic from code: `bintang migrate`, `bintang upgrade`, start-up, and the tests use the same path.

Every run of the pending migrations is ONE transaction, on PostgreSQL (transactional DDL) and on SQLite alike
(pysqlite's own transaction handling is turned off for it and the run starts with BEGIN IMMEDIATE): a migration
that fails leaves the database exactly as it was, still at the old head, and the old version goes on serving.
On SQLite `upgrade` also keeps a snapshot made with the online backup API until the run has committed, and
restores it if the failed run left anything behind (see `upgrade`)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from server.db import make_engine, private_file
from server.settings import ROOT

SNAPSHOT_SUFFIX = ".pre-upgrade"


class MigrationFailed(RuntimeError):
    """A migration failed; the database was left (or put back) as it was before the run."""

    def __init__(self, message: str, *, restored_snapshot: bool = False) -> None:
        super().__init__(message)
        self.restored_snapshot = restored_snapshot


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "server" / "migrations"))
    if engine is not None:
        config.attributes["url"] = engine.url.render_as_string(hide_password=False)
    return config


def migration_engine(url: str) -> Engine:
    """The engine migrations run on. On SQLite: foreign keys off for the run (a batch migration rebuilds a table
    by dropping it, which with foreign keys on fails as soon as another table's rows point at it; the run checks
    every foreign key before it commits instead), and real transactions for DDL (pysqlite would otherwise commit
    around each CREATE and ALTER on its own)."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _own_transactions(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA foreign_keys=OFF")

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection):
            # IMMEDIATE: the write lock from the first statement, so no other process commits in between.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


def check_foreign_keys(connection: Connection) -> None:
    """On SQLite, inside the run's transaction: refuse to commit rows that point nowhere."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise MigrationFailed(f"rows that point at nothing after migrating, in: {', '.join(tables)}")


def run_in_one_transaction(engine: Engine, config: Config | None = None, target: str = "head") -> None:
    """All pending migrations up to `target` in one transaction (Alembic sees it as an external transaction and
    adds none of its own): they all commit, or none does."""
    config = config or alembic_config(engine)
    url = engine.url.render_as_string(hide_password=False)
    runner = migration_engine(url)
    try:
        with runner.connect() as connection, connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, target)
    finally:
        config.attributes.pop("connection", None)
        runner.dispose()


def upgrade(engine: Engine, config: Config | None = None, target: str = "head") -> None:
    """Bring the database to `target` (the newest migration). On SQLite a snapshot of the database is taken
    first (the online backup API, into `<database>.pre-upgrade` next to it, mode 0600): if the run fails and
    the database is not what the snapshot holds (something escaped the transaction), the snapshot is put back.
    The snapshot is deleted either way. Raises MigrationFailed when a migration failed."""
    try:
        if not pending(engine, config, target):
            return  # nothing to run: no snapshot to copy (`make run` and `bintang migrate` come here every time)
    except Exception as exc:
        raise MigrationFailed(_failure(exc)) from exc
    database = sqlite_path(engine)
    if database is None or not database.exists() or database.stat().st_size == 0:
        try:
            run_in_one_transaction(engine, config, target)
        except MigrationFailed:
            raise
        except Exception as exc:
            raise MigrationFailed(_failure(exc)) from exc
        return
    snapshot = database.with_name(database.name + SNAPSHOT_SUFFIX)
    try:
        take_snapshot(database, snapshot)
    except (OSError, sqlite3.Error) as exc:  # a full disk, above all: nothing has been migrated yet
        snapshot.unlink(missing_ok=True)
        raise MigrationFailed(f"no migration ran: the snapshot beside the database could not be taken "
                              f"({_failure(exc)})") from exc
    try:
        run_in_one_transaction(engine, config, target)
    except Exception as exc:
        restored = False
        if _shape(database) != _shape(snapshot):
            engine.dispose()
            restore_snapshot(snapshot, database)
            restored = True
        message = exc.args[0] if isinstance(exc, MigrationFailed) else _failure(exc)
        raise MigrationFailed(message, restored_snapshot=restored) from exc
    finally:
        snapshot.unlink(missing_ok=True)


def _failure(exc: BaseException) -> str:
    """What failed, in words that quote nothing people typed: for a database error its kind, SQLSTATE and the
    migration's own statement (the database's message can quote a row's values); else the first line of the
    message, which is the migration code's own."""
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None)
        statement = " ".join((exc.statement or "").split())[:300]
        return (f"{type(exc.orig).__name__}" + (f" (SQLSTATE {code})" if code else "")
                + (f" in: {statement}" if statement else ""))
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def sqlite_path(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    return Path(engine.url.database)


def take_snapshot(database: Path, snapshot: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API), readable by the app's user only."""
    snapshot.unlink(missing_ok=True)
    private_file(snapshot)
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(snapshot)) as copy:
        source.backup(copy)


def restore_snapshot(snapshot: Path, database: Path) -> None:
    """Put the snapshot back over the live database, through SQLite (its WAL and locks stay right)."""
    with closing(sqlite3.connect(snapshot)) as source, closing(sqlite3.connect(database, timeout=60)) as live:
        source.backup(live)


def _shape(database: Path) -> tuple:
    """The schema and the migration a database is at: what a failed run could have changed behind the
    transaction's back."""
    with closing(sqlite3.connect(database)) as connection:
        schema = connection.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        try:
            version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.OperationalError:
            version = []
    return schema, version


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def pending(engine: Engine, config: Config | None = None, target: str = "head") -> list[str]:
    """The migrations an upgrade to `target` would run, oldest first."""
    script = ScriptDirectory.from_config(config or alembic_config(engine))
    current = current_revision(engine)
    return [revision.revision for revision in reversed(list(script.iterate_revisions(target, current)))]


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def check(engine: Engine) -> None:
    """Raises if the models and the migrations disagree."""
    command.check(alembic_config(engine))


def grant_app_role(engine: Engine, role: str) -> None:
    """On PostgreSQL, let `role` do what the app does and no more: read and write its tables, but only INSERT and
    SELECT on the audit log. It does not own the tables, so it cannot disable the audit log's trigger either.
    Run as the owner after every `bintang migrate` (new tables need their grants)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    with engine.begin() as conn:
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_entry FROM {role}"))
        conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}"))
