""""Unduh data saya": a person gets at once what the service holds about them as they gave it, and nothing of
counselors' notes, other people's identities, or reports others made (a parent may be the one reported)."""

from __future__ import annotations

import json

import pytest

from server.reports import cases, messages
from tests.support.dataprotection import audit_entries, user_named
from tests.support.reports import ADULT_EXTRA, make_report, submit_report
from tests.support.web import post_form

PARENT_WORDS = "Anak saya diejek di sekolah setiap hari, bukunya dirobek."
STAFF_MESSAGE = "Terima kasih, Ibu. Kami akan menghubungi sekolah minggu ini."
PARENT_MESSAGE = "Baik, saya tunggu kabarnya."
NOTE = "Catatan internal: wali kelas tampak menutupi kejadian."
TEACHER_WORDS = "Dimas bercerita ayahnya memukulnya dengan ikat pinggang di rumah."
STUDENT = "Dimas Pratama"


@pytest.fixture
def parent_case(app, db):
    parent, counselor = user_named(db, "orangtua"), user_named(db, "konselor")
    report = make_report(app, db, user=parent, reporter_kind="parent", child_words=PARENT_WORDS,
                         **ADULT_EXTRA).report
    messages.message_from_staff(db, report, counselor, body=STAFF_MESSAGE, ip="")
    messages.message_from_reporter(db, report, parent, body=PARENT_MESSAGE, ip="")
    cases.add_note(db, report, counselor, body=NOTE, ip="")
    db.commit()
    return report


@pytest.fixture
def report_about_the_parent(app, db):
    """A teacher's report naming the parent's own child, where the parent is the one who hurts him."""
    teacher = user_named(db, "guru")
    return make_report(app, db, user=teacher, reporter_kind="teacher", student_name=STUDENT, student_class="7B",
                       categories=["physical"], child_words=TEACHER_WORDS, **ADULT_EXTRA).report


def _download(client) -> dict:
    response = client.get("/akun/data-saya")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == 'attachment; filename="data-saya.json"'
    assert response.headers["cache-control"] == "no-store"
    return json.loads(response.text)


def test_the_parent_gets_their_account_report_messages_and_children(as_user, db, parent_case):
    data = _download(as_user("orangtua"))
    assert data["account"]["username"] == "orangtua"
    assert data["account"]["display_name"] == "Ibu Wati"
    assert [child["nickname"] for child in data["children"]] == ["Dimas"]
    [report] = data["reports"]
    assert report["id"] == parent_case.id
    assert report["child_words"] == PARENT_WORDS
    assert [(m["from"], m["body"]) for m in report["messages"]] == [("layanan", STAFF_MESSAGE),
                                                                  ("saya", PARENT_MESSAGE)]
    assert "child_assent" in report["consent"]
    [entry] = audit_entries(db, "dataprotection.data_downloaded")
    assert entry.object_type == "user"
    assert entry.object_id == str(user_named(db, "orangtua").id)


def test_it_never_holds_notes_other_peoples_identities_or_reports_made_by_others(
        as_user, parent_case, report_about_the_parent):
    client = as_user("orangtua")
    text = client.get("/akun/data-saya").text
    assert NOTE not in text
    assert "Konselor Rina" not in text
    assert "konselor" not in text
    assert TEACHER_WORDS not in text
    assert STUDENT not in text
    assert "Guru BK Sari" not in text
    assert [report["id"] for report in json.loads(text)["reports"]] == [parent_case.id]


def test_the_teacher_gets_their_report_without_the_student_named(as_user, report_about_the_parent):
    data = _download(as_user("guru"))
    [report] = data["reports"]
    assert report["child_words"] == TEACHER_WORDS
    assert STUDENT not in json.dumps(data, ensure_ascii=False)
    assert "student_name" not in report


def test_a_child_gets_only_their_own(as_user, parent_case):
    data = _download(as_user("anak"))
    assert data["account"]["username"] == "anak"
    assert data["reports"] == []
    assert PARENT_WORDS not in json.dumps(data, ensure_ascii=False)


def test_a_stranger_is_sent_to_sign_in(client):
    response = client.get("/akun/data-saya", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/akun/data-saya"


def test_the_account_page_offers_the_download(as_user):
    page = as_user("orangtua").get("/akun")
    assert 'href="/akun/data-saya" download>Unduh data saya</a>' in page.text
    assert 'href="/akun/permintaan-data"' in page.text


def test_a_code_holder_gets_the_reports_data_and_no_one_else_does(app, db, make_client):
    holder = make_client()
    sent = submit_report(holder)
    opened = post_form(holder, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek",
                       follow_redirects=False)
    assert opened.status_code == 303
    data = json.loads(holder.get("/cek/data-saya").text)
    [report] = data["reports"]
    assert report["child_words"] == "Aku diejek terus di kelas dan bukuku dirobek."
    assert "Unduh data saya" in holder.get("/cek/laporan").text
    other = make_client()
    response = other.get("/cek/data-saya", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/cek/data-saya"
