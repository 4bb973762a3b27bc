"""How many taps a report takes on a 360 × 640 phone, counted as a person would: each tap on a choice, a button or
a text field (typing is not a tap), and two for a drop-down (open it, pick). The counts are written down here so
that they cannot creep back up. And the last step speaks to a teacher as "Anda", to a child as "kamu".

On a server of its own (a fresh demo database): what the teacher's form remembers depends on her earlier
reports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, expect
from sqlalchemy import select
from sqlmodel import Session

from server.accounts.models import User
from server.db import make_engine
from server.reports import codes, intake, report_form
from server.settings import Settings
from tests.browser.test_reports import assert_no_axe_violations
from tests.servers import free_port
from tests.support.browser import demo_database, serve, sign_in

pytestmark = pytest.mark.browser

# Before this round the same teacher's report took 23 taps (the form asked who she is on a step of its own, and
# her kecamatan and school with two drop-downs each, on seven steps).
# A teacher's form folds "who are you" into its first step and takes four steps.
TEACHER_STEPS = 4
TEACHER_TAPS_FIRST = 16  # she types the class once
TEACHER_TAPS_AGAIN = 15  # her school and the class she named last are answered already
# An anonymous child's report with the same kinds of answers: 16 before this round too.
CHILD_TAPS = 16


class Taps:
    """Does what a person does on the phone, through Playwright's touch taps, and counts the taps."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def tap(self, target: Locator) -> None:
        target.tap()
        self.count += 1

    def type_into(self, field: Locator, text: str) -> None:
        self.tap(field)  # focusing the field is a tap; typing is not
        field.press_sequentially(text)

    def pick(self, select: Locator, label: str) -> None:
        self.tap(select)  # opens the phone's list
        select.select_option(label=label)
        self.count += 1  # the tap on the option in that list


def report_as_teacher(page: Page, taps: Taps, *, student: str, class_name: str, words: str, submit: bool = True,
                      each_step: Any = None) -> None:
    """Answer what a teacher who names a student answers, only where the form has not answered it for her, going
    on with "Lanjut" until "Kirim laporan" (tapped if `submit`); `each_step(page)` runs on every step."""
    answers: list[tuple[str, Any]] = [
        ("radio", page.get_by_role("radio", name="Tidak sekarang", exact=True)),
        ("radio", page.get_by_role("checkbox", name="Dirundung atau di-bully, di sekolah atau di internet")),
        ("radio", page.get_by_role("radio", name="Minggu ini", exact=True)),
        ("radio", page.get_by_role("radio", name="Di sekolah", exact=True)),
        ("select", (page.get_by_role("combobox", name="Kecamatan", exact=True), "Banjarbaru Utara")),
        ("select", (page.get_by_role("combobox", name="Sekolah", exact=True), "SMP Negeri 1 Banjarbaru")),
        ("text", (page.get_by_role("textbox", name="Nama murid (kalau Anda mau)", exact=True), student)),
        ("text", (page.get_by_role("textbox", name="Kelas", exact=True), class_name)),
        ("text", (page.get_by_role("textbox", name="Umur (tahun)", exact=True), "13")),
        ("text", (page.get_by_role("textbox", name="Apa yang terjadi?", exact=True), words)),
        ("text", (page.get_by_role("textbox", name="Bagaimana Anda mengetahui hal ini?", exact=True),
                  "Anak itu bercerita kepada saya di ruang BK.")),
        ("radio", page.get_by_role("group", name="Apakah anak tahu hal ini dilaporkan?", exact=True)
         .get_by_role("radio", name="Ya", exact=True)),
        ("radio", page.get_by_role("radio", name="Ya, anak setuju", exact=True)),
        ("radio", page.get_by_role("radio", name="Orang tua/wali sudah setuju", exact=True)),
    ]
    answer_and_send(page, taps, answers, submit=submit, each_step=each_step)


def answer_and_send(page: Page, taps: Taps, answers: list[tuple[str, Any]], *, submit: bool = True,
                    each_step: Any = None) -> None:
    """Give each answer once its control is on screen (unless the form gave it already), step by step."""
    done: set[int] = set()
    for _step in range(10):
        for index, (kind, what) in enumerate(answers):
            if index in done:
                continue
            control = what[0] if isinstance(what, tuple) else what
            if not control.is_visible():
                continue
            done.add(index)
            if kind == "radio":
                taps.tap(control)
                expect(control).to_be_checked()
            elif kind == "select":
                selected = control.evaluate("(s) => s.selectedOptions[0] ? s.selectedOptions[0].text : ''")
                if selected != what[1]:
                    taps.pick(control, what[1])
            elif control.input_value() != what[1]:
                control.fill("")  # clearing an answer the form guessed wrong is not what we count here
                taps.type_into(control, what[1])
        if each_step:
            each_step(page)
        next_button = page.get_by_role("button", name="Lanjut", exact=True)
        if next_button.is_visible():
            taps.tap(next_button)
            continue
        break
    assert len(done) == len(answers), [answers[i] for i in range(len(answers)) if i not in done]
    if not submit:
        return
    with page.expect_navigation():
        taps.tap(page.get_by_role("button", name="Kirim laporan", exact=True))


@pytest.fixture(scope="module")
def taps_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("taps")


@pytest.fixture(scope="module")
def taps_database(taps_directory: Path) -> str:
    return demo_database(taps_directory)


@pytest.fixture(scope="module")
def taps_server(taps_directory: Path, taps_database: str) -> Iterator[str]:
    with serve(taps_database, taps_directory, free_port()) as base_url:
        yield base_url


def teacher_asked_for_whatsapp(database_url: str) -> None:
    """An earlier report of the teacher's, into her account, asking for WhatsApp on her own number."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as db:
            teacher = db.execute(select(User).where(User.username == "guru")).scalar_one()
            form = report_form.ReportForm(
                reporter_kind="teacher", danger_now="no", categories=["bullying"], child_words="Diejek di kelas.",
                child_knows="yes", contact_method="whatsapp", contact_detail="0812 9999 0000",
                contact_safe_time="jam istirahat", idempotency_key=codes.new_idempotency_key())
            assert not report_form.validate_report(db, form, teacher)
            intake.submit_report(db, Settings(database_url=database_url), form, user=teacher, ip="127.0.0.1")
            db.commit()
    finally:
        engine.dispose()


@pytest.fixture
def phone(browser: Browser, playwright: Playwright, taps_server: str) -> Iterator[Page]:
    context = browser.new_context(
        user_agent=playwright.devices["Pixel 7"]["user_agent"], viewport={"width": 360, "height": 640},
        screen={"width": 360, "height": 640}, device_scale_factor=2, is_mobile=True, has_touch=True,
        base_url=taps_server,
    )
    yield context.new_page()
    context.close()


def test_an_anonymous_child_reports_in_as_many_taps_as_before(phone: Page):
    phone.goto("/lapor")
    taps = Taps(phone)
    answer_and_send(phone, taps, [
        ("radio", phone.get_by_role("radio", name="Tidak sekarang", exact=True)),
        ("radio", phone.get_by_role("radio", name="Aku anak/remaja, dan ini tentang diriku", exact=True)),
        ("radio", phone.get_by_role("checkbox", name="Disakiti badannya — dipukul, ditendang", exact=True)),
        ("radio", phone.get_by_role("radio", name="Minggu ini", exact=True)),
        ("radio", phone.get_by_role("radio", name="Di sekolah", exact=True)),
        ("text", (phone.get_by_role("textbox", name="Umur (tahun)", exact=True), "12")),
        ("text", (phone.get_by_role("textbox", name="Apa yang terjadi?", exact=True), "Aku dipukul kakak kelas.")),
        ("radio", phone.get_by_role("radio", name="Ya, aku mau", exact=True)),
        ("radio", phone.get_by_role("radio", name="Mereka belum tahu", exact=True)),
    ])
    expect(phone.get_by_role("heading", level=1)).to_have_text("Laporanmu sudah kami terima")
    assert taps.count == CHILD_TAPS, taps.count


def assert_not_shown(page: Page, text: str) -> None:
    """Words that may be on the page for another reader (hidden), and shown to nobody here."""
    found = page.get_by_text(text, exact=True)
    for index in range(found.count()):
        expect(found.nth(index)).to_be_hidden()


def test_a_teacher_names_a_student_in_at_most_fifteen_taps_once_her_class_is_remembered(phone: Page):
    sign_in(phone, "guru")
    for expected, class_name in ((TEACHER_TAPS_FIRST, "7B"), (TEACHER_TAPS_AGAIN, "7B")):
        phone.goto("/lapor")
        taps = Taps(phone)
        report_as_teacher(phone, taps, student="Rina Kartika", class_name=class_name,
                          words="Katanya dia diejek terus di grup kelas dan tidak mau masuk sekolah.")
        expect(phone).to_have_url(re.compile(r"/laporan-saya/\d+\?baru=1$"))
        expect(phone.locator("[data-report-about]")).to_have_text("Rina Kartika, kelas 7B")
        assert taps.count == expected, taps.count
    assert TEACHER_TAPS_AGAIN <= 15


def test_the_teachers_form_knows_her_and_still_lets_someone_else_send_without_her_account(phone: Page,
                                                                                          taps_database: str):
    teacher_asked_for_whatsapp(taps_database)
    sign_in(phone, "guru")
    phone.goto("/lapor")
    # Her number is remembered for her...
    expect(phone.locator("#field-contact_detail")).to_have_value("0812-9999-0000")  # the national form of what was stored
    expect(phone.locator("[data-step-progress]")).to_have_text("Langkah 1 dari 4")
    expect(phone.get_by_text("Anda boleh tidak menyebut nama.")).to_be_visible()
    assert_not_shown(phone, "Kamu boleh tidak menyebut nama. Jawab sebisanya; yang tidak kamu tahu boleh dilewati.")
    assert_no_axe_violations(phone)
    # A child on her phone: one tap opens who is writing, and the page speaks to a child from then on.
    phone.get_by_text("Bukan Guru BK Sari yang menulis, atau kirim tanpa akun?").tap()
    phone.get_by_role("radio", name="Aku anak/remaja, dan ini tentang diriku", exact=True).tap()
    expect(phone.get_by_text("Kamu boleh tidak menyebut nama.")).to_be_visible()
    assert_not_shown(phone, "Anda boleh tidak menyebut nama. Jawab sebisanya; yang tidak Anda tahu boleh dilewati.")
    phone.get_by_role("radio", name="Kirim tanpa akun: saya mendapat kode dan PIN sendiri", exact=True).tap()
    phone.get_by_role("radio", name="Tidak sekarang", exact=True).tap()
    phone.get_by_role("checkbox", name="Disakiti badannya — dipukul, ditendang", exact=True).tap()
    for _step in range(2):
        phone.get_by_role("button", name="Lanjut", exact=True).tap()
    phone.get_by_role("textbox", name="Apa yang terjadi?", exact=True).fill("Aku dipukul di rumah.")
    phone.get_by_role("button", name="Lanjut", exact=True).tap()
    # The last step, in a child's words; and the teacher's number is not the child's way to be contacted.
    expect(phone.get_by_role("group", name="Apakah kamu mau dibantu konselor?", exact=True)).to_be_visible()
    expect(phone.get_by_role("radio", name="Lewat aplikasi ini saja (pesan di halaman Cek laporan)")).to_be_checked()
    expect(phone.locator("#field-contact_detail")).to_have_value("")
    assert_not_shown(phone, "Bagaimana konselor boleh menghubungi Anda dengan aman?")
    assert_no_axe_violations(phone)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Kirim laporan", exact=True).tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Laporanmu sudah kami terima")


def test_the_last_step_speaks_to_a_teacher_as_anda(phone: Page):
    sign_in(phone, "guru")
    phone.goto("/lapor")
    for _step in range(3):
        phone.get_by_role("button", name="Lanjut", exact=True).tap()
    expect(phone.locator("[data-step-progress]")).to_have_text("Langkah 4 dari 4")
    expect(phone.get_by_role("group", name="Bagaimana konselor boleh menghubungi Anda dengan aman?",
                             exact=True)).to_be_visible()
    assert_not_shown(phone, "Bagaimana konselor boleh menghubungimu dengan aman?")
    assert_not_shown(phone, "Apakah kamu mau dibantu konselor?")
    assert_not_shown(phone, "Kamu boleh tidak menyebut nama. Jawab sebisanya; yang tidak kamu tahu boleh dilewati.")
    assert_no_axe_violations(phone)
