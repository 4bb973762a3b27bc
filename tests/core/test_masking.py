"""Masking of personal data in free text (server/privacy/masking.py): placeholders, the corpus aims, log lines."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bench.masking import load, score
from server.privacy.masking import MaskingFilter, mask
from tests.servers import run_to_end

# One line for the app's log and the worker's: a NIK, a phone number, an e-mail address and a name in one.
LEAKY = "laporan gagal: nama sy Rina Marlina, NIK 6372011508100001, hp 0812-3456-7890, email rina.m@gmail.com"


@pytest.mark.parametrize(("text", "masked"), [
    ("nama sy Rina Marlina, hp 0812 3456 7890", "nama sy [NAMA], hp [TELEPON]"),
    ("ulun Ijah tinggal di jl. Kenanga no 5 rt 03 rw 02", "ulun [NAMA] tinggal di [ALAMAT]"),
    ("NIK anak 6372 0115 0810 0001 lahir 15-08-2010", "NIK anak [NIK] lahir [TANGGAL LAHIR]"),
    ("wa ke +62 812 9876 5432 atau rina.m@gmail.com", "wa ke [TELEPON] atau [EMAIL]"),
    ("kmrn paman Darto mukul adikku", "kmrn paman [NAMA] mukul adikku"),
    ("ibu tirinya Marni sering nyiram air panas", "ibu tirinya [NAMA] sering nyiram air panas"),
    # What a report is about stays readable: no names, numbers or places of people in it.
    ("Sy takut pulang, Tolong bantu. Kemarin dia dipukul pakai sapu di rumah", 
     "Sy takut pulang, Tolong bantu. Kemarin dia dipukul pakai sapu di rumah"),
    ("jalan ke sekolah dia dipalak kakak kelas", "jalan ke sekolah dia dipalak kakak kelas"),
    ("GET /kasus/12 200 3.1ms", "GET /kasus/12 200 3.1ms"),
    ("", ""),
])
def test_mask_replaces_personal_data_with_placeholders(text: str, masked: str) -> None:
    assert mask(text) == masked


def test_the_corpus_holds_the_recall_aims_for_nik_phone_and_email() -> None:
    sentences = load()
    assert len(sentences) >= 200
    result = score(sentences)
    for kind in ("NIK", "TELEPON", "EMAIL"):
        assert result.marked[kind] >= 15, kind
        assert result.recall(kind) >= 0.98, (kind, [m for m in result.misses if m[0] == kind])
    for kind in ("NAMA", "ALAMAT"):
        assert result.recall(kind) >= 0.85, (kind, [m for m in result.misses if m[0] == kind])


def test_the_filter_masks_the_message_its_arguments_and_the_traceback() -> None:
    record = logging.LogRecord("bintang.x", logging.ERROR, __file__, 1, "gagal untuk %s", ("NIK 6372011508100001",),
                               None)
    try:
        raise ValueError("nomor 081234567890 salah")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert MaskingFilter().filter(record) is True  # the record factory masks with the same function
    formatted = logging.Formatter().format(record)
    assert "gagal untuk NIK [NIK]" in formatted
    assert "ValueError: nomor [TELEPON] salah" in formatted
    assert "6372011508100001" not in formatted
    assert "081234567890" not in formatted


def test_every_log_line_of_the_app_is_masked(tmp_path) -> None:
    # The app as `bintang run` makes it, in a process of its own: whatever replaces the root logger's handlers after
    # create_app set its logging up, the line it writes (JSON on stdout) must still be masked.
    code = ("import logging; from server.app import create_app; create_app(); "
            f"logging.getLogger('bintang.reports').error({LEAKY!r})")
    done = run_to_end([sys.executable, "-c", code], env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    [line] = [json.loads(line) for line in done.stdout.splitlines() if "laporan gagal" in line]
    assert line["message"] == "laporan gagal: nama sy [NAMA], NIK [NIK], hp [TELEPON], email [EMAIL]"
    assert set(line) == {"time", "level", "logger", "message"}
    for value in ("Rina", "6372011508100001", "0812-3456-7890", "rina.m@gmail.com"):
        assert value not in done.stdout + done.stderr


def _env(tmp_path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
            "SECRET_KEY": "k" * 40}


def test_every_log_line_of_the_worker_is_masked(tmp_path) -> None:
    # `bintang worker` in a process of its own (JSON on stdout, as in production), its loop replaced by one leaky line.
    code = ("import logging; from server import cli, worker; "
            f"worker.run_until = lambda *_: logging.getLogger('bintang.worker').warning({LEAKY!r}); "
            "cli.cmd_worker(None)")
    done = run_to_end([sys.executable, "-c", code], env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    [line] = [json.loads(line) for line in done.stdout.splitlines() if "laporan gagal" in line]
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING", "bintang.worker", "laporan gagal: nama sy [NAMA], NIK [NIK], hp [TELEPON], email [EMAIL]")
    assert "6372011508100001" not in done.stdout + done.stderr
