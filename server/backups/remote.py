"""The copy off the host: each archive goes into a restic repository (Debian's `restic`), BACKUP_REMOTE.

Meant for a restic REST server in append-only mode (`rclone serve restic --append-only` from Debian, or
rest-server --append-only): the app host's credentials add snapshots but the server refuses every delete but of
restic's own locks, so an attacker on the app host cannot erase the history. Pruning is done on the backup host
itself, with access the app host does not have (docs/backup-restore.md). The archive is already encrypted to the
Dinas's recipients; restic's repository password is a second lock, not the first.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

from server.backups.archive import ArchiveError
from server.settings import Settings

TAG = "bintang"
TIMEOUT_SECONDS = 30 * 60


def _environment(settings: Settings) -> dict[str, str]:
    """The repository and its password go by environment (a REST URL may hold a password): never argv."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RESTIC_")}
    env["RESTIC_REPOSITORY"] = settings.backup_remote
    env["RESTIC_PASSWORD"] = settings.backup_remote_password
    return env


def _restic(settings: Settings, *args: str, stdin=None, timeout: float = TIMEOUT_SECONDS) -> subprocess.CompletedProcess:
    """restic, killed after `timeout` seconds. The deadline is a timer thread, not subprocess's own timeout, whose
    wait polls with time.sleep (which fails with EINVAL under libfaketime, as in make test-later-clock)."""
    command = ["restic", "--no-cache", "--quiet", *args]
    try:
        process = subprocess.Popen(  # noqa: S603 - a fixed program, every argument ours, no shell
            command, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_environment(settings))
    except FileNotFoundError:
        raise ArchiveError("restic is not installed (Debian package restic); BACKUP_REMOTE needs it") from None
    expired = threading.Event()

    def kill() -> None:
        expired.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        stdout, stderr = process.communicate()
    finally:
        timer.cancel()
    if expired.is_set():
        raise ArchiveError(f"the off-host target did not answer within {timeout / 60:.0f} minutes")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _why(result: subprocess.CompletedProcess) -> str:
    """restic's own words, without the repository address (it may carry a password) and without Go traces."""
    lines = [line for line in result.stderr.decode(errors="replace").splitlines()
             if line.strip() and not line.startswith(("\t", "goroutine", "runtime", "main.", "github.com"))]
    text = " ".join(lines[:3]) or f"restic ended with {result.returncode}"
    return text.replace(os.environ.get("RESTIC_REPOSITORY", "\0"), "BACKUP_REMOTE")


def _describe_failure(settings: Settings, result: subprocess.CompletedProcess) -> str:
    why = _why(result)
    if settings.backup_remote:
        why = why.replace(settings.backup_remote, "BACKUP_REMOTE").replace(
            settings.backup_remote.rstrip("/") + "/", "BACKUP_REMOTE")
    if "connection refused" in why or "no such host" in why or "timeout" in why.lower():
        return f"the off-host target is unreachable: {why}"
    return why


def ensure_repository(settings: Settings) -> None:
    """Creates the repository the first time (an append-only server allows that: it only adds files)."""
    if _restic(settings, "cat", "config").returncode == 0:
        return
    created = _restic(settings, "init")
    if created.returncode != 0:
        raise ArchiveError(f"the off-host copy failed: {_describe_failure(settings, created)}")


def send(settings: Settings, archive: Path) -> None:
    if not settings.backup_remote_password:
        raise ArchiveError("BACKUP_REMOTE is set but BACKUP_REMOTE_PASSWORD is empty (restic needs one)")
    ensure_repository(settings)
    with archive.open("rb") as stdin:
        result = _restic(settings, "backup", "--stdin", "--stdin-filename", archive.name, "--host", TAG,
                         "--tag", TAG, stdin=stdin)
    if result.returncode != 0:
        raise ArchiveError(f"the off-host copy failed: {_describe_failure(settings, result)}")


def archives(settings: Settings) -> list[str]:
    """The archive names the repository holds, oldest first (for the drill's check and for tests)."""
    result = _restic(settings, "snapshots", "--json", "--tag", TAG)
    if result.returncode != 0:
        raise ArchiveError(f"cannot list the off-host copies: {_describe_failure(settings, result)}")
    return [Path(path).name for snap in json.loads(result.stdout or b"[]") for path in snap["paths"]]
