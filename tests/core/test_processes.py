"""Several app processes on one database share sessions and rate limits (DESIGN.md §6)."""

import re

import httpx
import pytest

from server.accounts.demo import DEMO_PASSWORD
from tests.servers import app_process

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL


def _sign_in(base_url: str, client: httpx.Client, username: str, password: str) -> httpx.Response:
    form = client.get(f"{base_url}/masuk").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form).group(1)
    return client.post(f"{base_url}/masuk", data={"_csrf_token": token, "username": username, "password": password})


def test_a_session_made_through_one_process_works_through_the_other(database_url, tmp_path):
    with app_process(database_url, tmp_path) as first, app_process(database_url, tmp_path) as second:
        with httpx.Client() as browser:
            assert _sign_in(first, browser, "konselor", DEMO_PASSWORD).status_code == 303
            page = browser.get(f"{second}/akun")
            assert page.status_code == 200
            assert "Konselor Rina" in page.text
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            assert browser.post(f"{second}/keluar-akun", data={"_csrf_token": token}).status_code == 303
            assert browser.get(f"{first}/akun").status_code == 303


def test_sign_in_attempts_are_counted_across_processes(database_url, tmp_path):
    with app_process(database_url, tmp_path) as first, app_process(database_url, tmp_path) as second:
        with httpx.Client() as browser:
            for n in range(5):
                _sign_in(first if n % 2 else second, browser, "guru", "salah-sekali-123")
            assert _sign_in(first, browser, "guru", DEMO_PASSWORD).status_code == 429
