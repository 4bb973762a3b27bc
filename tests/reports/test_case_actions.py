"""Handling a case: the states and their rules, triage, assignment, notes, messages, the police deadline,
referrals, and the chronology and audit trail every action leaves."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.reports import access, cases
from server.reports.models import FAR_FUTURE, OPEN_STATUSES, ReportCategory, Status
from tests.support.database import execute_and_commit
from tests.support.reports import (
    TEST_IP,
    audit_entries,
    case_post,
    district_named,
    events,
    fresh,
    jobs,
    make_report,
    referrals_of,
    set_state,
    user_named,
)

NOT_FROM_HERE = "Status ini tidak bisa dipilih dari status sekarang."
STALE = "baru saja diubah orang lain"


@pytest.fixture
def supervisor(as_user):
    return as_user("supervisor")


@pytest.fixture
def counselor(as_user):
    return as_user("konselor")


@pytest.fixture
def utara_case(app, db):
    """A new report for the Banjarbaru Utara team."""
    return make_report(app, db, district_id=str(district_named(db, "Banjarbaru Utara").id)).report


def form_for(target: Status, other_case_id: int) -> dict[str, object]:
    return {"to": target.value, "reason": "Alasan yang dicatat.", "forwarded_to": "UPTD PPA Kota Banjarmasin",
            "duplicate_of": other_case_id}


# --- the state machine ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", list(Status), ids=[s.value for s in Status])
def test_from_each_status_exactly_the_listed_moves_are_allowed(start, app, db, supervisor, utara_case):
    other = make_report(app, db).report
    konselor = user_named(db, "konselor")
    allowed = cases.TRANSITIONS[start]
    for target in Status:
        report = set_state(db, utara_case.id, status=start, is_open=start in OPEN_STATUSES,
                           assigned_to_id=konselor.id)
        version = report.version
        response = case_post(supervisor, utara_case.id, "status",
                             {**form_for(target, other.id), "version": version})
        report = fresh(db, utara_case.id)
        if target in allowed:
            assert response.status_code == 303, (start, target, response.status_code)
            assert report.status == target
            assert report.version == version + 1
            assert report.is_open == (target in OPEN_STATUSES)
            last = events(db, utara_case.id, "status")[-1]
            assert (last.from_status, last.to_status) == (start, target)
        else:
            assert response.status_code == 422, (start, target)
            assert NOT_FROM_HERE in response.text
            assert report.status == start
            assert report.version == version


@pytest.mark.parametrize(("target", "form", "message"), [
    ("closed", {"reason": ""}, "Tulis alasannya: langkah ini perlu dicatat."),
    ("unfounded", {"reason": "   "}, "Tulis alasannya: langkah ini perlu dicatat."),
    ("duplicate", {"reason": "Sama dengan laporan lain"}, "Tulis nomor kasus asli yang sama dengan laporan ini."),
    ("duplicate", {"reason": "Sama", "duplicate_of": "999999"}, "Tulis nomor kasus asli yang sama dengan laporan ini."),
    ("out_of_scope", {"reason": "Bukan wilayah kami"}, "Tulis ke lembaga mana laporan ini diteruskan."),
    ("closed", {"reason": "x" * 1001}, "Alasan terlalu panjang"),
])
def test_closing_and_the_side_exits_need_their_reason(target, form, message, db, counselor, utara_case):
    set_state(db, utara_case.id, status="assigned", assigned_to_id=user_named(db, "konselor").id)
    response = case_post(counselor, utara_case.id, "status", {"to": target, **form})
    assert response.status_code == 422
    assert message in response.text
    assert fresh(db, utara_case.id).status == "assigned"


def test_a_case_cannot_be_marked_a_duplicate_of_itself(db, counselor, utara_case):
    set_state(db, utara_case.id, status="assigned", assigned_to_id=user_named(db, "konselor").id)
    response = case_post(counselor, utara_case.id, "status",
                         {"to": "duplicate", "reason": "ganda", "duplicate_of": utara_case.id})
    assert response.status_code == 422
    assert "Tulis nomor kasus asli" in response.text


def test_a_side_exit_records_where_the_report_went_or_which_case_it_repeats(app, db, counselor, utara_case):
    original = make_report(app, db).report
    set_state(db, utara_case.id, status="assigned", assigned_to_id=user_named(db, "konselor").id)
    case_post(counselor, utara_case.id, "status",
              {"to": "duplicate", "reason": "Laporan yang sama dari guru lain", "duplicate_of": original.id})
    report = fresh(db, utara_case.id)
    assert report.duplicate_of_id == original.id
    assert report.closed_reason == "Laporan yang sama dari guru lain"
    case_post(counselor, utara_case.id, "status", {"to": "reopened", "reason": "Ternyata berbeda"})
    case_post(counselor, utara_case.id, "status", {"to": "assigned"})
    case_post(counselor, utara_case.id, "status",
              {"to": "out_of_scope", "reason": "Anak tinggal di Banjarmasin", "forwarded_to": "UPTD PPA Banjarmasin"})
    report = fresh(db, utara_case.id)
    assert report.status == "out_of_scope"
    assert report.forwarded_to == "UPTD PPA Banjarmasin"
    assert not report.is_open


def test_reopening_needs_a_reason(db, counselor, utara_case):
    set_state(db, utara_case.id, status="closed", is_open=False, assigned_to_id=user_named(db, "konselor").id)
    response = case_post(counselor, utara_case.id, "status", {"to": "reopened"})
    assert response.status_code == 422
    assert "Tulis alasannya" in response.text
    assert fresh(db, utara_case.id).status == "closed"


@pytest.mark.parametrize(("start", "target"), [
    ("reopened", "in_progress"),
    ("assigned", "referred"),
    ("assigned", "monitoring"),
    ("assigned", "in_progress"),
])
def test_handling_a_case_needs_a_counselor_assigned_first(start, target, db, supervisor, utara_case):
    set_state(db, utara_case.id, status=start, assigned_to_id=None)
    response = case_post(supervisor, utara_case.id, "status", {"to": target})
    assert response.status_code == 422
    assert "Tugaskan kasus ini kepada konselor dulu." in response.text
    assert fresh(db, utara_case.id).status == start


def test_an_unknown_status_is_refused(db, counselor, utara_case):
    response = case_post(counselor, utara_case.id, "status", {"to": "hilang"})
    assert response.status_code == 422
    assert "Pilih status dari daftar." in response.text


def test_closing_takes_the_case_off_the_open_list_and_reopening_brings_it_back(db, counselor, utara_case):
    case_post(counselor, utara_case.id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
    response = case_post(counselor, utara_case.id, "status", {"to": "closed", "reason": "Anak sudah aman."})
    assert response.status_code == 303
    report = fresh(db, utara_case.id)
    assert report.status == "closed"
    assert not report.is_open
    assert report.next_due_at == FAR_FUTURE
    assert report.closed_reason == "Anak sudah aman."
    assert f'href="/kasus/{utara_case.id}"' not in counselor.get("/kasus/").text
    assert f'href="/kasus/{utara_case.id}"' in counselor.get("/kasus/?status=closed").text
    response = case_post(counselor, utara_case.id, "status", {"to": "reopened", "reason": "Anak melapor lagi."})
    assert response.status_code == 303
    report = fresh(db, utara_case.id)
    assert report.status == "reopened"
    assert report.is_open
    assert f'href="/kasus/{utara_case.id}"' in counselor.get("/kasus/").text
    assert [(e.from_status, e.to_status, e.body) for e in events(db, utara_case.id, "status")] == [
        ("assigned", "closed", "Anak sudah aman."), ("closed", "reopened", "Anak melapor lagi.")]


# --- stale pages ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "form"), [
    ("status", {"to": "unfounded", "reason": "Tidak ada kejadian."}),
    ("triase", {"urgency": "tinggi", "categories": "physical"}),
    ("tugaskan", {"counselor_id": "OWN"}),
])
def test_a_change_made_from_a_page_loaded_before_someone_elses_change_is_refused(
        action, form, db, counselor, utara_case):
    loaded_version = fresh(db, utara_case.id).version
    case_post(counselor, utara_case.id, "catatan", {"body": "Catatan tidak mengubah versi."})
    assert case_post(counselor, utara_case.id, "triase", {
        "urgency": "sedang", "categories": "bullying", "version": loaded_version}).status_code == 303
    if form.get("counselor_id") == "OWN":
        form = {"counselor_id": user_named(db, "konselor").id}
    response = case_post(counselor, utara_case.id, action, {**form, "version": loaded_version})
    assert response.status_code == 422
    assert STALE in response.text
    report = fresh(db, utara_case.id)
    assert report.version == loaded_version + 1
    assert report.status == "triaged"
    assert report.urgency == "sedang"


def test_marking_the_police_report_from_a_stale_page_is_refused(app, db, counselor):
    report = make_report(app, db, categories=["sexual"]).report
    version = fresh(db, report.id).version
    case_post(counselor, report.id, "triase", {"urgency": "tinggi", "categories": "sexual", "version": version})
    response = case_post(counselor, report.id, "polisi", {"version": version})
    assert response.status_code == 422
    assert STALE in response.text
    assert fresh(db, report.id).police_reported_at is None


# --- triage and assignment ---------------------------------------------------------------------------------------


def test_triage_sets_urgency_categories_and_district_and_counts_as_the_first_response(app, db, counselor):
    report = make_report(app, db, categories=["other"]).report
    cempaka = district_named(db, "Cempaka")
    assert fresh(db, report.id).first_response_at is None
    response = case_post(counselor, report.id, "triase", {
        "urgency": "darurat", "categories": ["sexual", "physical"], "district_id": cempaka.id})
    assert response.status_code == 303
    assert response.headers["location"] == f"/kasus/{report.id}#triase"
    report = fresh(db, report.id)
    assert report.status == "triaged"
    assert report.urgency == "darurat"
    assert report.urgency_rank == 0
    assert report.district_id == report.team_district_id == cempaka.id
    assert sorted(db.execute(ReportCategory.__table__.select().where(ReportCategory.report_id == report.id))
                  .mappings().all(), key=lambda r: r["category"]) == [
        {"report_id": report.id, "category": "physical"}, {"report_id": report.id, "category": "sexual"}]
    assert report.first_response_at is not None
    # Sexual violence found at triage starts the police deadline from when the report came in.
    assert report.police_due_at == report.created_at + timedelta(hours=72)
    assert report.next_due_at == report.police_due_at
    event = events(db, report.id, "triaged")[-1]
    assert (event.from_status, event.to_status) == ("submitted", "triaged")


@pytest.mark.parametrize(("form", "message"), [
    ({"urgency": "gawat", "categories": "physical"}, "Pilih tingkat urgensi."),
    ({"urgency": "tinggi"}, "Pilih setidaknya satu kategori."),
    ({"urgency": "tinggi", "categories": "alien"}, "Pilih setidaknya satu kategori."),
    ({"urgency": "tinggi", "categories": "physical", "district_id": "999999"}, "Pilih kecamatan dari daftar."),
])
def test_triage_refuses_what_is_not_on_the_lists(form, message, db, counselor, utara_case):
    response = case_post(counselor, utara_case.id, "triase", form)
    assert response.status_code == 422
    assert message in response.text
    report = fresh(db, utara_case.id)
    assert report.status == "submitted"
    assert report.urgency == "sedang"
    assert report.first_response_at is None


def test_a_counselor_may_take_a_case_but_not_give_it_to_another_counselor(db, counselor, utara_case):
    colleague = user_named(db, "konselor2")
    response = case_post(counselor, utara_case.id, "tugaskan", {"counselor_id": colleague.id})
    assert response.status_code == 422
    assert "Hanya supervisor yang dapat menugaskan kasus kepada konselor lain." in response.text
    assert fresh(db, utara_case.id).assigned_to_id is None
    response = case_post(counselor, utara_case.id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
    assert response.status_code == 303
    report = fresh(db, utara_case.id)
    assert report.assigned_to_id == user_named(db, "konselor").id
    assert report.status == "assigned"
    assert report.first_response_at is not None
    assert jobs(db, "case_assigned", utara_case.id) == []  # nobody to tell: they took it themselves


def test_a_supervisor_assigns_a_case_and_the_counselor_is_told(db, supervisor, utara_case):
    konselor2 = user_named(db, "konselor2")
    response = case_post(supervisor, utara_case.id, "tugaskan", {"counselor_id": konselor2.id})
    assert response.status_code == 303
    report = fresh(db, utara_case.id)
    assert report.assigned_to_id == konselor2.id
    assert report.status == "assigned"
    assert report.team_district_id == konselor2.district_id
    told = jobs(db, "case_assigned", utara_case.id)
    assert [(j.recipient_user_id, j.url) for j in told] == [(konselor2.id, f"/kasus/{utara_case.id}")]
    assigned = events(db, utara_case.id, "assigned")[-1]
    assert assigned.actor_id == user_named(db, "supervisor").id
    assert assigned.body == "Konselor Budi"


@pytest.mark.parametrize("who", ["guru", "supervisor", "nobody"])
def test_a_case_can_only_be_assigned_to_an_active_counselor(who, db, supervisor, utara_case):
    target = 999999 if who == "nobody" else user_named(db, who).id
    response = case_post(supervisor, utara_case.id, "tugaskan", {"counselor_id": target})
    assert response.status_code == 422
    assert "Pilih konselor yang aktif." in response.text
    assert fresh(db, utara_case.id).assigned_to_id is None


def test_a_closed_case_must_be_reopened_before_it_is_assigned(db, supervisor, utara_case):
    set_state(db, utara_case.id, status="closed", is_open=False)
    response = case_post(supervisor, utara_case.id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
    assert response.status_code == 422
    assert "harus dibuka kembali dulu" in response.text


# --- police and referrals -------------------------------------------------------------------------------------------


def test_a_police_referral_meets_the_police_deadline(app, db, counselor):
    report = make_report(app, db, categories=["sexual"]).report
    case_post(counselor, report.id, "triase", {"urgency": "tinggi", "categories": "sexual"})
    assert fresh(db, report.id).next_due_at == fresh(db, report.id).police_due_at
    response = case_post(counselor, report.id, "rujukan", {"agency_kind": "police", "agency_name": "Unit PPA Polres Banjarbaru",
                                                          "note": "Diantar ibu guru."})
    assert response.status_code == 303
    report = fresh(db, report.id)
    assert report.police_reported_at is not None
    assert report.next_due_at == FAR_FUTURE
    [referral] = referrals_of(db, report.id)
    assert (referral.agency_kind, referral.agency_name, referral.status, referral.note) == (
        "police", "Unit PPA Polres Banjarbaru", "sent", "Diantar ibu guru.")
    assert "Teruskan ke polisi" not in counselor.get(f"/kasus/{report.id}").text


def test_the_police_button_marks_the_deadline_met(app, db, counselor):
    report = make_report(app, db, categories=["sexual"]).report
    assert "Teruskan ke polisi (3×24 jam)" in counselor.get(f"/kasus/{report.id}").text
    response = case_post(counselor, report.id, "polisi", {"version": fresh(db, report.id).version})
    assert response.status_code == 303
    assert fresh(db, report.id).police_reported_at is not None
    assert [e.kind for e in events(db, report.id)][-1] == "police"


def test_marking_the_police_report_twice_keeps_the_time_it_was_first_reported(app, db, counselor):
    """When the police were told is the evidence that the 3×24-hour deadline was met: it is never moved later."""
    report = make_report(app, db, categories=["sexual"]).report
    case_post(counselor, report.id, "polisi", {"version": fresh(db, report.id).version})
    first = fresh(db, report.id).police_reported_at
    set_state(db, report.id, police_reported_at=first - timedelta(hours=1))
    first = fresh(db, report.id).police_reported_at
    case_post(counselor, report.id, "polisi", {"version": fresh(db, report.id).version})
    assert fresh(db, report.id).police_reported_at == first


def test_a_case_without_a_police_deadline_cannot_be_marked_reported_to_the_police(db, counselor, utara_case):
    response = case_post(counselor, utara_case.id, "polisi", {})
    assert response.status_code == 422
    assert "tidak memerlukan laporan ke polisi" in response.text


def test_a_referral_keeps_its_own_status(db, counselor, utara_case):
    case_post(counselor, utara_case.id, "rujukan", {"agency_kind": "psychologist", "agency_name": "Psikolog RSUD Idaman"})
    [referral] = referrals_of(db, utara_case.id)
    for status in ("accepted", "done", "declined"):
        response = case_post(counselor, utara_case.id, f"rujukan/{referral.id}", {"status": status})
        assert response.status_code == 303
        assert referrals_of(db, utara_case.id)[0].status == status
    bodies = [e.body for e in events(db, utara_case.id, "referral")]
    assert bodies == ["psychologist: Psikolog RSUD Idaman", "Psikolog RSUD Idaman: sent → accepted",
                      "Psikolog RSUD Idaman: accepted → done", "Psikolog RSUD Idaman: done → declined"]
    page = counselor.get(f"/kasus/{utara_case.id}").text
    assert "Psikolog RSUD Idaman" in page
    assert "Ditolak" in page


def test_a_referral_needs_a_known_kind_and_a_name_and_belongs_to_its_case(app, db, counselor, utara_case):
    for form, message in [({"agency_kind": "dukun", "agency_name": "X"}, "Pilih jenis lembaga rujukan."),
                          ({"agency_kind": "health", "agency_name": " "}, "Tulis nama lembaga rujukan."),
                          ({"agency_kind": "health", "agency_name": "x" * 121}, "Isian terlalu panjang.")]:
        response = case_post(counselor, utara_case.id, "rujukan", form)
        assert response.status_code == 422
        assert message in response.text
    assert referrals_of(db, utara_case.id) == []
    other = make_report(app, db, district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    case_post(counselor, other.id, "rujukan", {"agency_kind": "health", "agency_name": "Puskesmas Lain"})
    [foreign] = referrals_of(db, other.id)
    response = case_post(counselor, utara_case.id, f"rujukan/{foreign.id}", {"status": "done"})
    assert response.status_code == 422
    assert "Rujukan tidak ditemukan." in response.text
    assert referrals_of(db, other.id)[0].status == "sent"
    response = case_post(counselor, other.id, f"rujukan/{foreign.id}", {"status": "lenyap"})
    assert response.status_code == 422
    assert "Pilih status rujukan." in response.text


# --- notes and messages ---------------------------------------------------------------------------------------------


def test_notes_and_messages_must_not_be_empty_or_too_long(db, counselor, utara_case):
    for action, body, message in [("catatan", " ", "Catatan masih kosong."),
                                  ("catatan", "n" * 5001, "Catatan terlalu panjang"),
                                  ("pesan", "", "Pesan masih kosong."),
                                  ("pesan", "m" * 2001, "Pesan terlalu panjang")]:
        response = case_post(counselor, utara_case.id, action, {"body": body})
        assert response.status_code == 422, action
        assert message in response.text, action
    assert [e.kind for e in events(db, utara_case.id)] == ["submitted"]


def test_a_refused_form_comes_back_with_the_reason_next_to_it_and_what_was_typed(db, counselor, utara_case):
    set_state(db, utara_case.id, status="assigned", assigned_to_id=user_named(db, "konselor").id)
    response = case_post(counselor, utara_case.id, "status",
                         {"to": "out_of_scope", "reason": "Anak pindah ke Martapura", "forwarded_to": ""})
    html = response.text
    section = html[html.index('id="status"'):html.index('id="pesan"')]
    assert 'id="error-status"' in section
    assert "Tulis ke lembaga mana" in section
    assert "Anak pindah ke Martapura</textarea>" in section
    assert response.headers["cache-control"] == "no-store"


def test_a_refusal_is_summed_up_at_the_top_with_a_link_to_its_form_or_its_fields(db, counselor, utara_case):
    refused = case_post(counselor, utara_case.id, "pesan", {"body": ""}).text
    summary = refused[refused.index("data-error-summary"):refused.index('id="triase"')]
    assert '<a href="#pesan">Pesan masih kosong.</a>' in summary
    assert 'id="error-pesan"' in refused[refused.index('id="pesan"'):refused.index('id="catatan"')]
    wrong = case_post(counselor, utara_case.id, "layanan", {"service_kind": "", "service_given_on": ""}).text
    assert '<a href="#field-service_given_on">' in wrong[wrong.index("data-error-summary"):wrong.index('id="triase"')]
    field = wrong[wrong.index('id="field-service_given_on"'):]
    assert field.index('aria-describedby="error-service_given_on" aria-invalid="true"') < field.index(">")


def test_a_staff_message_is_the_first_response_and_tells_the_code_holder(db, counselor, utara_case):
    response = case_post(counselor, utara_case.id, "pesan", {"body": "Halo, kamu tidak sendirian."})
    assert response.status_code == 303
    report = fresh(db, utara_case.id)
    assert report.first_response_at is not None
    [told] = jobs(db, "case_message", utara_case.id)
    assert told.recipient_report_id == utara_case.id
    assert told.recipient_user_id is None
    assert told.url == "/cek/laporan"


def test_a_status_change_tells_the_reporter_that_something_changed(db, counselor, utara_case):
    case_post(counselor, utara_case.id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
    case_post(counselor, utara_case.id, "status", {"to": "in_progress"})
    [told] = jobs(db, "case_status", utara_case.id)
    assert told.recipient_report_id == utara_case.id


# --- chronology and audit ------------------------------------------------------------------------------------------


def test_every_action_leaves_a_case_event_and_an_audit_entry_with_who_and_from_where(app, db, counselor):
    report = make_report(app, db, categories=["sexual"],
                         district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    konselor = user_named(db, "konselor")
    steps = [
        ("triase", {"urgency": "tinggi", "categories": "sexual"}, "triaged", "report.triaged"),
        ("tugaskan", {"counselor_id": konselor.id}, "assigned", "report.assigned"),
        ("catatan", {"body": "Catatan."}, "note", "report.note_added"),
        ("pesan", {"body": "Pesan."}, "message", "report.message_sent"),
        ("polisi", {}, "police", "report.police_reported"),
        ("rujukan", {"agency_kind": "health", "agency_name": "Puskesmas"}, "referral", "report.referral_added"),
        ("status", {"to": "in_progress"}, "status", "report.status_changed"),
    ]
    for action, form, kind, audit_action in steps:
        before_events = len(events(db, report.id, kind))
        before_audit = len(audit_entries(db, audit_action, report.id))
        assert case_post(counselor, report.id, action, form).status_code == 303, action
        new_events = events(db, report.id, kind)[before_events:]
        new_audit = audit_entries(db, audit_action, report.id)[before_audit:]
        assert len(new_events) == 1, action
        assert new_events[0].actor_id == konselor.id, action
        assert len(new_audit) == 1, action
        assert (new_audit[0].actor_id, new_audit[0].actor_label, new_audit[0].ip) == (konselor.id, "konselor", TEST_IP)
    [referral] = referrals_of(db, report.id)
    case_post(counselor, report.id, f"rujukan/{referral.id}", {"status": "accepted"})
    [updated] = audit_entries(db, "report.referral_updated", report.id)
    assert updated.actor_id == konselor.id
    assert updated.ip == TEST_IP
    assert json.loads(updated.detail)["status"] == "accepted"
    status_entry = audit_entries(db, "report.status_changed", report.id)[-1]
    assert json.loads(status_entry.detail) == {"before": "assigned", "after": "in_progress"}


def test_every_look_at_a_case_is_audited_and_on_its_chronology(db, counselor, supervisor, utara_case):
    counselor.get(f"/kasus/{utara_case.id}")
    page = supervisor.get(f"/kasus/{utara_case.id}").text
    views = audit_entries(db, "report.viewed.staff", utara_case.id)
    assert [(v.actor_id, v.ip) for v in views] == [
        (user_named(db, "konselor").id, TEST_IP), (user_named(db, "supervisor").id, TEST_IP)]
    chronology = page[page.index('class="chronology"'):]
    assert "Dilihat · Konselor Rina" in chronology
    assert "Dilihat · Supervisor Dinas" in chronology
    assert "Laporan masuk · Pelapor" in chronology


def test_the_chronology_holds_every_change_note_message_and_referral_in_order(db, counselor, utara_case):
    konselor = user_named(db, "konselor")
    case_post(counselor, utara_case.id, "tugaskan", {"counselor_id": konselor.id})
    case_post(counselor, utara_case.id, "catatan", {"body": "Catatan pertama dari kunjungan."})
    case_post(counselor, utara_case.id, "pesan", {"body": "Pesan untuk pelapor."})
    case_post(counselor, utara_case.id, "rujukan", {"agency_kind": "social", "agency_name": "Dinas Sosial Kota"})
    case_post(counselor, utara_case.id, "status", {"to": "in_progress"})
    page = counselor.get(f"/kasus/{utara_case.id}").text
    chronology = page[page.index('class="chronology"'):]
    order = ["Laporan masuk", "Ditugaskan", "Catatan pertama dari kunjungan.", "Pesan untuk pelapor.",
             "social: Dinas Sosial Kota", "Sudah ada konselor → Sedang ditangani", "Dilihat"]
    positions = [chronology.index(text) for text in order]
    assert positions == sorted(positions)


def test_the_audit_log_refuses_to_be_rewritten(app, db, utara_case):
    access.record_view(db, utara_case, user=None, ip=TEST_IP, as_="staff")
    db.commit()
    with pytest.raises(DBAPIError):
        execute_and_commit(db, text("DELETE FROM audit_entry"))
    db.rollback()


def test_a_case_is_not_marked_assigned_through_the_status_form_without_a_counselor(db, supervisor, utara_case):
    """"Assigned" tells the reporter the case is being handled: it must mean someone handles it."""
    response = case_post(supervisor, utara_case.id, "status", {"to": "assigned"})
    assert response.status_code == 422
    assert "Tugaskan kasus ini kepada konselor dulu." in response.text
    report = fresh(db, utara_case.id)
    assert report.status == "submitted"
    assert report.assigned_to_id is None
