"""Children are spoken to as "kamu" on every page they meet, adults as "Anda"; /konseling/saya without a way in
is headed for what it shows."""

from __future__ import annotations

import re

from server.accounts.visitor import Visitor
from server.notifications import service as notifications
from tests.support.reports import ADULT_EXTRA, make_report, school_named, submit_report, user_named
from tests.support.web import post_form


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
    assert "Anda bisa mematikannya" not in page.text
    assert "browser Anda" not in page.text


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
    assert "Anda bisa mematikannya" not in settings.text
    assert "browser Anda" not in settings.text
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


# --- the report form, its receipt and the reporter's page: "kamu" for a child, "Anda" for an adult -------------

KAMU_INTRO = "Kamu boleh tidak menyebut nama. Jawab sebisanya; yang tidak kamu tahu boleh dilewati."
ANDA_INTRO = "Anda boleh tidak menyebut nama. Jawab sebisanya; yang tidak Anda tahu boleh dilewati."


def shown(html: str) -> str:
    """The page without the words it keeps hidden for another reader (the script shows them when the answer to
    "Siapa kamu?" changes)."""
    return re.sub(r'<span data-(?:speak|voice)="[a-z]+" hidden>.*?</span>', "", html, flags=re.DOTALL)


def test_the_report_form_speaks_to_someone_not_signed_in_as_kamu(client):
    page = client.get("/lapor")
    assert page.status_code == 200
    assert KAMU_INTRO in shown(page.text)
    assert ANDA_INTRO not in shown(page.text)
    assert "Siapa kamu?" in shown(page.text)
    assert "Siapa Anda?" not in shown(page.text)


def test_the_report_form_speaks_to_a_child_account_as_kamu(as_user):
    page = as_user("anak").get("/lapor")
    assert page.status_code == 200
    assert KAMU_INTRO in shown(page.text)
    assert "Kamu masuk sebagai Dimas." in shown(page.text)
    assert ANDA_INTRO not in shown(page.text)
    assert "Anda masuk sebagai" not in shown(page.text)


def test_the_report_form_speaks_to_a_teacher_and_a_parent_as_anda(as_user):
    for username in ("guru", "orangtua"):
        page = as_user(username).get("/lapor")
        assert page.status_code == 200
        assert ANDA_INTRO in shown(page.text), username
        assert "Setelah menelepon, Anda tetap boleh melanjutkan laporan ini." in shown(page.text)
        assert KAMU_INTRO not in shown(page.text)
        assert "Setelah menelepon, kamu tetap boleh" not in shown(page.text)
        assert "Kalau kamu bukan pemilik akun ini" not in shown(page.text)


def test_a_form_sent_back_with_errors_speaks_as_the_reporter_said_they_are(client):
    adult = submit_report(client, reporter_kind="teacher", child_words="", **ADULT_EXTRA).response
    assert adult.status_code == 422
    assert ANDA_INTRO in shown(adult.text)
    assert KAMU_INTRO not in shown(adult.text)
    child = submit_report(client, reporter_kind="friend", child_words="").response
    assert child.status_code == 422
    assert KAMU_INTRO in shown(child.text)
    assert ANDA_INTRO not in shown(child.text)


def test_the_receipt_speaks_as_the_reporter_said_they_are(client):
    child = submit_report(client, reporter_kind="child").response
    assert child.status_code == 200
    assert "Laporanmu sudah kami terima" in child.text
    assert "Laporan Anda" not in child.text
    adult = submit_report(client, reporter_kind="parent", **ADULT_EXTRA).response
    assert adult.status_code == 200
    assert "<h1>Laporan Anda sudah kami terima</h1>" in adult.text
    assert "Dengan keduanya Anda bisa melihat kabar laporan Anda" in adult.text
    assert "Laporanmu sudah kami terima" not in adult.text
    assert "kepadamu" not in adult.text
    assert "menyakitimu" not in adult.text


def test_an_adult_code_holder_reads_anda_on_the_report_page_and_their_messages_are_marked_anda(client):
    sent = submit_report(client, reporter_kind="other", **ADULT_EXTRA)
    post_form(client, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek")
    post_form(client, "/cek/laporan/pesan", {"message": "Saya tetangganya."}, token_from="/cek/laporan")
    page = client.get("/cek/laporan")
    assert page.status_code == 200
    assert "Anda bisa mematikannya kapan saja." in page.text
    assert '<p class="message__meta">Anda · ' in page.text
    assert "Kamu bisa mematikannya" not in page.text
    assert '<p class="message__meta">Kamu · ' not in page.text


# --- a teacher's form starts from what her account knows ---------------------------------------------------


def test_a_teachers_form_has_her_school_and_four_steps(as_user, db):
    school = school_named(db, "SMP Negeri 1 Banjarbaru")
    page = as_user("guru").get("/lapor")
    assert page.status_code == 200
    assert re.search(rf'<option value="{school.id}" selected>SMP Negeri 1 Banjarbaru</option>', page.text)
    assert re.search(rf'<option value="{school.district_id}" selected>', page.text)
    assert "Bukan Guru BK Sari yang menulis, atau kirim tanpa akun?" in page.text
    assert sorted(set(re.findall(r'data-step="(\d)"', page.text))) == ["1", "2", "3", "4"]
    assert 'id="step-who"' not in page.text
    # Others still answer "who" on a step of its own.
    assert 'id="step-who"' in as_user("orangtua").get("/lapor").text


def test_a_teachers_form_remembers_her_last_class_and_way_to_be_contacted_from_her_account(as_user, app, db):
    teacher = user_named(db, "guru")
    make_report(app, db, user=teacher, reporter_kind="teacher", student_name="Rina", student_class="7B",
                contact_method="whatsapp", contact_detail="0812 3456 7890", contact_safe_time="jam 10",
                **ADULT_EXTRA)
    make_report(app, db, user=teacher, reporter_kind="teacher", **ADULT_EXTRA)  # named no class this time
    page = as_user("guru").get("/lapor")
    assert page.status_code == 200
    assert re.search(r'name="student_class"[^>]*value="7B"', page.text)
    assert re.search(r'value="app"[^>]*checked', page.text)  # her last report asked for the app
    # Sent without her account: not hers to remember, and nobody else's form shows it.
    make_report(app, db, user=teacher, reporter_kind="teacher", student_name="Budi", student_class="9C",
                send_as="anonymous", **ADULT_EXTRA)
    again = as_user("guru").get("/lapor")
    assert re.search(r'name="student_class"[^>]*value="7B"', again.text)
    assert "9C" not in again.text
    assert "7B" not in as_user("orangtua").get("/lapor").text


def test_the_notification_list_speaks_to_a_code_holder_as_they_said_they_are():
    assert notifications.speaks_to_a_child(Visitor(case_report_id=1, case_reporter_kind="friend"))
    assert not notifications.speaks_to_a_child(Visitor(case_report_id=1, case_reporter_kind="parent"))
