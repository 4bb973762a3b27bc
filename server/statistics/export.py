"""Writing an export: the period's reports read in chunks from a server-side cursor and written row by row
straight into the entry of an AES-encrypted zip in DATA_DIR/exports, which lives only until it has been sent. The
plain table never exists on disk: not as a file, not as a temporary file of the spreadsheet writer. A CSV export
holds one chunk of rows at a time; an XLSX one builds the workbook in memory (xlsxwriter's in_memory), since its
constant-memory mode keeps the rows in plain temporary files.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyzipper
import xlsxwriter
from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from server import clock
from server.accounts.models import District, School, Village
from server.i18n import LOCAL, local
from server.privacy import phone
from server.reports import simfoni
from server.reports.models import CaseService, Perpetrator, Report, ReportCategory

CHUNK = 1000
# Characters a spreadsheet reads as the start of a formula (or that hide one): such a cell gets a leading '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

DEIDENTIFIED_COLUMNS = (
    "referensi", "tanggal_lapor", "tanggal_kejadian", "status", "urgensi", "kategori", "bentuk_kekerasan_simfoni",
    "kelompok_umur", "jenis_kelamin", "pendidikan", "disabilitas", "kdrt", "kecamatan", "kode_kecamatan", "tempat",
    "tim_kecamatan",
    "jam_sampai_tindak_lanjut", "tenggat_terpenuhi", "jumlah_pelaku", "hubungan_pelaku", "layanan",
    "sudah_di_simfoni",
)
# The kelurahan/desa narrows a child down further than the kecamatan: it leaves only with the identity columns.
IDENTITY_COLUMNS = ("nama_murid", "kelas", "umur", "sekolah", "kelurahan", "kode_kelurahan", "cara_dihubungi",
                    "kontak", "persetujuan_oleh")


def safe_cell(value: Any) -> str:
    """A cell's text, with a formula neutralised: a spreadsheet shows it and never runs it. The check is made on
    the NFKC form, so full-width and small look-alikes (＝ ＋ － ＠ ﹦) that a spreadsheet may read as the real
    signs are caught too; the text itself is kept as typed."""
    text = "" if value is None else str(value)
    return "'" + text if unicodedata.normalize("NFKC", text).startswith(FORMULA_STARTS) else text


def csv_text(lines: Iterable[Iterable[Any]]) -> str:
    """A small CSV (a few dozen lines of published counts) as text, every cell through safe_cell."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in lines:
        writer.writerow([safe_cell(value) for value in line])
    return out.getvalue()


@dataclass(frozen=True)
class ExportFile:
    path: Path
    rows: int


def _related(session: Session, ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]], dict[int, list[str]]]:
    """Categories, perpetrators' relationships and services of one chunk of reports: three queries a chunk."""
    categories: dict[int, list[str]] = defaultdict(list)
    relationships: dict[int, list[str]] = defaultdict(list)
    services: dict[int, list[str]] = defaultdict(list)
    for report_id, value in session.execute(select(col(ReportCategory.report_id), col(ReportCategory.category))
                                            .where(col(ReportCategory.report_id).in_(ids))
                                            .order_by(col(ReportCategory.report_id), col(ReportCategory.category))):
        categories[report_id].append(value)
    for report_id, value in session.execute(select(col(Perpetrator.report_id), col(Perpetrator.relationship))
                                            .where(col(Perpetrator.report_id).in_(ids)).order_by(col(Perpetrator.id))):
        relationships[report_id].append(value)
    for report_id, value in session.execute(select(col(CaseService.report_id), col(CaseService.kind))
                                            .where(col(CaseService.report_id).in_(ids)).order_by(col(CaseService.id))):
        services[report_id].append(value)
    return categories, relationships, services


def rows(session: Session, conditions: list[ColumnElement[bool]], *, identity: bool) -> Iterator[list[str]]:
    """The header, then one row per report, oldest first, read CHUNK rows at a time (the session's identity map
    holds loaded reports weakly, so a chunk is freed once its rows are written)."""
    yield list(DEIDENTIFIED_COLUMNS + (IDENTITY_COLUMNS if identity else ()))
    districts = {id_: (name, code or "") for id_, name, code in session.execute(
        select(col(District.id), col(District.name), col(District.code)))}
    schools = dict(session.execute(select(col(School.id), col(School.name))).all()) if identity else {}
    villages = {id_: (name, code) for id_, name, code in session.execute(
        select(col(Village.id), col(Village.name), col(Village.code)))} if identity else {}
    result = session.execute(select(Report).where(*conditions).order_by(col(Report.created_at), col(Report.id))
                             .execution_options(yield_per=CHUNK))
    for chunk in result.scalars().partitions(CHUNK):
        categories, relationships, services = _related(session, [r.id for r in chunk])
        for report in chunk:
            yield [safe_cell(value) for value in _row(report, categories[report.id], relationships[report.id],
                                                      services[report.id], districts, schools, villages,
                                                      identity=identity)]


def _named(places: dict[int, tuple[str, str]], key: int | None) -> tuple[str, str]:
    """The name and Kemendagri code of a kecamatan or kelurahan/desa by its id, or two blanks for none."""
    return places.get(key, ("", "")) if key is not None else ("", "")


def _name(names: dict[int, str], key: int | None) -> str:
    """The name of a district or school by its id, or nothing for none."""
    return names.get(key, "") if key is not None else ""


def _row(report: Report, categories: list[str], relationships: list[str], services: list[str],
         districts: dict[int, tuple[str, str]], schools: dict[int, str], villages: dict[int, tuple[str, str]], *,
         identity: bool) -> list[Any]:
    forms = [form for form in simfoni.FORMS if form in {simfoni.CATEGORY_TO_FORM.get(c, "lainnya") for c in categories}]
    hours = (round((report.first_response_at - report.created_at).total_seconds() / 3600, 1)
             if report.first_response_at else "")
    met = "" if report.first_response_at is None else (
        "ya" if report.first_response_at <= report.first_response_due_at else "tidak")
    row: list[Any] = [
        report.reference, local(report.created_at).date().isoformat(),
        report.incident_on.isoformat() if report.incident_on else "", report.status, report.urgency,
        ";".join(categories), ";".join(forms), simfoni.age_band(report.child_age),
        simfoni.GENDER_TO_SEX.get(report.child_gender, "tidak_diketahui"), report.victim_education,
        report.victim_disability, "ya" if report.in_household else "tidak", *_named(districts, report.district_id),
        report.happened_where, _named(districts, report.team_district_id)[0], hours, met, len(relationships),
        ";".join(relationships), ";".join(services), "ya" if report.entered_in_simfoni_at else "tidak",
    ]
    if identity:
        row += [report.student_name, report.student_class, report.child_age if report.child_age is not None else "",
                _name(schools, report.school_id), *_named(villages, report.village_id), report.contact_method,
                phone.shown(report.contact_detail), report.consent_by]
    return row


# An export's zip lives seconds; one older than this was left by a process that stopped mid-export (encrypted, but
# of no use to anyone).
LEFTOVER_AFTER_SECONDS = 3600


def remove_leftovers(directory: Path) -> int:
    """Delete export files a stopped process left behind: a zip after an hour (another export may be writing it
    now), and at once any other file, a plain table written by a version before exports were encrypted while
    written (nothing writes one any more)."""
    removed = 0
    if directory.is_dir():
        for path in directory.glob("ekspor-*"):
            if path.suffix != ".zip" or clock.timestamp() - path.stat().st_mtime > LEFTOVER_AFTER_SECONDS:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _new_path(directory: Path, suffix: str) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory / f"ekspor-{secrets.token_hex(12)}{suffix}"


def write_encrypted(lines: Iterable[list[str]], directory: Path, kind: str, password: str, arcname: str) -> ExportFile:
    """Write the rows, as they come, into `arcname` inside a new AES-256 encrypted zip (WinZip AES, which 7-Zip and
    Windows' tools open), made 0600 from the start; the header is not counted as a row. What reaches the disk is
    only ever encrypted, so a process that dies half-way leaves nothing readable."""
    path = _new_path(directory, ".zip")
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw, \
                pyzipper.AESZipFile(raw, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as archive:
            archive.setpassword(password.encode())
            member = archive.zipinfo_cls(arcname, date_time=clock.now().astimezone(LOCAL).timetuple()[:6])
            member.compress_type = pyzipper.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            with archive.open(member, "w") as entry:
                count = _write(lines, entry, kind)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ExportFile(path, max(count, 0))


def _write(lines: Iterable[list[str]], entry: IO[bytes], kind: str) -> int:
    count = -1
    if kind == "csv":
        out = io.TextIOWrapper(entry, encoding="utf-8-sig", newline="")
        writer = csv.writer(out)
        for count, line in enumerate(lines):  # noqa: B007 - the last count is the result, read after the loop
            writer.writerow(line)
        out.flush()
        out.detach()
    else:
        # in_memory: no temporary files (constant_memory would write the rows to plain ones). Every cell is written
        # as a string (never a formula, never a guessed number), on top of safe_cell's prefix.
        workbook = xlsxwriter.Workbook(entry, {"in_memory": True, "strings_to_formulas": False,
                                               "strings_to_numbers": False, "strings_to_urls": False})
        sheet = workbook.add_worksheet("kasus")
        for count, line in enumerate(lines):
            for column, value in enumerate(line):
                sheet.write_string(count, column, value)
        workbook.close()
    return count


def stream_and_delete(path: Path, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """The file's bytes, a chunk at a time; the file is deleted when the last chunk is out (or the download
    stops)."""
    try:
        with path.open("rb") as source:
            while chunk := source.read(chunk_size):
                yield chunk
    finally:
        path.unlink(missing_ok=True)
