"""/statistik/ekspor: the cases of a period as CSV or XLSX in an AES-encrypted zip; de-identified unless a
supervisor asks for identities with a reason; formulas neutralised; every export audited."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import pytest
import pyzipper

from server.statistics import export as export_module
from server.statistics.export import safe_cell
from tests.support.clock import PINNED_NOW
from tests.support.reports import audit_entries, district_named, fresh, make_report, set_state
from tests.support.statistics import PASSWORD, a_report, export, table, unzip, wita


def a_named_case(app, db) -> int:
    report = make_report(app, db, reporter_kind="teacher", how_learned="Ibu guru melihat memar di lengan.",
                         child_knows="yes", student_name="Budi Santoso", student_class="5A", contact_method="phone",
                         contact_detail="081234567890", child_words="Ayah tiri memukul aku pakai ikat pinggang.",
                         categories=["physical"], district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    set_state(db, report.id, team_district_id=report.district_id)
    return report.id


def test_a_de_identified_export_holds_no_names_contacts_or_words(app, db, as_user):
    report_id = a_named_case(app, db)
    response = export(as_user("supervisor"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="kasus-2026.zip"'
    assert response.headers["cache-control"] == "no-store"
    name, data = unzip(response.content)
    assert name == "kasus-2026.csv"
    text = data.decode("utf-8-sig")
    for secret in ("Budi", "Santoso", "81234567890", "1234-5678", "ikat pinggang", "memar", "5A"):
        assert secret not in text
    [row] = table(response.content)
    assert row["referensi"] == fresh(db, report_id).reference
    assert (row["kategori"], row["bentuk_kekerasan_simfoni"], row["kecamatan"], row["status"]) == (
        "physical", "fisik", "Banjarbaru Utara", "submitted")
    assert "nama_murid" not in row
    assert "kontak" not in row
    [entry] = audit_entries(db, "export.created")
    assert json.loads(entry.detail) == {"identity": False, "kind": "csv", "period": "2026", "rows": 1}


def test_the_zip_opens_only_with_its_password(app, db, as_user):
    a_named_case(app, db)
    content = export(as_user("supervisor")).content
    with pyzipper.AESZipFile(io.BytesIO(content)) as archive:
        [name] = archive.namelist()
        with pytest.raises(RuntimeError):
            archive.read(name)
        archive.setpassword(b"kata-sandi-yang-salah")
        with pytest.raises(RuntimeError):
            archive.read(name)


def test_nothing_is_left_behind_in_data_dir(app, db, as_user, settings):
    a_named_case(app, db)
    export(as_user("supervisor")).read()
    assert list(Path(settings.data_dir, "exports").iterdir()) == []


def test_files_a_stopped_export_left_behind_are_removed_by_the_next(app, db, as_user, settings):
    folder = Path(settings.data_dir, "exports")
    folder.mkdir(parents=True)
    old, recent, plain = folder / "ekspor-old.zip", folder / "ekspor-recent.zip", folder / "ekspor-plain.csv"
    for path in (old, recent, plain):
        path.write_bytes(b"PK")
    hour_ago = PINNED_NOW.timestamp() - 3601
    os.utime(old, (hour_ago, hour_ago))
    for path in (recent, plain):
        os.utime(path, (PINNED_NOW.timestamp(), PINNED_NOW.timestamp()))
    export(as_user("supervisor")).read()
    # A zip another export may still be writing stays; a plain table (from before exports were encrypted while
    # written) goes at once.
    assert sorted(p.name for p in folder.iterdir()) == ["ekspor-recent.zip"]


def test_a_supervisor_may_export_identities_with_a_reason_which_is_audited(app, db, as_user):
    a_named_case(app, db)
    response = export(as_user("supervisor"), identitas="1", alasan="Permintaan Unit PPA Polres untuk sidang")
    assert response.status_code == 200
    [row] = table(response.content)
    assert (row["nama_murid"], row["kontak"]) == ("Budi Santoso", "0812-3456-7890")  # the national form
    [entry] = audit_entries(db, "export.created")
    assert json.loads(entry.detail)["reason"] == "Permintaan Unit PPA Polres untuk sidang"
    assert json.loads(entry.detail)["identity"] is True


def test_identities_without_a_reason_are_refused_and_what_was_typed_is_kept(app, db, as_user):
    a_named_case(app, db)
    response = export(as_user("supervisor"), identitas="1", alasan="", bulan="11")
    assert response.status_code == 422
    assert "Tulis alasan mengekspor data dengan identitas." in response.text
    assert '<option value="11" selected>' in response.text
    assert 'name="identitas" value="1" checked' in response.text
    assert PASSWORD not in response.text
    assert audit_entries(db, "export.created") == []


def test_a_counselor_cannot_export_identities(app, db, as_user):
    a_named_case(app, db)
    client = as_user("konselor")
    assert 'name="identitas"' not in client.get("/statistik/ekspor").text
    response = export(client, identitas="1", alasan="Ingin tahu")
    assert response.status_code == 403
    assert "Budi" not in response.text
    assert audit_entries(db, "export.created") == []


def test_a_counselor_exports_only_their_teams_cases(app, db, as_user):
    utara = a_named_case(app, db)
    cempaka = district_named(db, "Cempaka").id
    a_report(db, created_at=wita(2026, 5, 5, 10), categories=["neglect"], district_id=cempaka,
             team_district_id=cempaka)
    rows = table(export(as_user("konselor")).content)
    assert [row["referensi"] for row in rows] == [fresh(db, utara).reference]
    assert len(table(export(as_user("supervisor")).content)) == 2


@pytest.mark.parametrize("password", ["", "pendek", "sebelas-ch"])
def test_a_short_password_is_refused_and_the_rest_is_kept(password, app, db, as_user):
    response = export(as_user("supervisor"), kata_sandi=password, format="xlsx", tahun="2025")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "Kata sandi berkas minimal 12 karakter." in response.text
    assert '<option value="xlsx" selected>' in response.text
    assert 'value="2025"' in response.text
    assert audit_entries(db, "export.created") == []


def test_a_formula_in_a_cell_is_shown_never_run(app, db, as_user):
    a_report(db, created_at=wita(2026, 2, 2, 10), categories=["other"], student_name="=HYPERLINK(\"http://x\")",
             contact_detail="+6281", consent_by="@SUM(A1)")
    [row] = table(export(as_user("supervisor"), identitas="1", alasan="Uji").content)
    assert (row["nama_murid"], row["kontak"], row["persetujuan_oleh"]) == (
        "'=HYPERLINK(\"http://x\")", "'+6281", "'@SUM(A1)")


@pytest.mark.parametrize(("value", "shown"), [("=1+1", "'=1+1"), ("+62", "'+62"), ("-2", "'-2"), ("@A1", "'@A1"),
                                          ("\tx", "'\tx"), ("\rx", "'\rx"), ("Budi", "Budi"), ("", ""), (None, ""),
                                          # Full-width look-alikes, which a spreadsheet may read as the real ones.
                                          ("＝1+1", "'＝1+1"), ("＋62", "'＋62"), ("－2", "'－2"), ("＠A1", "'＠A1"),
                                          ("﹦1", "'﹦1"), ("Ｂudi", "Ｂudi")])
def test_safe_cell(value, shown):
    assert safe_cell(value) == shown


def test_an_xlsx_export_is_a_workbook_in_the_zip(app, db, as_user):
    a_named_case(app, db)
    response = export(as_user("supervisor"), format="xlsx")
    name, data = unzip(response.content)
    assert name == "kasus-2026.xlsx"
    assert data[:2] == b"PK"
    with pyzipper.ZipFile(io.BytesIO(data)) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
        strings = workbook.read("xl/sharedStrings.xml").decode()
    assert "Budi" not in sheet + strings
    assert "Banjarbaru Utara" in strings
    assert "<f>" not in sheet


@pytest.mark.parametrize("username", ["guru", "orangtua", "anak"])
def test_reporters_cannot_export(username, app, db, as_user):
    a_named_case(app, db)
    client = as_user(username)
    assert client.get("/statistik/ekspor").status_code == 403
    assert export(client).status_code == 403
    assert audit_entries(db, "export.created") == []


def test_signed_out_nobody_can_export(app, db, make_client):
    a_named_case(app, db)
    client = make_client()
    assert client.get("/statistik/ekspor", follow_redirects=False).headers["location"] == "/masuk?lanjut=/statistik/ekspor"
    assert export(client).status_code in (401, 403)
    assert audit_entries(db, "export.created") == []


@pytest.mark.both_databases
def test_a_period_of_many_chunks_is_exported_whole_and_in_order(app, db, as_user, monkeypatch):
    monkeypatch.setattr("server.statistics.export.CHUNK", 2)
    made = [a_report(db, created_at=wita(2026, 1, day, 10), categories=["other"], perpetrators=("guru",) * (day % 2),
                     services=("pengaduan",)) for day in range(1, 8)]
    rows = table(export(as_user("supervisor")).content)
    assert [row["referensi"] for row in rows] == [report.reference for report in made]
    assert [row["jumlah_pelaku"] for row in rows] == ["1", "0", "1", "0", "1", "0", "1"]
    assert {row["layanan"] for row in rows} == {"pengaduan"}
    assert json.loads(audit_entries(db, "export.created")[0].detail)["rows"] == 7


def test_a_password_longer_than_128_characters_is_refused(app, db, as_user):
    response = export(as_user("supervisor"), kata_sandi="k" * 129)
    assert response.status_code == 422
    assert "Kata sandi berkas paling banyak 128 karakter." in response.text
    assert audit_entries(db, "export.created") == []


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_no_plain_table_is_ever_written_to_disk_during_an_export(kind, app, db, as_user, settings, monkeypatch,
                                                                 tmp_path):
    """Every file in DATA_DIR/exports and the temporary directory is read after each row is handed over: none
    may hold a row's text. A process that dies mid-export leaves nothing readable behind."""
    monkeypatch.setattr("server.statistics.export.CHUNK", 50)
    spare = tmp_path / "tmp"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    for day in range(1, 11):
        for n in range(10):
            a_report(db, created_at=wita(2026, 3, day, 10), categories=["physical"], student_name=f"Rahasia {day}-{n}")
    folders = [Path(settings.data_dir, "exports"), spare]
    looked: list[int] = []
    plain: list[str] = []
    rows = export_module.rows

    def watched_rows(*args, **kwargs):
        for line in rows(*args, **kwargs):
            yield line
            files = [path for folder in folders if folder.is_dir() for path in folder.rglob("*") if path.is_file()]
            looked.append(len(files))
            plain.extend(path.name for path in files if path.suffix != ".zip" or b"Rahasia" in path.read_bytes()
                         or b"referensi" in path.read_bytes())

    monkeypatch.setattr("server.statistics.export.rows", watched_rows)
    response = export(as_user("supervisor"), format=kind, identitas="1", alasan="Uji berkas")
    assert response.status_code == 200
    assert plain == []
    assert len(looked) == 10 * 10 + 1
    assert max(looked) == 1
    _name, data = unzip(response.content)
    if kind == "csv":
        assert len(table(response.content)) == 10 * 10
        assert b"Rahasia 10-9" in data
    else:
        with pyzipper.ZipFile(io.BytesIO(data)) as workbook:
            assert "Rahasia 10-9" in workbook.read("xl/sharedStrings.xml").decode() + workbook.read(
                "xl/worksheets/sheet1.xml").decode()
    assert list(Path(settings.data_dir, "exports").iterdir()) == []
