"""How tall the booking page is on a 360×640 phone, and how many taps a booking takes from the case page (issue 22).

    .venv/bin/python -m bench.booking_fit

Serves the demo data (plus one anonymous report with its code and one report by the demo parent) in its own app
process and drives Debian's Chromium at 360×640, as a code holder from /cek and as the signed-in parent from
/laporan-saya/N: each taps "Minta konseling", a service, a start time (and whatever else the page requires), then
"Kirim permintaan". A tap is a click or a tick; choosing from a native list is two taps (open it, pick); typing is
not counted. Printed per journey: the page's height once the service is chosen, the distance from the top of the
page to the first start time button, and the taps; and the same for moving that booking to a time on the second
day offered, from the appointment's page (a day there, or "Pindah ke waktu lain" on the old pages; a time; "Minta
waktu baru"), with the move page's height and its first start time. Numbers, not a test: the browser tests hold the limits.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select
from sqlmodel import Session

from server.accounts.models import User
from server.db import make_engine
from server.reports import intake, report_form
from server.settings import Settings
from tests.servers import app_process
from tests.support.browser import demo_database

REPORT = {"danger_now": "no", "categories": ["bullying"], "happened_when": "this_week", "happened_where": "school",
          "child_age": "12", "child_words": "Aku diejek terus di kelas.", "child_assent": "yes",
          "contact_method": "app"}


def _reports(database_url: str) -> tuple[str, str, int]:
    """An anonymous child's report (its code and PIN) and one by the demo parent (its id)."""
    engine = make_engine(database_url)
    settings = replace(Settings(), database_url=database_url)
    with Session(engine) as session:
        child = intake.submit_report(session, settings, report_form.ReportForm.from_data(
            {**REPORT, "reporter_kind": "child"}), user=None, ip="bench", wants_receipt=True)
        parent = session.execute(select(User).where(User.username == "orangtua")).scalar_one()
        own = intake.submit_report(session, settings, report_form.ReportForm.from_data(
            {**REPORT, "reporter_kind": "parent", "child_knows": "yes"}), user=parent, ip="bench")
        session.commit()
        found = child.formatted_code, child.pin, own.report.id
    engine.dispose()
    return found


class Taps:
    def __init__(self, page: Page) -> None:
        self.page, self.count = page, 0

    def click(self, locator, *, navigates: bool = False) -> None:
        self.count += 1
        if navigates:
            with self.page.expect_navigation():
                locator.click()
        else:
            locator.click()

    def choose(self, select, label: str) -> None:
        self.count += 2  # open the list, pick
        select.select_option(label=label)


def _measure(page: Page, taps: Taps) -> dict[str, int]:
    """On /konseling: choose the face-to-face service, then read the heights; pick the second start time and send."""
    if page.locator("input[name=layanan]:checked").count() == 0:
        taps.click(page.get_by_role("radio", name="Konseling individu"))
    expect(page.locator("#slots input[name=slot]").first).to_be_attached()
    first = page.locator("#slots .slot-option").first
    top = page.evaluate("(el) => el.getBoundingClientRect().top + window.scrollY", first.element_handle())
    height = page.evaluate("() => document.documentElement.scrollHeight")
    times = page.locator("#slots .slot-option")
    taps.click(times.nth(1) if times.count() > 1 else times.first)
    child = page.get_by_role("combobox", name="Untuk anak yang mana?")
    if child.count() and not child.input_value():
        taps.choose(child, "Dimas")
    taps.click(page.get_by_role("button", name="Kirim permintaan", exact=True), navigates=True)
    expect(page).to_have_url(__import__("re").compile(r"/konseling/\d+\?pesan=baru$"))
    return {"height": height, "first_time_top": round(top), "taps": taps.count}


def _measure_move(page: Page, appointment_url: str) -> dict[str, int]:
    """From an appointment's page to a time on the second day offered, sent with "Minta waktu baru": by the days
    on that page where it has them, else through "Pindah ke waktu lain" and the week of times."""
    page.goto(appointment_url)
    taps = Taps(page)
    days_here = page.get_by_role("navigation", name="Pindah ke hari").locator(".day-chip:not(.day-chip--more)")
    day_first = days_here.count() > 0
    if day_first:
        taps.click(days_here.nth(1), navigates=True)
    else:
        taps.click(page.get_by_role("link", name="Pindah ke waktu lain", exact=True), navigates=True)
    expect(page.locator("#slots input[name=slot]").first).to_be_attached()
    first = page.locator("#slots .slot-option").first
    top = page.evaluate("(el) => el.getBoundingClientRect().top + window.scrollY", first.element_handle())
    height = page.evaluate("() => document.documentElement.scrollHeight")
    if day_first:
        taps.click(first)
    else:  # every free time of a week, day after day
        taps.click(page.locator("#slots .slot-day").nth(1).locator(".slot-option").first)
    taps.click(page.get_by_role("button", name="Minta waktu baru", exact=True), navigates=True)
    expect(page).to_have_url(__import__("re").compile(r"/konseling/\d+\?pesan=dipindah-diminta$"))
    return {"height": height, "first_time_top": round(top), "taps": taps.count}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        directory = Path(folder)
        database_url = demo_database(directory)
        code, pin, report_id = _reports(database_url)
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        with app_process(database_url, directory) as base_url:
            phone = {"viewport": {"width": 360, "height": 640}, "screen": {"width": 360, "height": 640},
                     "is_mobile": True, "has_touch": True, "device_scale_factor": 2, "base_url": base_url}
            results = {}

            context = browser.new_context(**phone)
            page = context.new_page()
            page.goto("/cek")
            page.get_by_role("textbox", name="Kode laporan").fill(code)
            page.get_by_label("PIN", exact=True).fill(pin)
            with page.expect_navigation():
                page.get_by_role("button", name="Lihat laporan", exact=True).click()
            taps = Taps(page)
            taps.click(page.get_by_role("region", name="Jadwal konseling").get_by_role(
                "link", name="Minta konseling", exact=True), navigates=True)
            results["code holder, from /cek/laporan"] = _measure(page, taps)
            context.close()

            context = browser.new_context(**phone)
            page = context.new_page()
            page.goto("/masuk")
            page.get_by_label("Nama pengguna").fill("orangtua")
            page.get_by_label("Kata sandi").fill("ceria-demo-2026")
            with page.expect_navigation():
                page.get_by_role("button", name="Masuk", exact=True).click()
            page.goto(f"/laporan-saya/{report_id}")
            taps = Taps(page)
            taps.click(page.get_by_role("region", name="Jadwal konseling").get_by_role(
                "link", name="Minta konseling", exact=True), navigates=True)
            results["parent, from /laporan-saya/N"] = _measure(page, taps)
            # A second booking: the coming appointment is now listed first on the page.
            page.goto(f"/laporan-saya/{report_id}")
            taps = Taps(page)
            taps.click(page.get_by_role("region", name="Jadwal konseling").get_by_role(
                "link", name="Minta konseling", exact=True), navigates=True)
            results["parent again, one appointment coming"] = _measure(page, taps)
            results["parent moves it to another day"] = _measure_move(page, page.url.split("?")[0])
            context.close()
        browser.close()
    print("| journey (360×640) | page height px | top of page to first start time px | taps to a sent request |")
    print("| --- | ---: | ---: | ---: |")
    for name, found in results.items():
        print(f"| {name} | {found['height']} | {found['first_time_top']} | {found['taps']} |")


if __name__ == "__main__":
    main()
