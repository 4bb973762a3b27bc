"""The copy off the host, against a real append-only restic REST server on 127.0.0.1 (Debian's rclone: `rclone
serve restic --append-only`): each archive arrives whole; the app host's credentials add but cannot delete; only
the backup host's own access to the repository prunes."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from server.backups import remote
from tests.servers import free_port, pause, stop
from tests.support.backups import runs

PASSWORD = "repository-password"

pytestmark = pytest.mark.skipif(not (shutil.which("restic") and shutil.which("rclone")),
                                reason="needs Debian's restic and rclone (make test installs them)")


@pytest.fixture
def rest_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An append-only restic REST server over a folder, as the backup host would run it; yields its URL and
    the folder (the backup host's own access, which the app host does not have)."""
    folder = tmp_path / "backup-host"
    folder.mkdir()
    port = free_port()
    with open(tmp_path / "rclone.log", "wb") as log:
        process = subprocess.Popen(["rclone", "serve", "restic", "--append-only", "--addr", f"127.0.0.1:{port}",
                                    str(folder)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(500):
            try:
                httpx.get(base + "/", timeout=1.0)
                break
            except httpx.TransportError:
                pause(0.02)  # polling interval while the port opens
        yield base, folder
    finally:
        stop(process)


def on_backup_host(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RESTIC_REPOSITORY": str(folder / "bintang"), "RESTIC_PASSWORD": PASSWORD}
    return subprocess.run(["restic", "--no-cache", *args], capture_output=True, env=env, check=False)


def test_each_archive_is_copied_off_the_host_and_the_app_host_cannot_delete_it(bintang, settings, app, engine,
                                                                                rest_server, tmp_path):
    base, folder = rest_server
    remote_settings = replace(settings, backup_remote=f"rest:{base}/bintang", backup_remote_password=PASSWORD)
    first = bintang(remote_settings, "backup")
    assert first.code == 0, first.err
    assert "copied off the host (BACKUP_REMOTE)" in first.out
    archive = Path(first.out.strip().splitlines()[-1])
    assert remote.archives(remote_settings) == [archive.name]

    # What arrived is the archive, byte for byte (read back as the drill does).
    dumped = on_backup_host(folder, "dump", "latest", archive.name)
    assert dumped.returncode == 0
    assert dumped.stdout == archive.read_bytes()

    # The app host may add but not delete: the server refuses DELETE of a snapshot and of the data.
    with httpx.Client(base_url=f"{base}/bintang") as http:
        [snapshot] = http.get("/snapshots/", headers={"Accept": "application/vnd.x.restic.rest.v2"}).json()
        assert http.delete(f"/snapshots/{snapshot['name']}").status_code == 403
        [pack, *_] = http.get("/data/", headers={"Accept": "application/vnd.x.restic.rest.v2"}).json()
        assert http.delete(f"/data/{pack['name']}").status_code == 403
    assert remote.archives(remote_settings) == [archive.name]

    # A second backup adds a second snapshot; pruning is the backup host's, with access of its own.
    second = bintang(remote_settings, "backup")
    assert second.code == 0, second.err
    assert len(remote.archives(remote_settings)) == 2
    # Each archive is its own path in the repository: retention groups by host (docs/backup-restore.md).
    pruned = on_backup_host(folder, "forget", "--group-by", "host", "--keep-last", "1", "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert remote.archives(remote_settings) == [Path(second.out.strip().splitlines()[-1]).name]
    assert [r.ok for r in runs(engine, "offhost")] == [True, True]
