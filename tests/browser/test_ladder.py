"""The reminder ladder on phones (issue 26): a parent books counseling and agrees to WhatsApp reminders for their
own number; the counselor confirms; the reminder falls due with no phone subscribed to push, so the app's own
dispatcher climbs to WhatsApp and sends the template to the local stand-in of the Cloud API (tests/messaging.py),
which then reports it delivered through the signed webhook; the counselor sees on the appointment how it went.
And on an iPhone, a person opting into reminders is shown how to add the app to the Home Screen.

The app runs in its own process here, with the stand-in as its WhatsApp API. WhatsApp is never sent in the quiet
hours (21.00–07.00 WITA): when this runs then, the app process's clock alone is moved on to the next morning by
libfaketime (the browser and this test keep the real clock; nothing here reads the app's "now")."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, expect
from sqlalchemy import select, update
from sqlmodel import Session

from server.clock import LOCAL, now
from server.db import make_engine
from server.notifications.models import JobStatus, NotificationJob
from tests.browser.test_appointments import (
    COUNSELOR_USERNAMES,
    choose_a_free_slot,
    choose_service,
    send_request,
    summary_value,
)
from tests.messaging import Sent, StandIn, messaging_stand_in
from tests.servers import app_process, free_port, pause
from tests.support.browser import NEUTRAL_URL, demo_database, sign_in

pytestmark = pytest.mark.browser

NUMBER_TYPED, NUMBER_SENT = "0812 3456 7890", "6281234567890"
WAIT_SECONDS = 30
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.5 Mobile/15E148 Safari/604.1")


def daytime_clock(moment: datetime) -> dict[str, str]:
    """Environment that moves the app process's clock on to 09.00–10.00 WITA when `moment` is outside 08.00–18.00
    WITA (a reminder's WhatsApp then goes out at once, not at 07.00); nothing when it is inside."""
    hour = moment.astimezone(LOCAL).hour
    if 8 <= hour < 18:
        return {}
    return {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": f"+{(9 - hour) % 24}h", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    with messaging_stand_in() as service:
        yield service


@pytest.fixture(scope="module")
def ladder_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ladder")


@pytest.fixture(scope="module")
def ladder_database(ladder_directory: Path) -> str:
    return demo_database(ladder_directory)


@pytest.fixture(scope="module")
def ladder_server(ladder_database: str, ladder_directory: Path, stand_in: StandIn) -> Iterator[str]:
    settings = {**stand_in.whatsapp_settings, **stand_in.sms_settings}
    env = {key.upper(): value for key, value in settings.items()}
    with app_process(ladder_database, ladder_directory, port=free_port(), QUICK_EXIT_URL=NEUTRAL_URL,
                     DISPATCH_INTERVAL_SECONDS="1", **env, **daytime_clock(now())) as base_url:
        yield base_url


def phone(browser: Browser, playwright: Playwright, base_url: str, **overrides: Any) -> Page:
    """A new Pixel 7 (own cookies and storage) on the suite's 360 × 640 screen; its context is checked for fit."""
    device = {key: value for key, value in playwright.devices["Pixel 7"].items() if key != "default_browser_type"}
    context = browser.new_context(**{**device, "viewport": {"width": 360, "height": 640}, "base_url": base_url,
                                     **overrides})
    return context.new_page()


@pytest.fixture
def phones(browser: Browser, playwright: Playwright, ladder_server: str) -> Iterator[Any]:
    opened: list[Page] = []

    def open_phone(**overrides: Any) -> Page:
        opened.append(phone(browser, playwright, ladder_server, **overrides))
        return opened[-1]

    yield open_phone
    for page in opened:
        page.context.close()


def until(condition: Any, failure: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while not (found := condition()):
        assert time.monotonic() < deadline, failure
        pause(0.1)  # polling what another process does, not a fixed wait
    return found


def reload_until(page: Page, locator: Locator, text: str) -> None:
    """The counselor's page is not live: load it again until `locator` shows `text` (the dispatcher's rounds run
    in the app process, every second)."""
    def shows() -> bool:
        page.reload()
        return locator.count() == 1 and locator.inner_text().strip() == text

    until(shows, f"the appointment page never showed {text!r}")
    expect(locator).to_have_text(text)


def make_reminder_due(database_url: str, appointment_id: int) -> int:
    """The requester's earliest laddered reminder, due since it was written (the session itself stays days away);
    returns its job id."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as db:
            job = db.execute(select(NotificationJob).where(
                NotificationJob.object_type == "appointment", NotificationJob.object_id == appointment_id,
                NotificationJob.ladder).order_by(NotificationJob.due_at)).scalars().first()
            assert job is not None
            assert job.status == JobStatus.PENDING
            db.execute(update(NotificationJob).where(NotificationJob.id == job.id)
                       .values(due_at=NotificationJob.created_at))
            db.commit()
            return job.id
    finally:
        engine.dispose()


def test_a_parent_agrees_to_whatsapp_and_the_counselor_sees_it_delivered(phones: Any, stand_in: StandIn,
                                                                         ladder_server: str, ladder_database: str):
    parent = sign_in(phones(), "orangtua")
    parent.goto("/konseling")
    choose_service(parent, "Konseling individu")
    choose_a_free_slot(parent)
    parent.get_by_role("combobox", name="Untuk anak yang mana?", exact=True).select_option(label="Dimas")
    parent.get_by_text("Catatan dan pengingat (boleh kosong)", exact=True).click()
    parent.get_by_role("checkbox", name="WhatsApp", exact=True).check()
    parent.get_by_role("textbox", name="Nomor HP").fill(NUMBER_TYPED)
    # A Pixel is no iPhone: no Home Screen note.
    expect(parent.locator("[data-home-screen-note]")).to_be_hidden()
    appointment_id = send_request(parent)
    counselor_name = summary_value(parent, "Konselor").inner_text().strip()

    counselor = sign_in(phones(), COUNSELOR_USERNAMES[counselor_name])
    counselor.goto("/jadwal")
    waiting = counselor.locator("[data-waiting] .appointment-row").filter(
        has=counselor.locator(f"a[href='/jadwal/{appointment_id}']"))
    with counselor.expect_navigation():
        waiting.get_by_role("button", name=re.compile(r"^Konfirmasi ")).click()
    expect(counselor.get_by_role("status")).to_have_text("Jadwal sudah dikonfirmasi. Peminta diberi tahu.")

    make_reminder_due(ladder_database, appointment_id)
    # No phone of the parent subscribed to push: the app's dispatcher climbs to WhatsApp, once.
    [sent] = until(lambda: stand_in.of("whatsapp"), "no WhatsApp message reached the stand-in")
    assert isinstance(sent, Sent)
    assert sent.to == NUMBER_SENT
    assert sent.body["template"]["name"] == "pengingat_jadwal"
    assert "Dimas" not in str(sent.body)

    counselor.goto(f"/jadwal/{appointment_id}")
    whatsapp = counselor.locator("[data-rung^='whatsapp:']")
    reload_until(counselor, whatsapp, "WhatsApp: terkirim")
    expect(counselor.locator("[data-rung^='push:']").first).to_have_text("Push: tidak ada perangkat atau nomor")

    # Meta reports the message delivered to the parent's phone, signed with the app secret.
    assert stand_in.post_status(f"{ladder_server}/whatsapp/webhook", sent, "delivered") == 200
    counselor.reload()
    expect(whatsapp).to_have_text("WhatsApp: sampai")
    assert len(stand_in.of("whatsapp")) == 1
    assert stand_in.of("sms") == []


def test_an_iphone_outside_the_home_screen_is_shown_how_to_add_it(phones: Any):
    iphone = sign_in(phones(user_agent=IPHONE_SAFARI), "orangtua")
    iphone.goto("/konseling")
    choose_service(iphone, "Konseling individu")
    iphone.get_by_text("Catatan dan pengingat (boleh kosong)", exact=True).click()
    note = iphone.locator("[data-home-screen-note]")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Di iPhone, pengingat di HP hanya sampai bila Bintang Ceria ada di Layar Utama:")
    expect(note.get_by_role("listitem")).to_have_text([
        "Ketuk tombol Bagikan di Safari.", 'Pilih "Tambah ke Layar Utama".',
        "Buka Bintang Ceria dari Layar Utama, lalu nyalakan pemberitahuan di sana."])
