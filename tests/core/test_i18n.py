from datetime import UTC, datetime
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from server import i18n
from tests.support.web import post_form

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "server" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
METHODS = [("server/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _catalog():
    with CATALOG.open("rb") as source:
        return read_po(source, locale="en")


def test_it_speaks_indonesian_by_default(client):
    html = client.get("/").text
    assert '<html lang="id">' in html
    assert "Keluar cepat" in html


def test_it_switches_to_english_and_back(client):
    post_form(client, "/bahasa", {"bahasa": "en", "lanjut": "/masuk"}, token_from="/")
    html = client.get("/").text
    assert '<html lang="en">' in html
    assert "Quick exit" in html
    assert "Keluar cepat" not in html
    post_form(client, "/bahasa", {"bahasa": "id"}, token_from="/")
    assert "Keluar cepat" in client.get("/").text


def test_every_message_has_an_english_translation():
    missing = [m.id for m in _catalog() if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id for m in _catalog() if m.id and m.fuzzy]
    assert missing == []
    assert fuzzy == []


def test_the_catalog_holds_every_message_the_code_uses():
    used = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(ROOT), METHODS, options_map=OPTIONS,
                                        keywords={**DEFAULT_KEYWORDS, "_l": None})
    }
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog() if m.id}
    assert sorted(used - known) == []


def test_times_are_shown_in_wita_and_say_so():
    moment = datetime(2026, 11, 30, 1, 5, tzinfo=UTC)
    assert i18n.format_local(moment) == "30 Nov 2026 09.05.00 WITA"
    assert i18n.format_local_time(moment) == "09.05 WITA"


def test_a_remembered_time_is_remembered_per_language():
    """Formatted times are kept (server.i18n's lru_caches); the same moment must still come out in each language."""
    moment = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
    shown = []
    for language in ("id", "en", "id", "en"):
        with i18n.language(language):
            shown.append((i18n.format_local(moment, "short"), i18n.format_local_date(moment, "EEEE, d MMMM y"),
                          i18n.format_local_time(moment)))
    assert shown[0] == shown[2]
    assert shown[1] == shown[3]
    assert shown[0][1] == "Selasa, 1 Desember 2026"
    assert shown[0][2] == "14.30 WITA"
    assert shown[1][1] == "Tuesday, 1 December 2026"
    assert shown[1][2] == "14:30 WITA"
