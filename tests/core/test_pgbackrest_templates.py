"""The pgBackRest templates in deploy/pgbackrest/ (make test-pitr restores from them; this checks what the
installer renders): every variable named in docs/operations.md fills them, the archiving lines lose at
most five minutes, and the backup units pass `systemd-analyze verify`."""

from __future__ import annotations

import shutil
import string
import subprocess
from pathlib import Path

import pytest

from tests.servers import ROOT

TEMPLATES = ROOT / "deploy" / "pgbackrest"
# What the installer fills in (docs/operations.md lists the same names and values).
PRODUCTION = {"config": "/etc/pgbackrest.conf", "stanza": "bintang", "repo_path": "/var/lib/pgbackrest",
              "cipher_pass": "generated-at-install", "log_path": "/var/log/pgbackrest", "lock_path": "/tmp/pgbackrest",
              "spool_path": "/var/spool/pgbackrest", "pg_path": "/var/lib/postgresql/15/main",
              "socket_path": "/var/run/postgresql", "port": "5432"}
UNITS = ["bintang-pgbackrest-full.service", "bintang-pgbackrest-full.timer", "bintang-pgbackrest-diff.service",
         "bintang-pgbackrest-diff.timer"]


def rendered(name: str) -> str:
    # substitute(), not safe_substitute(): a variable the installer does not give is an error here.
    return string.Template((TEMPLATES / name).read_text()).substitute(PRODUCTION)


def test_every_template_is_filled_by_the_documented_variables():
    names = sorted(path.name for path in TEMPLATES.iterdir())
    assert names == sorted(["pgbackrest.conf", "postgresql.conf", *UNITS])
    documentation = (ROOT / "docs" / "operations.md").read_text()
    for variable in PRODUCTION:
        assert f"`{variable}`" in documentation
    for name in names:
        assert "$" not in rendered(name)


def test_postgresql_archives_to_pgbackrest_at_least_every_five_minutes():
    lines = rendered("postgresql.conf")
    for line in ("wal_level = replica", "archive_mode = on", "archive_timeout = 300",
                 "archive_command = 'pgbackrest --config=/etc/pgbackrest.conf --stanza=bintang archive-push %p'"):
        assert f"\n{line}\n" in lines
    config = rendered("pgbackrest.conf")
    for line in ("[bintang]", "pg1-path=/var/lib/postgresql/15/main", "repo1-path=/var/lib/pgbackrest",
                 "repo1-cipher-type=aes-256-cbc", "repo1-cipher-pass=generated-at-install"):
        assert f"\n{line}\n" in config


def test_the_backup_units_pass_systemd_analyze_verify(tmp_path: Path):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing (Debian package systemd)")
    for name in UNITS:
        (tmp_path / name).write_text(rendered(name))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *UNITS], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    assert "ExecStart=/usr/bin/pgbackrest --config=/etc/pgbackrest.conf --stanza=bintang --type=full backup" in (
        rendered("bintang-pgbackrest-full.service"))
    assert "OnCalendar=Sun *-*-* 01:00:00 Asia/Makassar" in rendered("bintang-pgbackrest-full.timer")
    assert "OnCalendar=Mon..Sat *-*-* 01:00:00 Asia/Makassar" in rendered("bintang-pgbackrest-diff.timer")
