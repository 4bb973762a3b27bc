import logging

import pytest

from tests.support.web import post_form, sign_in


def test_every_page_carries_the_security_headers(client):
    for path in ("/", "/masuk", "/healthz", "/tidak-ada"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "camera=()" in headers["permissions-policy"]


def test_pages_are_served_as_html(client):
    for path in ("/", "/masuk", "/tidak-ada", "/lapor"):
        assert client.get(path).headers["content-type"].startswith("text/html")


def test_pages_have_no_inline_script(client):
    html = client.get("/").text
    assert "<script>" not in html
    assert " on" + "click=" not in html


def test_signed_in_pages_are_never_stored(client):
    sign_in(client, "guru")
    for path in ("/", "/akun"):
        assert client.get(path).headers["cache-control"] == "no-store"


def test_public_pages_are_revalidated_not_stored_forever(client):
    assert client.get("/").headers["cache-control"] == "no-cache"


def test_static_files_are_versioned_and_cached_for_a_year(client):
    html = client.get("/lapor").text
    assert "/static/css/app.css?v=" in html
    assert "/static/vendor/htmx.min.js?v=" in html
    for path in ("/static/css/app.css", "/static/js/app.js", "/static/icons/icon-192.png",
                 "/static/vendor/htmx.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        directives = {d.strip() for d in response.headers["cache-control"].split(",")}
        assert directives == {"public", "max-age=31536000", "immutable"}, (path, directives)
    assert "htmx" in client.get("/static/vendor/htmx.min.js").text


def test_the_home_page_leaves_out_htmx_it_does_not_use(client):
    """A first visit stays light (issue 6); pages that swap fragments still load it."""
    assert "/static/vendor/htmx.min.js" not in client.get("/").text
    assert "hx-" not in client.get("/").text


def test_responses_are_compressed(client):
    for path in ("/static/vendor/htmx.min.js", "/static/css/app.css", "/", "/lapor"):
        brotli = client.get(path, headers={"accept-encoding": "br"})
        assert brotli.headers["content-encoding"] == "br", path
        assert "accept-encoding" in brotli.headers["vary"].lower(), path
        # Browsers without brotli get gzip.
        assert client.get(path, headers={"accept-encoding": "gzip"}).headers["content-encoding"] == "gzip", path


def test_request_log_has_method_path_status_and_time_but_no_form_values(client, caplog):
    caplog.set_level(logging.INFO, logger="bintang.request")
    post_form(client, "/masuk", {"username": "konselor", "password": "rahasia-yang-tidak-boleh-dicatat"})
    client.get("/masuk?lanjut=/akun-rahasia")
    lines = [r.getMessage() for r in caplog.records if r.name == "bintang.request"]
    assert any(line.startswith("POST /masuk 422 ") and line.endswith("ms") for line in lines)
    everything = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    assert "rahasia-yang-tidak-boleh-dicatat" not in everything
    assert "akun-rahasia" not in everything
    assert "bc_csrf" not in everything


def test_unknown_pages_get_a_friendly_404_in_plain_words(client):
    response = client.get("/tidak-ada")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.text


@pytest.mark.parametrize(("path", "status"), [
    ("/konseling", 200),           # the way in for someone signed out: a code holder's pages are private too
    ("/pemantauan/1", 200),        # a check-in asked for without a code: the page that offers both ways in
    ("/penilaian/1", 200),
    ("/konseling/999999", 200),
])
def test_private_routes_are_never_stored_even_for_someone_signed_out(client, path, status):
    """A route marked private (opt=PRIVATE on it or its controller) sends no-store whoever asks and whatever the
    answer, its refusals and sign-in pages included; nobody is signed in here."""
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["cache-control"] == "no-store"


def test_a_public_form_beside_private_answers_is_only_revalidated(client):
    assert client.get("/lapor").headers["cache-control"] == "no-cache"
    assert client.get("/cek").headers["cache-control"] == "no-cache"
