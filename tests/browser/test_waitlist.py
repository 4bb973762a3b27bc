"""The waiting list on a 360×640 phone: a parent finds no free time for a service, joins its waiting list, a
change of the service opens times, the app's own worker (DISPATCHER=inline) offers it, the parent finds the offer
in the in-app notifications and takes it. Every page is checked with axe and for fitting the screen.

It runs its own app process on a demo database of its own: it adds a service, and offers must be made at any
hour of the real clock (WAITLIST_QUIET_HOURS=0)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlmodel import Session

import server.appointments.freshness  # noqa: F401  (raises schedule_version on the changes made here)
from server.appointments.models import ServiceType
from server.db import make_engine
from server.waitlist.models import EntryStatus, WaitlistEntry
from tests.browser.helpers import assert_fits
from tests.browser.test_reports import assert_no_axe_violations
from tests.servers import app_process, free_port, pause
from tests.support.browser import NEUTRAL_URL, demo_database, sign_in, sign_out

pytestmark = pytest.mark.browser

# The app's worker runs a round every DISPATCH_INTERVAL_SECONDS (5 by default).
OFFER_WITHIN_SECONDS = 30


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The app on a demo database of its own (base URL, database URL), with offers made at any hour: the test
    runs on the real clock, and 21.00-07.00 WITA would otherwise hold them back (WAITLIST_QUIET_HOURS)."""
    database = demo_database(tmp_path)
    with app_process(database, tmp_path, port=free_port(), QUICK_EXIT_URL=NEUTRAL_URL,
                     WAITLIST_QUIET_HOURS="0") as base_url:
        yield base_url, database


@pytest.fixture
def small_phone(browser: Browser, browser_context_args: dict[str, Any], own_server: tuple[str, str]) -> Iterator[Page]:
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 360, "height": 640},
                                     "screen": {"width": 360, "height": 640}, "base_url": own_server[0]})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def scarce_service(own_server: tuple[str, str]) -> Iterator[tuple[int, str]]:
    """A service with nothing free in its window: it asks a month's notice but books only a day ahead."""
    engine = make_engine(own_server[1])
    name = f"Konseling kelompok {uuid.uuid4().hex[:4]}"
    with Session(engine) as session:
        service_type = ServiceType(name=name, duration_minutes=60, buffer_after_minutes=0, min_notice_hours=720,
                                   max_days_ahead=1)
        session.add(service_type)
        session.commit()
        service_type_id = service_type.id
    engine.dispose()
    return service_type_id, name


def _open_times(live_database: str, service_type_id: int) -> None:
    """The supervisor changes the service: no notice needed, bookable a week ahead (the counselors' weekday
    hours)."""
    engine = make_engine(live_database)
    with Session(engine) as session:
        service_type = session.get(ServiceType, service_type_id)
        service_type.min_notice_hours, service_type.max_days_ahead = 0, 7
        session.commit()
    engine.dispose()


def _wait_for_offer(live_database: str, service_type_id: int) -> int:
    engine = make_engine(live_database)
    try:
        for _ in range(OFFER_WITHIN_SECONDS * 4):
            with Session(engine) as session:
                entry = session.execute(select(WaitlistEntry).where(
                    WaitlistEntry.service_type_id == service_type_id)).scalar_one()
                if entry.status == EntryStatus.OFFERED:
                    return entry.id
            pause(0.25)
    finally:
        engine.dispose()
    raise AssertionError(f"no offer within {OFFER_WITHIN_SECONDS} s")


def test_a_parent_joins_the_waiting_list_is_offered_a_time_and_takes_it(small_phone: Page,
                                                                        own_server: tuple[str, str],
                                                                        scarce_service: tuple[int, str]):
    service_type_id, name = scarce_service
    live_database = own_server[1]
    page = sign_in(small_phone, "orangtua")
    page.goto("/konseling")
    page.get_by_role("radio", name=re.compile(re.escape(name))).check()
    join = page.get_by_role("button", name="Masuk daftar tunggu", exact=True)
    expect(join).to_be_visible()
    expect(page.get_by_text("Belum ada waktu kosong untuk layanan ini.")).to_be_visible()
    assert_fits(page)
    assert_no_axe_violations(page)
    with page.expect_navigation():
        join.click()
    expect(page.get_by_role("status")).to_have_text(
        "Anda masuk daftar tunggu. Begitu ada waktu kosong, kami kabari lewat pemberitahuan.")
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    assert_fits(page)
    assert_no_axe_violations(page)

    _open_times(live_database, service_type_id)
    entry_id = _wait_for_offer(live_database, service_type_id)

    page.goto("/notifikasi")
    offer = page.get_by_role("link", name="Ada waktu konseling kosong untuk Anda.", exact=True)
    expect(offer).to_have_attribute("href", f"/daftar-tunggu/{entry_id}")
    assert_fits(page)
    assert_no_axe_violations(page)
    with page.expect_navigation():
        offer.click()
    expect(page.get_by_text("Ada waktu kosong untuk Anda:")).to_be_visible()
    take = page.get_by_role("button", name="Ambil waktu ini", exact=True)
    expect(take).to_be_in_viewport()
    assert_fits(page)
    assert_no_axe_violations(page)
    with page.expect_navigation():
        take.click()
    assert re.search(r"/konseling/\d+\?pesan=baru$", page.url), page.url
    expect(page.get_by_text("Menunggu konfirmasi").first).to_be_visible()
    assert_fits(page)
    assert_no_axe_violations(page)

    # The supervisor sees how long people waited, numbers only.
    sign_out(page)
    sign_in(page, "supervisor")
    page.goto("/jadwal/daftar-tunggu")
    table = page.get_by_role("table")
    expect(table.get_by_role("rowheader", name=name, exact=True)).to_be_visible()
    expect(table).not_to_contain_text("Ibu Wati")
    assert_fits(page)
    assert_no_axe_violations(page)
