"""The booking and appointment pages speak to a child as "kamu" and to an adult as "Anda", never both: by the
account's role, or for a code holder by what they said they are in their report (accounts.visitor.voice)."""

from __future__ import annotations

from server.reports.models import Report
from tests.support.appointments import appointment_for, booking_page, code_holder, counseling

KAMU = ("Jadwalmu yang akan datang", "Waktu yang kamu pilih kami simpan",
        "laporanmu", "Terkait laporan yang sudah kamu kirim")
ANDA = ("Jadwal Anda yang akan datang", "Waktu yang Anda pilih kami simpan",
        "laporan Anda", "Terkait laporan yang sudah Anda kirim")


def test_the_booking_page_speaks_to_a_child_as_kamu_only(as_user, db):
    service_type = counseling(db)
    html = booking_page(as_user("anak"), service_type)
    assert "Waktu yang kamu pilih kami simpan sampai konselor menjawab." in html
    for words in ANDA:
        assert words not in html, words


def test_the_booking_page_speaks_to_a_parent_and_a_teacher_as_anda_only(as_user, db):
    service_type = counseling(db)
    for username in ("orangtua", "guru"):
        html = booking_page(as_user(username), service_type)
        assert "Waktu yang Anda pilih kami simpan sampai konselor menjawab." in html, username
        for words in KAMU:
            assert words not in html, (username, words)


def test_the_booking_page_speaks_to_a_code_holder_as_they_said_they_are(make_client, db):
    service_type = counseling(db)
    client = make_client()
    report_id = code_holder(client, db)  # a child's report
    html = booking_page(client, service_type)
    assert "Permintaan ini tersimpan bersama laporanmu. Kabarnya tampil di halaman jadwal ini; kamu tidak perlu akun." in html
    assert "laporan Anda" not in html
    assert "Anda tidak perlu akun" not in html
    report = db.get(Report, report_id)
    report.reporter_kind = "parent"  # the same page for a parent who reported without an account
    db.add(report)
    db.commit()
    html = booking_page(client, service_type)
    assert "Permintaan ini tersimpan bersama laporan Anda. Kabarnya tampil di halaman jadwal ini; Anda tidak perlu akun." in html
    for words in KAMU:
        assert words not in html, words


def test_an_appointment_waiting_for_the_counselor_speaks_to_the_parent_as_anda(as_user, db):
    appointment = appointment_for(db, counseling(db, needs_confirmation=True), username="orangtua")
    page = as_user("orangtua").get(f"/konseling/{appointment.id}")
    assert page.status_code == 200
    assert "Waktu ini kami simpan untuk Anda sampai" in page.text
    assert "untukmu" not in page.text
    assert "Kamu bisa mematikannya" not in page.text


def test_an_appointment_waiting_for_the_counselor_speaks_to_the_child_as_kamu(as_user, db):
    appointment = appointment_for(db, counseling(db, needs_confirmation=True), username="anak")
    page = as_user("anak").get(f"/konseling/{appointment.id}")
    assert page.status_code == 200
    assert "Waktu ini kami simpan untukmu sampai" in page.text
    assert "untuk Anda sampai" not in page.text
    assert "Anda bisa mematikannya" not in page.text
