import json
import re

from PIL import Image

from server import service_info
from server.pwa import icons
from server.pwa.routes import SERVICE_WORKER, installed_name, short_name
from server.web import STATIC_DIR, static_url
from tests.support.reports import submit_report
from tests.support.web import csrf_token, post_form, sign_in


def version(script: str) -> str:
    match = re.search(r'const VERSION = "([0-9a-f]{16})";', script)
    assert match, "no version in sw.js"
    return match.group(1)


def precache_list(script: str) -> list[str]:
    match = re.search(r"const PRECACHE = (\[.*?\]);", script)
    assert match, "no precache list in sw.js"
    return json.loads(match.group(1))


# --- manifest ----------------------------------------------------------------------------------------------


def test_it_serves_a_manifest_an_installable_app_needs(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["id"] == "/"
    assert manifest["name"] == "Bintang Ceria"
    assert manifest["start_url"] == "/?source=pwa"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#1d4f91"
    assert manifest["background_color"]
    assert manifest["lang"] == "id"
    assert manifest["description"]
    assert [(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]] == [
        ("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")
    ]


def test_its_icons_are_versioned_and_served(client):
    for icon in client.get("/manifest.webmanifest").json()["icons"]:
        assert icon["src"].startswith("/static/icons/")
        assert "?v=" in icon["src"]
        response = client.get(icon["src"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"


def test_the_short_name_fits_under_a_home_screen_icon(client):
    manifest = client.get("/manifest.webmanifest").json()
    assert 0 < len(manifest["short_name"]) <= 12
    assert manifest["short_name"] == "Bintang"


def test_it_uses_the_name_a_supervisor_gave_the_service(client, db):
    service_info.save(db, service_info.ServiceInfo(service_name="Sahabat Anak"))
    db.commit()
    service_info.forget()
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["name"] == manifest["short_name"] == "Sahabat Anak"


def test_the_installed_name_never_says_what_the_service_is_for(client, db):
    service_info.save(db, service_info.ServiceInfo(service_name="Layanan Korban Kekerasan Anak"))
    db.commit()
    service_info.forget()
    manifest = client.get("/manifest.webmanifest").json()
    assert "kekerasan" not in json.dumps(manifest).lower()
    assert manifest["name"] == "Bintang Ceria"


def test_it_shortens_a_long_name_to_whole_words():
    assert short_name("Pusat Layanan Anak Ceria") == "Pusat"
    assert short_name("Sahabat Anak Kita") == "Sahabat Anak"
    assert short_name("Bintang Ceria") == "Bintang"
    assert short_name("Sahabat") == "Sahabat"
    assert short_name("Supercalifragilistic") == "Supercalifra"
    assert installed_name("  ") == "Bintang Ceria"
    assert installed_name("Stop Abuse Now") == "Bintang Ceria"


# --- service worker ----------------------------------------------------------------------------------------


def test_it_serves_the_service_worker_from_the_root_inline_and_revalidated(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    assert "attachment" not in response.headers.get("content-disposition", "")


def test_the_service_worker_precaches_the_versioned_app_shell_and_the_offline_page(client):
    script = client.get("/sw.js").text
    precache = precache_list(script)
    assert "/offline" in precache
    static = [url for url in precache if url != "/offline"]
    assert static == [url for url in static if url.startswith("/static/") and "?v=" in url]
    assert static_url("css/app.css") in static
    assert static_url("vendor/htmx.min.js") in static
    assert {"/static/css/app.css", "/static/js/app.js", "/static/js/quick-exit.js", "/static/vendor/htmx.min.js",
            "/static/icons/icon-192.png", "/static/icons/icon-512.png"} <= {url.split("?v=")[0] for url in static}
    for url in precache:
        assert client.get(url).status_code == 200, url
    assert "__VERSION__" not in script
    assert "__PRECACHE__" not in script
    assert version(script)


def test_the_service_worker_in_the_repository_keeps_its_placeholders_as_javascript_literals():
    source = SERVICE_WORKER.read_text()
    assert 'const VERSION = "__VERSION__";' in source
    assert 'const PRECACHE = ["__PRECACHE__"];' in source
    assert 'const FALLBACK = {"__FALLBACK__": true};' in source


def test_a_push_that_cannot_be_read_shows_the_services_own_name(client, db):
    assert 'const FALLBACK = {"title": "Bintang Ceria", "body": "Bintang Ceria: ada kabar baru untuk Anda"};' in (
        client.get("/sw.js").text)
    service_info.save(db, service_info.ServiceInfo(service_name="Sahabat Anak"))
    db.commit()
    service_info.forget()
    script = client.get("/sw.js").text
    assert 'const FALLBACK = {"title": "Sahabat Anak", "body": "Sahabat Anak: ada kabar baru untuk Anda"};' in script
    assert "__FALLBACK__" not in script
    assert '"Bintang Ceria' not in script


def test_the_version_changes_when_the_emergency_numbers_change(client, db):
    before = client.get("/sw.js").text
    assert client.get("/sw.js").text == before
    service_info.save(db, service_info.ServiceInfo(city_hotline="0511-4772000"))
    db.commit()
    service_info.forget()
    after = client.get("/sw.js").text
    assert version(after) != version(before)
    assert precache_list(after) == precache_list(before)


# --- offline page ------------------------------------------------------------------------------------------


def test_it_has_an_offline_page_in_plain_words_with_the_emergency_numbers(client):
    response = client.get("/offline")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Tidak ada sambungan internet" in response.text
    assert 'href="tel:112"' in response.text
    assert "SAPA 129" in response.text
    assert "Keluar cepat" in response.text


def test_the_offline_page_can_be_kept_by_the_service_worker(client):
    assert client.get("/offline").headers["cache-control"] == "no-cache"


# --- quick exit --------------------------------------------------------------------------------------------


def test_quick_exit_ends_the_session_and_clears_the_site_data(client, make_client):
    sign_in(client, "anak")
    token = client.cookies.get("bc_session")
    response = client.post("/keluar-cepat", headers={"X-CSRFToken": csrf_token(client, "/akun")})
    assert response.status_code == 204
    assert response.headers["clear-site-data"] == '"cache", "cookies"'
    assert client.cookies.get("bc_session") is None

    thief = make_client()
    thief.cookies.set("bc_session", token)
    response = thief.get("/akun", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/masuk")


def test_quick_exit_also_closes_a_report_opened_with_its_code_and_pin(client, make_client):
    sent = submit_report(client)
    post_form(client, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek")
    token = client.cookies.get("bc_case")
    assert token
    assert client.get("/cek/laporan").status_code == 200

    response = client.post("/keluar-cepat", headers={"X-CSRFToken": csrf_token(client, "/")})
    assert response.status_code == 204
    assert client.cookies.get("bc_case") is None
    onlooker = make_client()
    onlooker.cookies.set("bc_case", token)
    assert onlooker.get("/cek/laporan", follow_redirects=False).status_code == 303


def test_quick_exit_works_for_someone_not_signed_in(client):
    response = client.post("/keluar-cepat", headers={"X-CSRFToken": csrf_token(client, "/")})
    assert response.status_code == 204
    assert response.headers["clear-site-data"] == '"cache", "cookies"'


def test_every_page_tells_quick_exit_the_mark_to_set(client, app):
    page = client.get("/")
    hours = app.state.settings.session_max_hours
    assert page.status_code == 200
    assert f'<meta name="quick-exit-cookie" content="bc_keluar=1; Max-Age={hours * 3600}; Path=/; SameSite=lax">' \
        in page.text


def mark_quick_exit(client) -> None:
    """What the page does as quick exit starts: a cookie of the site's own, which no answer has cleared yet."""
    client.cookies.set("bc_keluar", "1", domain=next(cookie.domain for cookie in client.cookies.jar))


def test_a_sign_out_quick_exit_could_not_send_ends_the_session_at_the_next_request(client, make_client):
    """The page marks the phone before it sends the sign-out (a cookie, bc_keluar); when the sign-out was lost,
    the next request of any page, in any tab, ends the session instead of showing it."""
    sign_in(client, "anak")
    token = client.cookies.get("bc_session")
    mark_quick_exit(client)
    response = client.get("/akun", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/akun"
    dropped = response.headers.get_list("set-cookie")
    assert any(cookie.startswith("bc_keluar=") and "Max-Age=0" in cookie for cookie in dropped), dropped
    assert any(cookie.startswith("bc_session=") and "Max-Age=0" in cookie for cookie in dropped), dropped
    assert client.cookies.get("bc_keluar") is None
    assert client.cookies.get("bc_session") is None

    thief = make_client()
    thief.cookies.set("bc_session", token)
    assert thief.get("/akun", follow_redirects=False).headers["location"] == "/masuk?lanjut=/akun"


def test_a_report_opened_with_its_code_is_closed_too_when_quick_exit_could_not_say_so(client, make_client):
    sent = submit_report(client)
    holder = make_client()
    post_form(holder, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek")
    token = holder.cookies.get("bc_case")
    assert token
    assert holder.get("/cek/laporan").status_code == 200
    mark_quick_exit(holder)
    response = holder.get("/cek/laporan", follow_redirects=False)
    assert response.status_code == 303
    assert "data-reporter-status" not in response.text
    onlooker = make_client()
    onlooker.cookies.set("bc_case", token)
    assert onlooker.get("/cek/laporan", follow_redirects=False).status_code == 303


def test_signing_in_again_after_a_quick_exit_that_could_not_sign_out_works(client):
    sign_in(client, "anak")
    old = client.cookies.get("bc_session")
    mark_quick_exit(client)
    sign_in(client, "anak")
    assert client.cookies.get("bc_session") not in (None, old)
    assert client.cookies.get("bc_keluar") is None
    page = client.get("/akun")
    assert page.status_code == 200
    assert "Akun saya" in page.text


def test_quick_exit_is_refused_without_the_csrf_token(as_user):
    client = as_user("anak")
    response = client.post("/keluar-cepat")
    assert response.status_code == 403
    assert client.get("/akun").status_code == 200


# --- icons -------------------------------------------------------------------------------------------------


def test_the_icons_in_the_repository_are_the_ones_the_drawing_makes(tmp_path):
    icons.main(tmp_path)
    for name, size, _purpose in icons.ICONS:
        kept = Image.open(STATIC_DIR / "icons" / name)
        drawn = Image.open(tmp_path / name)
        assert kept.size == drawn.size == (size, size)
        assert kept.convert("RGB").tobytes() == drawn.convert("RGB").tobytes(), name


def test_the_maskable_icon_keeps_the_star_inside_the_safe_zone():
    image = Image.open(STATIC_DIR / "icons" / "icon-maskable-512.png").convert("RGB")
    size = image.width
    background = image.getpixel((0, 0))
    for x in range(0, size, 4):
        for y in range(0, size, 4):
            if (x - size / 2) ** 2 + (y - size / 2) ** 2 > (0.4 * size) ** 2:
                assert image.getpixel((x, y)) == background, (x, y)
