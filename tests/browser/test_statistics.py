"""/statistik and the KLA pack on a 360 × 640 phone, with a year of cases large enough that every number has
thousands or a decimal: the pages pass axe, fit the screen (the summary numbers stay whole), lead with the
summary, keep each chart's numbers in a table under "Lihat angka", let the reader jump between sections, speak
Indonesian numbers (and English ones in English), and a filter swaps the numbers in place."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from server.accounts.models import District, User
from server.db import make_engine
from server.reports.models import FAR_FUTURE, CaseService, Perpetrator, Referral, Report, ReportCategory
from tests.browser.helpers import assert_page_is_usable
from tests.servers import free_port
from tests.support.browser import demo_database, serve, sign_in

pytestmark = pytest.mark.browser

CASES = 1234
CATEGORIES = ("physical", "psychological", "sexual", "neglect", "bullying", "other")
PLACES = ("home", "school", "online", "public")
RELATIONSHIPS = ("orang_tua", "teman", "guru", "tetangga")
SERVICES = ("pengaduan", "kesehatan", "bantuan_hukum", "rehabilitasi_sosial")


def a_year_of_cases(database_url: str) -> None:
    """1,234 cases this year (WITA), every one answered half an hour after it came in, spread over the months,
    the kecamatan, forms, places, ages and sexes, with perpetrators, services and referrals."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    year_start = datetime(now.year, 1, 1, tzinfo=UTC)
    span = max((now - year_start).total_seconds() - 86400, 3600)
    with Session(engine) as db:
        districts = [district.id for district in db.exec(select(District)).all()]
        staff = db.exec(select(User).where(User.username == "supervisor")).one().id
        for n in range(CASES):
            created = year_start + timedelta(seconds=span * n / CASES + 3600)
            report = Report(created_at=created, updated_at=created, code_hash=secrets.token_hex(32), pin_hash="x",
                            reporter_kind="child", urgency="sedang", urgency_rank=2,
                            first_response_due_at=created + timedelta(hours=72), next_due_at=FAR_FUTURE,
                            first_response_at=created + timedelta(minutes=30), child_age=3 + n % 15,
                            child_gender=("girl", "boy")[n % 2], happened_where=PLACES[n % len(PLACES)],
                            in_household=n % 3 == 0, district_id=districts[n % len(districts)],
                            team_district_id=districts[n % len(districts)])
            db.add(report)
            db.flush()
            db.add(ReportCategory(report_id=report.id, category=CATEGORIES[n % len(CATEGORIES)]))
            db.add(Perpetrator(report_id=report.id, created_by_id=staff, sex="laki_laki", age_band="25-44",
                               relationship=RELATIONSHIPS[n % len(RELATIONSHIPS)]))
            db.add(CaseService(report_id=report.id, created_by_id=staff, kind=SERVICES[n % len(SERVICES)],
                               given_on=created.date()))
            if n % 2 == 0:
                db.add(Referral(report_id=report.id, created_at=created, updated_at=created, created_by_id=staff,
                                agency_kind=("police", "health", "social")[n % 3], agency_name="Lembaga",
                                status=("sent", "accepted", "done")[n % 3]))
        db.commit()
    engine.dispose()


@pytest.fixture(scope="module")
def statistics_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory: Path = tmp_path_factory.mktemp("statistics")
    url = demo_database(directory)
    a_year_of_cases(url)
    with serve(url, directory, free_port()) as base_url:
        yield base_url


@pytest.fixture
def phone(browser: Browser, browser_context_args: dict[str, Any], statistics_server: str) -> Iterator[Page]:
    context = browser.new_context(**{**browser_context_args, "base_url": statistics_server})
    yield context.new_page()
    context.close()


def height(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollHeight")


def test_a_supervisor_reads_the_statistics_on_a_phone(phone: Page):
    page = phone
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    assert page.viewport_size == {"width": 360, "height": 640}  # the smallest screen the service is built for
    sign_in(page, "supervisor")
    page.get_by_role("link", name="Statistik", exact=True).click()
    expect(page.get_by_role("heading", name="Statistik", level=1)).to_be_visible()
    # Indonesian numbers: a thousands dot, a decimal comma.
    expect(page.locator('[data-count="cases"]')).to_have_text("1.234")
    expect(page.locator('[data-count="median"]')).to_have_text("0,5 jam")
    expect(page.locator('[data-count="deadlines"]')).to_have_text("1.234 dari 1.234 (100%)")
    print(f"statistics page height at 360 × 640: {height(page)} px")
    assert height(page) < 5400  # 8,319 px before, with every chart's table open under it
    # The summary comes first, before the charts, within the first screen and a half.
    assert page.locator('[data-count="cases"]').bounding_box()["y"] < 640 * 1.5
    assert_page_is_usable(page)
    # A chart's numbers: read from the chart by a screen reader, shown as a table under "Lihat angka".
    table = page.locator('[data-count="form:fisik"]')
    expect(table).to_be_hidden()
    expect(page.get_by_role("img", name=re.compile(r"^Bentuk kekerasan \(SIMFONI\): Fisik 206; "))).to_be_attached()
    # Jump to a section from the list at the top, then open its table.
    page.get_by_role("navigation", name="Bagian halaman ini").get_by_role("link", name="Bentuk kekerasan (SIMFONI)").click()
    expect(page).to_have_url(re.compile(r"#bagian-form$"))
    expect(page.get_by_role("heading", name="Bentuk kekerasan (SIMFONI)", level=3)).to_be_in_viewport()
    page.get_by_text("Lihat angka: Bentuk kekerasan (SIMFONI)").click()
    expect(table).to_have_text("206")
    expect(page.locator('[data-count="month:1"]')).to_be_hidden()  # the others stay folded
    page.get_by_label("Bulan", exact=True).select_option("3")
    expect(page).to_have_url(re.compile(r"bulan=3"))
    expect(page.locator("#stats-results h2").first).to_contain_text("Maret")
    page.get_by_role("link", name="Ekspor kasus").click()
    expect(page.get_by_role("heading", name="Ekspor kasus", level=1)).to_be_visible()
    assert_page_is_usable(page)
    assert errors == []


def test_the_kla_pack_on_a_phone(phone: Page):
    page = phone
    sign_in(page, "supervisor")
    page.goto("/statistik/kla")
    expect(page.get_by_role("heading", level=1)).to_contain_text("KLA")
    expect(page.locator('[data-count="cases"]')).to_have_text("1.234")
    print(f"KLA page height at 360 × 640: {height(page)} px")
    assert height(page) < 4000  # 4,640 px before
    # The page title, then second-level sections (axe's heading-order failed on the old page: h1 straight to h3).
    assert page.locator("h3").count() == 0
    expect(page.get_by_role("heading", name="Rujukan menurut lembaga", level=2)).to_be_attached()
    expect(page.locator('[data-count="agency:police"]')).to_be_hidden()
    page.get_by_role("link", name="Rujukan menurut lembaga").click()
    page.get_by_text("Lihat angka: Rujukan menurut lembaga").click()
    expect(page.locator('[data-count="agency:police"]')).to_have_text("206")
    assert_page_is_usable(page)

