"""The check-in page (/pemantauan/N): only its recipient sees it (the code holder of the case, or the account it
was sent to); the answer is kept, "tidak baik" or a message gives the counselor a task due within a working day
with an alert, and nothing on the page, in the in-app list or in the title names the case. The counselor's list
(/kasus/pemantauan) and the closing form."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from server.aftercare.models import CheckInStatus
from server.i18n import LOCAL
from server.notifications.models import JobStatus
from server.reports.models import CaseEvent
from tests.support.aftercare import (
    answer,
    check_in_jobs,
    check_ins,
    close,
    closed_case_with_code,
    due_check_in,
    open_with_code,
    plans,
)
from tests.support.appointments import code_holder
from tests.support.reports import audit_entries, case_post, events, fresh, jobs, make_report, user_named
from tests.support.web import csrf_token, post_form

TITLE = "<title>Bintang Ceria</title>"


def test_the_code_holder_sees_one_question_and_nothing_of_the_case(client, db, pinned_clock):
    report_id, check_in = due_check_in(client, db, pinned_clock)
    page = client.get(f"/pemantauan/{check_in.id}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert TITLE in page.text
    assert "<h1>Ada pesan baru</h1>" in page.text
    assert "Bagaimana kabarmu sekarang?" in page.text
    for face in ("Baik", "Biasa saja", "Tidak baik"):
        assert face in page.text
    report = fresh(db, report_id)
    for secret in (report.reference, report.child_words, "perundungan", "kasus"):
        assert secret.lower() not in page.text.lower()
    assert audit_entries(db, "report.viewed.check_in", report_id)[-1].actor_id is None


def test_the_in_app_item_says_only_ada_pesan_baru(client, db, pinned_clock):
    _report_id, check_in = due_check_in(client, db, pinned_clock)
    listing = client.get("/notifikasi")
    assert listing.status_code == 200
    assert "Ada pesan baru" in listing.text
    assert f"/pemantauan/{check_in.id}" in listing.text


def test_tidak_baik_gives_the_counselor_a_task_due_within_a_working_day_and_an_alert(client, db, pinned_clock,
                                                                                    as_user):
    report_id, check_in = due_check_in(client, db, pinned_clock)  # Tuesday 15 December 2026, 09.17 WITA
    response = answer(client, check_in.id, {"face": "tidak_baik", "message": "Aku takut lagi di rumah."})
    assert response.status_code == 200
    assert "Konselor akan menghubungimu" in response.text

    [answered] = check_ins(db, report_id)[:1]
    assert (answered.status, answered.answer, answered.message) == (CheckInStatus.ANSWERED, "tidak_baik",
                                                                     "Aku takut lagi di rumah.")
    assert answered.follow_up_due_at == datetime.combine(datetime(2026, 12, 16).date(), time(23, 59),
                                                         tzinfo=LOCAL).astimezone(UTC)
    # What was not sent yet is not sent any more (here both tries: no dispatcher ran); the counselor is alerted.
    assert [j.status for j in check_in_jobs(db, check_in.id)] == [JobStatus.CANCELLED, JobStatus.CANCELLED]
    [alert] = jobs(db, "check_in_follow_up", report_id)
    assert alert.recipient_user_id == user_named(db, "konselor").id
    assert alert.urgency == "high"
    [event] = events(db, report_id, "check_in_answer")
    assert event.body == "Tidak baik: Aku takut lagi di rumah."
    assert event.from_reporter

    counselor = as_user("konselor")
    listing = counselor.get("/kasus/pemantauan/")
    assert listing.status_code == 200
    assert "Aku takut lagi di rumah." in listing.text
    assert fresh(db, report_id).reference in listing.text
    case_page = counselor.get(f"/kasus/{report_id}")
    assert "Jawaban pemantauan" in case_page.text
    assert "Tidak baik: Aku takut lagi di rumah." in case_page.text

    done = post_form(counselor, f"/kasus/pemantauan/{check_in.id}/selesai", {}, token_from="/",
                     follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/kasus/pemantauan"
    assert "Tidak ada pemantauan yang perlu ditindaklanjuti." in counselor.get("/kasus/pemantauan/").text
    assert [e.kind for e in events(db, report_id)][-1] == "follow_up_done"


def test_baik_without_words_needs_nothing_from_the_counselor(client, db, pinned_clock, as_user):
    report_id, check_in = due_check_in(client, db, pinned_clock)
    response = answer(client, check_in.id, {"face": "baik", "message": ""})
    assert response.status_code == 200
    assert "Senang mendengar kabarmu" in response.text
    assert check_ins(db, report_id)[0].follow_up_due_at is None
    assert jobs(db, "check_in_follow_up", report_id) == []
    assert "Tidak ada pemantauan yang perlu ditindaklanjuti." in as_user("konselor").get("/kasus/pemantauan/").text
    again = answer(client, check_in.id, {"face": "tidak_baik", "message": ""})
    assert again.status_code == 409
    assert "Kamu sudah menjawab pesan ini." in again.text
    assert check_ins(db, report_id)[0].answer == "baik"


def test_an_answer_without_a_face_comes_back_with_the_words_kept(client, db, pinned_clock):
    report_id, check_in = due_check_in(client, db, pinned_clock)
    response = answer(client, check_in.id, {"message": "Aku baik tapi capek."})
    assert response.status_code == 422
    assert "Pilih salah satu wajah: baik, biasa saja, atau tidak baik." in response.text
    assert ">Aku baik tapi capek.</textarea>" in response.text
    assert check_ins(db, report_id)[0].status == CheckInStatus.SCHEDULED
    long = answer(client, check_in.id, {"face": "biasa", "message": "a" * 1001})
    assert long.status_code == 422
    assert "Pesan terlalu panjang: paling banyak 1000 huruf." in long.text


def test_a_check_in_not_yet_due_is_not_found_yet(client, db):
    case = closed_case_with_code(client, db)
    open_with_code(client, case.code, case.pin)
    check_in = check_ins(db, case.report_id)[0]
    assert client.get(f"/pemantauan/{check_in.id}").status_code == 404
    assert answer(client, check_in.id, {"face": "baik"}).status_code == 404
    report_id = case.report_id
    assert check_ins(db, report_id)[0].status == CheckInStatus.SCHEDULED


@pytest.mark.parametrize("who", ["other_code_holder", "parent", "child", "counselor"])
def test_anyone_else_gets_not_found_and_changes_nothing(who, client, make_client, as_user, db, pinned_clock):
    report_id, check_in = due_check_in(client, db, pinned_clock)
    if who == "other_code_holder":
        other = make_client()
        code_holder(other, db)
    else:
        other = as_user({"parent": "orangtua", "child": "anak", "counselor": "konselor"}[who])
    before = [e.id for e in events(db, report_id)]
    assert other.get(f"/pemantauan/{check_in.id}").status_code == 404
    response = answer(other, check_in.id, {"face": "tidak_baik", "message": "bukan aku"})
    assert response.status_code == 404
    assert "bukan aku" not in response.text
    assert check_ins(db, report_id)[0].status == CheckInStatus.SCHEDULED
    assert [e.id for e in events(db, report_id)] == before
    assert audit_entries(db, "report.viewed.check_in", report_id) == []


def test_a_stranger_is_offered_sign_in_or_the_code_and_refused_a_post(client, make_client, db, pinned_clock):
    report_id, check_in = due_check_in(client, db, pinned_clock)
    stranger = make_client()
    page = stranger.get(f"/pemantauan/{check_in.id}")
    assert page.status_code == 200
    assert "masuk dengan akunmu, atau buka laporanmu dengan kode laporan dan PIN" in page.text
    assert "Bagaimana kabarmu sekarang?" not in page.text
    response = stranger.post(f"/pemantauan/{check_in.id}", data={
        "_csrf_token": csrf_token(stranger, "/"), "face": "tidak_baik"}, follow_redirects=False)
    assert response.status_code == 401
    assert check_ins(db, report_id)[0].status == CheckInStatus.SCHEDULED


def test_the_childs_account_answers_its_own_check_in(app, db, as_user, pinned_clock):
    anak = user_named(db, "anak")
    report = make_report(app, db, user=anak).report
    close(db, report.id)
    check_in = check_ins(db, report.id)[0]
    pinned_clock.move_to(check_in.due_at)
    child = as_user("anak")
    assert child.get(f"/pemantauan/{check_in.id}").status_code == 200
    assert as_user("orangtua").get(f"/pemantauan/{check_in.id}").status_code == 404
    assert answer(child, check_in.id, {"face": "biasa"}).status_code == 200
    assert check_ins(db, report.id)[0].answer == "biasa"
    assert audit_entries(db, "report.check_in_answered", report.id)[-1].actor_id == anak.id


def test_the_closing_form_refuses_a_declined_plan_without_a_reason_and_keeps_what_was_chosen(app, db, as_user):
    report = make_report(app, db).report
    counselor = as_user("konselor")
    konselor = user_named(db, "konselor")
    assert case_post(counselor, report.id, "tugaskan", {"counselor_id": konselor.id}).status_code == 303
    response = case_post(counselor, report.id, "status", {
        "to": "closed", "reason": "Selesai.", "check_in_plan": "none", "check_in_reason": "",
        "version": fresh(db, report.id).version})
    assert response.status_code == 422
    assert "Tulis alasan tanpa pemantauan, misalnya anak atau orang tua menolak." in response.text
    assert 'name="check_in_plan" value="none" checked' in response.text
    assert fresh(db, report.id).status == "assigned"
    assert plans(db, report.id) == []

    response = case_post(counselor, report.id, "status", {
        "to": "closed", "reason": "Selesai.", "check_in_plan": "plan", "check_in_steps": ["1m", "6m"],
        "version": fresh(db, report.id).version})
    assert response.status_code == 303
    assert [c.step for c in check_ins(db, report.id)] == ["1m", "6m"]
    assert db.get(CaseEvent, events(db, report.id, "check_in_plan")[0].id).body == \
        "Pemantauan: 1 bulan, 6 bulan setelah ditutup."


def test_a_code_holder_who_had_to_open_the_report_again_finds_the_check_in_on_it(client, db, pinned_clock):
    _report_id, check_in = due_check_in(client, db, pinned_clock)
    page = client.get("/cek/laporan")
    assert f'<a href="/pemantauan/{check_in.id}">Ada pesan baru</a>' in page.text
    assert answer(client, check_in.id, {"face": "baik"}).status_code == 200
    assert f"/pemantauan/{check_in.id}" not in client.get("/cek/laporan").text


def test_steps_sent_with_no_check_ins_are_ignored_and_the_form_shows_them_disabled(app, db, as_user):
    """A closing form posted with "Tanpa pemantauan" and steps still ticked (a browser without scripts, or a
    crafted request): the case is closed without check-ins, the steps are ignored."""
    report = make_report(app, db).report
    counselor = as_user("konselor")
    konselor = user_named(db, "konselor")
    assert case_post(counselor, report.id, "tugaskan", {"counselor_id": konselor.id}).status_code == 303
    response = case_post(counselor, report.id, "status", {
        "to": "closed", "reason": "Selesai.", "check_in_plan": "none", "check_in_reason": "",
        "check_in_steps": ["2w", "1m"], "version": fresh(db, report.id).version})
    assert response.status_code == 422
    # Shown again with "none" chosen: the steps cannot be ticked until "Pantau pada:" is chosen again.
    assert 'name="check_in_steps" value="2w" checked disabled>' in response.text
    assert "Tulis alasan tanpa pemantauan, misalnya anak atau orang tua menolak." in response.text

    response = case_post(counselor, report.id, "status", {
        "to": "closed", "reason": "Selesai.", "check_in_plan": "none", "check_in_reason": "Keluarga menolak.",
        "check_in_steps": ["2w", "1m"], "version": fresh(db, report.id).version})
    assert response.status_code == 303
    assert fresh(db, report.id).status == "closed"
    [plan] = plans(db, report.id)
    assert (plan.declined, plan.offsets, plan.declined_reason) == (True, "", "Keluarga menolak.")
    assert check_ins(db, report.id) == []
