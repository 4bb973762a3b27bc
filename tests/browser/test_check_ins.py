"""A check-in on a small phone: the code holder of a closed case opens the report again with code and PIN, finds
"Ada pesan baru", answers "Tidak baik" with a few words, and is told a counselor will be in touch. Every page passes
axe, fits 360 px and says nothing of the case."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update
from sqlmodel import Session

from server import clock
from server.accounts.models import User
from server.aftercare.models import CheckIn, CheckInPlan
from server.db import make_engine
from server.reports import cases, intake, report_form
from server.settings import Settings
from tests.browser.helpers import assert_page_is_usable
from tests.browser.test_reports import assert_no_axe_violations
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser

WORDS = "Aku mulai takut lagi."


def closed_case_with_a_due_check_in(database_url: str) -> tuple[str, str, int]:
    """A child's anonymous report, closed by konselor with the default plan; its first check-in made due a minute
    ago (the server runs on the real clock). Returns the code, the PIN and the check-in's id."""
    engine = make_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        form = report_form.ReportForm.from_data({
            "reporter_kind": "child", "danger_now": "no", "categories": ["bullying"], "child_age": "12",
            "child_words": "Aku diejek terus di kelas.", "contact_method": "app"})
        receipt = intake.submit_report(session, replace(Settings(), database_url=database_url), form, user=None,
                                        ip="check-in-journey")
        konselor = session.execute(select(User).where(User.username == "konselor")).scalar_one()
        cases.assign(session, receipt.report, konselor, counselor_id=konselor.id, version=None, ip="")
        cases.change_status(session, receipt.report, konselor, to="closed", reason="Sudah aman.", version=None,
                              ip="")
        session.commit()
        first = session.execute(select(CheckIn).where(CheckIn.report_id == receipt.report.id)
                                .order_by(CheckIn.id)).scalars().first()
        session.execute(update(CheckIn).where(CheckIn.id == first.id)
                        .values(due_at=clock.now() - timedelta(minutes=1)))
        session.commit()
    engine.dispose()
    return receipt.formatted_code, receipt.pin, first.id


def test_the_code_holder_answers_a_check_in_on_a_small_phone(page: Page, live_database: str):
    code, pin, check_in_id = closed_case_with_a_due_check_in(live_database)
    page.set_viewport_size({"width": 360, "height": 640})

    page.goto(f"/pemantauan/{check_in_id}")  # a tapped notification, the case session long gone
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada pesan baru")
    page.get_by_role("link", name="Cek laporan").click()
    page.get_by_label("Kode laporan").fill(code)
    page.get_by_label("PIN").fill(pin)
    with page.expect_navigation():
        page.get_by_role("button", name="Lihat laporan").click()
    page.get_by_role("link", name="Ada pesan baru").click()

    expect(page).to_have_title("Bintang Ceria")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada pesan baru")
    assert "diejek" not in page.content()
    assert_page_is_usable(page)
    page.get_by_role("button", name="Kirim").click()
    expect(page.get_by_text("Pilih salah satu wajah: baik, biasa saja, atau tidak baik.").first).to_be_visible()
    assert_page_is_usable(page)

    page.get_by_label("Tidak baik").check()
    page.get_by_label("Mau cerita sesuatu? (boleh dikosongkan)").fill(WORDS)
    page.get_by_role("button", name="Kirim").click()
    expect(page.get_by_text("Konselor akan menghubungimu paling lambat besok pada hari kerja.")).to_be_visible()
    assert_page_is_usable(page)


def an_assigned_case(database_url: str) -> int:
    """A child's anonymous report, assigned to konselor and still open; returns its id."""
    engine = make_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        form = report_form.ReportForm.from_data({
            "reporter_kind": "child", "danger_now": "no", "categories": ["bullying"], "child_age": "12",
            "child_words": "Aku diejek terus di kelas.", "contact_method": "app"})
        receipt = intake.submit_report(session, replace(Settings(), database_url=database_url), form, user=None,
                                        ip="closing-journey")
        konselor = session.execute(select(User).where(User.username == "konselor")).scalar_one()
        cases.assign(session, receipt.report, konselor, counselor_id=konselor.id, version=None, ip="")
        session.commit()
        report_id = receipt.report.id
    engine.dispose()
    return report_id


def test_no_check_ins_means_no_steps_can_be_ticked(page: Page, live_database: str):
    report_id = an_assigned_case(live_database)
    sign_in(page, "konselor")
    page.goto(f"/kasus/{report_id}")
    steps = page.locator('input[name="check_in_steps"]')
    expect(steps).to_have_count(4)
    for step in steps.all():
        expect(step).to_be_enabled()
    page.get_by_label("Status baru").select_option(label="Ditutup")
    page.get_by_label("Alasan", exact=True).fill("Anak sudah aman dan keluarga menolak dipantau.")
    page.get_by_label("Tanpa pemantauan (anak atau orang tua menolak)").check()
    for step in steps.all():
        expect(step).to_be_disabled()
    page.get_by_label("2 minggu").click(force=True)  # a tap on a disabled box changes nothing
    expect(page.get_by_label("2 minggu")).to_be_checked()  # still as it was: ticked, and not sent
    page.get_by_label("Pantau pada:").check()
    for step in steps.all():
        expect(step).to_be_enabled()
    page.get_by_label("Tanpa pemantauan (anak atau orang tua menolak)").check()
    expect(page.get_by_label("6 bulan")).to_be_disabled()
    assert_no_axe_violations(page)
    page.get_by_label("Alasan tanpa pemantauan").fill("Orang tua menolak dipantau.")
    with page.expect_navigation():
        page.get_by_role("button", name="Simpan status").click()
    expect(page.get_by_text("Orang tua menolak dipantau.").first).to_be_visible()
    engine = make_engine(live_database)
    with Session(engine) as session:
        plan = session.execute(select(CheckInPlan).where(CheckInPlan.report_id == report_id)).scalar_one()
        assert (plan.declined, plan.offsets) == (True, "")
        assert session.execute(select(CheckIn).where(CheckIn.report_id == report_id)).first() is None
    engine.dispose()
