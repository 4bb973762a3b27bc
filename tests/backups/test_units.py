"""The systemd units of the backups, rendered as the production installer renders every file of deploy/systemd
(string.Template with its six variables), pass `systemd-analyze verify`, and say what the timers promise."""

from __future__ import annotations

import getpass
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT

UNITS = ["bintang-backup.service", "bintang-backup.timer", "bintang-backup-verify.service",
         "bintang-backup-verify.timer"]


def render(target: Path) -> dict[str, str]:
    target.mkdir()
    (target / "data").mkdir()
    (target / "backups").mkdir()
    (target / "bintang.env").write_text("BINTANG_ENV=production\n")
    values = {"user": getpass.getuser(), "app_dir": str(ROOT), "venv": str(Path(sys.executable).parent.parent),
              "data_dir": str(target / "data"), "env_file": str(target / "bintang.env"),
              "backup_dir": str(target / "backups")}
    rendered = {}
    for name in UNITS:
        # substitute(), not safe_substitute(): a variable the installer does not give is an error here.
        text = string.Template((ROOT / "deploy" / "systemd" / name).read_text()).substitute(values)
        (target / name).write_text(text)
        rendered[name] = text
    return rendered


def test_the_rendered_units_pass_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    render(tmp_path / "units")
    result = subprocess.run(["systemd-analyze", "verify", *UNITS], cwd=tmp_path / "units", capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_daily_backup_and_weekly_verify_run_the_fixed_commands_sandboxed(tmp_path):
    units = render(tmp_path / "units")
    backup, verify = units["bintang-backup.service"], units["bintang-backup-verify.service"]
    assert f"ExecStart={Path(sys.executable).parent}/bintang backup\n" in backup
    assert "bintang backup verify --identity %d/backup-identity" in verify
    assert "LoadCredential=backup-identity:/etc/credstore/bintang-backup-identity" in verify
    assert "OnCalendar=*-*-* 02:30:00 Asia/Makassar" in units["bintang-backup.timer"]
    assert "OnCalendar=Sun *-*-* 04:00:00 Asia/Makassar" in units["bintang-backup-verify.timer"]
    for unit in (backup, verify):
        for line in ("ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n",
                     f"EnvironmentFile={tmp_path / 'units' / 'bintang.env'}"):
            assert line in unit
    assert f"ReadWritePaths={tmp_path / 'units' / 'data'} {tmp_path / 'units' / 'backups'}" in backup
    assert f"ReadOnlyPaths={tmp_path / 'units' / 'backups'}" in verify
