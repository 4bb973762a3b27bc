"""What the app writes to disk is readable by its own user only: DATA_DIR, the SQLite database (and its WAL
files), the generated VAPID key."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

from sqlalchemy import text

from server.db import engine_for
from server.notifications.push import KEY_FILE, load_vapid
from server.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_dir_and_the_sqlite_database_are_the_app_users_only(tmp_path):
    old_umask = os.umask(0o022)
    try:
        settings = replace(Settings(), data_dir=tmp_path / "var", database_url="")
        engine = engine_for(settings)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        assert mode(settings.data_dir) == 0o700
        files = sorted(settings.data_dir.iterdir())
        assert settings.data_dir / "bintang.sqlite3" in files
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        engine.dispose()
    finally:
        os.umask(old_umask)


def test_an_existing_world_readable_data_dir_and_database_are_closed_at_start(tmp_path):
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    (data_dir / "bintang.sqlite3").touch(mode=0o644)
    os.chmod(data_dir / "bintang.sqlite3", 0o644)
    engine_for(replace(Settings(), data_dir=data_dir, database_url="")).dispose()
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "bintang.sqlite3") == 0o600


def test_the_generated_vapid_key_and_its_folder_are_the_app_users_only(tmp_path):
    old_umask = os.umask(0o022)
    try:
        settings = replace(Settings(), data_dir=tmp_path / "keys", vapid_private_key="")
        load_vapid(settings)
        assert mode(settings.data_dir) == 0o700
        assert mode(settings.data_dir / KEY_FILE) == 0o600
    finally:
        os.umask(old_umask)
