"""A consistent snapshot of the database as a stream of bytes, what it holds (row counts and a digest per
table, the migration head, the sentinel), and the way back into a database.

SQLite: the online backup API copies the database into memory in one step (one read transaction: writers go on
in WAL mode), and the copy is gzip-compressed as it streams out. PostgreSQL: a REPEATABLE READ transaction
exports its snapshot, is counted, and `pg_dump -Fc --snapshot` dumps exactly that snapshot through a pipe.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine, make_url

from server.backups.archive import CHUNK, ArchiveError

SQLITE_FORMAT = "sqlite3.gz"
PG_FORMAT = "pg_dump-custom"


@dataclass
class Contents:
    """What a database holds, as the manifest records it and a restore checks it."""

    migration_head: str
    tables: dict[str, dict[str, Any]]  # name -> {"rows": n, "sha256": hex}
    sentinel_found: bool

    def differences(self, manifest: dict[str, Any]) -> list[str]:
        problems = []
        if self.migration_head != manifest["migration_head"]:
            problems.append(f"migration head {self.migration_head!r}, the archive's is {manifest['migration_head']!r}")
        if not self.sentinel_found:
            problems.append("the backup's sentinel is missing: this is not the snapshot the archive was made of")
        for name, expected in manifest["tables"].items():
            found = self.tables.get(name)
            if found is None:
                problems.append(f"table {name} is missing")
            elif found["rows"] != expected["rows"]:
                problems.append(f"table {name}: {found['rows']} rows, the archive's manifest says {expected['rows']}")
            elif found["sha256"] != expected["sha256"]:
                problems.append(f"table {name}: its rows differ from the archive's")
        problems.extend(f"table {name} is not in the archive"
                        for name in sorted(set(self.tables) - set(manifest["tables"])))
        return problems


def _digest_rows(rows) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(tuple(row)).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def sqlite_contents(conn: sqlite3.Connection, sentinel: str) -> Contents:
    tables = {}
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    # Every name and key below comes from the database's own catalogue, quoted: no text from outside reaches the SQL.
    for name in names:
        columns = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        keys = [c[1] for c in sorted(columns, key=lambda c: c[5]) if c[5]] or [c[1] for c in columns]
        order = ", ".join(f'"{k}"' for k in keys)
        count = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608 - the catalogue's name
        rows = conn.execute(f'SELECT * FROM "{name}" ORDER BY {order}')  # noqa: S608 - the catalogue's names
        tables[name] = {"rows": count, "sha256": _digest_rows(rows)}
    head = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    found = bool(sentinel) and "backup_run" in tables and conn.execute(
        "SELECT 1 FROM backup_run WHERE sentinel = ?", (sentinel,)).fetchone() is not None
    return Contents(head[0] if head else "", tables, found)


def pg_contents(conn: Connection, sentinel: str) -> Contents:
    """Counted and hashed by the server: md5 of each row's text, in key order, hashed again (times in UTC and
    ISO style, so two servers give the same text)."""
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
    conn.execute(text("SET LOCAL DateStyle = 'ISO, YMD'"))
    conn.execute(text("SET LOCAL extra_float_digits = 3"))
    inspector = inspect(conn)
    tables = {}
    for name in sorted(inspector.get_table_names()):
        keys = inspector.get_pk_constraint(name)["constrained_columns"] or [
            c["name"] for c in inspector.get_columns(name)]
        order = ", ".join(f'"{k}"' for k in keys)
        count, digest = conn.execute(text(
            f'SELECT count(*), md5(coalesce(string_agg(md5(t::text), \'\' ORDER BY {order}), \'\')) '  # noqa: S608 - as above
            f'FROM "{name}" AS t')).one()
        tables[name] = {"rows": count, "sha256": digest}
    head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    found = bool(sentinel) and "backup_run" in tables and conn.execute(
        text("SELECT 1 FROM backup_run WHERE sentinel = :s"), {"s": sentinel}).first() is not None
    return Contents(head or "", tables, found)


# --- taking a snapshot ------------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    contents: Contents
    format: str
    chunks: Iterator[bytes]  # the database, as the archive holds it


def sqlite_path(engine: Engine) -> Path:
    if not engine.url.database:
        raise ArchiveError("the SQLite database URL names no file")
    return Path(engine.url.database)


@contextmanager
def sqlite_snapshot(engine: Engine, sentinel: str) -> Iterator[Snapshot]:
    source = sqlite3.connect(sqlite_path(engine), timeout=15)
    memory = sqlite3.connect(":memory:")
    try:
        source.backup(memory)  # every page in one step: one read transaction, one moment
    finally:
        source.close()
    contents = sqlite_contents(memory, sentinel)
    image = memory.serialize()
    memory.close()

    def chunks() -> Iterator[bytes]:
        # Bytes 18 and 19 of the header say WAL; a database restored from memory starts in rollback mode (the
        # app turns WAL on again), and SQLite refuses to deserialize a WAL image.
        compressor = zlib.compressobj(6, wbits=31)
        yield compressor.compress(image[:18] + b"\x01\x01" + image[20:CHUNK])
        for start in range(CHUNK, len(image), CHUNK):
            yield compressor.compress(image[start:start + CHUNK])
        yield compressor.flush()

    yield Snapshot(contents, SQLITE_FORMAT, chunks())


def libpq_environment(url: str) -> dict[str, str]:
    """How pg_dump and pg_restore are told where to connect: environment variables, so that the password is
    never on a command line (which every user of the machine can read)."""
    parsed = make_url(url)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    for name, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port), ("PGUSER", parsed.username),
                        ("PGPASSWORD", parsed.password), ("PGDATABASE", parsed.database)):
        if value:
            env[name] = str(value)
    for name, option in parsed.query.items():
        if name == "sslmode":
            env["PGSSLMODE"] = str(option)
    return env


def _first_error(program: str, stderr: str, code: int) -> str:
    """The program's own error line, never the DETAIL or CONTEXT lines after it (they can quote a row)."""
    for line in stderr.splitlines():
        if line.startswith(f"{program}: error:"):
            return line[:300]
    return f"{program} ended with {code}"


def _read_process(process: subprocess.Popen, what: str) -> Iterator[bytes]:
    if process.stdout is None:
        raise ArchiveError(f"{what} was started without a pipe to read")
    while True:
        block = process.stdout.read(CHUNK)
        if not block:
            break
        yield block
    error = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.wait() != 0:
        raise ArchiveError(f"{what} failed: {_first_error(what, error, process.returncode)}")


@contextmanager
def pg_snapshot(engine: Engine, url: str, sentinel: str) -> Iterator[Snapshot]:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.execute(text("SET TRANSACTION READ ONLY"))
        snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        contents = pg_contents(conn, sentinel)
        try:
            process = subprocess.Popen(  # noqa: S603 - Debian's pg_dump from PATH, every argument ours, no shell
                ["pg_dump", "--format=custom", f"--snapshot={snapshot_id}"],  # noqa: S607 - as above
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=libpq_environment(url))
        except FileNotFoundError:
            raise ArchiveError("pg_dump is not installed (Debian package postgresql-client)") from None
        try:
            # The exporting transaction stays open until pg_dump is done with the snapshot.
            yield Snapshot(contents, PG_FORMAT, _read_process(process, "pg_dump"))
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            conn.rollback()


# --- restoring ------------------------------------------------------------------------------------------------


class SqliteImage:
    """Receives the archive's database chunks and gunzips them into a file or into memory."""

    def __init__(self, sink: Callable[[bytes], object]) -> None:
        self._sink = sink
        self._decompressor = zlib.decompressobj(wbits=31)

    def write(self, chunk: bytes) -> None:
        try:
            self._sink(self._decompressor.decompress(chunk))
        except zlib.error as exc:
            raise ArchiveError(f"the database in the archive is damaged: {exc}") from None

    def close(self) -> None:
        self._sink(self._decompressor.flush())
        if not self._decompressor.eof:
            raise ArchiveError("the database in the archive is cut off")


class PgRestore:
    """Feeds the archive's pg_dump to pg_restore in one transaction: all of it or nothing. --no-owner and
    --no-privileges: the restoring role owns what it restores; `bintang grant-app-role` gives the app's role its
    rights again."""

    def __init__(self, url: str, *, clean: bool) -> None:
        database = make_url(url).database
        if not database:
            raise ArchiveError("the database URL to restore into names no database")
        command = ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                   "--dbname", database]
        if clean:
            command[1:1] = ["--clean", "--if-exists"]
        try:
            self._process = subprocess.Popen(  # noqa: S603 - Debian's pg_restore from PATH, arguments ours, no shell
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                env=libpq_environment(url))
        except FileNotFoundError:
            raise ArchiveError("pg_restore is not installed (Debian package postgresql-client)") from None
        if self._process.stdin is None or self._process.stderr is None:  # never: both are pipes above
            raise ArchiveError("pg_restore was started without its pipes")
        self._stdin: IO[bytes] = self._process.stdin
        self._stderr: IO[bytes] = self._process.stderr

    def write(self, chunk: bytes) -> None:
        try:
            self._stdin.write(chunk)
        except BrokenPipeError:
            self.close()

    def close(self) -> None:
        if not self._stdin.closed:
            with suppress(BrokenPipeError):
                self._stdin.close()
        error = self._stderr.read().decode(errors="replace")
        if self._process.wait() != 0:
            raise ArchiveError(f"pg_restore failed: {_first_error('pg_restore', error, self._process.returncode)}")

    def abort(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
