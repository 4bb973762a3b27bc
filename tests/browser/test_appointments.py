"""Counseling appointments on a phone: a parent books for their child and the counselor of the slot confirms
it; the holder of a case code (no account) books from the report's follow-up page. Every page is checked
with axe.

The live server is shared by the whole browser session and its free slots depend on today's date: each test
takes an early slot the page offers at that moment, never a date of its own, and finds its appointment again
by a note no other test writes. One report is made here (the server allows ten an hour from one address)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select
from sqlmodel import Session

from server.accounts.demo import DEMO_PEOPLE
from server.accounts.models import User
from server.db import make_engine
from server.reports import intake, report_form
from server.settings import Settings
from tests.browser.helpers import assert_fits, assert_keyboard_reachable
from tests.browser.test_reports import (
    assert_no_axe_violations,
    fill_report,
    open_with_code,
    read_receipt,
    submit_report,
)
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser

# Who to sign in as, by the name the appointment page shows.
COUNSELOR_USERNAMES = {display_name: username for username, display_name, *_rest in DEMO_PEOPLE}
APPOINTMENT_URL = re.compile(r"/konseling/(\d+)\?pesan=baru$")
# The service with the longest horizon is bookable for thirty days: five weeks cover it.
MAX_WEEKS = 5
# Issue 22: on a 360×640 phone, service, day and time are on the first screen and a half, and a booking from the
# case page takes four taps at most ("Minta konseling", a service, a time, "Kirim permintaan").
FIRST_TIME_WITHIN = 960
MAX_TAPS = 4


# --- helpers -----------------------------------------------------------------------------------------------


def status_tag(page: Page) -> Locator:
    return page.locator(".appointment-state [data-status]")


def summary_value(page: Page, term: str) -> Locator:
    return page.locator("dl.summary").first.locator(f"dt:text-is('{term}') + dd")


def choose_service(page: Page, name: str) -> None:
    """Choose a service on /konseling: htmx swaps in its free slots, without loading the page again."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Minta konseling")
    expect(page.locator("#slots .slots__hint")).to_have_text(
        "Pilih layanan dulu; hari dan jam yang masih kosong akan tampil di sini.")
    # A flag on this page survives only if the slots arrive without a new page load.
    page.evaluate("() => { window.sameBookingPage = true; }")
    page.get_by_role("radio", name=name).check()
    expect(page.get_by_role("group", name="Pilih jam", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/konseling\?layanan=\d+$"))
    assert page.evaluate("() => window.sameBookingPage === true")


def choose_a_free_slot(page: Page) -> tuple[str, str]:
    """Pick the earliest time offered after the earliest start of the chosen day, moving on to the next day in
    the row when there is none; returns the day's label and the time as shown ("Selasa, 1 Desember 2026", "08.00").

    Not the very first start: it may be seconds inside the service's notice period, and would no longer be
    bookable when the form is sent. The next start is half an hour later."""
    for _day in range(MAX_WEEKS * 7):
        expect(page.locator("#slots input[name=slot], #slots .slot-picker__empty").first).to_be_visible()
        # Keys are start times (seconds since the epoch), earliest first; the service picks the counselor.
        keys = page.locator("#slots input[name=slot]").evaluate_all("(inputs) => inputs.map((i) => i.value)")
        later = [key for key in keys if int(key) > min(int(k) for k in keys)]
        if later:
            break
        shown = page.locator("#slots input[name=hari]").input_value()
        page.locator("#slots li:has(.day-chip[aria-current]) + li a").click()
        expect(page.locator("#slots input[name=hari]")).not_to_have_value(shown)
    else:
        pytest.fail(f"no free time in {MAX_WEEKS} weeks")
    chosen = page.locator(f"input[name=slot][value='{later[0]}']")
    chosen.check()
    expect(chosen).to_be_checked()
    option = page.locator(".slot-option").filter(has=chosen)
    day = page.locator("#slots .slot-picker__day").inner_text().strip()
    time_shown = option.locator(".slot-option__time").inner_text().replace("WITA", "").strip()
    return day, time_shown


def send_request(page: Page) -> int:
    """Send the booking form; returns the new appointment's id, after checking its page says it is waiting."""
    with page.expect_navigation():
        page.get_by_role("button", name="Kirim permintaan", exact=True).click()
    expect(page).to_have_url(APPOINTMENT_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Jadwal konseling")
    expect(page.get_by_role("status")).to_have_text(
        "Permintaanmu sudah terkirim. Kabar dari konselor akan tampil di halaman ini.")
    expect(status_tag(page)).to_have_text("Menunggu konfirmasi")
    return int(APPOINTMENT_URL.search(page.url).group(1))


def calendar_file(page: Page) -> str:
    """The appointment's .ics, downloaded through its link."""
    with page.expect_download() as event:
        page.get_by_role("link", name="Simpan ke kalender", exact=True).click()
    download = event.value
    assert download.suggested_filename == "jadwal-konseling.ics"
    return Path(download.path()).read_text(encoding="utf-8")


# --- a parent ------------------------------------------------------------------------------------------------


def test_a_parent_books_counseling_and_the_counselor_confirms_it(page: Page, other_phone: Page):
    note = f"Dimas susah tidur sejak pindah sekolah. ({uuid.uuid4().hex[:8]})"
    sign_in(page, "orangtua")
    page.goto("/konseling")
    assert_no_axe_violations(page)

    choose_service(page, "Konseling individu")
    day, starts = choose_a_free_slot(page)
    page.get_by_role("combobox", name="Untuk anak yang mana?", exact=True).select_option(label="Dimas")
    page.get_by_text("Catatan dan pengingat (boleh kosong)", exact=True).click()
    page.get_by_role("textbox", name="Catatan singkat untuk konselor (boleh kosong)").fill(note)
    assert_no_axe_violations(page)

    appointment_id = send_request(page)
    expect(summary_value(page, "Waktu")).to_contain_text(f"{day} · {starts}–")
    expect(summary_value(page, "Layanan")).to_have_text("Konseling individu")
    expect(summary_value(page, "Anak")).to_have_text("Dimas")
    expect(summary_value(page, "Catatan")).to_have_text(note)
    counselor_name = summary_value(page, "Konselor").inner_text().strip()
    assert counselor_name in COUNSELOR_USERNAMES, counselor_name
    assert_no_axe_violations(page)
    ics = calendar_file(page)
    assert "BEGIN:VEVENT" in ics, ics
    assert "STATUS:TENTATIVE" in ics, ics

    # The counselor whose slot it is sees the request with the note and confirms it from the list.
    counselor = sign_in(other_phone, COUNSELOR_USERNAMES[counselor_name])
    counselor.goto("/jadwal")
    expect(counselor.get_by_role("heading", level=1)).to_have_text("Jadwal konseling")
    waiting = counselor.locator("[data-waiting] .appointment-row").filter(has_text=note)
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".appointment-row__link")).to_contain_text(f"{day} · {starts}–")
    expect(waiting).to_contain_text("Orang tua/Wali: Ibu Wati · anak: Dimas")
    assert_no_axe_violations(counselor)

    with counselor.expect_navigation():
        waiting.get_by_role("button", name=re.compile(r"^Konfirmasi ")).click()
    expect(counselor).to_have_url(re.compile(
        rf"/jadwal\?minggu=[\d-]+&baru={appointment_id}&pesan=dikonfirmasi#janji-{appointment_id}$"))
    expect(counselor.get_by_role("status")).to_have_text("Jadwal sudah dikonfirmasi. Peminta diberi tahu.")
    # The week view shows the appointment just confirmed, marked, on the screen.
    confirmed = counselor.locator(f"#janji-{appointment_id}")
    expect(confirmed).to_contain_text("Baru saja diubah")
    expect(confirmed).to_contain_text("Terkonfirmasi")
    expect(confirmed).to_be_in_viewport()
    expect(counselor.locator(".appointment-row").filter(has_text=note)).to_have_count(0)
    assert_no_axe_violations(counselor)

    counselor.goto(f"/jadwal/{appointment_id}")
    expect(counselor.locator("[data-status]")).to_have_text("Terkonfirmasi")
    expect(counselor.get_by_role("button", name="Konfirmasi jadwal ini")).to_have_count(0)
    assert_no_axe_violations(counselor)

    # The parent opens the appointment again and finds it confirmed.
    page.goto(f"/konseling/{appointment_id}")
    expect(status_tag(page)).to_have_text("Terkonfirmasi")
    expect(page.get_by_text("Konselor sudah mengonfirmasi. Sampai bertemu!")).to_be_visible()
    assert_no_axe_violations(page)
    assert "STATUS:CONFIRMED" in calendar_file(page)

    page.goto("/konseling/saya")
    entry = page.locator(".appointment-row").filter(has=page.locator(f"a[href='/konseling/{appointment_id}']"))
    expect(entry.locator("[data-status]")).to_have_text("Terkonfirmasi")
    assert_no_axe_violations(page)


# --- the holder of a case code -------------------------------------------------------------------------------


def test_a_code_holder_books_counseling_from_the_follow_up_page(page: Page, other_phone: Page):
    note = f"Aku mau cerita lewat telepon. ({uuid.uuid4().hex[:8]})"
    page.goto("/lapor")
    fill_report(page, who="Aku anak/remaja, dan ini tentang diriku",
                category="Dibentak, diancam, atau dihina terus-menerus",
                words="Ayah tiriku membentak dan mengancamku setiap malam.", where="Di rumah")
    submit_report(page)
    code, pin = read_receipt(page)

    open_with_code(page, code, pin)
    assert_no_axe_violations(page)
    counseling = page.get_by_role("region", name="Jadwal konseling")
    with page.expect_navigation():
        counseling.get_by_role("link", name="Minta konseling", exact=True).click()
    expect(page).to_have_url("/konseling")
    expect(page.get_by_text("Permintaan ini tersimpan bersama laporanmu.")).to_be_visible()
    # No account: no child or report to choose.
    expect(page.get_by_role("combobox")).to_have_count(0)
    assert_no_axe_violations(page)

    choose_service(page, "Konseling lewat telepon")
    day, starts = choose_a_free_slot(page)
    page.get_by_role("textbox", name="Nomor yang kami telepon").fill("0812-3456-7890")
    page.get_by_text("Catatan dan pengingat (boleh kosong)", exact=True).click()
    page.get_by_role("textbox", name="Catatan singkat untuk konselor (boleh kosong)").fill(note)
    assert_no_axe_violations(page)

    appointment_id = send_request(page)
    expect(summary_value(page, "Waktu")).to_contain_text(f"{day} · {starts}–")
    expect(summary_value(page, "Layanan")).to_have_text("Konseling lewat telepon")
    expect(summary_value(page, "Cara")).to_have_text("Telepon")
    expect(summary_value(page, "Nomor yang ditelepon")).to_have_text("0812-3456-7890")
    expect(summary_value(page, "Catatan")).to_have_text(note)
    expect(page.get_by_role("button", name="Batalkan jadwal ini", exact=True)).to_be_visible()
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Jadwal saya", exact=True).click()
    expect(page).to_have_url("/konseling/saya")
    entry = page.locator(".appointment-row").filter(has=page.locator(f"a[href='/konseling/{appointment_id}']"))
    expect(entry.locator("[data-status]")).to_have_text("Menunggu konfirmasi")
    assert_no_axe_violations(page)

    # Another phone, without the code, is not shown the appointment: it is offered both ways in.
    other_phone.goto(f"/konseling/{appointment_id}")
    expect(other_phone.get_by_role("heading", level=1)).to_have_text("Jadwal konseling")
    expect(other_phone.locator("[data-status]")).to_have_count(0)
    expect(other_phone.get_by_text(note)).to_have_count(0)


# --- one screen on a small phone -------------------------------------------------------------------------------


@pytest.fixture
def small_phone(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    """A 360×640 phone, the smallest screen the service is built for."""
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 360, "height": 640},
                                     "screen": {"width": 360, "height": 640}})
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_days_choice_fits_one_screen_of_a_small_phone(small_phone: Page):
    page = sign_in(small_phone, "anak")
    page.goto("/konseling")
    choose_service(page, "Konseling individu")
    # Another day than the one shown first, by its label in the row of days.
    days = page.get_by_role("navigation", name="Pilih hari").locator(".day-chip:not(.day-chip--more)")
    expect(days.first).to_be_visible()
    assert days.count() >= 2, "fewer than two days with free time"
    label = days.nth(1).inner_text().replace("\n", " ").strip()
    first_time = page.locator("#slots input[name=slot]").first.input_value()
    page.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "date")
    expect(page.locator("#slots input[name=slot]").first).not_to_have_value(first_time)
    # The last day of the row, once chosen, stays in view: the new row is scrolled to it, not back to its start.
    last_label = days.last.inner_text().replace("\n", " ").strip()
    days.last.click()
    last = page.get_by_role("link", name=last_label, exact=True)
    expect(last).to_have_attribute("aria-current", "date")
    expect(last).to_be_in_viewport(ratio=1)
    page.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "date")

    # The row of days, that day's times and the button to send are on one screen, without scrolling.
    send = page.get_by_role("button", name="Kirim permintaan", exact=True)
    expect(send).to_be_in_viewport(ratio=1)
    row, button = page.get_by_role("navigation", name="Pilih hari").bounding_box(), send.bounding_box()
    assert row["y"] >= 0, (row, button)
    assert button["y"] + button["height"] <= 640, (row, button)
    assert_fits(page)
    assert_no_axe_violations(page)

    times = page.get_by_role("group", name="Pilih jam", exact=True).get_by_role("radio")
    expect(times.first).to_be_visible()
    chosen = times.nth(1) if times.count() > 1 else times.first
    chosen.check()
    day = page.locator("#slots .slot-picker__day").inner_text().strip()
    starts = chosen.locator("xpath=..").inner_text().strip()
    send_request(page)
    expect(summary_value(page, "Waktu")).to_contain_text(f"{day} · {starts}–")
    assert_no_axe_violations(page)


# --- few taps on a small phone (issue 22) ---------------------------------------------------------------------------

CASE_REPORT = {"danger_now": "no", "categories": ["bullying"], "happened_when": "this_week",
               "happened_where": "school", "child_age": "12", "child_words": "Aku diejek terus di kelas.",
               "child_assent": "yes", "contact_method": "app"}


def a_case(database_url: str, username: str | None) -> tuple[str, str, int]:
    """A report straight into the live database (the browser suite may send only ten reports an hour from one
    address): an anonymous child's, or one by `username` as a parent; returns its code, PIN and id."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            user = session.execute(select(User).where(User.username == username)).scalar_one() if username else None
            fields = {**CASE_REPORT, "reporter_kind": "parent", "child_knows": "yes"} if user else \
                {**CASE_REPORT, "reporter_kind": "child"}
            receipt = intake.submit_report(session, replace(Settings(), database_url=database_url),
                                            report_form.ReportForm.from_data(fields), user=user, ip="browser-test",
                                            wants_receipt=user is None)
            session.commit()
            return receipt.formatted_code, receipt.pin, receipt.report.id
    finally:
        engine.dispose()


class Taps:
    """Counts what a person taps: a link, a choice, a button (typing is not a tap)."""

    def __init__(self, page: Page) -> None:
        self.page, self.count = page, 0

    def tap(self, locator: Locator, *, navigates: bool = False) -> None:
        self.count += 1
        if navigates:
            with self.page.expect_navigation():
                locator.tap()
        else:
            locator.tap()


def assert_service_day_and_time_come_first(page: Page) -> None:
    """The first start time begins within the first screen and a half; every day to choose is whole on the screen,
    none cut off at the right edge."""
    first = page.locator("#slots .slot-option").first
    expect(first).to_be_visible()
    top = page.evaluate("(element) => element.getBoundingClientRect().top + window.scrollY", first.element_handle())
    assert top <= FIRST_TIME_WITHIN, f"the first start time is {top:.0f} px down"
    width = page.viewport_size["width"]
    for chip in page.locator(".day-chip").all():
        box = chip.bounding_box()
        assert box["x"] >= 0, (chip.inner_text(), box)
        assert box["x"] + box["width"] <= width, (chip.inner_text(), box)
    assert_fits(page)


def book_in_few_taps(page: Page, taps: Taps) -> int:
    """On /konseling, reached with one tap: a service, the second start time of the first day, send."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Minta konseling")
    taps.tap(page.get_by_role("radio", name="Konseling individu"))
    times = page.get_by_role("group", name="Pilih jam", exact=True).get_by_role("radio")
    expect(times.first).to_be_attached()
    assert_service_day_and_time_come_first(page)
    assert_no_axe_violations(page)
    # Not the very first start: it may be seconds inside the service's notice period (see choose_a_free_slot).
    chosen = page.locator("#slots .slot-option").nth(1 if times.count() > 1 else 0)
    taps.tap(chosen)
    expect(chosen.locator("input")).to_be_checked()
    taps.tap(page.get_by_role("button", name="Kirim permintaan", exact=True), navigates=True)
    expect(page).to_have_url(APPOINTMENT_URL)
    expect(page.get_by_role("status")).to_have_text(
        "Permintaanmu sudah terkirim. Kabar dari konselor akan tampil di halaman ini.")
    return int(APPOINTMENT_URL.search(page.url).group(1))


def test_a_code_holder_books_from_the_case_page_in_four_taps_on_a_small_phone(small_phone: Page, live_database):
    page = small_phone
    code, pin, _report_id = a_case(live_database, None)
    open_with_code(page, code, pin)
    taps = Taps(page)
    taps.tap(page.get_by_role("region", name="Jadwal konseling").get_by_role(
        "link", name="Minta konseling", exact=True), navigates=True)
    # What explains the page is still there, below the button that sends it.
    send = page.get_by_role("button", name="Kirim permintaan", exact=True)
    note = page.get_by_text("Permintaan ini tersimpan bersama laporanmu.")
    expect(note).to_be_attached()
    assert note.bounding_box()["y"] > send.bounding_box()["y"]
    book_in_few_taps(page, taps)
    assert taps.count <= MAX_TAPS, taps.count
    expect(status_tag(page)).to_have_text("Menunggu konfirmasi")
    assert_no_axe_violations(page)


def test_a_parent_books_from_their_case_page_in_four_taps_on_a_small_phone(small_phone: Page, live_database):
    page = sign_in(small_phone, "orangtua")
    _code, _pin, report_id = a_case(live_database, "orangtua")
    page.goto(f"/laporan-saya/{report_id}")
    taps = Taps(page)
    taps.tap(page.get_by_role("region", name="Jadwal konseling").get_by_role(
        "link", name="Minta konseling", exact=True), navigates=True)
    # The only child is chosen already; the report the parent came from too.
    expect(page.get_by_role("combobox", name="Untuk anak yang mana?", exact=True)).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_role("combobox", name="Terkait laporan yang sudah Anda kirim (boleh kosong)")).to_have_value(
        str(report_id))
    book_in_few_taps(page, taps)
    assert taps.count <= MAX_TAPS, taps.count
    expect(summary_value(page, "Anak")).to_have_text("Dimas")
    assert_no_axe_violations(page)


def test_a_booking_is_moved_by_day_then_time_on_a_small_phone(small_phone: Page, live_database):
    page = small_phone
    code, pin, _report_id = a_case(live_database, None)
    open_with_code(page, code, pin)
    page.get_by_role("region", name="Jadwal konseling").get_by_role("link", name="Minta konseling", exact=True).click()
    appointment_id = book_in_few_taps(page, Taps(page))

    # The appointment's page offers the days its counselor has free: one tap opens the times of the day tapped.
    taps = Taps(page)
    days = page.get_by_role("navigation", name="Pindah ke hari").locator(".day-chip:not(.day-chip--more)")
    assert days.count() >= 2, "fewer than two days with free time"
    assert_fits(page)
    assert_no_axe_violations(page)
    assert_keyboard_reachable(page)
    label = days.nth(1).inner_text().replace("\n", " ").strip()
    taps.tap(days.nth(1), navigates=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pindah jadwal")
    expect(page).to_have_url(re.compile(rf"/konseling/{appointment_id}/pindah\?dari=[\d-]+&hari=[\d-]+$"))
    expect(page.get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "date")
    assert_service_day_and_time_come_first(page)
    assert_no_axe_violations(page)
    assert_keyboard_reachable(page)
    # Another day from here: htmx swaps in its times, without loading the page again.
    page.evaluate("() => { window.sameMovePage = true; }")
    shown = page.locator("#slots input[name=hari]").input_value()
    page.get_by_role("navigation", name="Pilih hari").locator(".day-chip:not(.day-chip--more)").first.click()
    expect(page.locator("#slots input[name=hari]")).not_to_have_value(shown)
    page.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "date")
    assert page.evaluate("() => window.sameMovePage === true")

    day = page.locator("#slots .slot-picker__day").inner_text().strip()
    expect(page.get_by_role("group", name="Pilih jam", exact=True).get_by_role("radio").first).to_be_attached()
    chosen = page.locator("#slots .slot-option").first
    starts = chosen.inner_text().strip()
    taps.tap(chosen)
    assert_fits(page)
    assert_no_axe_violations(page)
    taps.tap(page.get_by_role("button", name="Minta waktu baru", exact=True), navigates=True)
    # A day, a time, the button: as many taps as the week of times took before for a day in it.
    assert taps.count == 3, taps.count

    expect(page).to_have_url(re.compile(r"/konseling/\d+\?pesan=dipindah-diminta$"))
    expect(page.get_by_role("status")).to_have_text(
        "Permintaan pindah jadwal sudah terkirim. Kabar dari konselor akan tampil di halaman ini.")
    expect(summary_value(page, "Waktu")).to_contain_text(f"{day} · {starts}–")
    moved_id = int(re.search(r"/konseling/(\d+)\?", page.url).group(1))
    assert moved_id != appointment_id
    assert_no_axe_violations(page)
    page.goto(f"/konseling/{appointment_id}")
    expect(page.locator("[data-moved-to]")).to_have_attribute("href", f"/konseling/{moved_id}")
