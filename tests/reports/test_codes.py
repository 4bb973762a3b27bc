"""Case codes and PINs: long enough not to be guessed, unique, forgiving to type, and random every time."""

from __future__ import annotations

import math
import re

import pytest
from sqlalchemy.exc import IntegrityError

from server.reports import codes, intake, report_form
from server.reports.models import Report
from tests.support.reports import fresh, make_report

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL

SECRET = "a-test-secret-key-that-is-long-enough-000000"


def test_two_hundred_codes_are_all_different_and_together_use_every_letter_of_the_alphabet():
    made = [codes.make_code_and_pin()[0] for _ in range(200)]
    assert len(set(made)) == 200
    assert all(len(code) == 16 and set(code) <= set(codes.CODE_ALPHABET) for code in made)
    assert set("".join(made)) == set(codes.CODE_ALPHABET)


def test_the_alphabet_is_crockfords_base32_without_look_alike_letters():
    assert len(codes.CODE_ALPHABET) == len(set(codes.CODE_ALPHABET)) == 32
    assert not set("ILOU") & set(codes.CODE_ALPHABET)


def test_a_code_carries_at_least_80_bits_of_randomness():
    assert codes.CODE_LENGTH * math.log2(len(codes.CODE_ALPHABET)) >= 80


def test_no_position_of_a_code_is_fixed():
    made = [codes.make_code_and_pin()[0] for _ in range(200)]
    for position in range(16):
        assert len({code[position] for code in made}) > 10, position


def test_pins_are_six_digits_and_vary():
    pins = [codes.make_code_and_pin()[1] for _ in range(200)]
    assert all(re.fullmatch(r"\d{6}", pin) for pin in pins)
    assert len(set(pins)) > 190


def test_a_code_is_shown_in_four_groups_of_four():
    assert codes.format_code("ABCD1234EFGH5678") == "ABCD-1234-EFGH-5678"


@pytest.mark.parametrize("typed", [
    "abcd-1234-efgh-5678",
    "ABCD 1234 EFGH 5678",
    " abcd1234efgh5678 ",
    "ABCD—1234.EFGH/5678",
])
def test_normalise_code_accepts_lower_case_spaces_and_dashes(typed):
    assert codes.normalise_code(typed) == "ABCD1234EFGH5678"


def test_normalise_code_reads_o_i_l_and_u_as_crockford_does():
    assert codes.normalise_code("oO-iI-lL-uU") == "001111VV"
    assert codes.code_hash("A0B1-C1D2-VVVV-0000") == codes.code_hash("aob i-cld2 uuuu-OOOO")


def test_every_code_and_pin_is_fresh():
    assert codes.make_code_and_pin() != codes.make_code_and_pin()


def test_the_database_refuses_two_reports_with_the_same_code(app, db):
    first = make_report(app, db)
    second = make_report(app, db)
    assert first.report.code_hash != second.report.code_hash
    clash = fresh(db, second.report.id)
    clash.code_hash = first.report.code_hash
    db.add(clash)
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_the_database_refuses_a_second_report_with_the_same_idempotency_key(app, db):
    make_report(app, db, idempotency_key="the-same-key-1")
    report = make_report(app, db).report
    clash = fresh(db, report.id)
    clash.idempotency_key_hash = codes.token_hash("the-same-key-1")
    db.add(clash)
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    assert db.get(Report, report.id).idempotency_key_hash is None


def test_a_form_replayed_twice_at_the_same_moment_makes_one_report_and_both_get_its_receipt(app, engine, db):
    """The page and its service worker may send the same offline report together, from the same browser: the
    second insert is refused by the database and answered with the first one's receipt, never an error."""
    import threading

    from sqlalchemy import func, select
    from sqlmodel import Session

    from tests.support.reports import report_fields

    start = threading.Barrier(2)
    receipts: list[intake.Receipt] = []
    failures: list[BaseException] = []

    def submit() -> None:
        form = report_form.ReportForm.from_data(report_fields(idempotency_key="replayed-together-1"))
        try:
            with Session(engine, expire_on_commit=False) as session:
                start.wait()
                receipts.append(intake.submit_report(session, app.state.settings, form, user=None, ip="10.0.0.9",
                                                      browser_token="the-same-browser", wants_receipt=True))
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert receipts[0].formatted_code == receipts[1].formatted_code
    assert receipts[0].pin == receipts[1].pin
    db.expire_all()
    assert db.execute(select(func.count()).select_from(Report)
                      .where(Report.idempotency_key_hash == codes.token_hash("replayed-together-1"))).scalar_one() == 1
