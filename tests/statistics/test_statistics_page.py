"""/statistik: the numbers of a period, counted by the database, for a supervisor over every team and for a
counselor over their own team; checked against reports with answers worked out by hand."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from server import i18n, process_cache
from server.statistics import disclosure, service
from tests.support.reports import district_named, user_named
from tests.support.statistics import a_report, wita
from tests.support.web import post_form


def counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="([^"]+)">([^<]*)<', html))


@pytest.mark.both_databases
def test_a_supervisor_sees_every_teams_numbers_for_the_year(known_year, as_user):
    response = as_user("supervisor").get("/statistik/?tahun=2026")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    shown = counts(response.text)
    assert (shown["cases"], shown["victims"], shown["perpetrators"], shown["household"]) == ("5", "5", "3", "1")
    assert shown["median"] == "30 jam"
    assert shown["deadlines"] == "2 dari 5 (40%)"
    assert [shown[f"month:{m}"] for m in range(1, 13)] == ["0", "0", "2", "1", "1", "1", "0", "0", "0", "0", "0", "0"]
    # physical + bullying counts under fisik and psikis; psychological + bullying only once under psikis.
    assert {form: shown[f"form:{form}"] for form in ("fisik", "psikis", "seksual", "eksploitasi", "trafficking",
                                                      "penelantaran", "lainnya")} == {
        "fisik": "1", "psikis": "2", "seksual": "1", "eksploitasi": "0", "trafficking": "0", "penelantaran": "1",
        "lainnya": "1"}
    assert (shown["age:0-5"], shown["age:6-12"], shown["age:13-17"], shown["age:unknown"]) == ("1", "0", "2", "2")
    assert (shown["sex:perempuan"], shown["sex:laki_laki"], shown["sex:tidak_diketahui"]) == ("2", "1", "2")
    assert (shown["district:Banjarbaru Utara"], shown["district:Cempaka"], shown["district:Belum diketahui"]) \
        == ("3", "1", "1")
    assert (shown["place:home"], shown["place:school"], shown["place:online"], shown["place:public"],
            shown["place:"]) == ("1", "1", "1", "1", "1")
    assert (shown["relationship:orang_tua"], shown["relationship:teman"], shown["relationship:guru"],
            shown["relationship:tetangga"]) == ("1", "1", "1", "0")
    assert (shown["service:kesehatan"], shown["service:bantuan_hukum"], shown["service:pengaduan"],
            shown["service:rehabilitasi_sosial"]) == ("1", "1", "1", "0")
    assert "<svg class=\"chart\"" in response.text
    assert "<table>" in response.text


def test_a_month_and_a_kecamatan_narrow_the_numbers(known_year, db, as_user):
    client = as_user("supervisor")
    march = counts(client.get("/statistik/?tahun=2026&bulan=3").text)
    assert march["cases"] == "2"
    assert march["month:3"] == "2"
    assert "month:4" not in march
    cempaka = district_named(db, "Cempaka").id
    only_cempaka = counts(client.get(f"/statistik/?tahun=2026&kecamatan={cempaka}").text)
    assert only_cempaka["cases"] == "1"
    assert only_cempaka["form:penelantaran"] == "1"
    assert counts(client.get("/statistik/?tahun=2025").text)["cases"] == "1"


def test_htmx_gets_only_the_numbers(known_year, as_user):
    response = as_user("supervisor").get("/statistik/?tahun=2026&bulan=4", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="stats-results"')
    assert counts(response.text)["cases"] == "1"


@pytest.mark.both_databases
def test_a_counselor_sees_only_their_own_teams_numbers(known_year, as_user):
    utara = counts(as_user("konselor").get("/statistik/?tahun=2026").text)
    assert (utara["cases"], utara["perpetrators"], utara["median"], utara["deadlines"]) == (
        "3", "3", "30 jam", "2 dari 3 (67%)")
    assert utara["district:Cempaka"] == "0"
    assert utara["district:Belum diketahui"] == "0"
    cempaka = counts(as_user("konselor2").get("/statistik/?tahun=2026").text)
    assert (cempaka["cases"], cempaka["form:penelantaran"], cempaka["form:seksual"], cempaka["median"]) == (
        "1", "1", "0", "—")


def test_a_counselor_cannot_see_another_teams_numbers_by_choosing_its_kecamatan(known_year, db, as_user):
    cempaka = district_named(db, "Cempaka").id
    assert counts(as_user("konselor").get(f"/statistik/?tahun=2026&kecamatan={cempaka}").text)["cases"] == "0"


@pytest.mark.parametrize("username", ["guru", "orangtua", "anak"])
def test_reporters_and_children_are_refused(username, known_year, as_user):
    response = as_user(username).get("/statistik/?tahun=2026")
    assert response.status_code == 403
    assert 'data-count="cases"' not in response.text


def test_someone_signed_out_is_sent_to_sign_in(make_client):
    response = make_client().get("/statistik/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/statistik"


def test_a_year_that_cannot_be_read_is_refused_next_to_the_field(known_year, as_user):
    response = as_user("supervisor").get("/statistik/?tahun=20x6")
    assert response.status_code == 422
    assert "Tulis tahun dengan empat angka, misalnya 2026." in response.text
    assert 'value="20x6"' in response.text
    assert counts(response.text)["cases"] == "5"
    swapped = as_user("supervisor").get("/statistik/?tahun=20x6", headers={"HX-Request": "true"})
    assert swapped.status_code == 422
    assert swapped.text.lstrip().startswith('<div id="stats-results"')
    assert "Tulis tahun dengan empat angka, misalnya 2026." in swapped.text


def test_staff_find_it_in_the_menu(as_user):
    assert 'href="/statistik/"' in as_user("konselor").get("/kasus/").text
    assert 'href="/statistik/"' not in as_user("guru").get("/laporan-saya").text


@pytest.mark.parametrize(('n', 'shown'), [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (120, "120")])
def test_small_counts_are_suppressed_for_publishing(n, shown):
    assert disclosure.protect({"count": n}, []) == {"count": shown}


@pytest.mark.parametrize("query", ["tahun=²⁰²⁶", "bulan=²", "kecamatan=¹", "tahun=" + "9" * 5000,
                                   "kecamatan=99999999999", "bulan=13"])
def test_numbers_that_cannot_be_read_are_refused_not_a_server_error(query, as_user):
    assert as_user("supervisor").get(f"/statistik/?{query}").status_code == 422


@pytest.mark.parametrize("path", ["/statistik/simfoni?bulan=²⁰²⁶-¹", "/statistik/kla?tahun=¹⁹⁹⁹"])
def test_other_pages_refuse_such_numbers_too(path, as_user):
    assert as_user("supervisor").get(path).status_code == 422


def test_the_numbers_take_the_same_few_queries_whatever_the_number_of_reports(known_year, db, engine):
    """Counted in the database (GROUP BY), never by loading rows: ten times the reports, the same statements. Each
    count here starts from nothing (no month remembered): six statements a month, the month numbers, the names."""
    def statements() -> list[str]:
        process_cache.forget_all()
        seen: list[str] = []

        def count(_conn, _cursor, statement, *_args) -> None:
            seen.append(statement)

        supervisor = user_named(db, "supervisor")
        event.listen(engine, "before_cursor_execute", count)
        try:
            service.statistics(db, supervisor, service.StatisticsFilter(service.Period(2026, None)))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return seen

    few = statements()
    for day in range(1, 29):
        a_report(db, created_at=wita(2026, 2, day, 10), categories=["physical", "neglect"], child_age=day % 18,
                 perpetrators=("tetangga",), services=("kesehatan",))
    assert len(statements()) == len(few) <= 2 + 12 * 6


def test_numbers_are_written_in_the_readers_language(db, as_user):
    """Indonesian: a decimal comma and a thousands dot (through Babel); English keeps English numbers."""
    for _ in range(2):
        a_report(db, created_at=wita(2026, 3, 10, 9), categories=["physical"], responded_after=0.5)
    client = as_user("supervisor")
    assert counts(client.get("/statistik/?tahun=2026").text)["median"] == "0,5 jam"
    post_form(client, "/bahasa", {"bahasa": "en", "lanjut": "/statistik/"}, token_from="/")
    response = client.get("/statistik/?tahun=2026")
    assert response.status_code == 200
    assert counts(response.text)["median"] == "0.5 hours"


@pytest.mark.parametrize(("language", "shown"), [("id", ("1.234", "0,5", "1.234.567,25")),
                                                 ("en", ("1,234", "0.5", "1,234,567.25"))])
def test_the_number_filter_follows_the_language(language, shown):
    with i18n.language(language):
        assert (i18n.format_number(1234), i18n.format_number(0.5), i18n.format_number(1234567.25)) == shown
