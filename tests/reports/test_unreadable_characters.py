"""Control characters in a posted field (a NUL byte lost a whole report on PostgreSQL with a 500) are refused
next to the field, in plain words, with everything else kept; and a database error never puts what someone
typed into the logs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text

from server.reports.models import Report
from tests.support.reports import make_report, submit_report
from tests.support.web import post_form

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL

WORDS = "Aku dipukul paman di gudang belakang."
PHONE = "081234567899"
UNREADABLE = "Ada tanda tak terlihat"


def report_count(db) -> int:
    db.expire_all()
    return db.execute(select(func.count()).select_from(Report)).scalar_one()


def error_next_to(html: str, name: str) -> str:
    start = html.index(f'id="field-{name}"')
    start = max(html.rfind("<fieldset", 0, start), html.rfind('<div class="field', 0, start))
    return html[start : start + 1500]


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_a_control_character_in_the_childs_words_is_refused_next_to_them_with_everything_kept(
        client, db, character):
    sent = submit_report(client, child_words=f"Aku{character} dipukul.", where_detail="dekat pasar",
                         contact_method="phone", contact_detail=PHONE)
    assert sent.response.status_code == 422
    assert UNREADABLE in error_next_to(sent.response.text, "child_words")
    assert "Aku dipukul.</textarea>" in sent.response.text  # kept, without the character
    assert 'value="dekat pasar"' in sent.response.text
    assert f'value="{PHONE}"' in sent.response.text
    assert report_count(db) == 0


@pytest.mark.parametrize("name", ["where_detail", "contact_safe_time", "others_involved", "child_age"])
def test_a_nul_byte_in_a_one_line_field_is_refused_next_to_it(client, db, name):
    sent = submit_report(client, **{name: "1\x002"}, reporter_kind="parent", how_learned="Cerita anak.",
                         child_knows="yes", contact_method="phone", contact_detail="0812 3456 7890")
    assert sent.response.status_code == 422
    assert UNREADABLE in error_next_to(sent.response.text, name)
    assert report_count(db) == 0


def test_a_tab_in_a_one_line_field_is_refused(client, db):
    sent = submit_report(client, where_detail="rumah\tnenek")
    assert sent.response.status_code == 422
    assert UNREADABLE in error_next_to(sent.response.text, "where_detail")


def test_new_lines_and_tabs_in_the_childs_words_are_kept(client, db):
    sent = submit_report(client, child_words="Baris satu.\r\nBaris dua,\tlalu tiga.")
    assert sent.response.status_code == 200
    assert db.execute(select(Report.child_words)).scalar_one() in (
        "Baris satu.\r\nBaris dua,\tlalu tiga.", "Baris satu.\nBaris dua,\tlalu tiga.")


def test_a_nul_byte_in_a_choice_or_a_hidden_field_is_refused_too(client, db):
    for fields in ({"reporter_kind": "child\x00"}, {"categories": ["bullying\x00"]}, {"website": "\x00"},
                   {"idempotency_key": "abcdefgh\x00"}):
        sent = submit_report(client, **fields)
        assert sent.response.status_code == 422, fields
    assert report_count(db) == 0


def test_a_json_post_with_a_nul_byte_gets_the_error_as_json(client, db):
    sent = submit_report(client, child_words="a\x00b", headers={"accept": "application/json"})
    assert sent.response.status_code == 422
    assert "child_words" in sent.response.json()["errors"]


def test_a_message_from_the_code_holder_with_a_nul_byte_is_refused_not_a_500(client, make_client, app, db):
    receipt = make_report(app, db)
    holder = make_client()
    post_form(holder, "/cek", {"code": receipt.formatted_code, "pin": receipt.pin}, token_from="/cek")
    response = post_form(holder, "/cek/laporan/pesan", {"message": "Tolong\x00 aku"}, token_from="/cek/laporan",
                         follow_redirects=False)
    assert response.status_code == 422
    assert UNREADABLE in response.text


def test_a_nul_byte_in_the_code_or_pin_is_refused_not_a_500(client, db):
    response = post_form(client, "/cek", {"code": "ABCD\x00", "pin": "12\x0034"}, token_from="/cek")
    assert response.status_code == 422
    assert UNREADABLE in response.text


def test_a_case_note_with_a_nul_byte_is_refused_not_a_500(as_user, app, db):
    receipt = make_report(app, db)
    counselor = as_user("supervisor")
    response = post_form(counselor, f"/kasus/{receipt.report.id}/catatan", {"body": "Catatan\x00"},
                         token_from="/", follow_redirects=False)
    assert response.status_code == 422
    assert UNREADABLE in response.text


# --- the logs ------------------------------------------------------------------------------------------------


def refuse_every_report(db) -> None:
    """Make the database itself refuse the next report, the way a broken disk or a bad value would."""
    if db.get_bind().dialect.name == "postgresql":
        # A CHECK violation: PostgreSQL's error names the whole failing row, the child's words with it.
        db.execute(text("ALTER TABLE report ADD CONSTRAINT refuse_all CHECK (id < 0) NOT VALID"))
    else:
        db.execute(text("CREATE TRIGGER refuse_all BEFORE INSERT ON report "
                        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
    db.commit()


def test_the_engine_never_puts_statement_parameters_into_errors(engine):
    assert engine.hide_parameters


def test_a_failed_database_write_is_a_500_whose_logs_hold_nothing_typed(client, db, caplog):
    caplog.set_level(logging.DEBUG)
    refuse_every_report(db)
    sent = submit_report(client, child_words=WORDS, contact_method="whatsapp", contact_detail=PHONE,
                         where_detail="gang mawar")
    assert sent.response.status_code == 500
    assert any(r.levelno >= logging.ERROR for r in caplog.records)
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for typed in (WORDS, "dipukul paman", PHONE, "gang mawar"):
        assert typed not in logged, typed
        assert typed not in sent.response.text


def test_the_500_log_still_says_where_it_failed(client, db, caplog):
    caplog.set_level(logging.DEBUG)
    refuse_every_report(db)
    submit_report(client, child_words=WORDS)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bintang")]
    assert errors
    message = errors[0].getMessage()
    assert "POST /lapor" in message
    assert "submit_report" in message
