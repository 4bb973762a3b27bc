"""The archive: unreadable without the identity, and nothing of it ever written to disk in the clear."""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys
import tarfile
from pathlib import Path

import pyrage
import pytest
from pyrage import x25519

from server.backups.archive import read_identities, write_identity
from tests.support.backups import PHONE, WORDS, fill


def archive_of(ran) -> Path:
    assert ran.code == 0, ran.err
    return Path(ran.out.strip().splitlines()[-1])


def test_backup_key_writes_a_private_identity_once_and_prints_its_recipient(bintang, settings, tmp_path):
    path = tmp_path / "id.txt"
    ran = bintang(settings, "backup-key", str(path))
    assert ran.code == 0
    recipient = ran.out.strip().splitlines()[-1]
    assert recipient.startswith("age1")
    assert "BACKUP_RECIPIENTS" in ran.out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(read_identities(path)[0].to_public()) == recipient
    before = path.read_text()
    again = bintang(settings, "backup-key", str(path))
    assert again.code == 1
    assert "already exists: an identity is never overwritten" in again.err
    assert path.read_text() == before


def test_the_archive_holds_no_word_or_number_and_opens_only_with_the_identity(bintang, settings, app, db, key,
                                                                              tmp_path):
    fill(db, settings, 20)
    archive = archive_of(bintang(settings, "backup"))
    data = archive.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    for plain in (WORDS.encode(), PHONE.encode(), b"SQLite format 3", b"manifest.json", b"vapid"):
        assert plain not in data

    # What the grep would have found: decrypted with the identity, the database holds the words and the number.
    plaintext = pyrage.decrypt(data, read_identities(key.identity))
    with tarfile.open(fileobj=io.BytesIO(plaintext)) as tar:
        names = tar.getnames()
        database = gzip.decompress(b"".join(tar.extractfile(name).read() for name in names
                                            if name.startswith("database/")))
    assert names[0] == "manifest.json"
    assert "secrets/vapid-private-key.txt" in names
    assert WORDS.encode() in database
    assert PHONE.encode() in database

    # Another identity, or none, opens nothing.
    other = tmp_path / "someone-else.txt"
    write_identity(other)
    refused = bintang(settings, "backup", "verify", str(archive), "--identity", str(other))
    assert refused.code == 1
    assert "the identity does not open" in refused.err
    assert "encrypted to other recipients" in refused.err
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(data, [x25519.Identity.generate()])
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(data, [])


def test_an_archive_for_several_recipients_opens_with_each(bintang, settings, app, db, key, tmp_path):
    second = tmp_path / "second.txt"
    both = settings.__class__(**{**settings.__dict__, "backup_recipients": (key.recipient, write_identity(second))})
    archive = archive_of(bintang(both, "backup"))
    for identity in (key.identity, second):
        ran = bintang(both, "backup", "verify", str(archive), "--identity", str(identity))
        assert ran.code == 0, ran.err
        assert "verified" in ran.out


_watch: dict[str, list] = {}


def _audit(event: str, args: tuple) -> None:
    if "opened" not in _watch:
        return
    if event == "open":
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writes and isinstance(path, (str, bytes, os.PathLike)):
            _watch["opened"].append(os.fsdecode(path))
    elif event == "sqlite3.connect":  # SQLite opens its files itself, past the "open" event
        _watch["sqlite"].append(os.fsdecode(args[0]))
    elif event == "subprocess.Popen":
        _watch["commands"].append([os.fsdecode(a) for a in args[1]])


@pytest.mark.both_databases
def test_no_plain_file_is_written_while_a_backup_runs(bintang, settings, app, db, tmp_path):
    """Every file any Python code opens for writing during the backup, and every program it starts, is seen (an
    audit hook); the folders it could write to are listed before and after."""
    fill(db, settings, 20)
    folders = [settings.backup_dir, settings.data_dir, tmp_path]  # (the machine's /tmp is shared: the hook sees it)
    before = {p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file()}
    if not getattr(sys, "_bintang_backup_audit", False):
        sys.addaudithook(_audit)
        sys._bintang_backup_audit = True
    _watch.update(opened=[], commands=[], sqlite=[])
    try:
        archive = archive_of(bintang(settings, "backup", "--no-remote"))
        opened, commands, databases = _watch["opened"], _watch["commands"], _watch["sqlite"]
    finally:
        _watch.clear()
    partial = archive.with_name("." + archive.name + ".partial")
    assert opened == [str(partial)]
    live = settings.database_url.removeprefix("sqlite:///")
    assert set(databases) <= {live, ":memory:"}
    if settings.database_url.startswith("sqlite"):
        assert ":memory:" in databases  # the snapshot went into memory
    for command in commands:
        assert Path(command[0]).name == "pg_dump"
        assert not any(a in ("-f", "--file") or a.startswith("--file=")
                                                            for a in command)
    after = {p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file()}
    assert sorted(after - before) == [archive]
