"""Children are spoken to as "kamu" on every page they meet, adults as "Anda"; /konseling/saya without a way in
is headed for what it shows."""

from __future__ import annotations

import re

from server.notifications import service as notifications
from tests.conftest import post_form
from tests.reports.conftest import ADULT_EXTRA, make_report, submit_report, user_named


def h1(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html, re.DOTALL).group(1)


def test_it_heads_konseling_saya_without_a_code_as_the_schedule_it_shows(client):
    mine = client.get("/konseling/saya")
    assert mine.status_code == 200
    assert h1(mine.text) == "Jadwal saya"
    assert h1(client.get("/konseling").text) == "Minta konseling"


def test_it_speaks_to_a_child_code_holder_as_kamu_on_their_report_page(client):
    sent = submit_report(client, reporter_kind="child")
    post_form(client, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek")
    page = client.get("/cek/laporan")
    assert page.status_code == 200
    assert "Kamu bisa mematikannya kapan saja." in page.text
    assert "pengaturan situs browsermu." in page.text
    assert "Anda bisa mematikannya" not in page.text and "browser Anda" not in page.text


def test_it_speaks_to_a_teacher_as_anda_on_her_report_page(app, db, as_user):
    report = make_report(app, db, user=user_named(db, "guru"), reporter_kind="teacher", **ADULT_EXTRA).report
    page = as_user("guru").get(f"/laporan-saya/{report.id}")
    assert page.status_code == 200
    assert "Anda bisa mematikannya kapan saja." in page.text
    assert "Kamu bisa mematikannya" not in page.text


def test_it_speaks_to_a_child_as_kamu_on_the_notification_pages(as_user):
    child = as_user("anak")
    settings = child.get("/notifikasi/pengaturan")
    assert settings.status_code == 200
    assert "Kamu bisa mematikannya kapan saja." in settings.text
    assert "Anda bisa mematikannya" not in settings.text and "browser Anda" not in settings.text
    assert "Kamu belum mengirim laporan." in child.get("/laporan-saya").text


def test_it_speaks_to_a_parent_as_anda_on_the_notification_pages(as_user):
    parent = as_user("orangtua")
    assert "Anda bisa mematikannya kapan saja." in parent.get("/notifikasi/pengaturan").text
    assert "Anda belum mengirim laporan." in parent.get("/laporan-saya").text


def test_it_describes_notifications_in_the_persons_voice():
    assert notifications.describe("appointment_confirmed", kamu=True) == "Jadwal konselingmu sudah dikonfirmasi."
    assert notifications.describe("appointment_confirmed") == "Jadwal konseling Anda sudah dikonfirmasi."
    assert notifications.describe("reminder_24h", kamu=True) == "Pengingat: jadwal konselingmu segera tiba."
    assert notifications.describe("case_status", kamu=True) == "Ada kabar baru tentang laporanmu."
    assert notifications.describe("unknown", kamu=True) == "Ada kabar baru untukmu."
    for kinds in ("appointment_confirmed", "appointment_declined", "appointment_moved", "case_status", "reminder_1h"):
        assert "Anda" not in notifications.describe(kinds, kamu=True)


def test_it_lists_a_childs_notifications_as_kamu(app, db, as_user):
    from server.notifications import outbox
    child = user_named(db, "anak")
    outbox.enqueue(db, "case_status", url="/laporan-saya", topic="t", user_ids=[child.id], object_type="report",
                   object_id=1)
    db.commit()
    page = as_user("anak").get("/notifikasi/")
    assert page.status_code == 200
    assert "Ada kabar baru tentang laporanmu." in page.text
