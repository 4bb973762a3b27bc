"""Reports and cases on a phone: an anonymous child reports and follows up with code + PIN, a teacher reports
and sees the status, a counselor triages, takes and answers the case, a report written with no signal is sent
exactly once when the phone is back online, and the pages are accessible and fit a small screen.

All tests share one live server, which allows ten reports an hour from one address: each test that reports
makes one report, and each picks a category no other test here uses, so it can find its own report again."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Locator, Page, expect
from sqlalchemy import func, select
from sqlmodel import Session

from server.db import make_engine
from server.reports.codes import code_hash, token_hash
from server.reports.models import Report
from tests.support.browser import sign_in, wait_until_controlled

pytestmark = pytest.mark.browser

# Crockford's base32 in four groups of four; a PIN of six digits.
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
PIN = re.compile(r"^[0-9]{6}$")
STEPS = 7


# --- helpers -----------------------------------------------------------------------------------------------


def assert_no_axe_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def assert_fits_the_screen(page: Page) -> None:
    """Neither the page nor any visible element reaches past the right edge of the screen. Elements put off
    screen on purpose (the skip link, the honeypot) or too small to see (visually hidden text) don't count."""
    found = page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const wide = [];
          for (const element of document.body.querySelectorAll("*")) {
            const box = element.getBoundingClientRect();
            if (box.width <= 1 || box.height <= 1 || box.right <= 0) continue;
            if (box.right > width + 0.5) {
              wide.push(`${element.tagName.toLowerCase()}.${element.className} ${Math.round(box.right)}px`);
            }
          }
          return {scroll: document.documentElement.scrollWidth, client: width, wide};
        }"""
    )
    assert found["scroll"] <= found["client"], found
    assert not found["wide"], found


def count_reports(database_url: str, **where: Any) -> int:
    """Reports in the live server's database, through a connection of its own."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            query = select(func.count()).select_from(Report)
            for name, value in where.items():
                query = query.where(getattr(Report, name) == value)
            return session.execute(query).scalar_one()
    finally:
        engine.dispose()


def report_id_for_code(database_url: str, code: str) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return session.execute(select(Report.id).where(Report.code_hash == code_hash(code))).scalar_one()
    finally:
        engine.dispose()


def progress(page: Page) -> Locator:
    return page.locator("[data-step-progress]")


def next_step(page: Page, to: int) -> None:
    page.get_by_role("button", name="Lanjut", exact=True).click()
    expect(progress(page)).to_have_text(f"Langkah {to} dari {STEPS}")


def fill_report(
    page: Page,
    *,
    who: str | None,
    category: str,
    words: str,
    where: str = "Di sekolah",
    district: str = "",
    village: str = "",
    school: str = "",
    age: str = "12",
    adult: dict[str, str] | None = None,
    student: tuple[str, str] | None = None,
    each_step: Any = None,
) -> None:
    """Answer the report form one step at a time with the Lanjut buttons, saying no one is in danger now.
    `who` None keeps the answer the form chose for a signed-in person; `each_step(page)` runs on every step."""
    check = each_step or (lambda _page: None)
    expect(progress(page)).to_have_text(f"Langkah 1 dari {STEPS}")
    expect(page.get_by_role("button", name="Kirim laporan", exact=True)).to_be_hidden()
    page.get_by_role("radio", name="Tidak sekarang", exact=True).check()
    expect(page.locator("[data-danger-help]")).to_be_hidden()
    check(page)
    next_step(page, 2)

    if who is not None:
        page.get_by_role("radio", name=who, exact=True).check()
    check(page)
    next_step(page, 3)

    page.get_by_role("checkbox", name=category, exact=True).check()
    check(page)
    next_step(page, 4)

    page.get_by_role("radio", name="Minggu ini", exact=True).check()
    page.get_by_role("radio", name=where, exact=True).check()
    if district:
        page.get_by_role("combobox", name="Kecamatan", exact=True).select_option(label=district)
    if village:
        # htmx fetches the chosen kecamatan's kelurahan/desa in place of every kecamatan's.
        villages = page.get_by_role("combobox", name="Kelurahan/desa (kalau tahu)", exact=True)
        expect(villages.locator("optgroup")).to_have_count(1)
        expect(villages.locator("optgroup")).to_have_attribute("label", f"Kecamatan {district}")
        villages.select_option(label=village)
    if school:
        page.get_by_role("combobox", name="Sekolah", exact=True).select_option(label=school)
    check(page)
    next_step(page, 5)

    page.get_by_role("textbox", name="Umur (tahun)", exact=True).fill(age)
    student_name = page.get_by_role("textbox", name="Nama murid (kalau Anda mau)", exact=True)
    if student is None:
        if adult is None:  # asked of teachers only, never of a child
            expect(student_name).to_be_hidden()
    else:
        student_name.fill(student[0])
        page.get_by_role("textbox", name="Kelas", exact=True).fill(student[1])
    check(page)
    next_step(page, 6)

    page.get_by_role("textbox", name="Apa yang terjadi?", exact=True).fill(words)
    how_learned = page.get_by_role("textbox", name="Bagaimana Anda mengetahui hal ini?", exact=True)
    if adult is None:
        expect(how_learned).to_be_hidden()
    else:
        expect(how_learned).to_be_visible()
        expect(page.get_by_role("group", name="Apakah anak tahu hal ini dilaporkan?", exact=True)).to_be_visible()
        how_learned.fill(adult["how_learned"])
        page.get_by_role("radio", name=adult["child_knows"], exact=True).check()
    check(page)
    next_step(page, 7)

    expect(page.get_by_role("radio", name="Lewat aplikasi ini saja (pesan di halaman Cek laporan)")).to_be_checked()
    expect(page.get_by_role("button", name="Lanjut", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Kirim laporan", exact=True)).to_be_visible()
    check(page)


def submit_report(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Kirim laporan", exact=True).click()


def read_receipt(page: Page) -> tuple[str, str]:
    """The code and PIN of the receipt page, after checking their shape."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Laporanmu sudah kami terima")
    outputs = page.locator("[data-receipt] output.receipt__code")
    expect(outputs).to_have_count(2)
    code, pin = outputs.nth(0).inner_text().strip(), outputs.nth(1).inner_text().strip()
    assert CODE.match(code), code
    assert PIN.match(pin), pin
    return code, pin


def open_with_code(page: Page, code: str, pin: str) -> None:
    """On /cek, open a report with its code and PIN, as its holder would."""
    if not page.url.split("?")[0].endswith("/cek"):
        page.goto("/cek")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cek laporan")
    page.get_by_role("textbox", name="Kode laporan").fill(code)
    page.get_by_label("PIN", exact=True).fill(pin)
    with page.expect_navigation():
        page.get_by_role("button", name="Lihat laporan", exact=True).click()
    expect(page).to_have_url("/cek/laporan")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kabar laporan")


# Everything the app keeps in the phone's IndexedDB, as text (the offline queue's database must exist already:
# opening a missing one here would create it without its stores).
_STORED_OFFLINE = """async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("bintang-ceria");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const found = {};
  for (const name of db.objectStoreNames) {
    found[name] = await new Promise((resolve) => {
      const request = db.transaction(name).objectStore(name).getAll();
      request.onsuccess = () => resolve(request.result);
    });
  }
  db.close();
  return JSON.stringify(found);
}"""


def stored_offline(page: Page) -> str:
    return page.evaluate(_STORED_OFFLINE)


def wait_until_not_stored(page: Page, *secrets: str) -> str:
    """What the phone keeps, once none of `secrets` is in it any more (the page forgets receipts as it shows them)."""
    for _attempt in range(50):
        stored = stored_offline(page)
        if not any(secret in stored for secret in secrets):
            return stored
        page.wait_for_timeout(100)
    raise AssertionError(f"still kept on the phone: {stored}")


def status_on_case_page(page: Page) -> Locator:
    return page.locator("dl.summary").first.locator("dt:text-is('Status') + dd")


# --- an anonymous child -----------------------------------------------------------------------------------


def test_an_anonymous_child_reports_and_follows_up_with_code_and_pin(page: Page):
    words = f"Aku dipukul kakak kelas di kantin. ({uuid.uuid4().hex[:8]})"
    page.goto("/lapor")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lapor")
    expect(progress(page)).to_have_text(f"Langkah 1 dari {STEPS}")
    assert_no_axe_violations(page)

    fill_report(page, who="Aku anak/remaja, dan ini tentang diriku",
                category="Disakiti badannya — dipukul, ditendang", words=words)
    submit_report(page)

    code, pin = read_receipt(page)
    assert_no_axe_violations(page)
    # The page moves on only once the person says they saved the code and PIN.
    saved = page.get_by_role("checkbox", name="Saya sudah menyimpan kode dan PIN")
    expect(saved).not_to_be_checked()
    assert page.evaluate("() => document.querySelector('input[name=disimpan]').form.checkValidity()") is False
    saved.check()
    with page.expect_navigation():
        page.get_by_role("button", name="Lanjut", exact=True).click()
    # The code came along in the form's body: it is filled in, and the address holds nothing of it.
    expect(page).to_have_url(re.compile(r"/cek$"))
    expect(page.get_by_role("textbox", name="Kode laporan")).to_have_value(code)
    expect(page.get_by_label("PIN", exact=True)).to_be_focused()
    assert_no_axe_violations(page)

    open_with_code(page, code, pin)
    expect(page.locator("[data-reporter-status]")).to_have_text("Diterima")
    expect(page.get_by_text("Belum ada pesan. Konselor akan menulis di sini.")).to_be_visible()
    assert_no_axe_violations(page)

    message = "Kak, aku takut ke sekolah besok."
    page.get_by_role("textbox", name="Tulis pesan untuk konselor").fill(message)
    with page.expect_navigation():
        page.get_by_role("button", name="Kirim pesan", exact=True).click()
    expect(page).to_have_url("/cek/laporan#pesan")
    mine = page.locator(".message--mine")
    expect(mine).to_have_count(1)
    expect(mine.locator(".message__body")).to_have_text(message)
    expect(mine.locator(".message__meta")).to_contain_text("Kamu")
    expect(page.get_by_role("textbox", name="Tulis pesan untuk konselor")).to_have_value("")
    assert_no_axe_violations(page)


def test_danger_now_shows_the_emergency_numbers_at_once(page: Page):
    page.goto("/lapor")
    help_now = page.locator("[data-danger-help]")
    expect(help_now).to_be_hidden()

    page.get_by_role("radio", name="Ya, sekarang", exact=True).check()

    # At once, on the first step, before any other question or the Lanjut button is pressed.
    expect(help_now).to_be_visible()
    expect(progress(page)).to_have_text(f"Langkah 1 dari {STEPS}")
    expect(page.get_by_role("heading", name="Siapa kamu?")).to_be_hidden()
    numbers = help_now.locator("a[href^='tel:']")
    expect(numbers.first).to_be_visible()
    expect(numbers.first).to_be_in_viewport()
    hrefs = [link.get_attribute("href") for link in numbers.all()]
    assert "tel:112" in hrefs, hrefs
    assert "tel:129" in hrefs, hrefs
    expect(help_now.get_by_role("link", name="112", exact=True)).to_be_visible()
    expect(help_now.get_by_role("link", name="SAPA 129", exact=True)).to_be_visible()
    # The numbers come before the button that leads on.
    order = page.evaluate(
        """() => document.querySelector("[data-danger-help]")
                   .compareDocumentPosition(document.querySelector("[data-step-next]"))"""
    )
    assert order & 4, order  # Node.DOCUMENT_POSITION_FOLLOWING
    assert_no_axe_violations(page)

    page.get_by_role("radio", name="Tidak sekarang", exact=True).check()
    expect(help_now).to_be_hidden()


# --- a teacher --------------------------------------------------------------------------------------------


def test_a_teacher_reports_and_sees_the_status(page: Page):
    # Imported here: that module uses this one's helpers.
    from tests.browser.test_report_taps import TEACHER_STEPS, Taps, report_as_teacher

    sign_in(page, "guru")
    page.goto("/lapor")
    expect(page.get_by_role("radio", name="Saya guru", exact=True)).to_be_hidden()  # known from her account
    expect(progress(page)).to_have_text(f"Langkah 1 dari {TEACHER_STEPS}")
    # Her school (and its kecamatan) is answered already.
    expect(page.locator("#field-school_id")).to_have_value(re.compile(r"\d+"))
    report_as_teacher(page, Taps(page), student="Rina Kartika", class_name="7B",
                      words="Katanya dia diejek terus di grup kelas dan tidak mau masuk sekolah.", submit=False)
    # The last step speaks to an adult about the child.
    expect(page.get_by_role("group", name="Apakah anak setuju kasus ini ditangani konselor?", exact=True)).to_be_visible()
    expect(page.get_by_text("Apakah kamu mau dibantu konselor?")).to_be_hidden()
    # Going back keeps every answer, including the one the form chose for a teacher.
    for step in range(TEACHER_STEPS - 1, 0, -1):
        page.get_by_role("button", name="Kembali", exact=True).click()
        expect(progress(page)).to_have_text(f"Langkah {step} dari {TEACHER_STEPS}")
        if step == 3:
            expect(page.get_by_role("textbox", name="Bagaimana Anda mengetahui hal ini?")).to_have_value(
                "Anak itu bercerita kepada saya di ruang BK.")
    page.get_by_text("Bukan Guru BK Sari yang menulis, atau kirim tanpa akun?").click()
    expect(page.get_by_role("radio", name="Saya guru", exact=True)).to_be_checked()
    for step in range(2, TEACHER_STEPS + 1):
        page.get_by_role("button", name="Lanjut", exact=True).click()
        expect(progress(page)).to_have_text(f"Langkah {step} dari {TEACHER_STEPS}")
    submit_report(page)

    expect(page).to_have_url(re.compile(r"/laporan-saya/\d+\?baru=1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Kabar laporan")
    expect(page.get_by_role("status").filter(has_text="Laporan sudah kami terima")).to_be_visible()
    expect(page.locator("[data-reporter-status]")).to_have_text("Diterima")
    # What she reported and about whom, on her page only (never in the title).
    expect(page.locator("[data-report-what]")).to_have_text("Perundungan")
    expect(page.locator("[data-report-about]")).to_have_text("Rina Kartika, kelas 7B")
    assert "Rina" not in page.title()
    assert_no_axe_violations(page)

    report_id = re.search(r"/laporan-saya/(\d+)", page.url).group(1)
    page.goto("/laporan-saya")
    entry = page.locator(".report-list li").filter(has=page.locator(f"a[href='/laporan-saya/{report_id}']"))
    expect(entry.locator(".tag")).to_have_text("Diterima")
    expect(entry.locator("[data-report-summary]")).to_have_text("Perundungan · tentang Rina Kartika, kelas 7B")
    assert_no_axe_violations(page)


# --- a counselor ------------------------------------------------------------------------------------------


def test_a_counselor_triages_takes_and_answers_a_report_and_the_reporter_sees_it(page: Page, other_phone: Page):
    words = f"Aku disuruh jualan sampai malam dan uangnya diambil. ({uuid.uuid4().hex[:8]})"
    page.goto("/lapor")
    fill_report(page, who="Aku anak/remaja, dan ini tentang diriku",
                category="Dipaksa bekerja atau dimanfaatkan demi uang", words=words, where="Di tempat umum",
                district="Banjarbaru Utara", village="Komet")
    submit_report(page)
    code, pin = read_receipt(page)

    counselor = sign_in(other_phone, "konselor")
    counselor.goto("/kasus/")
    expect(counselor.get_by_role("heading", level=1)).to_have_text("Kotak masuk kasus")
    # The only report of this kind, in the counselor's own district.
    results = counselor.locator("#inbox-results")
    row = results.locator(".case-row").filter(has_text="Eksploitasi")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Baru masuk")
    assert_no_axe_violations(counselor)

    with counselor.expect_navigation():
        row.locator(".case-row__link").click()
    expect(counselor).to_have_url(re.compile(r"/kasus/\d+$"))
    case_url = counselor.url
    expect(counselor.locator("blockquote.child-words")).to_have_text(words)
    expect(status_on_case_page(counselor)).to_have_text("Baru masuk")
    expect(counselor.locator("dt:text-is('Kelurahan/desa') + dd")).to_have_text("Komet")
    assert_no_axe_violations(counselor)

    # Triage: urgency and categories.
    triage = counselor.locator("#triase")
    triage.get_by_role("combobox", name="Urgensi", exact=True).select_option(label="Tinggi")
    triage.get_by_role("checkbox", name="Kekerasan psikis", exact=True).check()
    expect(triage.get_by_role("checkbox", name="Eksploitasi", exact=True)).to_be_checked()
    with counselor.expect_navigation():
        triage.get_by_role("button", name="Simpan telaah", exact=True).click()
    expect(status_on_case_page(counselor)).to_have_text("Sudah ditelaah")
    summary = counselor.locator("dl.summary").first
    expect(summary.locator("dt:text-is('Urgensi') + dd")).to_contain_text("Tinggi")
    expect(summary.locator("dt:text-is('Kategori') + dd")).to_have_text(re.compile(
        r"^(Eksploitasi, Kekerasan psikis|Kekerasan psikis, Eksploitasi)$"))

    # The counselor takes the case.
    expect(summary.locator("dt:text-is('Konselor') + dd")).to_have_text("Belum ada")
    with counselor.expect_navigation():
        counselor.get_by_role("button", name="Saya yang menangani", exact=True).click()
    expect(status_on_case_page(counselor)).to_have_text("Sudah ada konselor")
    expect(summary.locator("dt:text-is('Konselor') + dd")).to_have_text("Konselor Rina")

    # ... starts working on it ...
    counselor.get_by_role("combobox", name="Status baru", exact=True).select_option(label="Sedang ditangani")
    with counselor.expect_navigation():
        counselor.get_by_role("button", name="Simpan status", exact=True).click()
    expect(status_on_case_page(counselor)).to_have_text("Sedang ditangani")

    # ... and writes to the reporter.
    message = "Halo, aku Kak Rina. Kamu aman sekarang? Balas di sini kapan saja."
    counselor.locator("#pesan").get_by_role("textbox", name="Pesan", exact=True).fill(message)
    with counselor.expect_navigation():
        counselor.get_by_role("button", name="Kirim pesan", exact=True).click()
    expect(counselor).to_have_url(f"{case_url}#pesan")
    chronology = counselor.locator(".chronology")
    expect(chronology.locator(".chronology__item--message")).to_have_count(1)
    expect(chronology.locator(".chronology__item--message")).to_contain_text(message)
    expect(chronology.locator(".chronology__item--triaged")).to_have_count(1)
    expect(chronology.locator(".chronology__item--assigned")).to_have_count(1)
    assert_no_axe_violations(counselor)

    # The reporter, with the code and PIN on their own phone, sees the status and the counselor's words.
    open_with_code(page, code, pin)
    expect(page.locator("[data-reporter-status]")).to_have_text("Sedang ditangani")
    received = page.locator(".message:not(.message--mine)")
    expect(received).to_have_count(1)
    expect(received.locator(".message__body")).to_have_text(message)
    expect(received.locator(".message__meta")).to_contain_text("Konselor")
    # Never who handles it, nor anything of the staff's side.
    expect(page.get_by_text("Konselor Rina")).to_have_count(0)
    assert_no_axe_violations(page)


def test_the_inbox_filters_change_the_list_in_place_and_the_address_can_be_shared(page: Page, other_phone: Page):
    page.goto("/lapor")
    fill_report(page, who="Aku anak/remaja, dan ini tentang temanku", category="Hal lain",
                words="Temanku sering dikunci di gudang sekolah.", district="Banjarbaru Utara")
    submit_report(page)
    read_receipt(page)

    counselor = sign_in(other_phone, "konselor")
    counselor.goto("/kasus/")
    results = counselor.locator("#inbox-results")
    expect(results.locator(".case-row").filter(has_text="Lainnya")).to_have_count(1)
    # A flag on this page survives only if the filters change the list without loading the page again.
    counselor.evaluate("() => { window.sameInboxPage = true; }")

    counselor.get_by_role("combobox", name="Kategori", exact=True).select_option(label="Lainnya")
    expect(counselor).to_have_url(re.compile(r"/kasus/\?.*kategori=other"))
    expect(results.locator(".case-row")).to_have_count(1)
    expect(results.locator(".case-row")).to_contain_text("Lainnya")

    district = counselor.get_by_role("combobox", name="Kecamatan", exact=True)
    district.select_option(label="Banjarbaru Utara")
    district_id = district.input_value()
    expect(counselor).to_have_url(re.compile(rf"/kasus/\?.*kategori=other.*kecamatan={district_id}"))
    expect(results.locator(".case-row")).to_have_count(1)

    district.select_option(label="Cempaka")
    expect(counselor).to_have_url(re.compile(rf"/kasus/\?.*kecamatan={district.input_value()}"))
    expect(results).to_contain_text("Tidak ada kasus yang cocok dengan pilihan ini.")
    expect(results.locator(".case-row")).to_have_count(0)
    assert counselor.evaluate("() => window.sameInboxPage === true")

    district.select_option(label="Banjarbaru Utara")
    expect(results.locator(".case-row")).to_have_count(1)
    assert counselor.evaluate("() => window.sameInboxPage === true")
    assert_no_axe_violations(counselor)

    # The address is shareable: opening it shows the same choices and the same list.
    shared = counselor.url
    counselor.goto(shared)
    expect(counselor.get_by_role("combobox", name="Kategori", exact=True)).to_have_value("other")
    expect(district).to_have_value(district_id)
    expect(results.locator(".case-row")).to_have_count(1)


# --- a shared phone ---------------------------------------------------------------------------------------


def test_a_child_on_a_parents_phone_sends_without_the_account_and_gets_a_code(page: Page, live_database: str):
    sign_in(page, "orangtua")
    page.goto("/lapor")
    seen = []

    def choose_without_the_account(page: Page) -> None:
        choice = page.get_by_role("radio", name="Kirim tanpa akun: saya mendapat kode dan PIN sendiri", exact=True)
        if choice.is_visible() and not seen:
            expect(page.get_by_text("Kamu masuk sebagai Ibu Wati.")).to_be_visible()
            expect(choice).not_to_be_checked()
            assert_no_axe_violations(page)
            choice.check()
            seen.append(True)

    fill_report(page, who="Aku anak/remaja, dan ini tentang diriku",
                category="Dibentak, diancam, atau dihina terus-menerus",
                words=f"Ayah membentakku setiap malam. ({uuid.uuid4().hex[:8]})", each_step=choose_without_the_account)
    assert seen
    submit_report(page)
    code, _pin = read_receipt(page)
    assert count_reports(live_database, code_hash=code_hash(code), submitted_by_id=None) == 1


# --- offline ----------------------------------------------------------------------------------------------


def test_offline_a_report_is_kept_on_the_phone_and_sent_exactly_once(
    page: Page, context: BrowserContext, live_database: str
):
    page.goto("/lapor")
    wait_until_controlled(page)
    words = f"Aku dikurung di kamar dan tidak dikasih makan. ({uuid.uuid4().hex[:8]})"
    fill_report(page, who="Aku anak/remaja, dan ini tentang diriku",
                category="Tidak diurus — tidak diberi makan, dilarang sekolah, dibiarkan sakit", words=words,
                where="Di rumah", district="Banjarbaru Utara")
    reports_before = count_reports(live_database)

    context.set_offline(True)
    page.get_by_role("button", name="Kirim laporan", exact=True).click()
    status = page.locator("[data-offline-status]")
    expect(status).to_be_visible()
    expect(status).to_contain_text("tersimpan di HP ini, belum terkirim")
    banner = page.locator("[data-outbox-banner]")
    expect(banner.locator("[data-outbox-waiting]")).to_contain_text("tersimpan di HP ini, belum terkirim")
    expect(page).to_have_url("/lapor")  # the page stayed: nothing was posted

    waiting = page.evaluate("() => BintangQueue.pending()")
    assert len(waiting) == 1, waiting
    saved = waiting[0]
    assert count_reports(live_database) == reports_before
    assert count_reports(live_database, idempotency_key_hash=token_hash(saved["key"])) == 0

    context.set_offline(False)
    code_out, pin_out = banner.locator("[data-receipt-code]"), banner.locator("[data-receipt-pin]")
    expect(banner).to_be_visible()
    expect(code_out).to_have_count(1)
    expect(code_out).to_have_text(CODE)
    expect(pin_out).to_have_text(PIN)
    expect(banner).to_contain_text("Laporanmu sudah terkirim.")
    expect(banner.locator("[data-outbox-waiting]")).to_be_hidden()
    code, pin = code_out.inner_text(), pin_out.inner_text()
    assert page.evaluate("() => BintangQueue.pending()") == []
    # "Salin" copies both from the banner too, in one go.
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    banner.get_by_role("button", name="Salin kode dan PIN", exact=True).click()
    expect(banner.get_by_role("status").filter(has_text="Kode dan PIN sudah disalin.")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == f"Kode laporan: {code}\nPIN: {pin}"
    # Sent: what the child wrote is gone from the phone's storage; shown: so is the PIN (it stays on this page).
    stored = wait_until_not_stored(page, pin, code)
    assert "dikurung" not in stored, stored

    # The banner is brought up to date again whenever the connection returns or the service worker reports a send;
    # someone on "Sudah saya simpan" keeps the focus (the receipt is not rebuilt under them).
    done = banner.get_by_role("button", name="Sudah saya simpan", exact=True)
    done.focus()
    shown = int(banner.get_attribute("data-shown") or "0")
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function("(n) => Number(document.querySelector('[data-outbox-banner]').dataset.shown) > n", arg=shown)
    expect(done).to_be_focused()
    expect(code_out).to_have_count(1)
    assert count_reports(live_database, idempotency_key_hash=token_hash(saved["key"])) == 1
    assert count_reports(live_database) == reports_before + 1

    # Opening the app again: nothing is sent again, and the receipt, shown once, is not kept on the phone. (The
    # page forgets it just after showing it; a reload within those milliseconds would show it once more.)
    page.wait_for_function("() => BintangQueue.receipts().then((kept) => kept.length === 0)")
    page.reload()
    page.wait_for_function("() => Number(document.querySelector('[data-outbox-banner]').dataset.shown) > 0")
    expect(code_out).to_have_count(0)
    expect(banner).to_be_hidden()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    # A replay from this browser whose answer was lost (the same form sent again) gets the same receipt, not a
    # second report; the form itself, sent again, would say "already sent" without it.
    again = page.evaluate(
        """async (item) => {
          const response = await fetch(item.action, {
            method: "POST", body: item.body, credentials: "same-origin",
            headers: {"Content-Type": "application/x-www-form-urlencoded", Accept: "application/json"},
          });
          return {status: response.status, body: await response.json()};
        }""",
        saved,
    )
    assert 200 <= again["status"] < 300, again
    assert (again["body"]["code"], again["body"]["pin"]) == (code, pin)
    assert count_reports(live_database, idempotency_key_hash=token_hash(saved["key"])) == 1
    assert count_reports(live_database) == reports_before + 1

    # The code and PIN from the banner open the report.
    open_with_code(page, code, pin)
    expect(page.locator("[data-reporter-status]")).to_have_text("Diterima")


def test_a_report_sent_twice_at_once_keeps_its_receipt_only_until_it_is_shown(page: Page):
    # When the signal returns, a page and the service worker may both send the same waiting report; the server
    # answers both with the receipt. The second answer must not bring back a receipt (the PIN) already shown.
    page.goto("/lapor")
    kept = page.evaluate(
        """async () => {
          const q = BintangQueue;
          await q.save({key: "twice", action: "/lapor", body: "", savedAt: Date.now()});
          await q.sent("twice", {key: "twice", code: "AAAA-BBBB-CCCC", pin: "123456"});
          const first = (await q.receipts()).length;
          await q.forgetReceipt("twice");
          await q.sent("twice", {key: "twice", code: "AAAA-BBBB-CCCC", pin: "123456"});
          return {first: first, after: (await q.receipts()).length, pending: (await q.pending()).length};
        }"""
    )
    assert kept == {"first": 1, "after": 0, "pending": 0}


def test_quick_exit_deletes_the_offline_queue_by_name_where_the_browser_cannot_list_databases(
    page: Page, context: BrowserContext, neutral_site: str
):
    """Without a connection (no Clear-Site-Data from the server) and without indexedDB.databases (Firefox before
    126, older Safari): the queue, with what a child wrote, is still deleted, by its name."""
    page.goto("/lapor")
    wait_until_controlled(page)
    marker = uuid.uuid4().hex[:8]
    words = f"Aku takut pulang ke rumah. {marker}"
    page.evaluate("""(words) => BintangQueue.save({key: "uji-keluar-cepat", action: "/lapor", savedAt: Date.now(),
                                                   body: new URLSearchParams({child_words: words}).toString()})""",
                  words)
    assert marker in stored_offline(page)
    context.set_offline(True)
    page.evaluate("() => { delete IDBFactory.prototype.databases; }")
    assert page.evaluate("() => typeof indexedDB.databases") == "undefined"
    page.get_by_role("link", name="Keluar cepat", exact=True).click()
    page.wait_for_url(neutral_site)

    context.set_offline(False)
    page.goto("/")
    names = page.evaluate("async () => (await indexedDB.databases()).map((database) => database.name)")
    # Opening the app may make the queue's database again, empty.
    assert "bintang-ceria" not in names or marker not in stored_offline(page)
    assert page.evaluate("() => BintangQueue.pending()") == []


# --- small screens ----------------------------------------------------------------------------------------


def test_the_report_form_receipt_and_case_page_fit_a_small_phone(
    page: Page, other_phone: Page, live_database: str
):
    page.set_viewport_size({"width": 360, "height": 640})
    page.goto("/lapor")
    # A child may type one very long word (or paste a link): it wraps instead of widening the page.
    words = "tolongggg" + "g" * 120 + " https://contoh.example/" + "a" * 150
    fill_report(page, who="Aku anak/remaja, dan ini tentang temanku",
                category="Dibawa pergi atau dijual ke orang lain", words=words, where="Di internet atau HP",
                district="Banjarbaru Utara", each_step=assert_fits_the_screen)
    # A child about a friend is asked in a child's words, and not who consented instead of the parents.
    expect(page.get_by_role("group", name="Apakah temanmu mau dibantu konselor?", exact=True)).to_be_visible()
    expect(page.get_by_text("Apakah anak setuju kasus ini ditangani konselor?")).to_be_hidden()
    page.get_by_role("radio", name="Jangan beri tahu mereka: mungkin mereka yang menyakiti temanku", exact=True).check()
    expect(page.get_by_role("textbox", name="Siapa yang menyetujui sebagai ganti orang tua?")).to_be_hidden()
    # The number and the safe time appear only for a call or WhatsApp.
    expect(page.get_by_role("textbox", name="Nomor HP", exact=True)).to_be_hidden()
    page.get_by_role("radio", name="WhatsApp ke nomor ini", exact=True).check()
    expect(page.get_by_role("textbox", name="Kapan aman untuk dihubungi?")).to_be_visible()
    page.get_by_role("textbox", name="Nomor HP", exact=True).fill("0812 3456 7890")
    assert_fits_the_screen(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    submit_report(page)
    code, pin = read_receipt(page)
    assert_fits_the_screen(page)
    # The code stays on one line: its box is as tall as the PIN's, which is one line whatever the screen.
    code_box = page.locator("[data-receipt] output.receipt__code").nth(0).bounding_box()
    pin_box = page.locator("[data-receipt] output.receipt__code").nth(1).bounding_box()
    assert code_box["height"] == pin_box["height"], (code_box, pin_box)
    assert code_box["x"] + code_box["width"] <= 360
    # "Salin" copies both, in one go.
    page.get_by_role("button", name="Salin kode dan PIN", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Kode dan PIN sudah disalin.")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == f"Kode laporan: {code}\nPIN: {pin}"
    assert_no_axe_violations(page)
    # "Lanjut" carries the code to /cek in the form's body: only the PIN is typed, and no address holds the code.
    page.get_by_role("checkbox", name="Saya sudah menyimpan kode dan PIN").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Lanjut", exact=True).click()
    expect(page).to_have_url(re.compile(r"/cek$"))
    expect(page.get_by_role("textbox", name="Kode laporan")).to_have_value(code)
    expect(page.get_by_label("PIN", exact=True)).to_be_focused()
    assert code not in page.url
    assert code.replace("-", "") not in page.url
    assert_fits_the_screen(page)
    assert_no_axe_violations(page)
    page.get_by_label("PIN", exact=True).fill(pin)
    with page.expect_navigation():
        page.get_by_role("button", name="Lihat laporan", exact=True).click()
    expect(page).to_have_url("/cek/laporan")

    report_id = report_id_for_code(live_database, code)
    other_phone.set_viewport_size({"width": 360, "height": 640})
    sign_in(other_phone, "konselor")
    other_phone.goto("/kasus/")
    expect(other_phone.locator(f"a[href='/kasus/{report_id}']")).to_be_visible()
    assert_fits_the_screen(other_phone)
    other_phone.goto(f"/kasus/{report_id}")
    expect(other_phone.locator("blockquote.child-words")).to_have_text(words)
    assert_fits_the_screen(other_phone)
