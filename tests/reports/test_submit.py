"""Sending a report through /lapor: the receipt, what is recorded, urgency and deadlines, validation, limits,
the honeypot and replays from a phone's offline queue."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from server.accounts import auth
from server.accounts import service as accounts
from server.accounts.models import Child, Role
from server.reports import codes, intake
from server.reports.models import ReportCategory
from tests.support.reports import (
    ADULT_EXTRA,
    add_person,
    audit_entries,
    district_named,
    events,
    field_block,
    jobs,
    make_report,
    only_report,
    report_count,
    school_named,
    submit_report,
    user_named,
)

CODE_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


# --- the receipt --------------------------------------------------------------------------------------------


def test_it_gives_an_anonymous_child_a_receipt_with_a_grouped_16_character_code_and_a_6_digit_pin(client):
    sent = submit_report(client)
    assert sent.response.status_code == 200
    assert CODE_PATTERN.match(sent.code), sent.code
    assert re.fullmatch(r"\d{6}", sent.pin), sent.pin
    assert len(sent.code.replace("-", "")) == 16
    assert sent.response.headers["cache-control"] == "no-store"
    assert "Saya sudah menyimpan kode dan PIN" in sent.response.text


def test_it_records_the_report_its_categories_a_submitted_event_and_an_audit_entry(client, db):
    submit_report(client, categories=["physical", "neglect"], child_words="Aku tidak diberi makan.")
    report = only_report(db)
    assert report.reporter_kind == "child"
    assert report.submitted_by_id is None
    assert report.child_words == "Aku tidak diberi makan."
    assert report.status == "submitted"
    assert report.is_open
    assert report.child_assent == "yes"
    assert set(db.execute(select(ReportCategory.category).where(ReportCategory.report_id == report.id))
               .scalars()) == {"physical", "neglect"}
    submitted = events(db, report.id, "submitted")
    assert len(submitted) == 1
    assert submitted[0].to_status == "submitted"
    assert submitted[0].actor_id is None
    entries = audit_entries(db, "report.submitted", report.id)
    assert len(entries) == 1
    assert entries[0].actor_label == "code-holder"
    assert entries[0].ip == ""  # no address kept for anonymous people


def test_it_stores_the_pin_hashed_with_argon2_and_the_code_only_as_its_sha256(client, db):
    sent = submit_report(client)
    report = only_report(db)
    assert report.pin_hash.startswith("$argon2")
    assert sent.pin not in report.pin_hash
    assert auth.verify_password(report.pin_hash, sent.pin)
    assert not auth.verify_password(report.pin_hash, "000000" if sent.pin != "000000" else "111111")
    plain_code = sent.code.replace("-", "")
    assert report.code_hash == hashlib.sha256(plain_code.encode()).hexdigest()
    stored = " ".join(str(value) for value in report.model_dump().values())
    assert plain_code not in stored
    assert sent.code not in stored


# --- urgency, alerts and deadlines ---------------------------------------------------------------------------


def test_danger_now_makes_it_an_emergency_due_at_once_that_alerts_the_district_team_and_supervisors(client, db):
    utara = district_named(db, "Banjarbaru Utara")
    colleague = add_person(db, "konselor3", Role.COUNSELOR, district="Banjarbaru Utara")
    sent = submit_report(client, danger_now="yes", district_id=str(utara.id))
    assert 'href="tel:112"' in sent.response.text  # the emergency numbers are on the receipt too
    report = only_report(db)
    assert report.danger_now
    assert report.urgency == "darurat"
    assert report.urgency_rank == 0
    assert report.first_response_due_at == report.created_at
    assert report.next_due_at == report.created_at
    alerts = jobs(db, "emergency_report", report.id)
    recipients = {job.recipient_user_id for job in alerts}
    assert recipients == {user_named(db, "konselor").id, colleague.id, user_named(db, "supervisor").id}
    assert user_named(db, "konselor2").id not in recipients
    assert all(job.urgency == "high" and job.url == f"/kasus/{report.id}" for job in alerts)


def test_an_emergency_with_no_district_alerts_every_counselor_and_the_supervisors(client, db):
    submit_report(client, danger_now="yes")
    report = only_report(db)
    recipients = {job.recipient_user_id for job in jobs(db, "emergency_report", report.id)}
    assert recipients == {user_named(db, name).id for name in ("konselor", "konselor2", "supervisor")}


def test_a_report_without_danger_alerts_nobody(client, db):
    submit_report(client, danger_now="no")
    report = only_report(db)
    assert report.urgency == "sedang"
    assert jobs(db, "emergency_report", report.id) == []


def test_sexual_violence_must_reach_the_police_within_3_times_24_hours(client, db):
    submit_report(client, categories=["sexual"])
    report = only_report(db)
    assert report.police_due_at == report.created_at + timedelta(hours=72)
    assert report.urgency == "tinggi"
    assert report.next_due_at == min(report.police_due_at, report.first_response_due_at)


def test_other_reports_have_no_police_deadline(client, db):
    submit_report(client, categories=["physical", "bullying"])
    assert only_report(db).police_due_at is None


def test_a_school_names_its_district_so_the_district_team_gets_the_report(client, db):
    school = school_named(db, "SD Negeri 1 Cempaka")
    submit_report(client, school_id=str(school.id))
    report = only_report(db)
    assert report.school_id == school.id
    assert report.district_id == report.team_district_id == district_named(db, "Cempaka").id


# --- who sends it ---------------------------------------------------------------------------------------------


def test_a_signed_in_teacher_is_taken_to_their_report_instead_of_a_code(as_user, db):
    teacher = as_user("guru")
    sent = submit_report(teacher, reporter_kind="teacher", **ADULT_EXTRA)
    report = only_report(db)
    assert sent.response.status_code == 303
    assert sent.response.headers["location"] == f"/laporan-saya/{report.id}?baru=1"
    assert report.submitted_by_id == user_named(db, "guru").id
    assert report.reporter_kind == "teacher"
    assert report.how_learned == ADULT_EXTRA["how_learned"]
    assert report.child_knows == "yes"
    page = teacher.get(sent.response.headers["location"])
    assert page.status_code == 200
    assert "Laporan sudah kami terima" in page.text


def test_a_parent_may_report_about_their_own_child(as_user, db):
    parent = as_user("orangtua")
    dimas = db.execute(select(Child).where(Child.nickname == "Dimas")).scalar_one()
    sent = submit_report(parent, reporter_kind="parent", child_id=str(dimas.id), **ADULT_EXTRA)
    assert sent.response.status_code == 303
    assert only_report(db).child_id == dimas.id


def test_a_parent_cannot_name_a_child_who_is_not_theirs(as_user, db):
    other_parent = add_person(db, "ayah-lain", Role.PARENT)
    other_child = accounts.add_child(db, other_parent, nickname="Rafi", birth_year=2014, school_id=None)
    db.commit()
    parent = as_user("orangtua")
    sent = submit_report(parent, reporter_kind="parent", child_id=str(other_child.id), **ADULT_EXTRA)
    assert sent.response.status_code == 422
    assert "Pilih anak Anda dari daftar." in sent.response.text
    assert report_count(db) == 0


def test_only_a_parent_can_name_a_linked_child(as_user, db):
    dimas = db.execute(select(Child).where(Child.nickname == "Dimas")).scalar_one()
    sent = submit_report(as_user("guru"), reporter_kind="teacher", child_id=str(dimas.id), **ADULT_EXTRA)
    assert sent.response.status_code == 422
    assert "Pilih anak Anda dari daftar." in sent.response.text
    assert report_count(db) == 0


def test_an_adult_reporter_must_say_whether_the_child_knows(client, db):
    sent = submit_report(client, reporter_kind="other")
    assert sent.response.status_code == 422
    assert "Apakah anak tahu hal ini dilaporkan? Pilih salah satu." in field_block(sent.response.text, "child_knows")
    assert report_count(db) == 0


# --- validation -------------------------------------------------------------------------------------------------


def test_missing_answers_come_back_in_plain_words_next_to_their_questions_with_everything_typed_kept(client, db):
    sent = submit_report(client, danger_now=None, child_words="", categories=["physical", "neglect"],
                         happened_where="home", where_detail="dekat pasar lama", child_age="11",
                         child_gender="girl", contact_method="whatsapp", contact_detail="0812 3456 7890",
                         contact_safe_time="sore hari")
    html = sent.response.text
    assert sent.response.status_code == 422
    assert "Jawab dulu: apakah ada yang dalam bahaya sekarang?" in field_block(html, "danger_now")
    assert "Ceritakan dengan kata-katamu sendiri apa yang terjadi. Satu kalimat pun cukup." in field_block(
        html, "child_words")
    assert "Ada yang perlu diperbaiki" in html
    # Text, radio buttons and checkboxes come back as typed.
    assert 'value="dekat pasar lama"' in html
    assert 'value="11"' in html
    assert 'value="sore hari"' in html
    assert re.search(r'name="happened_where" value="home" checked', html)
    assert re.search(r'name="child_gender" value="girl" checked', html)
    assert re.search(r'name="reporter_kind" value="child" checked', html)
    assert re.search(r'name="categories" value="physical" checked', html)
    assert re.search(r'name="categories" value="neglect" checked', html)
    assert not re.search(r'name="categories" value="sexual" checked', html)
    assert report_count(db) == 0


def test_a_report_with_no_category_asks_for_one_and_keeps_the_childs_words(client, db):
    sent = submit_report(client, categories=[], child_words="Aku takut pulang ke rumah.")
    assert sent.response.status_code == 422
    assert "Pilih setidaknya satu hal yang terjadi." in field_block(sent.response.text, "categories")
    assert "Aku takut pulang ke rumah.</textarea>" in sent.response.text
    assert report_count(db) == 0


def test_a_missing_reporter_kind_and_an_unknown_category_are_refused(client, db):
    sent = submit_report(client, reporter_kind=None, categories=["bullying", "alien"])
    assert sent.response.status_code == 422
    assert "Pilih siapa kamu." in field_block(sent.response.text, "reporter_kind")
    assert "Pilih dari daftar yang ada." in field_block(sent.response.text, "categories")
    assert report_count(db) == 0


def test_the_childs_words_are_limited_to_5000_characters(client, db):
    too_long = submit_report(client, child_words="a" * 5001)
    assert too_long.response.status_code == 422
    assert "Terlalu panjang: paling banyak 5000 huruf." in field_block(too_long.response.text, "child_words")
    assert report_count(db) == 0
    just_right = submit_report(client, child_words="a" * 5000)
    assert just_right.response.status_code == 200
    assert len(only_report(db).child_words) == 5000


def test_every_free_text_answer_has_a_length_limit(client, db):
    limits = {"where_detail": 200, "others_involved": 500, "contact_safe_time": 120, "how_learned": 2000}
    for name, limit in limits.items():
        sent = submit_report(client, reporter_kind="other", contact_method="phone", contact_detail="0812 3456 7890",
                             **{**ADULT_EXTRA, name: "x" * (limit + 1)})
        assert sent.response.status_code == 422, name
        assert f"Terlalu panjang: paling banyak {limit} huruf." in sent.response.text, name
    for name, limit in {"consent_by": 120, "consent_reason": 500}.items():
        consent = {"parent_consent": "parent_may_harm", "consent_by": "Bibi", "consent_reason": "Ayah pelakunya"}
        sent = submit_report(client, reporter_kind="other", **{**ADULT_EXTRA, **consent, name: "x" * (limit + 1)})
        assert sent.response.status_code == 422, name
        assert f"Terlalu panjang: paling banyak {limit} huruf." in field_block(sent.response.text, name), name
    assert report_count(db) == 0


def test_an_age_out_of_range_or_a_bad_phone_number_is_refused(client, db):
    sent = submit_report(client, child_age="40", contact_method="whatsapp", contact_detail="123")
    assert sent.response.status_code == 422
    assert "Tulis umur dengan angka, 0 sampai 21 tahun." in field_block(sent.response.text, "child_age")
    assert "Nomor Indonesia diawali 08, 62 atau +62" in field_block(sent.response.text, "contact_detail")
    assert report_count(db) == 0


def test_when_a_parent_may_be_causing_harm_it_asks_who_consented_instead_and_why(client, db):
    sent = submit_report(client, reporter_kind="other", parent_consent="parent_may_harm", **ADULT_EXTRA)
    assert sent.response.status_code == 422
    assert "Tulis siapa yang memberi persetujuan" in field_block(sent.response.text, "consent_by")
    assert "Tulis singkat mengapa orang tua tidak dimintai persetujuan." in field_block(
        sent.response.text, "consent_reason")
    assert report_count(db) == 0
    sent = submit_report(client, reporter_kind="other", parent_consent="parent_may_harm",
                         consent_by="Bibi, kakak dari ibu", consent_reason="Ayah diduga pelakunya", **ADULT_EXTRA)
    assert sent.response.status_code == 200
    report = only_report(db)
    assert (report.parent_consent, report.consent_by, report.consent_reason) == (
        "parent_may_harm", "Bibi, kakak dari ibu", "Ayah diduga pelakunya")
    assert report.child_assent == "yes"  # the child's own assent is recorded apart from the consent


def test_a_malformed_idempotency_key_is_refused(client, db):
    sent = submit_report(client, idempotency_key="x")
    assert sent.response.status_code == 422
    assert "Formulir ini rusak." in sent.response.text
    assert report_count(db) == 0


# --- limits, bots and replays -----------------------------------------------------------------------------------


def test_the_eleventh_report_from_one_address_in_an_hour_is_refused_and_nothing_is_made(
        client, app, db, frozen_limits, quick_pins):
    for _ in range(intake.SUBMISSIONS_PER_ADDRESS_PER_HOUR):
        make_report(app, db)
    sent = submit_report(client, child_words="Satu lagi.")
    assert sent.response.status_code == 429
    assert "Terlalu banyak laporan dari jaringan ini dalam satu jam." in sent.response.text
    assert 'href="tel:112"' in sent.response.text
    assert "Satu lagi.</textarea>" in sent.response.text
    assert report_count(db) == intake.SUBMISSIONS_PER_ADDRESS_PER_HOUR
    as_json = submit_report(client, headers={"accept": "application/json"})
    assert as_json.response.status_code == 429
    assert "form" in as_json.response.json()["errors"]
    assert report_count(db) == intake.SUBMISSIONS_PER_ADDRESS_PER_HOUR


def test_the_tenth_report_from_one_address_still_goes_through(client, app, db, frozen_limits, quick_pins):
    for _ in range(intake.SUBMISSIONS_PER_ADDRESS_PER_HOUR - 1):
        make_report(app, db)
    assert submit_report(client).response.status_code == 200
    assert report_count(db) == intake.SUBMISSIONS_PER_ADDRESS_PER_HOUR


def test_a_filled_honeypot_keeps_the_report_but_sorts_it_last_and_marks_it_suspected_spam(client, db):
    sent = submit_report(client, danger_now="yes", categories=["sexual"], website="http://spam.example")
    assert sent.response.status_code == 200
    report = only_report(db)
    assert report.suspected_spam
    assert report.urgency == "rendah"
    assert report.urgency_rank == 3
    assert jobs(db, "emergency_report", report.id) == []


def test_the_same_idempotency_key_twice_makes_one_report(client, db):
    key = "0b6f5a52-1c1e-4bb4-9d33-5e3f1f0c8a11"
    first = submit_report(client, idempotency_key=key)
    second = submit_report(client, idempotency_key=key)
    assert first.response.status_code == second.response.status_code == 200
    assert first.code
    assert not second.code
    assert report_count(db) == 1
    report = only_report(db)
    assert report.idempotency_key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert len(events(db, report.id, "submitted")) == 1
    assert len(audit_entries(db, "report.submitted", report.id)) == 1
    # And the receipt really opens the report.
    assert auth.verify_password(report.pin_hash, first.pin)
    assert report.code_hash == codes.code_hash(first.code)


def test_a_json_replay_gets_the_code_and_pin_and_a_duplicate_replay_from_the_same_browser_gets_the_same(
        client, db):
    key = "offline-queue-entry-42"
    first = submit_report(client, idempotency_key=key, headers={"accept": "application/json"})
    second = submit_report(client, idempotency_key=key, headers={"accept": "application/json"})
    assert first.response.status_code in (200, 201)
    assert second.response.status_code in (200, 201)
    body = first.response.json()
    assert CODE_PATTERN.match(body["code"])
    assert re.fullmatch(r"\d{6}", body["pin"])
    assert (second.response.json()["code"], second.response.json()["pin"]) == (body["code"], body["pin"])
    assert first.response.headers["cache-control"] == "no-store"
    assert report_count(db) == 1


def test_a_json_report_with_errors_gets_the_errors_as_json(client, db):
    sent = submit_report(client, child_words="", headers={"accept": "application/json"})
    assert sent.response.status_code == 422
    assert "child_words" in sent.response.json()["errors"]
    assert report_count(db) == 0


def test_different_idempotency_keys_make_different_reports_with_different_codes(client, db):
    first = submit_report(client, idempotency_key="phone-queue-entry-1")
    second = submit_report(client, idempotency_key="phone-queue-entry-2")
    assert first.code != second.code
    assert report_count(db) == 2


def test_a_replay_of_a_report_that_already_arrived_gets_its_receipt_even_when_the_address_is_at_its_limit(
        client, app, db, frozen_limits, quick_pins):
    """The phone's offline queue sent the report, lost the answer, and replays it: nothing new is made, so the
    address limit has nothing to refuse, and the same browser must get the code and PIN of the report that
    arrived."""
    key = "lost-answer-replay-1"
    json = {"accept": "application/json"}
    first = submit_report(client, idempotency_key=key, headers=json).response.json()
    for _ in range(intake.SUBMISSIONS_PER_ADDRESS_PER_HOUR - 1):
        make_report(app, db)
    replay = submit_report(client, idempotency_key=key, headers=json)
    assert replay.response.status_code == 200
    assert (replay.response.json()["code"], replay.response.json()["pin"]) == (first["code"], first["pin"])
    assert report_count(db) == intake.SUBMISSIONS_PER_ADDRESS_PER_HOUR
