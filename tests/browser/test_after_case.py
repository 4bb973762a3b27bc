"""Issue 22's "left out last round" on a 360×640 phone, axe clean: the counselor changes and then stops a closed
case's check-in plan from the case page; a parent agrees on the appointment's page to one notification inviting a
rating after the session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlmodel import Session

from server import clock
from server.accounts.models import User
from server.accounts.visitor import Visitor
from server.appointments import service as appointments
from server.appointments.models import Appointment, ServiceType
from server.appointments.slots import free_slots
from server.db import make_engine
from server.reports import cases, intake, report_form
from server.settings import Settings
from tests.browser.helpers import assert_page_is_usable
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def small_phone(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 360, "height": 640},
                                     "screen": {"width": 360, "height": 640}})
    try:
        yield context.new_page()
    finally:
        context.close()


def closed_case(database_url: str) -> int:
    """A child's report, closed by konselor with the default plan (2 weeks, 1, 3 and 6 months)."""
    engine = make_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        form = report_form.ReportForm.from_data({
            "reporter_kind": "child", "danger_now": "no", "categories": ["bullying"], "child_age": "12",
            "child_words": "Aku diejek terus di kelas.", "contact_method": "app"})
        receipt = intake.submit_report(session, replace(Settings(), database_url=database_url), form, user=None,
                                        ip="plan-journey")
        konselor = session.execute(select(User).where(User.username == "konselor")).scalar_one()
        cases.assign(session, receipt.report, konselor, counselor_id=konselor.id, version=None, ip="")
        cases.change_status(session, receipt.report, konselor, to="closed", reason="Sudah aman.", version=None,
                              ip="")
        session.commit()
    engine.dispose()
    return receipt.report.id


def confirmed_appointment(database_url: str) -> int:
    """A confirmed session of the demo parent with konselor, at the first free time."""
    engine = make_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        konselor = session.execute(select(User).where(User.username == "konselor")).scalar_one()
        parent = session.execute(select(User).where(User.username == "orangtua")).scalar_one()
        service_type = session.execute(select(ServiceType).where(ServiceType.active)).scalars().first()
        now = clock.now()
        slot = next(slot for slots in free_slots(session, service_type, now=now, days=21,
                                                 counselor_id=konselor.id).values() for slot in slots)
        appointment = appointments.request_appointment(
            session, Visitor(user=parent), service_type_id=service_type.id, counselor_id=konselor.id,
            starts_at=slot.starts_at, child_agreed="", note="", now=now)
        appointments.confirm(session, appointment, konselor, version=appointment.version, now=now)
        session.commit()
        appointment_id = appointment.id
    engine.dispose()
    return appointment_id


def test_the_counselor_changes_and_stops_a_closed_cases_check_ins(small_phone: Page, live_database: str):
    page = small_phone
    report_id = closed_case(live_database)
    sign_in(page, "konselor")
    page.goto(f"/kasus/{report_id}")
    panel = page.locator("#rencana-pemantauan")
    expect(panel.get_by_role("heading", name="Rencana pemantauan")).to_be_visible()
    assert_page_is_usable(page)

    panel.get_by_label("2 minggu").uncheck()
    with page.expect_navigation():
        panel.get_by_role("button", name="Simpan rencana pemantauan").click()
    expect(page.get_by_text("Pemantauan diubah: 1 bulan, 3 bulan, 6 bulan setelah ditutup.")).to_be_visible()
    expect(page.locator("#rencana-pemantauan").get_by_label("2 minggu")).not_to_be_checked()
    assert_page_is_usable(page)

    page.locator("#rencana-pemantauan").get_by_text("Hentikan semua pemantauan").click()
    with page.expect_navigation():
        page.locator("#rencana-pemantauan").get_by_role("button", name="Hentikan pemantauan").click()
    expect(page.get_by_text("Tulis alasan menghentikan pemantauan.").first).to_be_visible()
    assert_page_is_usable(page)
    page.get_by_label("Alasan menghentikan pemantauan").fill("Keluarga pindah ke luar kota.")
    with page.expect_navigation():
        page.locator("#rencana-pemantauan").get_by_role("button", name="Hentikan pemantauan").click()
    expect(page.get_by_text("Pemantauan dihentikan: Keluarga pindah ke luar kota.")).to_be_visible()
    expect(page.locator("#rencana-pemantauan").get_by_role("button", name="Hentikan pemantauan")).to_have_count(0)
    assert_page_is_usable(page)


def test_a_parent_agrees_to_one_notification_inviting_a_rating(small_phone: Page, live_database: str):
    page = small_phone
    appointment_id = confirmed_appointment(live_database)
    sign_in(page, "orangtua")
    page.goto(f"/konseling/{appointment_id}")
    box = page.get_by_label("Kirimi saya satu pemberitahuan untuk menilai sesi ini")
    expect(box).not_to_be_checked()
    assert_page_is_usable(page)
    box.check()
    with page.expect_navigation():
        page.get_by_role("button", name="Simpan pilihan").click()
    expect(page.get_by_text("Pilihan pemberitahuan penilaian sudah disimpan.")).to_be_visible()
    expect(page.get_by_label("Kirimi saya satu pemberitahuan untuk menilai sesi ini")).to_be_checked()
    assert_page_is_usable(page)
    engine = make_engine(live_database)
    with Session(engine) as session:
        assert session.get(Appointment, appointment_id).rating_invite is True
    engine.dispose()
