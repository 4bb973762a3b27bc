"""Counselors and supervisors reach their inbox and their schedule from the top navigation on every page; nobody
else is shown them."""

from __future__ import annotations

import re

import pytest

from tests.support.web import post_form


def nav(html: str) -> str:
    return re.search(r'<nav class="site-header__nav"[^>]*>(.*?)</nav>', html, re.DOTALL).group(1)


@pytest.mark.parametrize("username", ["konselor", "supervisor"])
def test_it_puts_the_inbox_and_the_schedule_in_the_staffs_top_navigation(as_user, username):
    staff = as_user(username)
    home = staff.get("/")
    assert home.status_code == 200
    links = nav(home.text)
    assert '<a href="/kasus/">Kotak masuk</a>' in links
    assert '<a href="/jadwal">Jadwal</a>' in links
    inbox = staff.get("/kasus/")
    assert inbox.status_code == 200
    assert '<a href="/kasus/" aria-current="page">Kotak masuk</a>' in nav(inbox.text)
    schedule = staff.get("/jadwal")
    assert schedule.status_code == 200
    assert '<a href="/jadwal" aria-current="page">Jadwal</a>' in nav(schedule.text)


@pytest.mark.parametrize("username", ["guru", "orangtua", "anak"])
def test_it_does_not_show_the_staff_links_to_reporters(as_user, username):
    links = nav(as_user(username).get("/").text)
    assert 'href="/kasus/"' not in links
    assert 'href="/jadwal"' not in links


def test_it_does_not_show_the_staff_links_to_someone_signed_out(client):
    links = nav(client.get("/").text)
    assert 'href="/kasus/"' not in links
    assert 'href="/jadwal"' not in links
    assert '<a href="/masuk">Masuk</a>' in links


def test_it_names_the_links_in_english_too(as_user):
    staff = as_user("konselor")
    post_form(staff, "/bahasa", {"bahasa": "en", "lanjut": "/"}, token_from="/", follow_redirects=False)
    links = nav(staff.get("/").text)
    assert '<a href="/kasus/">Inbox</a>' in links
    assert '<a href="/jadwal">Schedule</a>' in links
