"""The report form as most people first meet it: not signed in. It is rendered once per language and data version
and served with each visitor's own CSRF token (server/web.AnonymousPage); these tests hold that it stays
exactly the page it was, for each visitor, and follows every change at once."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
from sqlalchemy import event

from server import process_cache
from server.accounts import places
from server.accounts.models import District, School
from server.process_cache import ProcessCopy
from tests.support.admin import admin_post
from tests.support.reports import submit_report

TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def tokens_on(html: str) -> set[str]:
    return set(TOKEN.findall(html)) | set(META_TOKEN.findall(html))


def test_each_visitor_gets_the_same_form_with_their_own_token(client, make_client):
    first = client.get("/lapor")
    second_client = make_client()
    second = second_client.get("/lapor")
    assert first.status_code == second.status_code == 200
    first_tokens, second_tokens = tokens_on(first.text), tokens_on(second.text)
    # One token per visitor, in the page's meta tag and in both its forms (the report and the language switch).
    assert len(first_tokens) == len(second_tokens) == 1
    assert first_tokens != second_tokens
    assert len(TOKEN.findall(second.text)) == 2
    assert len(META_TOKEN.findall(second.text)) == 1
    assert "csrf-placeholder" not in second.text
    # Each visitor's form also carries an idempotency key of its own, so a form sent twice is recognised.
    (first_key,), (second_key,) = KEY.findall(first.text), KEY.findall(second.text)
    assert first_key != second_key
    assert "placeholder" not in second_key
    assert (first.text.replace(first_tokens.pop(), "T").replace(first_key, "K")
            == second.text.replace(second_tokens.pop(), "T").replace(second_key, "K"))
    # And the token works: the second visitor's report goes through with the token from the served copy.
    sent = submit_report(second_client)
    assert sent.code
    assert sent.pin


def test_a_served_copy_carries_what_a_private_page_must(client):
    client.get("/lapor")
    again = client.get("/lapor")
    assert again.headers["content-type"].startswith("text/html")
    assert again.headers["vary"].startswith("HX-Request, Cookie")
    assert again.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in again.headers["content-security-policy"]


def test_once_rendered_it_is_served_without_asking_the_database(client, engine):
    client.get("/lapor")
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/lapor").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == []


def test_a_new_or_closed_school_shows_on_the_form_at_once(as_user, make_client, engine):
    supervisor = as_user("supervisor")
    visitor = make_client()
    assert "SD Negeri 2 Cempaka" not in visitor.get("/lapor").text
    added = admin_post(supervisor, "/admin/sekolah", {"name": "SD Negeri 2 Cempaka", "district_id": "1"})
    assert added.status_code == 303
    assert '>SD Negeri 2 Cempaka</option>' in visitor.get("/lapor").text
    assert admin_post(supervisor, "/admin/kecamatan/1/nonaktifkan").status_code == 303
    assert 1 not in dict(places.current(engine).districts)
    districts = re.search(r'<select[^>]*name="district_id".*?</select>', visitor.get("/lapor").text, re.S)
    assert '<option value="1"' not in districts.group(0)


def test_new_hotline_numbers_show_on_the_form_at_once(as_user, make_client):
    supervisor = as_user("supervisor")
    visitor = make_client()
    assert 'href="tel:119"' not in visitor.get("/lapor").text
    saved = admin_post(supervisor, "/admin/layanan", {
        "service_name": "Bintang Ceria", "city_name": "Kota Banjarbaru", "emergency_number": "119",
        "sapa_number": "129", "sapa_whatsapp": "08111129129", "city_hotline": "",
    })
    assert saved.status_code == 303
    assert 'href="tel:119"' in visitor.get("/lapor").text


def test_indonesian_and_english_visitors_each_get_their_own_language(client, make_client):
    assert "<h1>Lapor</h1>" in client.get("/lapor").text
    english = make_client()
    english.cookies.set("bahasa", "en")
    page = english.get("/lapor").text
    assert "<h1>Report</h1>" in page
    assert 'lang="en"' in page
    assert "<h1>Lapor</h1>" in client.get("/lapor").text


def test_a_signed_in_parents_form_is_their_own_and_never_served_to_a_visitor(as_user, make_client):
    parent = as_user("orangtua")
    own = parent.get("/lapor").text
    assert 'name="child_id"' in own
    assert "Keluar akun" in own
    visitor = make_client().get("/lapor").text
    assert 'name="child_id"' not in visitor
    assert "Keluar akun" not in visitor
    assert "Masuk" in visitor


@pytest.fixture
def copy_of_places() -> Iterator[Callable[[float], ProcessCopy]]:
    """A copy of the places list of its own, taken off the middleware's list again afterwards."""
    made: list[ProcessCopy] = []

    def make(max_age: float) -> ProcessCopy:
        made.append(ProcessCopy("test places", places.load, max_age=max_age))
        return made[-1]

    yield make
    for copy in made:
        process_cache._all.remove(copy)


def refresh(copy: ProcessCopy, engine) -> None:
    """As the middleware awaits it; on a thread of its own, since the browser tests leave an event loop on this one."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, copy.refresh, engine).result()


def test_another_process_follows_a_change_at_its_next_refresh(engine, db, copy_of_places):
    """What a second app process does: it did not save the change, so nobody calls its forget(); its copy is read
    again once it is older than max_age (10 s in the app; here -1, so every refresh reads)."""
    copy = copy_of_places(-1)
    before = copy.current(engine)
    version = copy.version
    db.add(School(name="SD Negeri 9 Liang Anggang", district_id=1))
    db.commit()
    assert copy.current(engine) == before  # current() never reads while it holds a copy
    refresh(copy, engine)
    assert "SD Negeri 9 Liang Anggang" in dict(copy.current(engine).schools).values()
    assert copy.version == version + 1
    refresh(copy, engine)
    assert copy.version == version + 1  # read again, unchanged: pages built on it stay valid


def test_a_fresh_copy_is_not_read_again(engine, db, copy_of_places):
    copy = copy_of_places(3600)
    before = copy.current(engine)
    db.add(School(name="SD Negeri 9 Liang Anggang", district_id=1))
    db.commit()
    refresh(copy, engine)
    assert copy.current(engine) == before
    copy.forget()
    assert "SD Negeri 9 Liang Anggang" in dict(copy.current(engine).schools).values()


def test_a_visitors_own_csrf_cookie_cannot_change_the_page_anyone_else_gets(client, make_client):
    """Litestar puts the CSRF cookie's value in the page as the token, and a visitor can send any cookie. The shared
    copy must not be made from it: a token like "a" would otherwise be replaced at every letter a, and markup would
    reach the next visitor."""
    for cookie in ("a", '"><script>alert(1)</script>', "e"):
        odd = make_client()
        odd.cookies.set("bc_csrf", cookie)
        page = odd.get("/lapor").text
        assert "<script>alert(1)</script>" not in page
        assert "<h1>Lapor</h1>" in page
        assert "csrf-placeholder" not in page
    normal = client.get("/lapor")
    (token,) = tokens_on(normal.text)
    assert token == client.cookies.get("bc_csrf")
    assert len(token) == 128
    assert "csrf-placeholder" not in normal.text
    assert "Lapor" in normal.text
    assert submit_report(client).code


def test_every_page_follows_a_change_made_by_another_process_once_its_copy_is_old(as_user, make_client, db,
                                                                                   monkeypatch):
    """Another process saved it, so this one was not told: the middleware reads the copies again once they are
    older than max_age (10 s; here at once), for the report form and the inbox's district filter alike."""
    counselor = as_user("konselor")
    visitor = make_client()
    assert "SD Negeri 9 Liang Anggang" not in visitor.get("/lapor").text
    monkeypatch.setattr(places._copy, "max_age", -1)
    db.add(School(name="SD Negeri 9 Liang Anggang", district_id=1))
    db.add(District(name="Kecamatan Baru"))
    db.commit()
    assert ">SD Negeri 9 Liang Anggang</option>" in visitor.get("/lapor").text
    assert ">Kecamatan Baru</option>" in counselor.get("/kasus/").text
