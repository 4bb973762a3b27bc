"""A form that fails says so first: the page title of a refused form begins with "Galat: " (English "Error: "),
which screen readers read on arrival, before anything else on the page. Forms of three domains."""

import re

from tests.support.web import post_form


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found, "the page has no title"
    return found.group(1)


def test_a_report_sent_with_nothing_answered_has_galat_in_its_title(client):
    response = post_form(client, "/lapor", {}, token_from="/lapor")
    assert response.status_code == 422
    assert "Jawab dulu: apakah ada yang dalam bahaya sekarang?" in response.text
    assert "<title>Galat: " in response.text


def test_a_refused_sign_in_has_galat_in_its_title(client):
    response = post_form(client, "/masuk", {"username": "konselor", "password": "salah-sekali-123"})
    assert response.status_code == 422
    assert "Nama pengguna atau kata sandi salah." in response.text
    assert "<title>Galat: " in response.text


def test_refused_weekly_hours_have_galat_in_the_title(as_user):
    response = post_form(as_user("konselor2"), "/jadwal/ketersediaan/jam",
                         {"weekday": "1", "starts": "pagi", "ends": "10:00"}, token_from="/")
    assert response.status_code == 422
    assert "Tulis jam seperti 08.00." in response.text
    assert "<title>Galat: " in response.text


def test_a_refused_holiday_list_has_galat_in_the_title(as_user):
    response = post_form(as_user("supervisor"), "/jadwal/libur", {"lines": "", "kind": "libur_nasional"},
                         token_from="/")
    assert response.status_code == 422
    assert "Tulis setidaknya satu hari libur." in response.text
    assert "<title>Galat: " in response.text


def test_the_same_pages_without_errors_have_no_galat(client, as_user):
    for html in (client.get("/lapor").text, client.get("/masuk").text,
                 as_user("konselor2").get("/jadwal/ketersediaan").text):
        assert "Galat" not in _title(html)


def test_in_english_the_title_begins_with_error(client):
    post_form(client, "/bahasa", {"bahasa": "en"}, token_from="/")
    response = post_form(client, "/masuk", {"username": "konselor", "password": "salah-sekali-123"})
    assert response.status_code == 422
    assert _title(response.text).startswith("Error: ")
