"""Wrong passwords slow the next attempt down instead of locking the account: the delay doubles with each
further failure up to a cap, an attempt inside the delay is refused unread (and is not a guess), and the right
person gets in once the delay is over. Time is pinned, so every number of seconds here is exact."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from server.models import AuditEntry
from tests.support.web import post_form

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL

WRONG = "salah-sekali-123"
RIGHT = "ceria-demo-2026"
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


def attempt(client, username: str, password: str):
    return post_form(client, "/masuk", {"username": username, "password": password}, follow_redirects=False)


def failures_recorded(db) -> int:
    return db.execute(select(func.count()).where(AuditEntry.action == "signin.failed")).scalar_one()


def fail_until_delayed(client, app, username: str = "konselor") -> None:
    for _ in range(app.state.settings.login_limit_per_account):
        assert attempt(client, username, WRONG).status_code == 422


def test_it_makes_the_attempt_after_the_free_ones_wait_and_says_how_long(client, app, clock):
    fail_until_delayed(client, app)
    clock.shift(10)
    response = attempt(client, "konselor", RIGHT)
    assert response.status_code == 429
    assert "coba lagi dalam 20 detik" in response.text
    assert "bc_session" not in response.headers.get("set-cookie", "")


def test_the_right_password_works_once_the_delay_is_over(client, app, clock):
    fail_until_delayed(client, app)
    clock.shift(app.state.settings.login_delay_seconds)
    response = attempt(client, "konselor", RIGHT)
    assert response.status_code == 303
    assert client.get("/akun").status_code == 200


def test_the_delay_doubles_with_each_further_failure(client, app, clock):
    first = app.state.settings.login_delay_seconds
    fail_until_delayed(client, app)
    clock.shift(first)
    assert attempt(client, "konselor", WRONG).status_code == 422
    assert f"coba lagi dalam {2 * first} detik" in attempt(client, "konselor", RIGHT).text
    clock.shift(2 * first)
    assert attempt(client, "konselor", WRONG).status_code == 422
    assert f"coba lagi dalam {4 * first} detik" in attempt(client, "konselor", RIGHT).text
    clock.shift(4 * first)
    assert attempt(client, "konselor", RIGHT).status_code == 303


def test_an_attempt_inside_the_delay_is_not_checked_and_does_not_count(client, app, db, clock):
    first = app.state.settings.login_delay_seconds
    fail_until_delayed(client, app)
    counted = failures_recorded(db)
    for _ in range(10):
        clock.shift(1)
        assert attempt(client, "konselor", WRONG).status_code == 429
    assert failures_recorded(db) == counted
    # Had the refused attempts counted, the next failure would wait far longer than twice the first delay.
    clock.shift(first)
    assert attempt(client, "konselor", WRONG).status_code == 422
    assert f"coba lagi dalam {2 * first} detik" in attempt(client, "konselor", RIGHT).text


def test_a_stranger_cannot_make_the_account_wait_longer_than_the_cap(client, make_client, app, clock):
    settings = app.state.settings
    cap = settings.login_max_delay_minutes * 60
    fail_until_delayed(client, app)
    for _ in range(12):
        clock.shift(cap)
        attempt(client, "konselor", WRONG)
    owner = make_client()
    clock.shift(cap - 1)
    assert "coba lagi dalam 1 detik" in attempt(owner, "konselor", RIGHT).text
    clock.shift(1)
    assert attempt(owner, "konselor", RIGHT).status_code == 303


def test_the_failures_of_one_account_do_not_slow_another_down(client, app, clock):
    fail_until_delayed(client, app, "konselor")
    assert attempt(client, "konselor2", RIGHT).status_code == 303


def test_an_address_trying_many_accounts_is_slowed_down_too_and_gets_in_after_waiting(client, app, clock):
    settings = app.state.settings
    for n in range(settings.login_limit_per_address):
        assert attempt(client, f"orang{n}", WRONG).status_code == 422
    response = attempt(client, "konselor", RIGHT)
    assert response.status_code == 429
    assert f"coba lagi dalam {settings.login_delay_seconds} detik" in response.text
    clock.shift(settings.login_delay_seconds)
    assert attempt(client, "konselor", RIGHT).status_code == 303


def test_a_successful_sign_in_clears_the_accounts_failures(client, app, clock):
    settings = app.state.settings
    for _ in range(settings.login_limit_per_account - 1):
        attempt(client, "konselor", WRONG)
    assert attempt(client, "konselor", RIGHT).status_code == 303
    for _ in range(settings.login_limit_per_account - 1):
        assert attempt(client, "konselor", WRONG).status_code == 422
    assert attempt(client, "konselor", RIGHT).status_code == 303


# --- the wait belongs to the guesser, not to the account (issue 19) ------------------------------------------


def test_a_guesser_elsewhere_never_keeps_the_owner_out(client, make_client, app, clock):
    """25 wrong passwords from one address made the right one from another address wait (429) on the old code."""
    guesser = from_address(client, "198.51.100.7")
    for _ in range(25):
        attempt(guesser, "konselor2", WRONG)
    owner = from_address(make_client(), "203.0.113.20")
    response = attempt(owner, "konselor2", RIGHT)
    assert response.status_code == 303
    assert owner.get("/akun").status_code == 200
    # ... and the guesser stays slow, the right password included: it is not even checked.
    refused = attempt(guesser, "konselor2", RIGHT)
    assert refused.status_code == 429
    assert "coba lagi dalam" in refused.text


def test_the_guesser_waits_longer_and_longer_while_the_owner_comes_and_goes(client, make_client, app, clock):
    settings = app.state.settings
    cap = settings.login_max_delay_minutes * 60
    guesser = from_address(client, "198.51.100.7")
    for _ in range(settings.login_limit_per_account):
        attempt(guesser, "konselor2", WRONG)
    for _ in range(8):
        wait = int(re.search(r"coba lagi dalam (\d+) detik", attempt(guesser, "konselor2", WRONG).text)[1])
        clock.shift(wait)
        assert attempt(guesser, "konselor2", WRONG).status_code == 422
        owner = from_address(make_client(), "203.0.113.20")
        assert attempt(owner, "konselor2", RIGHT).status_code == 303
    assert f"coba lagi dalam {cap} detik" in attempt(guesser, "konselor2", RIGHT).text


def test_a_device_that_signed_in_before_gets_in_at_once_from_the_guessers_own_address(client, make_client, app, clock):
    """A shared address (a school's network, a mobile carrier's): the owner's phone signed in before, so its
    signed device cookie lets the right password through while the guesser at the same address waits."""
    owner = from_address(make_client(), "198.51.100.7")
    assert attempt(owner, "konselor2", RIGHT).status_code == 303
    assert owner.cookies.get("bc_device")
    post_form(owner, "/keluar-akun", {}, follow_redirects=False)
    guesser = from_address(client, "198.51.100.7")
    for _ in range(25):
        attempt(guesser, "konselor2", WRONG)
    assert attempt(guesser, "konselor2", RIGHT).status_code == 429
    assert attempt(owner, "konselor2", RIGHT).status_code == 303
    assert owner.get("/akun").status_code == 200


def test_a_device_cookie_of_another_account_or_forged_counts_for_nothing(client, make_client, app, clock):
    owner = from_address(make_client(), "198.51.100.7")
    assert attempt(owner, "konselor", RIGHT).status_code == 303
    post_form(owner, "/keluar-akun", {}, follow_redirects=False)
    guesser = from_address(client, "198.51.100.7")
    for _ in range(25):
        attempt(guesser, "konselor2", WRONG)
    # konselor's device is not konselor2's: this browser is one more client at the guesser's address.
    assert attempt(owner, "konselor2", RIGHT).status_code == 429
    forged = from_address(make_client(), "198.51.100.7")
    nonce = owner.cookies.get("bc_device").split(".")[0]
    forged.cookies.set("bc_device", f"{nonce}.{'0' * 32}")
    assert attempt(forged, "konselor2", RIGHT).status_code == 429


def test_guessing_on_a_known_device_is_slowed_down_too(client, app, clock):
    owner = from_address(client, "198.51.100.7")
    assert attempt(owner, "konselor2", RIGHT).status_code == 303
    post_form(owner, "/keluar-akun", {}, follow_redirects=False)
    for _ in range(app.state.settings.login_limit_per_account):
        assert attempt(owner, "konselor2", WRONG).status_code == 422
    response = attempt(owner, "konselor2", RIGHT)
    assert response.status_code == 429
    assert f"coba lagi dalam {app.state.settings.login_delay_seconds} detik" in response.text


def test_many_addresses_at_one_account_each_get_one_guess_then_the_longest_wait(make_client, app, clock):
    """A guesser with many addresses: once one account has many failures from clients it does not know, each
    unknown client waits the cap after its first failure. The owner's first attempt from anywhere is still
    checked at once."""
    settings = app.state.settings
    cap = settings.login_max_delay_minutes * 60
    for n in range(30):
        attempt(from_address(make_client(), f"198.51.100.{n}"), "konselor2", WRONG)
    late = from_address(make_client(), "198.51.100.200")
    assert attempt(late, "konselor2", WRONG).status_code == 422
    response = attempt(late, "konselor2", RIGHT)
    assert response.status_code == 429
    assert f"coba lagi dalam {cap} detik" in response.text
    owner = from_address(make_client(), "203.0.113.20")
    assert attempt(owner, "konselor2", RIGHT).status_code == 303


def test_one_address_failing_again_and_again_does_not_crowd_the_account(client, make_client, app, clock):
    """Only many different clients make every unknown client wait the cap after one failure: a single guesser's
    failures leave the owner, on another address, the usual free attempts for a typo."""
    guesser = from_address(client, "198.51.100.7")
    for _ in range(40):
        attempt(guesser, "konselor2", WRONG)
        clock.shift(app.state.settings.login_max_delay_minutes * 60)
    owner = from_address(make_client(), "203.0.113.20")
    assert attempt(owner, "konselor2", WRONG).status_code == 422
    assert attempt(owner, "konselor2", RIGHT).status_code == 303


def test_the_device_cookie_names_nothing_and_scripts_cannot_read_it(client, app, clock):
    response = attempt(from_address(client, "198.51.100.7"), "konselor2", RIGHT)
    assert response.status_code == 303
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("bc_device="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=2592000" in cookie
    assert "Path=/" in cookie
    value = client.cookies.get("bc_device")
    assert re.fullmatch(r"[0-9a-f]{32}\.[0-9a-f]{32}", value)
    assert "konselor" not in cookie
