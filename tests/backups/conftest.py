"""Fixtures for the backup tests: a key pair, settings that back up into this test's folder, the `bintang`
command run in-process with this test's settings, a fresh empty database to restore into. Helpers (realistic
data to back up, reading the runs back) are in tests/support/backups.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from server import cli
from server.backups.archive import write_identity
from server.settings import Settings, from_env
from tests.support.backups import Key, Ran, environment
from tests.support.postgres import postgres_database


@pytest.fixture
def key(tmp_path: Path) -> Key:
    path = tmp_path / "keys" / "dinas-identity.txt"
    path.parent.mkdir()
    return Key(path, write_identity(path))


@pytest.fixture
def settings(settings: Settings, key: Key, tmp_path: Path) -> Settings:
    return replace(settings, backup_recipients=(key.recipient,), backup_dir_setting=str(tmp_path / "backups"))


@pytest.fixture
def bintang(monkeypatch, capsys):
    """`bintang(settings, "backup", "--to", ...)`: the command, in this process, with these settings."""

    def run(settings: Settings, *argv: str) -> Ran:
        # The command reads its settings through `from_env`; it is given these without touching the process's
        # environment, which a thread of the test (a writer during the backup) may be reading at that moment:
        # C's setenv while another thread calls getenv crashed the later-clock run (libfaketime and libpq read it).
        given = {**os.environ, **environment(settings)}
        monkeypatch.setattr(cli, "from_env", lambda environ=None: from_env(given if environ is None else environ))
        capsys.readouterr()
        try:
            cli.main(list(argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
            if isinstance(exc.code, str):
                print(exc.code, file=__import__("sys").stderr)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same kind as this test's: the new machine."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'new-machine' / 'bintang.sqlite3'}"
        return
    with postgres_database("bintang_r_") as url:
        yield url
