"""The urgency a new report starts with: one test per row of the table in the README ("Urgensi laporan"), each
through the form a phone sends, so that the words of the form and the rules cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from server.reports import urgency
from server.reports.models import Report, Urgency
from tests.support.reports import submit_report

README = Path(__file__).resolve().parents[2] / "README.md"

# (what the person answered, the urgency it must start with); one entry per row of the README's table.
ROWS = [
    ({"danger_now": "yes", "categories": ["bullying"]}, "darurat"),
    ({"danger_now": "yes", "categories": ["other"], "happened_where": "online"}, "darurat"),
    ({"categories": ["sexual"]}, "tinggi"),
    ({"categories": ["trafficking"]}, "tinggi"),
    ({"categories": ["exploitation"]}, "tinggi"),
    ({"categories": ["mental_health"]}, "tinggi"),
    ({"categories": ["other"], "afraid_to_go_home": "yes"}, "tinggi"),
    ({"categories": ["physical"], "happened_where": "home"}, "tinggi"),
    ({"categories": ["psychological"], "happened_where": "home"}, "tinggi"),
    ({"categories": ["neglect"], "happened_where": "home"}, "tinggi"),
    ({"categories": ["physical"], "happened_where": "school", "happened_when": "ongoing"}, "tinggi"),
    ({"categories": ["physical"], "happened_where": "school", "happened_when": "this_week"}, "sedang"),
    ({"categories": ["bullying"], "happened_where": "home", "afraid_to_go_home": "no"}, "sedang"),
    ({"categories": ["psychological"], "happened_where": "school"}, "sedang"),
    ({"categories": ["other"], "afraid_to_go_home": "unsure"}, "sedang"),
]


@pytest.mark.parametrize(("answers", "expected"), ROWS, ids=[f"{u}-{i}" for i, (_a, u) in enumerate(ROWS)])
def test_it_starts_a_report_at_the_urgency_of_its_row(client, db, answers, expected):
    sent = submit_report(client, **answers)
    assert sent.response.status_code == 200
    report = db.execute(select(Report)).scalar_one()
    assert report.urgency == expected
    assert report.urgency_rank == Urgency(expected).rank


def test_it_never_lets_beaten_at_home_and_afraid_to_go_home_land_as_sedang(client, db):
    submit_report(client, categories=["physical"], happened_where="home", afraid_to_go_home="yes",
                  child_words="Aku dipukul bapak di rumah. Aku takut pulang.")
    report = db.execute(select(Report)).scalar_one()
    assert report.urgency == "tinggi"
    assert report.afraid_to_go_home == "yes"


def test_it_sorts_a_filled_honeypot_last_whatever_was_answered(client, db):
    submit_report(client, danger_now="yes", website="http://spam.example")
    report = db.execute(select(Report)).scalar_one()
    assert report.urgency == "rendah"
    assert report.suspected_spam


def test_it_refuses_an_answer_to_afraid_to_go_home_that_is_not_on_the_list(client, db):
    sent = submit_report(client, afraid_to_go_home="maybe")
    assert sent.response.status_code == 422
    assert "Pilih dari daftar yang ada." in sent.response.text


def test_it_keeps_the_readme_table_the_same_as_the_rules_in_code():
    """The README's table lists the rules in the order the code applies them, with the same urgency."""
    section = README.read_text().split("## Urgensi laporan", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    assert [(row.split("|")[3].strip(), row.split("|")[4].strip()) for row in rows] == [
        (rule.reason, rule.urgency.value) for rule in urgency.URGENCY_RULES
    ]


def test_it_shows_staff_that_someone_is_afraid_to_go_home(client, db, as_user):
    submit_report(client, categories=["physical"], afraid_to_go_home="yes")
    report = db.execute(select(Report)).scalar_one()
    page = as_user("supervisor").get(f"/kasus/{report.id}")
    assert page.status_code == 200
    assert "Takut pulang ke rumah</dt><dd>Ya</dd>" in page.text
