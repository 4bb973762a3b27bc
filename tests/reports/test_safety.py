"""Nothing sensitive left behind (DESIGN.md §4): pages that show a report are never stored, titles are
neutral, logs never hold what a child wrote, alerts carry no details."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from server.notifications.models import NotificationJob
from server.reports.models import Report
from tests.support.reports import ADULT_EXTRA, case_post, district_named, fresh, make_report, submit_report, user_named
from tests.support.web import post_form

CHILD_WORDS = "Paman Joko memukul aku pakai ikat pinggang setiap malam."
CATEGORY_WORDS = [
    "dipukul", "ditendang", "dibentak", "diancam", "dihina", "disentuh", "tubuh pribadi", "dipaksa bekerja",
    "dijual", "tidak diurus", "dirundung", "bully", "menyakiti diri", "fisik", "psikis", "seksual", "eksploitasi",
    "perdagangan", "penelantaran", "perundungan", "masalah psikologis", "kekerasan",
]


def title_of(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    assert match, "no <title>"
    return match.group(1)


@pytest.fixture
def pages(client, make_client, as_user, db):
    """Every page that shows a report, for each kind of person, as (name, response)."""
    sent = submit_report(client, categories=["sexual", "physical"], child_words=CHILD_WORDS,
                         district_id=str(district_named(db, "Banjarbaru Utara").id))
    report_id = fresh(db, 1).id
    holder = make_client()
    post_form(holder, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek")
    teacher = as_user("guru")
    teacher_sent = submit_report(teacher, reporter_kind="teacher", categories=["sexual"], child_words=CHILD_WORDS,
                                 **ADULT_EXTRA)
    counselor = as_user("konselor")
    return [
        ("receipt", sent.response),
        ("follow-up", holder.get("/cek/laporan")),
        ("follow-up message refused", post_form(holder, "/cek/laporan/pesan", {"message": ""},
                                                token_from="/cek/laporan")),
        ("teacher's report", teacher.get(teacher_sent.response.headers["location"])),
        ("teacher's list", teacher.get("/laporan-saya")),
        ("case", counselor.get(f"/kasus/{report_id}")),
        ("case action refused", case_post(counselor, report_id, "catatan", {"body": ""})),
        ("inbox", counselor.get("/kasus/")),
        ("inbox filtered", counselor.get("/kasus/?kategori=sexual")),
    ]


def test_every_page_showing_a_report_is_no_store(pages):
    for name, response in pages:
        assert response.status_code in (200, 422), name
        assert response.headers["cache-control"] == "no-store", name


def test_page_titles_never_name_the_category_the_childs_words_or_violence(pages):
    for name, response in pages:
        title = title_of(response.text).lower()
        assert "paman joko" not in title, name
        assert "ikat pinggang" not in title, name
        for word in CATEGORY_WORDS:
            assert word not in title, (name, word)


def test_the_report_form_and_follow_up_titles_are_neutral_too(client):
    for path in ("/lapor", "/cek"):
        title = title_of(client.get(path).text).lower()
        assert not any(word in title for word in CATEGORY_WORDS), path


def test_the_case_page_turns_off_htmx_history_so_nothing_is_kept_in_local_storage(app, db, as_user):
    report = make_report(app, db).report
    page = as_user("konselor").get(f"/kasus/{report.id}").text
    assert '"historyCacheSize":0' in page


def test_pages_showing_a_report_are_served_as_html(pages, client):
    for name, response in [*pages, ("report form", client.get("/lapor")), ("follow-up form", client.get("/cek"))]:
        assert response.headers["content-type"].startswith("text/html"), (name, response.headers["content-type"])


def test_a_report_form_sent_back_with_errors_is_not_stored_either(client):
    """It holds what the child typed: on a shared phone, the browser must not keep it."""
    sent = submit_report(client, categories=[], child_words=CHILD_WORDS)
    assert sent.response.status_code == 422
    assert CHILD_WORDS in sent.response.text
    assert sent.response.headers["cache-control"] == "no-store"


def test_a_report_refused_by_the_address_limit_is_not_stored_either(client, app, db, frozen_limits, quick_pins):
    for _ in range(10):
        make_report(app, db)
    sent = submit_report(client, child_words=CHILD_WORDS)
    assert sent.response.status_code == 429
    assert sent.response.headers["cache-control"] == "no-store"


def test_request_logs_never_hold_what_the_child_wrote(client, make_client, as_user, db, caplog):
    caplog.set_level(logging.DEBUG)
    sent = submit_report(client, child_words=CHILD_WORDS, where_detail="rumah nenek di gang mawar")
    holder = make_client()
    post_form(holder, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek")
    post_form(holder, "/cek/laporan/pesan", {"message": "Paman Joko datang lagi tadi malam."}, token_from="/cek/laporan")
    counselor = as_user("konselor")
    report_id = fresh(db, 1).id
    counselor.get(f"/kasus/{report_id}")
    case_post(counselor, report_id, "catatan", {"body": "Rumah di gang mawar nomor tujuh."})
    submit_report(client, child_words=CHILD_WORDS, categories=[])  # refused, sent back with errors
    request_lines = [r.getMessage() for r in caplog.records if r.name == "bintang.request"]
    assert any(line.startswith("POST /lapor 200 ") for line in request_lines)
    assert any(line.startswith("POST /lapor 422 ") for line in request_lines)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("Paman Joko", "ikat pinggang", "gang mawar", sent.code, sent.code.replace("-", ""), sent.pin):
        assert secret not in everything, secret


def test_alerts_about_a_case_carry_no_details_of_it(client, as_user, db):
    submit_report(client, danger_now="yes", categories=["sexual"], child_words=CHILD_WORDS)
    report_id = fresh(db, 1).id
    counselor = as_user("konselor")
    case_post(counselor, report_id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
    case_post(counselor, report_id, "pesan", {"body": "Paman Joko sudah kami laporkan."})
    db.expire_all()
    alerts = list(db.execute(select(NotificationJob)).scalars())
    assert {a.kind for a in alerts} >= {"emergency_report", "case_message"}
    for alert in alerts:
        text = f"{alert.kind} {alert.url} {alert.topic}".lower()
        assert "joko" not in text, text
        assert not any(word in text for word in CATEGORY_WORDS), text


def test_what_people_type_is_shown_as_text_never_as_markup(client, make_client, as_user, db):
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    sent = submit_report(client, child_words=attack, where_detail=attack[:100])
    report_id = fresh(db, 1).id
    counselor = as_user("konselor")
    case_post(counselor, report_id, "catatan", {"body": attack})
    case_post(counselor, report_id, "pesan", {"body": attack})
    holder = make_client()
    post_form(holder, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek")
    post_form(holder, "/cek/laporan/pesan", {"message": attack}, token_from="/cek/laporan")
    for page in (counselor.get(f"/kasus/{report_id}").text, holder.get("/cek/laporan").text):
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;" in page


def test_a_report_cannot_be_posted_without_the_forms_csrf_token(client, db):
    client.get("/lapor")
    response = client.post("/lapor", data={"reporter_kind": "child", "danger_now": "no", "categories": "other",
                                           "child_words": "tes"})
    assert response.status_code == 403
    db.expire_all()
    assert db.execute(select(func.count()).select_from(Report)).scalar_one() == 0
