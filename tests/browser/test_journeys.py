"""The five journeys of DESIGN.md §2, end to end through the real server, as the people would walk them, on a
Pixel 7 and on a small 360 × 640 phone; the child's journey once more in English. Every page a journey touches
passes axe, fits the screen and can be used with the keyboard alone (`assert_page_is_usable`); the key forms
(reporting, opening a report with its code and PIN, signing in, booking, triage, attendance) are answered with
the keyboard only.

These journeys report more often than the shared live server allows from one address (ten an hour), so they run
on a server of their own: a fresh demo database and port for this module (`journey_server`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect
from sqlalchemy import select
from sqlmodel import Session

from server import clock
from server.accounts.demo import DEMO_PASSWORD
from server.accounts.models import District, User
from server.accounts.visitor import Visitor
from server.appointments import service as appointments
from server.appointments.models import ServiceType
from server.appointments.slots import free_slots
from server.db import make_engine
from server.reports import codes, intake, report_form
from server.settings import Settings
from tests.browser.helpers import (
    assert_fits,
    assert_page_is_usable,
    choose_by_keyboard,
    press_by_keyboard,
    select_by_keyboard,
    type_by_keyboard,
)
from tests.browser.test_appointments import COUNSELOR_USERNAMES, status_tag, summary_value
from tests.browser.test_report_taps import Taps, report_as_teacher
from tests.browser.test_reports import (
    CODE,
    PIN,
    STEPS,
    count_reports,
    fill_report,
    open_with_code,
    report_id_for_code,
    status_on_case_page,
    submit_report,
)
from tests.servers import free_port
from tests.support.browser import demo_database, serve, sign_in, wait_until_controlled

pytestmark = pytest.mark.browser

NewPhone = Callable[[], Page]

# The child's journey in both languages: what the pages say, and what the child answers.
WORDS: dict[str, dict[str, str]] = {
    "id": {
        "report": "Lapor", "progress": "Langkah {n} dari {total}", "next": "Lanjut", "send_report": "Kirim laporan",
        "not_now": "Tidak sekarang", "me": "Aku anak/remaja, dan ini tentang diriku",
        "hurt": "Disakiti badannya — dipukul, ditendang", "this_week": "Minggu ini", "at_school": "Di sekolah",
        "district": "Kecamatan", "age": "Umur (tahun)", "what_happened": "Apa yang terjadi?",
        "app_only": "Lewat aplikasi ini saja (pesan di halaman Cek laporan)",
        "received_title": "Laporanmu sudah kami terima", "saved": "Saya sudah menyimpan kode dan PIN",
        "check": "Cek laporan", "code": "Kode laporan", "view": "Lihat laporan", "updates": "Kabar laporan",
        "received": "Diterima", "no_messages": "Belum ada pesan. Konselor akan menulis di sini.",
        "write": "Tulis pesan untuk konselor", "send_message": "Kirim pesan", "you": "Kamu", "counselor": "Konselor",
    },
    "en": {
        "report": "Report", "progress": "Step {n} of {total}", "next": "Continue", "send_report": "Send report",
        "not_now": "Not right now", "me": "I'm a child/teenager, and this is about me",
        "hurt": "Hurt physically — hit or kicked", "this_week": "This week", "at_school": "At school",
        "district": "District", "age": "Age (years)", "what_happened": "What happened?",
        "app_only": "Only through this app (messages on the Check report page)",
        "received_title": "We have received your report", "saved": "I have saved the code and PIN",
        "check": "Check report", "code": "Report code", "view": "View report", "updates": "Report updates",
        "received": "Received", "no_messages": "No messages yet. The counselor will write here.",
        "write": "Write a message to the counselor", "send_message": "Send message", "you": "You",
        "counselor": "Counselor",
    },
}
# konselor (Konselor Rina) handles reports from this district.
COUNSELORS_DISTRICT = "Banjarbaru Utara"


# --- the server, the screens, the phones -------------------------------------------------------------------


@pytest.fixture(scope="module")
def journey_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("journeys")


@pytest.fixture(scope="module")
def journey_database(journey_directory: Path) -> str:
    return demo_database(journey_directory)


@pytest.fixture(scope="module")
def journey_server(journey_directory: Path, journey_database: str) -> Iterator[str]:
    with serve(journey_database, journey_directory, free_port()) as base_url:
        yield base_url


@pytest.fixture
def small_phone_args(playwright: Playwright) -> dict[str, Any]:
    """A small, cheap Android phone: 360 × 640 CSS pixels, the Pixel 7's browser."""
    return {
        "user_agent": playwright.devices["Pixel 7"]["user_agent"],
        "viewport": {"width": 360, "height": 640},
        "screen": {"width": 360, "height": 640},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    }


@pytest.fixture(params=["pixel-7", "360x640"])
def screen(request: pytest.FixtureRequest, playwright: Playwright, small_phone_args: dict[str, Any]) -> dict[str, Any]:
    """The context arguments of the phone every person in a journey uses."""
    return dict(playwright.devices["Pixel 7"]) if request.param == "pixel-7" else small_phone_args


@pytest.fixture
def new_phone(browser: Browser, screen: dict[str, Any], journey_server: str) -> Iterator[NewPhone]:
    """Makes one person's phone (own cookies, storage and service worker) on this journey's screen."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(**screen, base_url=journey_server)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def tag() -> str:
    return uuid.uuid4().hex[:8]


@contextmanager
def database_session(database_url: str) -> Iterator[Session]:
    """A session on the journey server's database, through a connection of its own."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def person(db: Session, username: str) -> User:
    return db.execute(select(User).where(User.username == username)).scalar_one()


def counseling_service(db: Session) -> ServiceType:
    return db.execute(select(ServiceType).where(ServiceType.name == "Konseling individu")).scalar_one()


# --- 1. a child reports anonymously and follows up ---------------------------------------------------------


def child_reports_by_keyboard(page: Page, words: dict[str, str], story: str) -> None:
    """The whole report form with the keyboard alone: Tab, the arrow keys, Space, typing, Enter."""
    progress = page.locator("[data-step-progress]")

    def step(n: int) -> None:
        expect(progress).to_have_text(words["progress"].format(n=n, total=STEPS))

    def next_step(to: int) -> None:
        press_by_keyboard(page, page.get_by_role("button", name=words["next"], exact=True))
        step(to)

    step(1)
    choose_by_keyboard(page, page.get_by_role("radio", name=words["not_now"], exact=True))
    expect(page.get_by_role("radio", name=words["not_now"], exact=True)).to_be_checked()
    next_step(2)
    choose_by_keyboard(page, page.get_by_role("radio", name=words["me"], exact=True))
    next_step(3)
    press_by_keyboard(page, page.get_by_role("checkbox", name=words["hurt"], exact=True), key="Space")
    expect(page.get_by_role("checkbox", name=words["hurt"], exact=True)).to_be_checked()
    next_step(4)
    choose_by_keyboard(page, page.get_by_role("radio", name=words["this_week"], exact=True))
    choose_by_keyboard(page, page.get_by_role("radio", name=words["at_school"], exact=True))
    select_by_keyboard(page, page.get_by_role("combobox", name=words["district"], exact=True), COUNSELORS_DISTRICT)
    assert_fits(page)
    next_step(5)
    type_by_keyboard(page, page.get_by_role("textbox", name=words["age"], exact=True), "12")
    next_step(6)
    type_by_keyboard(page, page.get_by_role("textbox", name=words["what_happened"], exact=True), story)
    assert_fits(page)
    next_step(7)
    expect(page.get_by_role("radio", name=words["app_only"], exact=True)).to_be_checked()
    assert_page_is_usable(page)
    with page.expect_navigation():
        press_by_keyboard(page, page.get_by_role("button", name=words["send_report"], exact=True))


def walk_the_childs_journey(new_phone: NewPhone, journey_database: str, language: str) -> None:
    words = WORDS[language]
    child, counselor = new_phone(), new_phone()
    story = f"Aku dipukul kakak kelas di kantin. ({tag()})"

    # Someone else reads the form in Indonesian at the same time: each phone sees its own language, whichever
    # the server rendered first (words kept in imported templates once stayed in the first language).
    neighbour = new_phone() if language != "id" else None
    neighbours_answer = neighbour.locator("input[name=reporter_kind][value=child] + span") if neighbour else None
    if neighbour:
        neighbour.goto("/lapor")
        expect(neighbours_answer).to_have_text(WORDS["id"]["me"])

    child.goto("/")
    if language != "id":
        with child.expect_navigation():
            child.get_by_role("button", name="English", exact=True).click()
        expect(child.locator("html")).to_have_attribute("lang", language)
        expect(child.get_by_role("button", name="Bahasa Indonesia", exact=True)).to_be_visible()
    assert_page_is_usable(child)
    report_card = child.locator("a.card[href='/lapor']")
    expect(report_card).to_contain_text(words["report"])
    with child.expect_navigation():
        press_by_keyboard(child, report_card)
    expect(child).to_have_url(re.compile(r"/lapor$"))
    expect(child.get_by_role("heading", level=1)).to_have_text(words["report"])
    assert_page_is_usable(child)
    child_reports_by_keyboard(child, words, story)

    # The receipt: a case code and a PIN, and nothing goes on until the child says they are saved.
    expect(child.get_by_role("heading", level=1)).to_have_text(words["received_title"])
    outputs = child.locator("[data-receipt] output.receipt__code")
    expect(outputs.nth(0)).to_have_text(CODE)
    expect(outputs.nth(1)).to_have_text(PIN)
    code, pin = outputs.nth(0).inner_text().strip(), outputs.nth(1).inner_text().strip()
    assert_page_is_usable(child)
    press_by_keyboard(child, child.get_by_role("checkbox", name=words["saved"]), key="Space")
    with child.expect_navigation():
        press_by_keyboard(child, child.get_by_role("button", name=words["next"], exact=True))
    expect(child).to_have_url(re.compile(r"/cek$"))

    # The code came along from the receipt: only the PIN is typed.
    expect(child.get_by_role("heading", level=1)).to_have_text(words["check"])
    assert_page_is_usable(child)
    expect(child.get_by_role("textbox", name=words["code"])).to_have_value(code)
    type_by_keyboard(child, child.get_by_label("PIN", exact=True), pin)
    with child.expect_navigation():
        press_by_keyboard(child, child.get_by_role("button", name=words["view"], exact=True))
    expect(child).to_have_url(re.compile(r"/cek/laporan$"))
    expect(child.get_by_role("heading", level=1)).to_have_text(words["updates"])
    expect(child.locator("[data-reporter-status]")).to_have_text(words["received"])
    expect(child.get_by_text(words["no_messages"])).to_be_visible()
    assert_page_is_usable(child)

    # A counselor of the child's district finds the report in the inbox and writes to the child.
    report_id = report_id_for_code(journey_database, code)
    sign_in(counselor, "konselor")
    counselor.goto("/kasus/")
    with counselor.expect_navigation():
        counselor.locator(f"#inbox-results a[href='/kasus/{report_id}']").click()
    expect(counselor.locator("blockquote.child-words")).to_have_text(story)
    reply = f"Halo, aku Kak Rina. Kamu aman sekarang? ({tag()})"
    counselor.locator("#pesan").get_by_role("textbox", name="Pesan", exact=True).fill(reply)
    with counselor.expect_navigation():
        counselor.locator("#pesan").get_by_role("button", name="Kirim pesan", exact=True).click()
    expect(counselor.locator(".chronology__item--message")).to_contain_text(reply)

    # The child opens the report again, reads the reply and answers it.
    child.reload()
    received = child.locator(".message:not(.message--mine)")
    expect(received.locator(".message__body")).to_have_text(reply)
    expect(received.locator(".message__meta")).to_contain_text(words["counselor"])
    expect(child.get_by_text("Konselor Rina")).to_have_count(0)
    assert_page_is_usable(child)
    answer = f"Iya kak, aku di rumah sekarang. ({tag()})"
    child.get_by_role("textbox", name=words["write"]).fill(answer)
    with child.expect_navigation():
        child.get_by_role("button", name=words["send_message"], exact=True).click()
    mine = child.locator(".message--mine")
    expect(mine.locator(".message__body")).to_have_text(answer)
    expect(mine.locator(".message__meta")).to_contain_text(words["you"])
    assert_page_is_usable(child)

    # ... and the counselor reads the answer in the case's chronology.
    counselor.reload()
    expect(counselor.locator(".chronology__item--message").filter(has_text=answer)).to_have_count(1)
    if neighbour:
        neighbour.reload()
        expect(neighbours_answer).to_have_text(WORDS["id"]["me"])


def test_a_child_reports_anonymously_and_follows_up_with_code_and_pin(new_phone: NewPhone, journey_database: str):
    walk_the_childs_journey(new_phone, journey_database, "id")


@pytest.mark.parametrize("screen", ["360x640"], indirect=True)
def test_the_childs_journey_in_english(new_phone: NewPhone, journey_database: str):
    walk_the_childs_journey(new_phone, journey_database, "en")


# --- 2. a teacher records a concern ------------------------------------------------------------------------


def sign_in_by_keyboard(page: Page, username: str, password: str) -> None:
    page.goto("/masuk")
    assert_page_is_usable(page)
    type_by_keyboard(page, page.get_by_label("Nama pengguna"), username)
    type_by_keyboard(page, page.get_by_label("Kata sandi"), password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Akun saya", exact=True)).to_be_visible()


def test_a_teacher_records_a_concern_and_later_sees_its_status(new_phone: NewPhone):
    teacher, counselor = new_phone(), new_phone()
    story = f"Katanya dia diejek terus di grup kelas dan tidak mau masuk sekolah. ({tag()})"
    sign_in_by_keyboard(teacher, "guru", DEMO_PASSWORD)
    assert_page_is_usable(teacher)  # the home page, signed in
    with teacher.expect_navigation():
        teacher.locator("a.card[href='/lapor']").click()
    assert_page_is_usable(teacher)
    # Her school (SMP Negeri 1 Banjarbaru, in konselor's district) is answered by the form.
    report_as_teacher(teacher, Taps(teacher), student="Rina Kartika", class_name="7B", words=story, submit=False,
                      each_step=assert_fits)
    assert_page_is_usable(teacher)
    submit_report(teacher)

    expect(teacher).to_have_url(re.compile(r"/laporan-saya/\d+\?baru=1$"))
    report_id = int(re.search(r"/laporan-saya/(\d+)", teacher.url).group(1))
    expect(teacher.locator("[data-reporter-status]")).to_have_text("Diterima")
    assert_page_is_usable(teacher)

    # The counselor takes the case and writes a confidential note.
    secret = f"Catatan rahasia: ayah anak ini pernah dilaporkan. ({tag()})"
    sign_in(counselor, "konselor")
    counselor.goto(f"/kasus/{report_id}")
    expect(counselor.locator("blockquote.child-words")).to_have_text(story)
    with counselor.expect_navigation():
        counselor.get_by_role("button", name="Saya yang menangani", exact=True).click()
    expect(status_on_case_page(counselor)).to_have_text("Sudah ada konselor")
    counselor.locator("#catatan").get_by_role("textbox", name="Catatan", exact=True).fill(secret)
    with counselor.expect_navigation():
        counselor.get_by_role("button", name="Simpan catatan", exact=True).click()
    expect(counselor.locator(".chronology").filter(has_text=secret)).to_have_count(1)

    # Later the teacher finds the report in their list: its status, never the counselor's notes.
    teacher.goto("/")
    with teacher.expect_navigation():
        teacher.locator("a.card[href='/laporan-saya']").click()
    entry = teacher.locator(".report-list li").filter(has=teacher.locator(f"a[href='/laporan-saya/{report_id}']"))
    expect(entry.locator(".tag")).to_have_text("Sedang ditangani")
    assert_page_is_usable(teacher)
    with teacher.expect_navigation():
        entry.locator(f"a[href='/laporan-saya/{report_id}']").click()
    expect(teacher.locator("[data-reporter-status]")).to_have_text("Sedang ditangani")
    expect(teacher.get_by_text(secret)).to_have_count(0)
    expect(teacher.get_by_text("Konselor Rina")).to_have_count(0)
    assert_page_is_usable(teacher)


# --- 3. a parent books counseling --------------------------------------------------------------------------


def a_later_slot(page: Page) -> str:
    """The key of the earliest time after the earliest start of the chosen day (the very first may be seconds
    inside the notice period by the time the form is sent), moving on a day with the keyboard if need be."""
    for _day in range(35):
        expect(page.locator("#slots input[name=slot], #slots .slot-picker__empty").first).to_be_visible()
        keys = page.locator("#slots input[name=slot]").evaluate_all("(inputs) => inputs.map((i) => i.value)")
        later = [key for key in keys if int(key) > min(int(k) for k in keys)]
        if later:
            return later[0]
        shown = page.locator("#slots input[name=hari]").input_value()
        press_by_keyboard(page, page.locator("#slots li:has(.day-chip[aria-current]) + li a"))
        expect(page.locator("#slots input[name=hari]")).not_to_have_value(shown)
    pytest.fail("no free time in five weeks")


def test_a_parent_books_counseling_and_sees_it_confirmed(new_phone: NewPhone):
    parent, counselor = new_phone(), new_phone()
    note = f"Dimas susah tidur sejak pindah sekolah. ({tag()})"
    sign_in(parent, "orangtua")
    assert_page_is_usable(parent)  # the home page, signed in
    with parent.expect_navigation():
        parent.locator("a.card[href='/konseling']").click()
    expect(parent.get_by_role("heading", level=1)).to_have_text("Minta konseling")
    assert_page_is_usable(parent)

    # The booking form with the keyboard alone: the service (its free times arrive in place), a time, the
    # child, a note, and Enter.
    parent.evaluate("() => { window.sameBookingPage = true; }")
    choose_by_keyboard(parent, parent.get_by_role("radio", name="Konseling individu"))
    expect(parent.get_by_role("group", name="Pilih jam", exact=True)).to_be_visible()
    assert parent.evaluate("() => window.sameBookingPage === true")
    slot = a_later_slot(parent)
    chosen = parent.locator(f"input[name=slot][value='{slot}']")
    choose_by_keyboard(parent, chosen)
    expect(chosen).to_be_checked()
    day = parent.locator("#slots .slot-picker__day").inner_text().strip()
    starts = parent.locator(".slot-option").filter(has=chosen).locator(".slot-option__time").inner_text()
    starts = starts.replace("WITA", "").strip()
    select_by_keyboard(parent, parent.get_by_role("combobox", name="Untuk anak yang mana?", exact=True), "Dimas")
    press_by_keyboard(parent, parent.get_by_text("Catatan dan pengingat (boleh kosong)", exact=True))
    type_by_keyboard(parent, parent.get_by_role("textbox", name="Catatan singkat untuk konselor (boleh kosong)"), note)
    assert_page_is_usable(parent)
    with parent.expect_navigation():
        press_by_keyboard(parent, parent.get_by_role("button", name="Kirim permintaan", exact=True))

    expect(parent).to_have_url(re.compile(r"/konseling/\d+\?pesan=baru$"))
    appointment_id = int(re.search(r"/konseling/(\d+)", parent.url).group(1))
    expect(status_tag(parent)).to_have_text("Menunggu konfirmasi")
    expect(summary_value(parent, "Waktu")).to_contain_text(f"{day} · {starts}–")
    expect(summary_value(parent, "Anak")).to_have_text("Dimas")
    counselor_name = summary_value(parent, "Konselor").inner_text().strip()
    assert_page_is_usable(parent)

    # The counselor whose time it is confirms the request from the list of requests.
    sign_in(counselor, COUNSELOR_USERNAMES[counselor_name])
    counselor.goto("/jadwal")
    waiting = counselor.locator("[data-waiting] .appointment-row").filter(has_text=note)
    expect(waiting).to_contain_text("Orang tua/Wali: Ibu Wati · anak: Dimas")
    with counselor.expect_navigation():
        waiting.get_by_role("button", name=re.compile(r"^Konfirmasi ")).click()
    expect(counselor.get_by_role("status")).to_have_text("Jadwal sudah dikonfirmasi. Peminta diberi tahu.")

    # The parent is told, and the appointment says it is confirmed.
    parent.goto("/notifikasi")
    told = parent.locator(f".notification-list a[href='/konseling/{appointment_id}']")
    expect(told).to_have_text("Jadwal konseling Anda sudah dikonfirmasi.")
    assert_page_is_usable(parent)
    with parent.expect_navigation():
        told.click()
    expect(parent).to_have_url(re.compile(rf"/konseling/{appointment_id}$"))
    expect(status_tag(parent)).to_have_text("Terkonfirmasi")
    expect(parent.get_by_text("Konselor sudah mengonfirmasi. Sampai bertemu!")).to_be_visible()
    assert_page_is_usable(parent)
    parent.goto("/konseling/saya")
    entry = parent.locator(".appointment-row").filter(has=parent.locator(f"a[href='/konseling/{appointment_id}']"))
    expect(entry.locator("[data-status]")).to_have_text("Terkonfirmasi")
    assert_page_is_usable(parent)


# --- 4. a counselor's day ----------------------------------------------------------------------------------


def a_new_report(database_url: str, story: str) -> int:
    """A report from a child in the counselor's district, waiting in the inbox when the day starts."""
    with database_session(database_url) as db:
        district = db.execute(select(District).where(District.name == COUNSELORS_DISTRICT)).scalar_one()
        form = report_form.ReportForm.from_data({
            "reporter_kind": "friend", "danger_now": "no", "categories": ["psychological"],
            "happened_when": "this_week", "happened_where": "school", "district_id": str(district.id),
            "child_age": "11", "child_words": story, "child_assent": "yes", "contact_method": "app",
        })
        assert not report_form.validate_report(db, form, None)
        receipt = intake.submit_report(db, Settings(), form, user=None, ip="journeys-seed")
        db.commit()
        return receipt.report.id


def an_appointment(database_url: str, note: str, *, started: bool) -> int:
    """A parent's request for one of konselor's free times from now on, or (`started`) a confirmed session that
    began at least an hour ago, booked and confirmed through the service with a "now" days in the past:
    attendance can only be recorded once a session has started."""
    with database_session(database_url) as db:
        service_type, counselor = counseling_service(db), person(db, "konselor")
        now = clock.now() - timedelta(days=10) if started else clock.now()
        offered = [slot for slots in free_slots(db, service_type, now=now, days=9 if started else 28,
                                                counselor_id=counselor.id).values() for slot in slots]
        if started:
            offered = [slot for slot in offered if slot.starts_at < clock.now() - timedelta(hours=1)]
        assert offered, "konselor has no free time"
        # The last free time: far from the times the parent's journey picks (the earliest ones).
        appointment = appointments.request_appointment(
            db, Visitor(user=person(db, "orangtua")), service_type_id=service_type.id,
            counselor_id=counselor.id, starts_at=offered[-1].starts_at, child_agreed="", note=note, now=now,
        )
        if started:
            appointments.confirm(db, appointment, counselor, version=appointment.version, now=now)
        db.commit()
        return appointment.id


def test_a_counselors_day(new_phone: NewPhone, journey_database: str):
    story = f"Temanku dibentak dan dihina terus oleh pelatihnya. ({tag()})"
    report_id = a_new_report(journey_database, story)
    request_note = f"Mohon jadwal untuk Dimas. ({tag()})"
    requested_id = an_appointment(journey_database, request_note, started=False)
    held_id = an_appointment(journey_database, f"Sesi yang sudah lewat. ({tag()})", started=True)

    counselor = new_phone()
    sign_in(counselor, "konselor")
    assert_page_is_usable(counselor)  # the home page, signed in

    # The inbox: the new report, still untouched.
    with counselor.expect_navigation():
        counselor.locator("a.card[href='/kasus']").click()
    expect(counselor.get_by_role("heading", level=1)).to_have_text("Kotak masuk kasus")
    row = counselor.locator("#inbox-results .case-row").filter(
        has=counselor.locator(f"a[href='/kasus/{report_id}']"))
    expect(row).to_contain_text("Baru masuk")
    assert_page_is_usable(counselor)
    with counselor.expect_navigation():
        row.locator(f"a[href='/kasus/{report_id}']").click()
    expect(counselor.locator("blockquote.child-words")).to_have_text(story)
    expect(status_on_case_page(counselor)).to_have_text("Baru masuk")
    assert_page_is_usable(counselor)

    # Triage, with the keyboard alone.
    triage = counselor.locator("#triase")
    select_by_keyboard(counselor, triage.get_by_role("combobox", name="Urgensi", exact=True), "Tinggi")
    with counselor.expect_navigation():
        press_by_keyboard(counselor, triage.get_by_role("button", name="Simpan telaah", exact=True))
    expect(status_on_case_page(counselor)).to_have_text("Sudah ditelaah")
    summary = counselor.locator("dl.summary").first
    expect(summary.locator("dt:text-is('Urgensi') + dd")).to_contain_text("Tinggi")

    # Takes the case, writes to the reporter, records a referral.
    with counselor.expect_navigation():
        counselor.get_by_role("button", name="Saya yang menangani", exact=True).click()
    expect(status_on_case_page(counselor)).to_have_text("Sudah ada konselor")
    expect(summary.locator("dt:text-is('Konselor') + dd")).to_have_text("Konselor Rina")
    message = f"Halo, terima kasih sudah melapor. Temanmu bisa cerita di sini. ({tag()})"
    counselor.locator("#pesan").get_by_role("textbox", name="Pesan", exact=True).fill(message)
    with counselor.expect_navigation():
        counselor.locator("#pesan").get_by_role("button", name="Kirim pesan", exact=True).click()
    expect(counselor.locator(".chronology__item--message")).to_contain_text(message)
    referrals = counselor.locator("#rujukan")
    referrals.get_by_role("combobox", name="Jenis lembaga", exact=True).select_option(index=1)
    referrals.get_by_role("textbox", name="Nama lembaga", exact=True).fill("Puskesmas Banjarbaru Utara")
    with counselor.expect_navigation():
        referrals.get_by_role("button", name="Catat rujukan", exact=True).click()
    expect(counselor.locator("#rujukan .referrals")).to_contain_text("Puskesmas Banjarbaru Utara")
    assert_page_is_usable(counselor)

    # The appointment requests: confirm one from its page.
    counselor.goto("/jadwal")
    waiting = counselor.locator("[data-waiting] .appointment-row").filter(has_text=request_note)
    expect(waiting).to_have_count(1)
    assert_page_is_usable(counselor)
    with counselor.expect_navigation():
        waiting.locator(f"a.appointment-row__link[href='/jadwal/{requested_id}']").click()
    assert_page_is_usable(counselor)
    with counselor.expect_navigation():
        counselor.get_by_role("button", name="Konfirmasi jadwal ini", exact=True).click()
    expect(counselor.get_by_role("status")).to_have_text("Jadwal sudah dikonfirmasi. Peminta diberi tahu.")
    expect(counselor.locator("[data-status]")).to_have_text("Terkonfirmasi")

    # A session that took place: found on the agenda, attendance recorded with the keyboard.
    counselor.goto("/jadwal")
    held = counselor.locator(f"a[href='/jadwal/{held_id}']")
    if held.count() == 0:
        with counselor.expect_navigation():
            counselor.get_by_role("link", name="‹ Minggu sebelumnya", exact=True).click()
    with counselor.expect_navigation():
        held.click()
    expect(counselor.locator("[data-status]")).to_have_text("Terkonfirmasi")
    assert_page_is_usable(counselor)
    attendance = counselor.locator("#kehadiran")
    choose_by_keyboard(counselor, attendance.get_by_role("radio", name="Hadir: sesi berlangsung", exact=True))
    with counselor.expect_navigation():
        press_by_keyboard(counselor, attendance.get_by_role("button", name="Simpan kehadiran", exact=True))
    expect(counselor.get_by_role("status")).to_have_text("Kehadiran sudah dicatat.")
    expect(counselor.locator("[data-status]")).to_have_text("Selesai")
    assert_page_is_usable(counselor)


# --- 5. offline --------------------------------------------------------------------------------------------


def test_a_report_written_offline_is_sent_once_when_the_connection_returns(
    new_phone: NewPhone, journey_database: str
):
    child = new_phone()
    # Every attempt to post the report, from the page or from its service worker, and how each ended.
    posts: list[Any] = []
    answers: list[int] = []
    failed: list[Any] = []
    sent_report = lambda request: request.method == "POST" and request.url.endswith("/lapor")
    child.context.on("request", lambda request: posts.append(request) if sent_report(request) else None)
    child.context.on("requestfailed", lambda request: failed.append(request) if sent_report(request) else None)
    child.context.on("response", lambda response: answers.append(response.status)
                     if sent_report(response.request) else None)
    child.goto("/lapor")
    wait_until_controlled(child)
    fill_report(child, who="Aku anak/remaja, dan ini tentang temanku", category="Hal lain",
                words=f"Temanku dikunci di gudang sekolah. ({tag()})", district=COUNSELORS_DISTRICT,
                each_step=assert_fits)
    before = count_reports(journey_database)

    # No signal: the report stays on the phone, and the child is told so in plain words.
    child.context.set_offline(True)
    child.get_by_role("button", name="Kirim laporan", exact=True).click()
    expect(child.locator("[data-offline-status]")).to_contain_text("tersimpan di HP ini, belum terkirim")
    banner = child.locator("[data-outbox-banner]")
    expect(banner.locator("[data-outbox-waiting]")).to_contain_text("tersimpan di HP ini, belum terkirim")
    expect(child).to_have_url(re.compile(r"/lapor$"))
    (saved,) = child.evaluate("() => BintangQueue.pending()")
    assert count_reports(journey_database) == before
    assert_page_is_usable(child)

    # The signal returns: it is sent by itself, once, and the banner gives the code and PIN.
    child.context.set_offline(False)
    expect(banner).to_contain_text("Laporanmu sudah terkirim.")
    expect(banner.locator("[data-receipt-code]")).to_have_text(CODE)
    expect(banner.locator("[data-receipt-pin]")).to_have_text(PIN)
    expect(banner.locator("[data-outbox-waiting]")).to_be_hidden()
    code = banner.locator("[data-receipt-code]").inner_text()
    pin = banner.locator("[data-receipt-pin]").inner_text()
    assert child.evaluate("() => BintangQueue.pending()") == []
    assert count_reports(journey_database, idempotency_key_hash=codes.token_hash(saved["key"])) == 1
    assert count_reports(journey_database) == before + 1
    assert_page_is_usable(child)

    open_with_code(child, code, pin)
    expect(child.locator("[data-reporter-status]")).to_have_text("Diterima")
    assert count_reports(journey_database) == before + 1
    # The page and the service worker may both have sent it: each copy got the receipt, none an error.
    assert answers, answers
    assert all(200 <= status < 300 for status in answers), answers
    assert len(answers) + len(failed) == len(posts), (answers, failed, posts)
