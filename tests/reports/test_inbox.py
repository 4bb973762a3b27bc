"""The counselors' inbox (/kasus/): urgency first, then the nearest deadline; filters that combine; htmx
fragments; keyset pagination without repeats or gaps; only the cases the person may handle."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from server import clock
from server.reports import cases as handling
from server.reports import inbox
from server.reports.models import Report
from tests.support.reports import district_named, make_report, school_named, set_state, user_named

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL


def listed(page: str) -> list[int]:
    """Case ids in the order the inbox shows them."""
    return [int(n) for n in re.findall(r'<a class="case-row__link" href="/kasus/(\d+)"', page)]


def more_link(page: str) -> str | None:
    match = re.search(r'data-inbox-more href="([^"]+)"', page)
    return "/kasus/" + html.unescape(match.group(1)) if match else None


def rows(page: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(0) for m in re.finditer(
        r'<li class="case-row[^"]*">\s*<a class="case-row__link" href="/kasus/(\d+)".*?</li>', page, re.DOTALL)}


def test_it_lists_the_open_cases_by_urgency_then_by_the_nearest_deadline(app, db, as_user):
    now = clock.now().replace(microsecond=0)
    later_medium = make_report(app, db).report
    sooner_medium = make_report(app, db).report
    emergency = make_report(app, db, danger_now="yes").report
    high = make_report(app, db, categories=["mental_health"]).report
    low = make_report(app, db, website="bot").report
    closed = make_report(app, db, danger_now="yes").report
    set_state(db, later_medium.id, next_due_at=now + timedelta(days=2))
    set_state(db, sooner_medium.id, next_due_at=now + timedelta(days=1))
    set_state(db, high.id, next_due_at=now + timedelta(days=5))
    set_state(db, low.id, next_due_at=now - timedelta(days=1))
    set_state(db, closed.id, status="closed", is_open=False)
    response = as_user("supervisor").get("/kasus/")
    assert response.status_code == 200
    assert listed(response.text) == [emergency.id, high.id, sooner_medium.id, later_medium.id, low.id]
    assert response.headers["cache-control"] == "no-store"


def test_cases_with_the_same_urgency_and_deadline_are_listed_oldest_first(app, db, as_user, quick_pins):
    due = clock.now().replace(microsecond=0) + timedelta(days=3)
    made = [make_report(app, db).report.id for _ in range(4)]
    for report_id in made:
        set_state(db, report_id, next_due_at=due)
    assert listed(as_user("supervisor").get("/kasus/").text) == made


class TestFilters:
    @staticmethod
    def cases(app, db):
        utara, cempaka = district_named(db, "Banjarbaru Utara"), district_named(db, "Cempaka")
        smp = school_named(db, "SMP Negeri 1 Banjarbaru")
        sma = school_named(db, "SMA Negeri 1 Banjarbaru")
        konselor = user_named(db, "konselor")
        cases = {
            "mine": make_report(app, db, categories=["physical"], school_id=str(smp.id)).report,
            "cempaka": make_report(app, db, categories=["physical"], district_id=str(cempaka.id)).report,
            "bullying": make_report(app, db, categories=["bullying"], district_id=str(utara.id)).report,
            "sma": make_report(app, db, categories=["sexual", "physical"], school_id=str(sma.id)).report,
            "closed": make_report(app, db, categories=["physical"], district_id=str(utara.id)).report,
        }
        handling.assign(db, cases["mine"], konselor, counselor_id=konselor.id, version=None, ip="testclient")
        db.commit()
        set_state(db, cases["closed"].id, status="closed", is_open=False)
        ids = {name: report.id for name, report in cases.items()}
        return ids, {"utara": utara.id, "cempaka": cempaka.id, "smp": smp.id, "sma": sma.id}

    def test_each_filter_narrows_the_list_and_filters_combine(self, app, db, as_user):
        ids, places = self.cases(app, db)
        supervisor = as_user("supervisor")

        def shown(query: str) -> set[int]:
            response = supervisor.get(f"/kasus/?{query}")
            assert response.status_code == 200, query
            return set(listed(response.text))

        assert shown("") == {ids["mine"], ids["cempaka"], ids["bullying"], ids["sma"]}
        assert shown("status=closed") == {ids["closed"]}
        assert shown("status=all") == set(ids.values())
        assert shown("status=assigned") == {ids["mine"]}
        assert shown("kategori=physical") == {ids["mine"], ids["cempaka"], ids["sma"]}
        assert shown("kategori=physical&status=all") == {ids["mine"], ids["cempaka"], ids["sma"], ids["closed"]}
        assert shown(f"kecamatan={places['utara']}") == {ids["mine"], ids["bullying"], ids["sma"]}
        assert shown(f"sekolah={places['smp']}") == {ids["mine"]}
        assert shown(f"kategori=physical&kecamatan={places['utara']}") == {ids["mine"], ids["sma"]}
        assert shown(f"kategori=sexual&kecamatan={places['utara']}&sekolah={places['sma']}") == {ids["sma"]}
        assert shown(f"kategori=bullying&kecamatan={places['cempaka']}") == set()
        assert shown("milik_saya=1") == set()  # the supervisor has none of their own

    def test_assigned_to_me_shows_only_the_counselors_own_cases(self, app, db, as_user):
        ids, _places = self.cases(app, db)
        counselor = as_user("konselor")
        assert set(listed(counselor.get("/kasus/?milik_saya=1").text)) == {ids["mine"]}
        assert set(listed(counselor.get("/kasus/?milik_saya=1&kategori=physical").text)) == {ids["mine"]}
        empty = counselor.get("/kasus/?milik_saya=1&kategori=bullying").text
        assert listed(empty) == []
        assert "Tidak ada kasus yang cocok dengan pilihan ini." in empty

    def test_the_chosen_filters_stay_chosen_on_the_page(self, app, db, as_user):
        _ids, places = self.cases(app, db)
        page = as_user("konselor").get(f"/kasus/?kategori=physical&kecamatan={places['utara']}&milik_saya=1").text
        assert '<option value="physical" selected>' in page
        assert f'<option value="{places["utara"]}" selected>' in page
        assert 'name="milik_saya" value="1" checked' in page

    def test_unknown_filter_values_are_ignored_rather_than_failing(self, app, db, as_user):
        self.cases(app, db)
        response = as_user("supervisor").get("/kasus/?kategori=alien&kecamatan=abc&sekolah=&status=zzz&setelah=x.y.z")
        assert response.status_code == 200


def test_an_htmx_request_gets_only_the_results(app, db, as_user):
    report = make_report(app, db, categories=["physical"]).report
    supervisor = as_user("supervisor")
    fragment = supervisor.get("/kasus/?kategori=physical", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "<title" not in fragment.text
    assert 'id="inbox-results"' in fragment.text
    assert 'class="filters"' not in fragment.text
    assert listed(fragment.text) == [report.id]
    assert fragment.headers["cache-control"] == "no-store"
    assert "HX-Request" in fragment.headers["vary"]
    full = supervisor.get("/kasus/?kategori=physical")
    assert "<html" in full.text
    assert 'class="filters"' in full.text


def sixty_cases(app, db) -> list[int]:
    """Sixty open cases of every urgency, many sharing a deadline; their ids in the order the inbox must show."""
    base = clock.now().replace(microsecond=0)
    for n in range(60):
        fields = {}
        if n % 7 == 0:
            fields["danger_now"] = "yes"
        elif n % 5 == 0:
            fields["categories"] = ["sexual"]
        elif n % 11 == 0:
            fields["website"] = "bot"
        report = make_report(app, db, **fields).report
        # Deadlines spread over a few values, so that many cases share one and the id breaks the tie.
        set_state(db, report.id, next_due_at=base + timedelta(hours=(n * 7) % 4))
    db.expire_all()
    expected = [r.id for r in db.execute(
        select(Report).where(Report.is_open).order_by(Report.urgency_rank, Report.next_due_at, Report.id)).scalars()]
    assert len(expected) == 60
    return expected


def walk(client, *, htmx: bool) -> tuple[list[int], int]:
    """Follow the inbox's "more" link to the end; the ids seen and the number of pages."""
    first = client.get("/kasus/").text
    seen = listed(first)
    assert len(seen) == inbox.INBOX_PAGE_SIZE
    link, pages = more_link(first), 1
    while link:
        assert "setelah=" in link
        page = client.get(link, headers={"HX-Request": "true"} if htmx else {})
        assert page.status_code == 200
        if htmx:
            assert "<html" not in page.text
            assert 'class="inbox-more-slot"' in page.text
        ids = listed(page.text)
        assert ids, "a page with a next link must not be empty"
        seen += ids
        link, pages = more_link(page.text), pages + 1
    return seen, pages


def test_sixty_cases_page_by_page_without_repeats_or_gaps(app, db, as_user, quick_pins):
    expected = sixty_cases(app, db)
    seen, pages = walk(as_user("supervisor"), htmx=False)
    assert pages == 3
    assert seen == expected  # every case once, in order: nothing repeated, nothing skipped


def test_the_more_button_loads_the_next_cases_as_a_fragment_without_repeats_or_gaps(app, db, as_user, quick_pins):
    expected = sixty_cases(app, db)
    seen, pages = walk(as_user("supervisor"), htmx=True)
    assert pages == 3
    assert seen == expected


def test_the_next_page_keeps_the_filters(app, db, as_user, quick_pins):
    for n in range(inbox.INBOX_PAGE_SIZE + 10):
        make_report(app, db, categories=["physical"] if n % 7 else ["bullying"])
    supervisor = as_user("supervisor")
    first = supervisor.get("/kasus/?kategori=physical").text
    link = more_link(first)
    assert link
    assert "kategori=physical" in link
    rest = listed(supervisor.get(link).text)
    assert len(listed(first)) == inbox.INBOX_PAGE_SIZE
    assert len(rest) == 5
    assert not set(listed(first)) & set(rest)


def test_counselors_see_their_teams_cases_their_own_and_those_no_team_has_yet(app, db, as_user):
    utara, cempaka = district_named(db, "Banjarbaru Utara"), district_named(db, "Cempaka")
    team_utara = make_report(app, db, district_id=str(utara.id)).report
    team_cempaka = make_report(app, db, district_id=str(cempaka.id)).report
    no_team = make_report(app, db).report
    assigned_elsewhere = make_report(app, db, district_id=str(cempaka.id)).report
    set_state(db, assigned_elsewhere.id, assigned_to_id=user_named(db, "konselor").id, status="assigned")
    assert set(listed(as_user("konselor").get("/kasus/?status=all").text)) == {
        team_utara.id, no_team.id, assigned_elsewhere.id}
    assert set(listed(as_user("konselor2").get("/kasus/?status=all").text)) == {
        team_cempaka.id, no_team.id, assigned_elsewhere.id}
    assert set(listed(as_user("supervisor").get("/kasus/?status=all").text)) == {
        team_utara.id, team_cempaka.id, no_team.id, assigned_elsewhere.id}


def test_an_overdue_deadline_is_flagged(app, db, as_user):
    overdue = make_report(app, db).report
    on_time = make_report(app, db).report
    set_state(db, overdue.id, first_response_due_at=clock.now() - timedelta(hours=2),
              next_due_at=clock.now().replace(microsecond=0) - timedelta(hours=2))
    supervisor = as_user("supervisor")
    shown = rows(supervisor.get("/kasus/").text)
    assert "Lewat tenggat" in shown[overdue.id]
    assert "Lewat tenggat" not in shown[on_time.id]
    assert "Tenggat" in shown[on_time.id]
    case_page = supervisor.get(f"/kasus/{overdue.id}").text
    assert "Lewat tenggat:" in case_page
    assert "Tindak lanjut pertama" in case_page
    assert "Lewat tenggat:" not in supervisor.get(f"/kasus/{on_time.id}").text


def test_a_case_with_no_pending_deadline_shows_none(app, db, as_user):
    report = make_report(app, db).report
    konselor = user_named(db, "konselor")
    handling.assign(db, report, konselor, counselor_id=konselor.id, version=None, ip="testclient")
    db.commit()
    shown = rows(as_user("supervisor").get("/kasus/").text)
    assert "enggat" not in shown[report.id]


def test_suspected_spam_is_marked_in_the_list(app, db, as_user):
    report = make_report(app, db, website="http://spam.example").report
    assert "Mungkin spam" in rows(as_user("supervisor").get("/kasus/").text)[report.id]


def test_each_choice_of_the_status_filter_means_one_thing(as_user):
    page = as_user("supervisor").get("/kasus/").text
    status_select = page[page.index('name="status"'):]
    status_select = status_select[:status_select.index("</select>")]
    values = re.findall(r'<option value="([^"]*)"', status_select)
    assert len(values) == len(set(values)), values
