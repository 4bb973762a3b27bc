"""Wrong passwords slow the next attempt down instead of locking the account: the delay doubles with each
further failure up to a cap, an attempt inside the delay is refused unread (and is not a guess), and the right
person gets in once the delay is over. Time is pinned, so every number of seconds here is exact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from server.models import AuditEntry
from tests.conftest import post_form

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL

WRONG = "salah-sekali-123"
RIGHT = "ceria-demo-2026"
START = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


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
