"""The KLA pack's "<5" cannot be undone: an outsider who takes what /statistik/kla and its CSV publish, and every
sum the numbers obey (the forms of violence add up to the cases; referrals by agency and by outcome are one set;
sessions rated = safe to talk + not safe; check-ins sent = answered + not answered), cannot work out any hidden
count, nor a small count that is not published (not safe, not answered, all referrals).

The outsider here is a solver of its own, independent of server/statistics/disclosure.py: it tries every whole
number each unknown could be, within what is shown ("<5" is 0 to 4, "5+" is 5 or more), and a hidden count is
given away when only one value fits."""

from __future__ import annotations

import csv
import io
import itertools
import random
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from sqlmodel import Session

from server.accounts.models import User
from server.aftercare.models import CheckIn, CheckInPlan, SessionRating
from server.appointments.models import ServiceType
from server.reports import cases
from server.reports.models import Report
from server.reports.simfoni import FORMS, SERVICE_KINDS
from server.reports.vocabulary import AGENCY_KINDS, REFERRAL_STATUSES
from server.statistics.disclosure import Relation, protect
from server.statistics.service import KlaPack
from tests.support.reports import TEST_IP, user_named
from tests.support.statistics import a_report, wita

# The sums an outsider can use, over the names the page gives its numbers (data-count) and three it never shows.
RELATIONS = [
    ("cases", [f"form:{form}" for form in FORMS]),
    ("(referrals)", [f"agency:{kind}" for kind in AGENCY_KINDS]),
    ("(referrals)", [f"outcome:{status}" for status in REFERRAL_STATUSES]),
    ("sessions_rated", ["sessions_safe", "(not safe)"]),
    ("check_ins_sent", ["check_ins_answered", "(not answered)"]),
]
CSV_NAMES = {("kasus", "jumlah"): "cases", ("pemantauan", "kasus_dipantau"): "monitoring",
             ("pemantauan", "pesan_pemantauan_terkirim"): "check_ins_sent",
             ("pemantauan", "pesan_pemantauan_dijawab"): "check_ins_answered",
             ("suara_anak", "sesi_dinilai"): "sessions_rated", ("suara_anak", "aman_bercerita"): "sessions_safe",
             **{("bentuk_kekerasan", form): f"form:{form}" for form in FORMS},
             **{("rujukan_lembaga", kind): f"agency:{kind}" for kind in AGENCY_KINDS},
             **{("rujukan_hasil", status): f"outcome:{status}" for status in REFERRAL_STATUSES}}


def bounds(text: str, cap: int) -> range:
    if text.isdecimal():
        return range(int(text), int(text) + 1)
    if text == "<5":
        return range(0, 5)
    if text == "5+":
        return range(5, cap + 1)
    return range(0, cap + 1)  # anything else, or not published at all


def _linked(name: str) -> tuple[set[str], list[tuple[str, list[str]]]]:
    """The counts tied to `name` by the sums, and those sums (the rest cannot change what it may be)."""
    linked, grew = {name}, True
    while grew:
        grew = False
        for total, parts in RELATIONS:
            if linked & {total, *parts} and not {total, *parts} <= linked:
                linked |= {total, *parts}
                grew = True
    return linked, [(total, parts) for total, parts in RELATIONS if total in linked]


def can_be(published: dict[str, str], name: str, value: int) -> bool:
    """Whether every sum can hold with `name` = `value` and each count within what is published: a search over
    whole numbers, one count at a time, each count first narrowed to what its sums leave (which only cuts
    branches without a solution), giving up on a branch as soon as a sum cannot be met."""
    # No count can be larger than all published numbers together, and the hidden ones at most that again.
    cap = 2 * sum(int(t) for t in published.values() if t.isdecimal()) + 10
    linked, relations = _linked(name)
    domains = {n: bounds(published.get(n, ""), cap) for n in linked}
    if value not in domains[name]:
        return False
    domains[name] = range(value, value + 1)

    def narrowed(domains: dict[str, range]) -> dict[str, range] | None:
        """Each count within what the other counts of its sums leave; None when a sum cannot be met."""
        domains, changed = dict(domains), True
        while changed:
            changed = False
            for total, parts in relations:
                for n in (total, *parts):
                    if n == total:
                        low = sum(domains[p].start for p in parts)
                        high = sum(domains[p].stop - 1 for p in parts)
                    else:
                        others = [p for p in parts if p != n]
                        low = domains[total].start - sum(domains[p].stop - 1 for p in others)
                        high = domains[total].stop - 1 - sum(domains[p].start for p in others)
                    new = range(max(low, domains[n].start), min(high, domains[n].stop - 1) + 1)
                    if not new:
                        return None
                    if new != domains[n]:
                        domains[n], changed = new, True
        return domains

    def search(domains: dict[str, range]) -> bool:
        narrow = narrowed(domains)
        if narrow is None:
            return False
        free = [n for n in sorted(linked) if len(narrow[n]) > 1]
        if not free:
            return True
        n = min(free, key=lambda n: len(narrow[n]))
        return any(search({**narrow, n: range(v, v + 1)}) for v in narrow[n])

    return search(domains)


def given_away(published: dict[str, str], truth: dict[str, int]) -> dict[str, int]:
    """The hidden counts (and the unpublished small ones) an outsider can work out, with their value: those for
    which no value but the true one fits."""
    hidden = [n for n, text in published.items() if not text.isdecimal()]
    hidden += [n for n in ("(not safe)", "(not answered)", "(referrals)") if 0 < truth[n] < 5]
    out = {}
    for name in hidden:
        assert can_be(published, name, truth[name]), name  # what is shown never lies
        cap = 2 * sum(int(t) for t in published.values() if t.isdecimal()) + 10
        if not any(can_be(published, name, v) for v in bounds(published.get(name, ""), cap) if v != truth[name]):
            out[name] = truth[name]
    return out


def page_counts(html: str) -> dict[str, str]:
    return {key: unescape(value) for key, value in re.findall(r'data-count="([^"]+)">([^<]*)<', html)}


def csv_counts(text: str) -> dict[str, str]:
    rows = csv.DictReader(io.StringIO(text))
    return {CSV_NAMES[(row["bagian"], row["uraian"])]: row["jumlah"] for row in rows
            if (row["bagian"], row["uraian"]) in CSV_NAMES}


def _check_in(db: Session, report: Report, supervisor: User, *, answered: bool) -> None:
    plan = CheckInPlan(report_id=report.id, created_by_id=supervisor.id, offsets="2w")
    db.add(plan)
    db.flush()
    due = wita(2026, 6, 1, 9)
    db.add(CheckIn(plan_id=plan.id, report_id=report.id, step="2w", due_at=due, retry_at=due + timedelta(days=3),
                   give_up_at=due + timedelta(days=6), status="answered" if answered else "unanswered",
                   answered_at=due + timedelta(hours=1) if answered else None, answer="baik" if answered else ""))


def a_year(db: Session, *, forms: dict[str, int], agencies: dict[str, int], rated: int, safe: int, sent: int,
           answered: int) -> dict[str, int]:
    """Cases of 2026 with one category each, referrals made in 2026 (all still *sent*), check-ins and ratings;
    the true numbers behind the pack, under the names the test uses."""
    supervisor = user_named(db, "supervisor")
    category = {"fisik": "physical", "psikis": "psychological", "seksual": "sexual", "eksploitasi": "exploitation",
                "trafficking": "trafficking", "penelantaran": "neglect", "lainnya": "other"}
    reports = [a_report(db, created_at=wita(2026, 2, 1 + n % 27, 10), categories=[category[form]])
               for n, form in enumerate(form for form, k in forms.items() for _n in range(k))]
    kinds = [kind for kind, k in agencies.items() for _n in range(k)]
    with time_machine.travel(datetime(2026, 3, 5, 2, tzinfo=UTC), tick=False):
        for report, kind in zip(itertools.cycle(reports), kinds, strict=False):
            cases.add_referral(db, report, supervisor, agency_kind=kind, agency_name="Lembaga", note="", ip=TEST_IP)
    for n in range(sent):
        _check_in(db, reports[n % len(reports)], supervisor, answered=n < answered)
    service_type = ServiceType(name="Konseling individu")
    db.add(service_type)
    db.flush()
    db.add_all(SessionRating(id=f"r{n}", month="2026-03", service_type_id=service_type.id, face="baik",
                             safe_to_talk=n < safe) for n in range(rated))
    db.commit()
    truth = {"cases": len(reports), "sessions_rated": rated, "sessions_safe": safe, "(not safe)": rated - safe,
             "check_ins_sent": sent, "check_ins_answered": answered, "(not answered)": sent - answered,
             "(referrals)": len(kinds), "outcome:sent": len(kinds),
             "monitoring": min(answered, len(reports))}  # a case whose check-in was answered was monitored
    truth.update({f"form:{form}": forms.get(form, 0) for form in FORMS})
    truth.update({f"agency:{kind}": agencies.get(kind, 0) for kind in AGENCY_KINDS})
    truth.update({f"outcome:{status}": 0 for status in REFERRAL_STATUSES if status != "sent"})
    return truth


YEARS = {
    # The review's own: police 5, health "<5", outcome sent 6 gave health = 1; cases 7 with fisik 6 gave seksual
    # = 1; rated 6, safe 5 gave one child not safe; sent 7, answered 5 gave two not answered.
    "the review's": dict(forms={"fisik": 6, "seksual": 1}, agencies={"police": 5, "health": 1}, rated=6, safe=5,
                         sent=7, answered=5),
    # Two small counts that add up to all that is left (8 = 4 + 4) are given away by "<5" meaning 0 to 4.
    "two fours": dict(forms={"fisik": 5, "seksual": 4, "psikis": 4}, agencies={"police": 4, "social": 4, "health": 6},
                      rated=12, safe=8, sent=9, answered=9),
    # Small everywhere.
    "small": dict(forms={"fisik": 2, "penelantaran": 1}, agencies={"police": 1}, rated=3, safe=2, sent=2,
                  answered=1),
    # Nothing small: nothing needs hiding.
    "large": dict(forms={"fisik": 9, "psikis": 6}, agencies={"police": 7, "health": 5}, rated=10, safe=5, sent=6,
                  answered=0),
}


@pytest.mark.parametrize("year", YEARS)
def test_no_hidden_count_can_be_worked_out_from_the_page_or_the_csv(year, db, as_user):
    truth = a_year(db, **YEARS[year])
    supervisor = as_user("supervisor")
    page = supervisor.get("/statistik/kla?tahun=2026")
    assert page.status_code == 200
    assert "Bahan evaluasi KLA Klaster V, tahun 2026" in page.text
    on_page = page_counts(page.text)
    in_csv = csv_counts(supervisor.get("/statistik/kla.csv?tahun=2026").text)
    assert {name: in_csv[name] for name in CSV_NAMES.values()} == {name: on_page[name] for name in CSV_NAMES.values()}
    for name, text in on_page.items():  # a number shown is the true one
        if text.isdecimal() and name in truth:
            assert int(text) == truth[name], name
    assert given_away(on_page, truth) == {}
    if year == "large":
        assert all(on_page[name].isdecimal() for name in CSV_NAMES.values())


def test_the_review_s_year_is_published_with_a_second_count_hidden_in_each_sum(db, as_user):
    a_year(db, **YEARS["the review's"])
    shown = page_counts(as_user("supervisor").get("/statistik/kla?tahun=2026").text)
    # Health is hidden and so is the next-smallest of the agencies (a 0, shown as "<5").
    assert shown["agency:health"] == "<5"
    assert shown["agency:legal_aid"] == "<5"
    assert shown["agency:police"] == "5"
    assert shown["form:seksual"] == "<5"
    assert shown["form:psikis"] == "<5"
    assert shown["cases"] == "7"
    # One child said it was not safe: "safe to talk" (5) is hidden, as "5+".
    assert (shown["sessions_rated"], shown["sessions_safe"]) == ("6", "5+")
    assert "5+" in as_user("supervisor").get("/statistik/kla?tahun=2026").text


def test_the_outsiders_solver_finds_what_the_old_publishing_gave_away():
    # What the pack published before complementary suppression (every 1-4 as "<5", nothing else).
    old = {"cases": "7", "form:fisik": "6", "form:seksual": "<5", "sessions_rated": "6", "sessions_safe": "5",
           "check_ins_sent": "7", "check_ins_answered": "5", "agency:police": "5", "agency:health": "<5",
           "outcome:sent": "6"}
    old |= {f"form:{f}": "0" for f in FORMS if f"form:{f}" not in old}
    old |= {f"agency:{k}": "0" for k in AGENCY_KINDS if f"agency:{k}" not in old}
    old |= {f"outcome:{s}": "0" for s in REFERRAL_STATUSES if f"outcome:{s}" not in old}
    truth = {"form:seksual": 1, "agency:health": 1, "(not safe)": 1, "(not answered)": 2, "(referrals)": 6}
    assert given_away(old, truth) == {"form:seksual": 1, "agency:health": 1, "(not safe)": 1, "(not answered)": 2}


# --- the rules on their own ---------------------------------------------------------------------------------


def test_a_sum_with_one_hidden_part_hides_the_next_smallest():
    shown = protect({"total": 15, "a": 7, "b": 3, "c": 5}, [Relation("total", ("a", "b", "c"))])
    assert shown == {"total": "15", "a": "7", "b": "<5", "c": "5+"}


def test_hidden_parts_that_must_be_four_each_hide_one_more():
    shown = protect({"total": 13, "a": 5, "b": 4, "c": 4}, [Relation("total", ("a", "b", "c"))])
    assert shown == {"total": "13", "a": "5+", "b": "<5", "c": "<5"}


def test_a_zero_that_would_give_a_small_count_away_is_shown_as_under_five():
    shown = protect({"total": 7, "a": 6, "b": 1, "c": 0}, [Relation("total", ("a", "b", "c"))])
    assert shown == {"total": "7", "a": "6", "b": "<5", "c": "<5"}


def test_an_unpublished_small_difference_hides_a_published_count():
    shown = protect({"rated": 6, "safe": 5, "not_safe": 1}, [Relation("rated", ("safe", "not_safe"))],
                    unpublished=("not_safe",))
    assert shown == {"rated": "6", "safe": "5+"}


def test_two_splits_of_one_set_protect_each_other():
    counts = {"all": 6, "police": 5, "health": 1, "social": 0, "sent": 6, "done": 0}
    shown = protect(counts, [Relation("all", ("police", "health", "social")), Relation("all", ("sent", "done"))],
                    unpublished=("all",))
    assert shown == {"police": "5", "health": "<5", "social": "<5", "sent": "6", "done": "0"}


def random_pack(rng: random.Random) -> tuple[KlaPack, dict[str, int]]:
    """A year of small numbers, as they come in a small city: many zeros, ones and twos, the odd larger count."""
    def count() -> int:
        return rng.choice([0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 9])
    forms = {form: count() for form in FORMS}
    agencies = {kind: count() for kind in AGENCY_KINDS}
    referrals = sum(agencies.values())
    cuts = sorted(rng.randint(0, referrals) for _n in REFERRAL_STATUSES[1:])
    outcomes = dict(zip(REFERRAL_STATUSES, [b - a for a, b in zip([0, *cuts], [*cuts, referrals], strict=True)],
                        strict=True))
    rated, sent = count() + count(), count() + count()
    safe, answered = rng.randint(0, rated), rng.randint(0, sent)
    pack = KlaPack(year=2026, cases=sum(forms.values()), by_form=list(forms.items()),
                   services=[(kind, count()) for kind in SERVICE_KINDS], referrals_by_agency=list(agencies.items()),
                   referrals_by_outcome=list(outcomes.items()), monitoring_done=count(), check_ins_sent=sent,
                   check_ins_answered=answered, sessions_rated=rated, sessions_safe_to_talk=safe)
    truth = {"cases": pack.cases, "sessions_rated": rated, "sessions_safe": safe, "(not safe)": rated - safe,
             "check_ins_sent": sent, "check_ins_answered": answered, "(not answered)": sent - answered,
             "(referrals)": referrals, "monitoring": pack.monitoring_done}
    truth |= {f"form:{key}": n for key, n in forms.items()} | {f"agency:{key}": n for key, n in agencies.items()}
    truth |= {f"outcome:{key}": n for key, n in outcomes.items()} | {f"service:{k}": n for k, n in pack.services}
    return pack, truth


def test_no_hidden_count_can_be_worked_out_in_two_hundred_random_years():
    rng = random.Random(19)
    for _year in range(200):
        pack, truth = random_pack(rng)
        shown = pack.shown
        for name, text in shown.items():
            assert text == str(truth[name]) or (text == "<5" and truth[name] < 5) or (text == "5+" and truth[name] >= 5)
        assert given_away(shown, truth) == {}, (truth, shown)
