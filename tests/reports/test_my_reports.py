"""Signed-in reporters (/laporan-saya): a teacher or parent sees the reports they made, with status and
messages, and nobody else's; never the counselor's notes, referrals or who handles the case."""

from __future__ import annotations

import pytest

from server.accounts.models import Role
from tests.support.reports import ADULT_EXTRA, add_person, case_post, events, jobs, make_report, user_named
from tests.support.web import post_form


@pytest.fixture
def teachers_report(app, db):
    return make_report(app, db, user=user_named(db, "guru"), reporter_kind="teacher",
                       child_words="Murid saya bilang: 'Aku dipukul pakai sapu.'", **ADULT_EXTRA).report


def test_a_teacher_sees_their_report_with_its_status_and_the_counselors_messages(as_user, db, teachers_report):
    counselor = as_user("konselor")
    case_post(counselor, teachers_report.id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
    case_post(counselor, teachers_report.id, "pesan", {"body": "Terima kasih, Bu. Kami hubungi anaknya besok."})
    teacher = as_user("guru")
    listing = teacher.get("/laporan-saya")
    assert listing.status_code == 200
    assert f'href="/laporan-saya/{teachers_report.id}"' in listing.text
    assert "Sedang ditangani" in listing.text
    page = teacher.get(f"/laporan-saya/{teachers_report.id}")
    assert page.status_code == 200
    assert "Sedang ditangani" in page.text
    assert "Terima kasih, Bu. Kami hubungi anaknya besok." in page.text
    assert page.headers["cache-control"] == "no-store"


def test_a_teacher_never_sees_the_notes_the_referrals_or_who_handles_the_case(as_user, db, teachers_report):
    counselor = as_user("konselor")
    case_post(counselor, teachers_report.id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
    case_post(counselor, teachers_report.id, "catatan", {"body": "CATATAN-RAHASIA tentang keluarga anak."})
    case_post(counselor, teachers_report.id, "rujukan", {"agency_kind": "legal_aid", "agency_name": "LBH Rahasia"})
    page = as_user("guru").get(f"/laporan-saya/{teachers_report.id}").text
    assert "CATATAN-RAHASIA" not in page
    assert "LBH Rahasia" not in page
    assert "Konselor Rina" not in page


def test_a_teacher_can_answer_and_the_assigned_counselor_is_told(as_user, db, teachers_report):
    supervisor = as_user("supervisor")
    case_post(supervisor, teachers_report.id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
    teacher = as_user("guru")
    response = post_form(teacher, f"/laporan-saya/{teachers_report.id}/pesan", {"message": "Anaknya hari ini tidak masuk."},
                         token_from="/laporan-saya", follow_redirects=False)
    assert response.status_code == 303
    message = events(db, teachers_report.id, "message")[-1]
    assert message.from_reporter
    assert message.actor_id == user_named(db, "guru").id
    assert [job.recipient_user_id for job in jobs(db, "case_message", teachers_report.id)] == [
        user_named(db, "konselor").id]
    assert "Anaknya hari ini tidak masuk." in as_user("konselor").get(f"/kasus/{teachers_report.id}").text


def test_staff_changes_reach_the_teacher_by_their_account(as_user, db, teachers_report):
    counselor = as_user("konselor")
    case_post(counselor, teachers_report.id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
    case_post(counselor, teachers_report.id, "status", {"to": "in_progress"})
    case_post(counselor, teachers_report.id, "pesan", {"body": "Kabar terbaru ada di sini."})
    teacher_id = user_named(db, "guru").id
    for kind in ("case_status", "case_message"):
        told = jobs(db, kind, teachers_report.id)
        assert told, kind
        assert all(j.recipient_user_id == teacher_id and j.recipient_report_id is None for j in told), kind
        assert all(j.url == f"/laporan-saya/{teachers_report.id}" for j in told)


def test_a_report_page_shows_the_messages_of_that_case_only(app, as_user, db, teachers_report):
    """Two cases, a message to each reporter: the teacher never reads the message of the parent's case."""
    parents = make_report(app, db, user=user_named(db, "orangtua"), reporter_kind="parent", **ADULT_EXTRA).report
    counselor = as_user("konselor")
    for report_id, body in ((teachers_report.id, "Terima kasih, Bu. Kami hubungi anaknya besok."),
                            (parents.id, "PESAN-LAIN untuk orang tua.")):
        case_post(counselor, report_id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
        assert case_post(counselor, report_id, "pesan", {"body": body}).status_code == 303
    page = as_user("guru").get(f"/laporan-saya/{teachers_report.id}")
    assert page.status_code == 200
    assert "Terima kasih, Bu. Kami hubungi anaknya besok." in page.text
    assert "PESAN-LAIN" not in page.text


def test_the_list_shows_only_the_reports_the_person_made(app, as_user, db, teachers_report):
    other = make_report(app, db, user=user_named(db, "orangtua"), reporter_kind="parent", **ADULT_EXTRA).report
    anonymous = make_report(app, db).report
    listing = as_user("guru").get("/laporan-saya").text
    assert f'href="/laporan-saya/{teachers_report.id}"' in listing
    assert f'href="/laporan-saya/{other.id}"' not in listing
    assert f'href="/laporan-saya/{anonymous.id}"' not in listing


@pytest.mark.parametrize("username", ["guru-lain", "orangtua", "anak", "konselor", "supervisor"])
def test_nobody_else_can_open_a_teachers_report(as_user, db, teachers_report, username):
    if username == "guru-lain":
        add_person(db, "guru-lain", Role.TEACHER, school="SMP Negeri 1 Banjarbaru")
    someone = as_user(username)
    assert someone.get(f"/laporan-saya/{teachers_report.id}").status_code == 404
    reply = post_form(someone, f"/laporan-saya/{teachers_report.id}/pesan", {"message": "menyusup"}, token_from="/",
                      follow_redirects=False)
    assert reply.status_code == 404
    assert events(db, teachers_report.id, "message") == []


def test_a_signed_out_visitor_is_sent_to_sign_in(client, teachers_report):
    response = client.get(f"/laporan-saya/{teachers_report.id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/masuk?lanjut=/laporan-saya/{teachers_report.id}"
    assert client.get("/laporan-saya", follow_redirects=False).status_code == 303


def test_an_unknown_report_number_is_not_found(as_user, teachers_report):
    assert as_user("guru").get(f"/laporan-saya/{teachers_report.id + 100}").status_code == 404
