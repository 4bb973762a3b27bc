"""Numbers no row can have and dates no one will book are answered in plain words (404/422), never with a
database error, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from server.appointments.slots import parse_slot, parse_start
from server.forms import day_within_range, row_id
from tests.support.appointments import book, counseling, form_post
from tests.support.reports import case_post, district_named, fresh, make_report

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL

HUGE = "99999999999999999999"
NOT_FOUND = "Halaman tidak ditemukan"


@pytest.fixture
def supervisor(as_user):
    return as_user("supervisor")


@pytest.mark.parametrize("path", [f"/kasus/{HUGE}", f"/kasus/{2**63}", f"/laporan-saya/{HUGE}",
                                  f"/jadwal/{HUGE}", f"/konseling/{HUGE}", f"/admin/pengguna/{HUGE}",
                                  # Within the appointment page's own 12-digit pattern, past the integer columns.
                                  "/konseling/2147483648", "/konseling/2147483648.ics", "/konseling/999999999999"])
def test_an_id_no_row_can_have_is_not_found(supervisor, path):
    response = supervisor.get(path)
    assert response.status_code == 404, path
    assert NOT_FOUND in response.text


def test_a_post_to_a_case_with_such_an_id_is_not_found_and_changes_nothing(supervisor):
    response = case_post(supervisor, HUGE, "catatan", {"body": "Catatan."})
    assert response.status_code == 404
    assert NOT_FOUND in response.text


def test_a_district_id_no_row_can_have_is_refused_next_to_the_field_and_the_case_keeps_its_district(app, db,
                                                                                                    supervisor):
    utara = district_named(db, "Banjarbaru Utara")
    report = make_report(app, db, district_id=str(utara.id)).report
    response = case_post(supervisor, report.id, "triase",
                         {"urgency": "tinggi", "categories": "bullying", "district_id": HUGE})
    assert response.status_code == 422
    assert "Pilih kecamatan dari daftar." in response.text
    assert fresh(db, report.id).district_id == utara.id


@pytest.mark.parametrize("cursor", [f"0.{HUGE}.1", f"{HUGE}.0.1", f"0.0.{HUGE}", "0.-99999999999999.1"])
def test_an_inbox_cursor_out_of_range_is_not_found(supervisor, cursor):
    response = supervisor.get(f"/kasus/?setelah={cursor}")
    assert response.status_code == 404
    assert NOT_FOUND in response.text


@pytest.mark.parametrize("query", ["hari=9999-12-31", "minggu=9999-12-31", "hari=0001-01-01", "minggu=0001-01-01"])
def test_a_schedule_day_out_of_range_is_not_found(supervisor, query):
    response = supervisor.get(f"/jadwal?{query}")
    assert response.status_code == 404
    assert NOT_FOUND in response.text


def test_a_slot_at_a_far_epoch_is_refused_next_to_the_slot_question(as_user, db):
    parent = as_user("orangtua")
    service_type = counseling(db)
    response = book(parent, service_type, slot="999999999999")
    assert response.status_code == 422
    assert "Pilih salah satu waktu yang masih kosong." in response.text


def test_a_holiday_in_year_9999_is_refused_with_the_line_named(supervisor):
    response = form_post(supervisor, "/jadwal/libur", {"kind": "national", "lines": "9999-12-31, Hari Kiamat"})
    assert response.status_code == 422
    assert "Baris 1: tahun harus antara 2000 dan 2100." in response.text
    assert "9999-12-31, Hari Kiamat" in response.text  # what was typed is kept
    assert supervisor.get("/jadwal/libur/9999-12-31/hapus").status_code in (404, 405)
    removed = form_post(supervisor, "/jadwal/libur/9999-12-31/hapus", {})
    assert removed.status_code == 404
    assert NOT_FOUND in removed.text


def test_the_parsers_keep_to_their_bounds():
    assert row_id(HUGE) is None
    assert row_id("-1") is None
    assert row_id("0") is None
    assert row_id("x") is None
    assert row_id("2147483647") == 2147483647
    assert parse_slot("2@999999999999") is None
    assert parse_slot("2@-1") is None
    assert parse_start("999999999999") is None
    assert parse_start("-1") is None
    assert parse_start("2@1") is None
    assert day_within_range("9999-12-31") is None
    assert day_within_range("2027-01-01").year == 2027
