"""The check-in and rating pages speak to a child as "kamu" and to an adult as "Anda": by the account's role, or
for a code holder by what they said they are in their report (accounts.visitor.voice)."""

from __future__ import annotations

from server.reports.models import Report
from tests.support.aftercare import answer, attended, due_check_in, rate


def test_the_rating_page_speaks_to_a_parent_as_anda(as_user, db):
    appointment = attended(db, "orangtua")
    parent = as_user("orangtua")
    page = parent.get(f"/penilaian/{appointment.id}")
    assert page.status_code == 200
    assert "<h1>Bagaimana sesi konseling Anda?</h1>" in page.text
    assert "Jawaban Anda tanpa nama" in page.text
    assert "Bagaimana perasaan Anda setelah sesi ini?" in page.text
    assert "Ada yang ingin Anda sampaikan?" in page.text
    for kamu in ("konselingmu", "Jawabanmu", "perasaanmu", "ingin kamu sampaikan"):
        assert kamu not in page.text, kamu
    thanks = rate(parent, appointment.id, {"face": "baik", "safe": "yes"})
    assert thanks.status_code == 200
    assert "Penilaian Anda sudah kami terima" in thanks.text
    assert "Penilaianmu" not in thanks.text


def test_the_rating_page_speaks_to_a_child_as_kamu(as_user, db):
    appointment = attended(db, "anak")
    child = as_user("anak")
    page = child.get(f"/penilaian/{appointment.id}")
    assert page.status_code == 200
    assert "<h1>Bagaimana sesi konselingmu?</h1>" in page.text
    assert "Jawabanmu tanpa nama" in page.text
    assert "Ada yang ingin kamu sampaikan?" in page.text
    for anda in ("konseling Anda", "Jawaban Anda", "perasaan Anda", "ingin Anda sampaikan"):
        assert anda not in page.text, anda
    thanks = rate(child, appointment.id, {"face": "baik", "safe": "yes"})
    assert thanks.status_code == 200
    assert "Penilaianmu sudah kami terima" in thanks.text


def test_a_check_in_speaks_to_a_child_code_holder_as_kamu(client, db, pinned_clock):
    _report_id, check_in = due_check_in(client, db, pinned_clock)  # a child's report
    page = client.get(f"/pemantauan/{check_in.id}")
    assert page.status_code == 200
    assert "Bagaimana kabarmu sekarang?" in page.text
    assert "Kalau kamu butuh bantuan sekarang" in page.text
    assert "kabar Anda" not in page.text
    assert "Kalau Anda butuh bantuan" not in page.text


def test_a_check_in_speaks_to_a_parent_code_holder_as_anda(client, db, pinned_clock):
    report_id, check_in = due_check_in(client, db, pinned_clock)
    report = db.get(Report, report_id)
    report.reporter_kind = "parent"  # the same case, reported by a parent without an account
    db.add(report)
    db.commit()
    page = client.get(f"/pemantauan/{check_in.id}")
    assert page.status_code == 200
    assert "Halo! Kami ingin tahu kabar Anda. Satu pertanyaan saja." in page.text
    assert "Bagaimana kabar Anda sekarang?" in page.text
    assert "Hanya konselor yang membaca pesan Anda." in page.text
    assert "kabarmu" not in page.text
    assert "pesanmu" not in page.text
    assert "Kalau kamu" not in page.text
    thanks = answer(client, check_in.id, {"face": "tidak_baik", "message": ""})
    assert thanks.status_code == 200
    assert "Konselor akan menghubungi Anda paling lambat besok" in thanks.text
    assert "menghubungimu" not in thanks.text
    assert "Kalau kamu dalam bahaya" not in thanks.text
    again = answer(client, check_in.id, {"face": "baik", "message": ""})
    assert again.status_code == 409
    assert "Anda sudah menjawab pesan ini." in again.text
