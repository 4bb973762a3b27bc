"""Wrong PINs slow the next attempt on a code down instead of locking the code for its holder: the delay
doubles up to a cap, an attempt inside the delay is refused unread and is not a guess, and the holder gets in
with the right PIN once it is over. Time is pinned, so the seconds are exact."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import time_machine

from server.reports import access
from tests.support.reports import audit_entries, open_case, other_pin, submit_report

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL

START = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings):
    """The test client's peer is a trusted proxy, so that each client can come from an address of its own."""
    return replace(settings, trusted_proxies=("testclient",))


def from_address(client, ip: str):
    client.headers["X-Forwarded-For"] = ip
    return client


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def guess_until_delayed(guesser, sent) -> None:
    for _ in range(access.CODE_ATTEMPTS_PER_CODE):
        assert open_case(guesser, sent.code, other_pin(sent.pin)).status_code == 422


def test_the_holder_gets_in_with_the_right_pin_once_the_delay_is_over(client, make_client, clock):
    sent = submit_report(client)
    guess_until_delayed(make_client(), sent)
    holder = make_client()
    waiting = open_case(holder, sent.code, sent.pin)
    assert waiting.status_code == 429
    assert f"coba lagi dalam {access.CODE_BACKOFF.first_delay_seconds} detik" in waiting.text
    clock.shift(access.CODE_BACKOFF.first_delay_seconds)
    assert open_case(holder, sent.code, sent.pin).status_code == 303
    assert holder.get("/cek/laporan").status_code == 200


def test_the_delay_on_a_code_doubles_with_each_further_wrong_pin(client, make_client, clock):
    first = access.CODE_BACKOFF.first_delay_seconds
    sent = submit_report(client)
    guesser = make_client()
    guess_until_delayed(guesser, sent)
    clock.shift(first)
    assert open_case(guesser, sent.code, other_pin(sent.pin)).status_code == 422
    assert f"coba lagi dalam {2 * first} detik" in open_case(guesser, sent.code, sent.pin).text
    clock.shift(2 * first)
    assert open_case(guesser, sent.code, other_pin(sent.pin)).status_code == 422
    assert f"coba lagi dalam {4 * first} detik" in open_case(guesser, sent.code, sent.pin).text


def test_an_attempt_inside_the_delay_is_not_checked_and_is_not_a_guess(client, make_client, db, clock):
    first = access.CODE_BACKOFF.first_delay_seconds
    sent = submit_report(client)
    guesser = make_client()
    guess_until_delayed(guesser, sent)
    failed = len(audit_entries(db, "report.code_failed"))
    for _ in range(10):
        clock.shift(1)
        response = open_case(guesser, sent.code, other_pin(sent.pin))
        assert response.status_code == 429
        assert "Terlalu banyak percobaan." in response.text
    assert len(audit_entries(db, "report.code_failed")) == failed
    clock.shift(first)
    assert open_case(guesser, sent.code, other_pin(sent.pin)).status_code == 422
    assert f"coba lagi dalam {2 * first} detik" in open_case(guesser, sent.code, sent.pin).text


def test_a_guesser_cannot_keep_the_holder_out_longer_than_the_cap(client, make_client, clock):
    cap = access.CODE_BACKOFF.max_delay_seconds
    sent = submit_report(client)
    guesser = make_client()
    guess_until_delayed(guesser, sent)
    for _ in range(10):
        clock.shift(cap)
        open_case(guesser, sent.code, other_pin(sent.pin))
    clock.shift(cap)
    assert open_case(make_client(), sent.code, sent.pin).status_code == 303


# --- the wait belongs to the guesser, not to the code (issue 19) ---------------------------------------------


def test_someone_who_knows_the_code_cannot_keep_the_child_out(client, make_client, clock):
    """Wrong PINs from one address made the child's right PIN from another address wait (429) on the old code."""
    sent = submit_report(client)
    guesser = from_address(make_client(), "198.51.100.7")
    for _ in range(25):
        open_case(guesser, sent.code, other_pin(sent.pin))
    child = from_address(make_client(), "203.0.113.20")
    assert open_case(child, sent.code, sent.pin).status_code == 303
    assert child.get("/cek/laporan").status_code == 200
    refused = open_case(guesser, sent.code, sent.pin)
    assert refused.status_code == 429
    assert "Terlalu banyak percobaan." in refused.text


def test_a_phone_that_opened_the_report_before_gets_in_at_once_at_the_guessers_address(client, make_client, clock):
    sent = submit_report(client)
    child = from_address(make_client(), "198.51.100.7")
    assert open_case(child, sent.code, sent.pin).status_code == 303
    assert child.cookies.get("bc_device")
    guesser = from_address(make_client(), "198.51.100.7")
    for _ in range(25):
        open_case(guesser, sent.code, other_pin(sent.pin))
    assert open_case(guesser, sent.code, sent.pin).status_code == 429
    assert open_case(child, sent.code, sent.pin).status_code == 303
    assert child.get("/cek/laporan").status_code == 200


def test_many_addresses_at_one_code_each_get_one_guess_then_the_longest_wait(client, make_client, clock):
    sent = submit_report(client)
    for n in range(30):
        open_case(from_address(make_client(), f"198.51.100.{n}"), sent.code, other_pin(sent.pin))
    late = from_address(make_client(), "198.51.100.200")
    assert open_case(late, sent.code, other_pin(sent.pin)).status_code == 422
    response = open_case(late, sent.code, sent.pin)
    assert response.status_code == 429
    assert f"coba lagi dalam {access.CODE_BACKOFF.max_delay_seconds} detik" in response.text
    assert open_case(from_address(make_client(), "203.0.113.20"), sent.code, sent.pin).status_code == 303
