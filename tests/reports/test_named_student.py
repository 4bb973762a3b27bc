"""A teacher may name the student and class: kept like every identity field, shown to the staff handling the case
and on the teacher's own report pages ("Laporan saya" shows what and about whom per row), never on pages a code
opens, in a page title, or taken from anyone who is not a teacher."""

from __future__ import annotations

import re

from tests.support.reports import ADULT_EXTRA, make_report, only_report, submit_report, user_named

STUDENT = "Rina Kartika"


def teachers_report(app, db, **fields):
    return make_report(app, db, user=user_named(db, "guru"), reporter_kind="teacher", categories=["bullying"],
                       student_name=STUDENT, student_class="7B", **{**ADULT_EXTRA, **fields}).report


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.DOTALL).group(1)


def test_it_offers_the_teacher_fields_hidden_until_a_teacher_reports(client, as_user):
    anonymous = client.get("/lapor")
    assert re.search(r"<div data-teacher-only hidden>\s*<div class=\"field\">\s*<label class=\"field__label\" "
                     r"for=\"field-student_name\">Nama murid \(kalau Anda mau\)</label>", anonymous.text)
    teacher = as_user("guru").get("/lapor")
    assert teacher.status_code == 200
    assert "<div data-teacher-only>" in teacher.text


def test_it_keeps_the_student_and_class_a_teacher_names(client, db):
    sent = submit_report(client, reporter_kind="teacher", student_name=STUDENT, student_class="7B", **ADULT_EXTRA)
    assert sent.response.status_code == 200
    report = only_report(db)
    assert (report.student_name, report.student_class) == (STUDENT, "7B")
    assert STUDENT not in sent.response.text  # the receipt a code opens does not carry it


def test_it_does_not_keep_a_name_sent_by_someone_who_is_not_a_teacher(client, db):
    sent = submit_report(client, reporter_kind="child", student_name=STUDENT, student_class="7B")
    assert sent.response.status_code == 200
    report = only_report(db)
    assert (report.student_name, report.student_class) == ("", "")


def test_it_refuses_a_name_too_long_next_to_the_field_and_keeps_what_was_typed(client, db):
    sent = submit_report(client, reporter_kind="teacher", student_name="n" * 121, student_class="7B",
                         **ADULT_EXTRA)
    assert sent.response.status_code == 422
    assert "Terlalu panjang: paling banyak 120 huruf." in sent.response.text
    assert 'value="7B"' in sent.response.text


def test_it_shows_the_teacher_what_she_reported_and_about_whom(app, db, as_user):
    report = teachers_report(app, db)
    teacher = as_user("guru")
    page = teacher.get(f"/laporan-saya/{report.id}")
    assert page.status_code == 200
    assert "<dd data-report-what>Perundungan</dd>" in page.text
    assert f"<dd data-report-about>{STUDENT}, kelas 7B</dd>" in page.text
    assert STUDENT not in title(page.text)
    listing = teacher.get("/laporan-saya")
    assert listing.status_code == 200
    assert re.search(rf"data-report-summary>Perundungan · tentang {STUDENT}, kelas 7B</span>", listing.text)
    assert STUDENT not in title(listing.text)


def test_it_shows_a_childs_own_report_in_a_childs_words(app, db, as_user):
    make_report(app, db, user=user_named(db, "anak"), reporter_kind="child", categories=["physical"])
    listing = as_user("anak").get("/laporan-saya")
    assert listing.status_code == 200
    assert "data-report-summary>Disakiti badannya — dipukul, ditendang</span>" in listing.text


def test_it_shows_staff_the_student_named(app, db, as_user):
    report = teachers_report(app, db)
    page = as_user("supervisor").get(f"/kasus/{report.id}")
    assert page.status_code == 200
    assert f"<dt>Nama murid</dt><dd>{STUDENT}, kelas 7B</dd>" in page.text
    assert STUDENT not in title(page.text)


def test_it_shows_nobody_else_the_teachers_report(app, db, as_user):
    report = teachers_report(app, db)
    other = as_user("orangtua")
    assert other.get(f"/laporan-saya/{report.id}").status_code == 404
    assert STUDENT not in other.get("/laporan-saya").text
