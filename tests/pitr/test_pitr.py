"""Point-in-time restore with pgBackRest, on a PostgreSQL 15 cluster of the test's own (`make test-pitr`): the
production templates in deploy/pgbackrest/ set it up, a full backup is taken, rows are written, the time is noted,
more rows are written, and the cluster is restored to the noted time: the first rows are there, the later ones
are not. Needs root (initdb and the cluster run as the `postgres` user through runuser) and Debian's pgbackrest;
without them it fails and says so, it never skips."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from string import Template

import pytest

from tests.servers import ROOT, free_port, pause

pytestmark = [pytest.mark.pitr, pytest.mark.real_clock]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
STANZA = "bintang"


class Cluster:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.data, self.run_dir, self.repo = base / "data", base / "run", base / "repo"
        self.config = base / "pgbackrest.conf"
        self.port = free_port()

    def as_postgres(self, *command: str | Path, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["runuser", "-u", "postgres", "--", *map(str, command)], capture_output=True,
                                text=True, cwd=self.base)
        if check and result.returncode != 0:
            pytest.fail(f"{' '.join(map(str, command))} failed ({result.returncode}):\n{result.stdout}\n"
                        f"{result.stderr}\n{self.server_log()}")
        return result

    def server_log(self) -> str:
        log = self.base / "postgres.log"
        return log.read_text()[-3000:] if log.exists() else ""

    def pgbackrest(self, *arguments: str) -> subprocess.CompletedProcess:
        return self.as_postgres("pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *arguments)

    def sql(self, statement: str) -> str:
        return self.as_postgres(PG_BIN / "psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.run_dir,
                                "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-c",
                                statement).stdout.strip()

    def start(self) -> None:
        self.as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.base / "postgres.log", "-w", "-t", "120",
                         "start")

    def stop(self) -> None:
        self.as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def last_backup_stop(self) -> int:
        info = json.loads(self.pgbackrest("--output=json", "info").stdout)
        return info[0]["backup"][-1]["timestamp"]["stop"]

    def wait_for_server_clock_past(self, epoch: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while float(self.sql("SELECT extract(epoch FROM clock_timestamp())")) <= epoch:
            if time.monotonic() > deadline:
                pytest.fail(f"the server's clock did not pass {epoch} within {timeout} s")
            pause(0.1)

    def wait_until_promoted(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.sql("SELECT pg_is_in_recovery()") != "f":
            if time.monotonic() > deadline:
                pytest.fail(f"the restored cluster was still recovering after {timeout} s:\n{self.server_log()}")
            pause(0.2)


def render(template: str, **values: str) -> str:
    return Template((ROOT / "deploy" / "pgbackrest" / template).read_text()).substitute(values)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if os.geteuid() != 0:
        pytest.fail("the PITR test runs PostgreSQL as the 'postgres' user through runuser: run it as root")
    if shutil.which("pgbackrest") is None:
        pytest.fail("pgBackRest is not installed: apt-get install pgbackrest (`make test-pitr` does it as root)")
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL 15's server binaries are missing ({PG_BIN}): apt-get install postgresql-15")
    postgres = pwd.getpwnam("postgres")
    # Not pytest's tmp_path: the postgres user must be able to reach it.
    base = Path(tempfile.mkdtemp(prefix="bintang-pitr-"))
    os.chown(base, postgres.pw_uid, postgres.pw_gid)
    cluster = Cluster(base)
    for folder in ("run", "repo", "log", "lock", "spool"):
        (base / folder).mkdir(mode=0o700)
        os.chown(base / folder, postgres.pw_uid, postgres.pw_gid)
    values = dict(config=str(cluster.config), stanza=STANZA, repo_path=str(cluster.repo),
                  cipher_pass="test-only-cipher-passphrase-0123456789", log_path=str(base / "log"),
                  lock_path=str(base / "lock"), spool_path=str(base / "spool"), pg_path=str(cluster.data),
                  socket_path=str(cluster.run_dir), port=str(cluster.port))
    cluster.config.write_text(render("pgbackrest.conf", **values))
    os.chmod(cluster.config, 0o640)
    os.chown(cluster.config, 0, postgres.pw_gid)
    try:
        cluster.as_postgres(PG_BIN / "initdb", "-D", cluster.data, "-A", "trust", "-U", "postgres", "--no-sync")
        with (cluster.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nlisten_addresses = ''\nport = {cluster.port}\n"
                       f"unix_socket_directories = '{cluster.run_dir}'\n")
            conf.write(render("postgresql.conf", **values))
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_a_restore_to_a_noted_time_keeps_what_came_before_it_and_nothing_after(cluster):
    assert cluster.sql("SHOW archive_timeout") == "5min"  # at most five minutes of work lost
    assert cluster.sql("SHOW archive_mode") == "on"
    cluster.pgbackrest("stanza-create")
    cluster.pgbackrest("check")  # archive_command works: a WAL segment reached the repository
    cluster.pgbackrest("--type=full", "backup")

    cluster.sql("CREATE TABLE report_probe (n integer PRIMARY KEY, words text NOT NULL)")
    cluster.sql("INSERT INTO report_probe SELECT n, 'sebelum ' || n FROM generate_series(1, 50) AS n")
    # pgBackRest picks the backup to start from by its stop time, in whole seconds, which must be before the
    # target: a target in the backup's last second has no backup to start from (in production hours lie between).
    cluster.wait_for_server_clock_past(cluster.last_backup_stop() + 1)
    noted = cluster.sql("SELECT clock_timestamp()")
    cluster.sql("INSERT INTO report_probe SELECT n, 'sesudah ' || n FROM generate_series(51, 80) AS n")
    cluster.sql("DELETE FROM report_probe WHERE n <= 10")  # the mistake a restore to the noted time undoes
    cluster.pgbackrest("check")  # switches to a new WAL segment and waits until the last one is archived
    assert cluster.sql("SELECT count(*) FROM report_probe") == "70"

    cluster.stop()
    cluster.pgbackrest("--delta", "--type=time", f"--target={noted}", "--target-action=promote", "restore")
    cluster.start()
    cluster.wait_until_promoted()

    assert cluster.sql("SELECT count(*), min(n), max(n) FROM report_probe") == "50|1|50"
    assert cluster.sql("SELECT words FROM report_probe WHERE n = 7") == "sebelum 7"
    assert cluster.sql("SELECT count(*) FROM report_probe WHERE words LIKE 'sesudah%'") == "0"
    # The restored cluster archives on as a new timeline: the next backup and restore work from here.
    cluster.pgbackrest("check")
