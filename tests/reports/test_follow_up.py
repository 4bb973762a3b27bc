"""Following a report up with its code and PIN (/cek): plain status, messages both ways, nothing more, and
attempts limited so a code cannot be guessed."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from server.accounts.models import CaseSession
from server.reports import access, messages
from tests.support.reports import (
    audit_entries,
    case_post,
    district_named,
    events,
    fresh,
    jobs,
    open_case,
    other_pin,
    submit_report,
    user_named,
)
from tests.support.web import post_form


def assert_sent_away(response) -> None:
    """No case session: the report is not shown, and the person is sent to sign in (where /cek is offered)."""
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/cek/laporan"
    assert "data-reporter-status" not in response.text


def reporter_status(html: str) -> str:
    match = re.search(r"data-reporter-status>([^<]+)<", html)
    assert match, "no status on the page"
    return match.group(1)


def test_the_right_code_and_pin_open_the_report_in_plain_words(client, make_client):
    sent = submit_report(client)
    holder = make_client()
    response = open_case(holder, sent.code, sent.pin)
    assert response.status_code == 303
    assert response.headers["location"] == "/cek/laporan"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("bc_case=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = holder.get("/cek/laporan")
    assert page.status_code == 200
    assert reporter_status(page.text) == "Diterima"
    assert page.headers["cache-control"] == "no-store"


def test_the_code_may_be_typed_in_lower_case_with_spaces_and_look_alike_letters(client, make_client):
    sent = submit_report(client)
    typed = sent.code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    holder = make_client()
    assert open_case(holder, typed, f" {sent.pin} ").status_code == 303
    assert holder.get("/cek/laporan").status_code == 200


def test_the_status_the_code_holder_sees_follows_the_case_in_four_plain_words(client, make_client, as_user, db):
    sent = submit_report(client)
    report_id = fresh(db, 1).id
    holder = make_client()
    open_case(holder, sent.code, sent.pin)
    counselor = as_user("konselor")
    steps = [
        ("triase", {"urgency": "sedang", "categories": "bullying"}, "Diterima"),
        ("tugaskan", {"counselor_id": user_named(db, "konselor").id}, "Sedang ditangani"),
        ("status", {"to": "in_progress"}, "Sedang ditangani"),
        ("status", {"to": "referred"}, "Dirujuk"),
        ("status", {"to": "monitoring"}, "Sedang ditangani"),
        ("status", {"to": "closed", "reason": "Anak sudah aman dan didampingi sekolah."}, "Selesai"),
        ("status", {"to": "reopened", "reason": "Anak melapor lagi."}, "Sedang ditangani"),
    ]
    for action, data, shown in steps:
        assert case_post(counselor, report_id, action, data).status_code == 303, (action, data)
        assert reporter_status(holder.get("/cek/laporan").text) == shown, (action, data)


def test_a_wrong_code_and_a_wrong_pin_get_the_same_answer(client, make_client, db):
    sent = submit_report(client)
    wrong_code = "ZZZZ-ZZZZ-ZZZZ-ZZZZ" if sent.code != "ZZZZ-ZZZZ-ZZZZ-ZZZZ" else "YYYY-YYYY-YYYY-YYYY"
    holder = make_client()
    bad_pin = open_case(holder, sent.code, other_pin(sent.pin))
    bad_code = open_case(holder, wrong_code, sent.pin)
    assert bad_pin.status_code == bad_code.status_code == 422
    assert "Kode laporan atau PIN tidak cocok." in bad_pin.text
    assert bad_pin.text.replace(sent.code, "KODE") == bad_code.text.replace(wrong_code, "KODE")
    assert "set-cookie" not in bad_pin.headers or "bc_case" not in bad_pin.headers["set-cookie"]
    assert len(audit_entries(db, "report.code_failed")) == 2


def test_an_empty_code_or_pin_is_asked_for_next_to_its_field(client):
    response = open_case(client, "", "")
    assert response.status_code == 422
    assert "Tulis kode laporanmu." in response.text
    assert "Tulis PIN-mu." in response.text


def test_the_sixth_attempt_on_one_code_is_refused_even_with_the_right_pin(client, make_client, db, frozen_limits):
    sent = submit_report(client)
    guesser = make_client()
    for _ in range(access.CODE_ATTEMPTS_PER_CODE):
        assert open_case(guesser, sent.code, other_pin(sent.pin)).status_code == 422
    response = open_case(guesser, sent.code, sent.pin)
    assert response.status_code == 429
    assert "Terlalu banyak percobaan." in response.text
    assert "bc_case" not in response.headers.get("set-cookie", "")
    # The limit is on the code, whichever way it is typed, and from any address.
    assert open_case(make_client(), sent.code.lower().replace("-", ""), sent.pin).status_code == 429
    assert audit_entries(db, "report.code_limited")


def test_fewer_wrong_attempts_than_the_limit_still_let_the_right_pin_in(client, make_client, frozen_limits):
    sent = submit_report(client)
    holder = make_client()
    for _ in range(access.CODE_ATTEMPTS_PER_CODE - 1):
        open_case(holder, sent.code, other_pin(sent.pin))
    assert open_case(holder, sent.code, sent.pin).status_code == 303


def test_attempts_are_limited_per_address_across_different_codes(client, make_client, frozen_limits):
    sent = submit_report(client)
    guesser = make_client()
    for n in range(access.CODE_ATTEMPTS_PER_ADDRESS):
        assert open_case(guesser, f"AAAA-BBBB-CCCC-{n:04d}", "123456").status_code == 422
    response = open_case(guesser, sent.code, sent.pin)
    assert response.status_code == 429
    assert "Terlalu banyak percobaan." in response.text


def test_without_a_case_session_the_report_is_not_shown(client):
    response = client.get("/cek/laporan", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/cek/laporan"
    client.cookies.set("bc_case", "a-made-up-token", path="/cek")
    assert_sent_away(client.get("/cek/laporan", follow_redirects=False))
    message = post_form(client, "/cek/laporan/pesan", {"message": "halo"}, token_from="/cek", follow_redirects=False)
    assert message.status_code in (401, 403)


def test_the_code_holder_can_message_the_team_and_the_counselor_sees_it(client, make_client, as_user, db):
    utara = district_named(db, "Banjarbaru Utara")
    sent = submit_report(client, district_id=str(utara.id))
    report_id = fresh(db, 1).id
    holder = make_client()
    open_case(holder, sent.code, sent.pin)
    response = post_form(holder, "/cek/laporan/pesan", {"message": "Kak, aku masih takut."}, token_from="/cek/laporan",
                         follow_redirects=False)
    assert response.status_code == 303
    assert "Kak, aku masih takut." in holder.get("/cek/laporan").text
    message = events(db, report_id, "message")[-1]
    assert message.from_reporter
    assert message.visible_to_reporter
    assert message.actor_id is None
    # Nobody handles it yet: the district team and the supervisors hear of it, not another team.
    recipients = {job.recipient_user_id for job in jobs(db, "case_message", report_id)}
    assert recipients == {user_named(db, "konselor").id, user_named(db, "supervisor").id}
    assert "Kak, aku masih takut." in as_user("konselor").get(f"/kasus/{report_id}").text
    entry = audit_entries(db, "report.message_received", report_id)[-1]
    assert entry.actor_label == "code-holder"
    assert entry.ip == ""


def test_a_message_from_the_code_holder_goes_to_the_assigned_counselor(client, make_client, as_user, db):
    sent = submit_report(client)
    report_id = fresh(db, 1).id
    supervisor = as_user("supervisor")
    case_post(supervisor, report_id, "tugaskan", {"counselor_id": user_named(db, "konselor2").id})
    holder = make_client()
    open_case(holder, sent.code, sent.pin)
    post_form(holder, "/cek/laporan/pesan", {"message": "Terima kasih."}, token_from="/cek/laporan")
    assert [job.recipient_user_id for job in jobs(db, "case_message", report_id)] == [user_named(db, "konselor2").id]


def test_an_empty_or_too_long_message_is_refused_and_kept(client, make_client):
    sent = submit_report(client)
    holder = make_client()
    open_case(holder, sent.code, sent.pin)
    empty = post_form(holder, "/cek/laporan/pesan", {"message": "  "}, token_from="/cek/laporan")
    assert empty.status_code == 422
    assert "Pesan masih kosong." in empty.text
    long_text = "panjang " * 300
    too_long = post_form(holder, "/cek/laporan/pesan", {"message": long_text}, token_from="/cek/laporan")
    assert too_long.status_code == 422
    assert "Pesan terlalu panjang" in too_long.text
    assert long_text.strip() in too_long.text
    assert too_long.headers["cache-control"] == "no-store"


def test_the_code_holder_sees_the_counselors_message_but_never_notes_referrals_or_who_handles_the_case(
        client, make_client, as_user, db):
    sent = submit_report(client)
    report_id = fresh(db, 1).id
    counselor = as_user("konselor")
    case_post(counselor, report_id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
    case_post(counselor, report_id, "pesan", {"body": "Halo, aku Kak Rina. Kamu aman sekarang?"})
    case_post(counselor, report_id, "catatan", {"body": "CATATAN-RAHASIA: ayah tiri diduga pelaku."})
    case_post(counselor, report_id, "rujukan", {"agency_kind": "health", "agency_name": "Puskesmas Rahasia Jaya"})
    holder = make_client()
    open_case(holder, sent.code, sent.pin)
    page = holder.get("/cek/laporan").text
    assert "Halo, aku Kak Rina. Kamu aman sekarang?" in page
    assert "CATATAN-RAHASIA" not in page
    assert "ayah tiri" not in page
    assert "Puskesmas Rahasia Jaya" not in page
    assert "Konselor Rina" not in page
    assert jobs(db, "case_message", report_id)[-1].recipient_report_id == report_id


def test_every_look_by_the_code_holder_is_audited(client, make_client, db):
    sent = submit_report(client)
    report_id = fresh(db, 1).id
    holder = make_client()
    open_case(holder, sent.code, sent.pin)
    holder.get("/cek/laporan")
    holder.get("/cek/laporan")
    views = audit_entries(db, "report.viewed.code_holder", report_id)
    assert len(views) == 2
    assert all(v.actor_id is None and v.ip == "" for v in views)


def test_leaving_ends_the_case_session_for_good(client, make_client, db):
    sent = submit_report(client)
    holder = make_client()
    open_case(holder, sent.code, sent.pin)
    token = holder.cookies.get("bc_case")
    assert token
    response = post_form(holder, "/cek/keluar", {}, token_from="/cek/laporan", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert_sent_away(holder.get("/cek/laporan", follow_redirects=False))
    db.expire_all()
    assert db.execute(select(func.count()).select_from(CaseSession)).scalar_one() == 0
    thief = make_client()
    thief.cookies.set("bc_case", token, path="/cek")
    assert_sent_away(thief.get("/cek/laporan", follow_redirects=False))


def test_a_case_session_sees_only_its_own_report(client, make_client, db):
    first = submit_report(client, child_words="Laporan pertama: aku dipukul.")
    submit_report(client, child_words="Laporan kedua.")
    holder = make_client()
    open_case(holder, first.code, first.pin)
    post_form(holder, "/cek/laporan/pesan", {"message": "pesan untuk laporan pertama"}, token_from="/cek/laporan")
    assert [e.body for e in events(db, 1, "message")] == ["pesan untuk laporan pertama"]
    assert events(db, 2, "message") == []


def test_the_code_holder_sees_the_messages_of_their_own_case_only(client, make_client, as_user, db):
    """Two cases, a message to each reporter: the code holder of the first never reads the second's."""
    mine = submit_report(client, child_words="Laporan pertama: aku dipukul.")
    submit_report(client, child_words="Laporan kedua.")
    counselor = as_user("konselor")
    for report_id, body in ((1, "Halo, ini pesan untuk laporan pertama."), (2, "PESAN-LAIN untuk kasus kedua.")):
        case_post(counselor, report_id, "tugaskan", {"counselor_id": user_named(db, "konselor").id})
        assert case_post(counselor, report_id, "pesan", {"body": body}).status_code == 303
    holder = make_client()
    open_case(holder, mine.code, mine.pin)
    page = holder.get("/cek/laporan")
    assert page.status_code == 200
    assert "Halo, ini pesan untuk laporan pertama." in page.text
    assert "PESAN-LAIN" not in page.text


def test_a_case_session_left_idle_ends(client, make_client, db, app):
    sent = submit_report(client)
    holder = make_client()
    open_case(holder, sent.code, sent.pin)
    assert holder.get("/cek/laporan").status_code == 200
    db.expire_all()
    idle = timedelta(minutes=app.state.settings.session_idle_minutes + 1)
    for case_session in db.execute(select(CaseSession)).scalars():
        case_session.last_seen_at = case_session.last_seen_at - idle
        case_session.created_at = case_session.created_at - idle
    db.commit()
    assert_sent_away(holder.get("/cek/laporan", follow_redirects=False))
    db.expire_all()
    assert db.execute(select(func.count()).select_from(CaseSession)).scalar_one() == 0


def test_the_code_holder_may_send_at_most_30_messages_an_hour(client, make_client, app, db, frozen_limits):
    sent = submit_report(client)
    report = fresh(db, 1)
    for n in range(messages.MESSAGES_PER_CASE_PER_HOUR):
        messages.message_from_reporter(db, report, None, body=f"pesan {n}", ip="testclient")
    db.commit()
    holder = make_client()
    open_case(holder, sent.code, sent.pin)
    response = post_form(holder, "/cek/laporan/pesan", {"message": "satu lagi"}, token_from="/cek/laporan")
    assert response.status_code == 422
    assert "Terlalu banyak pesan dalam satu jam." in response.text


def test_many_messages_from_the_code_holder_never_stop_the_counselor_from_answering(
        client, as_user, db, frozen_limits):
    """The limit is there against floods; a child (or whoever holds the code) writing a lot must not leave the
    counselor unable to reply."""
    submit_report(client)
    report = fresh(db, 1)
    for n in range(messages.MESSAGES_PER_CASE_PER_HOUR):
        messages.message_from_reporter(db, report, None, body=f"tolong {n}", ip="testclient")
    db.commit()
    response = case_post(as_user("konselor"), report.id, "pesan", {"body": "Kakak di sini. Kamu aman sekarang?"})
    assert response.status_code == 303
    assert events(db, report.id, "message")[-1].body == "Kakak di sini. Kamu aman sekarang?"


def test_opening_a_case_again_on_the_same_browser_replaces_its_session(client, make_client, db):
    """As at sign-in, the session token changes and the earlier one ends: a token seen before (over a shoulder,
    in a shared phone's cookie jar) no longer opens the case."""
    sent = submit_report(client)
    holder = make_client()
    open_case(holder, sent.code, sent.pin)
    first = holder.cookies.get("bc_case")
    open_case(holder, sent.code, sent.pin)
    second = holder.cookies.get("bc_case")
    assert first
    assert second
    assert first != second
    db.expire_all()
    assert db.execute(select(func.count()).select_from(CaseSession)).scalar_one() == 1
    thief = make_client()
    thief.cookies.set("bc_case", first)
    assert_sent_away(thief.get("/cek/laporan", follow_redirects=False))
    assert holder.get("/cek/laporan").status_code == 200
