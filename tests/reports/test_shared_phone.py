"""A phone shared in a family: a child reporting on the phone their parent is signed in on. The form says who is
signed in and offers to send without the account; a child's report never goes into the parent's list (where the
parent would read it) unless that choice was made on purpose."""

from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import Child
from server.reports.models import Report
from tests.support.reports import ADULT_EXTRA, audit_entries, submit_report, user_named


def only_report(db) -> Report:
    db.expire_all()
    return db.execute(select(Report)).scalar_one()


def test_the_form_says_who_is_signed_in_and_offers_to_send_without_the_account(as_user):
    page = as_user("orangtua").get("/lapor").text
    assert "Kamu masuk sebagai Ibu Wati." in page
    assert 'name="send_as" value="account"' in page
    assert 'name="send_as" value="anonymous"' in page
    assert "Kirim tanpa akun" in page
    # Nothing is chosen for the person: the choice has to be theirs.
    assert 'name="send_as" value="account" checked' not in page


def test_a_visitors_form_has_no_account_choice(client):
    assert 'name="send_as"' not in client.get("/lapor").text


def test_a_childs_report_from_a_parents_account_is_not_filed_into_it_without_the_choice(as_user, db):
    parent = as_user("orangtua")
    sent = submit_report(parent, reporter_kind="child", child_words="Aku dipukul ayah.")
    assert sent.response.status_code == 200
    assert sent.code
    assert sent.pin
    report = only_report(db)
    assert report.submitted_by_id is None
    assert "Aku dipukul ayah." not in parent.get("/laporan-saya").text
    assert parent.get(f"/laporan-saya/{report.id}").status_code == 404
    entry = audit_entries(db, "report.submitted", report.id)[0]
    assert entry.actor_id is None
    assert entry.actor_label == "code-holder"


def test_a_friends_report_from_a_teachers_account_is_not_filed_into_it_either(as_user, db):
    sent = submit_report(as_user("guru"), reporter_kind="friend")
    assert sent.response.status_code == 200
    assert sent.pin
    assert only_report(db).submitted_by_id is None


def test_a_childs_report_is_filed_into_the_parents_account_only_when_chosen(as_user, db):
    parent = as_user("orangtua")
    sent = submit_report(parent, reporter_kind="child", send_as="account")
    assert sent.response.status_code == 303
    assert only_report(db).submitted_by_id == user_named(db, "orangtua").id


def test_a_parent_may_choose_to_send_without_the_account_and_the_child_is_not_named(as_user, db):
    parent = as_user("orangtua")
    dimas = db.execute(select(Child).where(Child.nickname == "Dimas")).scalar_one()
    sent = submit_report(parent, reporter_kind="parent", send_as="anonymous", child_id=str(dimas.id),
                         **ADULT_EXTRA)
    assert sent.response.status_code == 200
    assert sent.code
    assert sent.pin
    report = only_report(db)
    assert report.submitted_by_id is None
    assert report.child_id is None


def test_a_parents_own_report_still_goes_into_their_account(as_user, db):
    sent = submit_report(as_user("orangtua"), reporter_kind="parent", **ADULT_EXTRA)
    assert sent.response.status_code == 303
    assert only_report(db).submitted_by_id == user_named(db, "orangtua").id


def test_a_signed_in_childs_own_report_goes_into_their_account(as_user, db):
    sent = submit_report(as_user("anak"), reporter_kind="child")
    assert sent.response.status_code == 303
    assert only_report(db).submitted_by_id == user_named(db, "anak").id


def test_an_unknown_choice_is_refused(as_user, db):
    sent = submit_report(as_user("orangtua"), reporter_kind="child", send_as="someone")
    assert sent.response.status_code == 422
    assert "Pilih salah satu" in sent.response.text
