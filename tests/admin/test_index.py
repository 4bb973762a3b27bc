import pytest

from tests.support.admin import PEOPLE_WHO_ARE_NOT_SUPERVISORS


def test_it_links_every_section_for_a_supervisor(supervisor):
    response = supervisor.get("/admin")
    assert response.status_code == 200
    for href in ("/admin/pengguna", "/admin/sekolah", "/admin/kecamatan", "/admin/layanan", "/admin/audit"):
        assert f'href="{href}"' in response.text
    assert response.headers["cache-control"] == "no-store"


def test_it_shows_supervisors_the_way_in_from_the_header(supervisor, as_user):
    assert 'href="/admin"' in supervisor.get("/").text
    assert 'href="/admin"' not in as_user("guru").get("/").text


@pytest.mark.parametrize("username", PEOPLE_WHO_ARE_NOT_SUPERVISORS)
def test_it_refuses_everyone_else(as_user, username):
    response = as_user(username).get("/admin")
    assert response.status_code == 403
    # In the reader's voice: a child reads "kamu", an adult "Anda".
    you = "Kamu" if username == "anak" else "Anda"
    assert f"{you} tidak punya akses ke halaman ini" in response.text


def test_it_sends_a_signed_out_visitor_to_sign_in(client):
    response = client.get("/admin", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/admin"


def test_it_keeps_the_page_title_neutral(supervisor):
    response = supervisor.get("/admin")
    assert "<title>Pengelolaan · Bintang Ceria</title>" in response.text
