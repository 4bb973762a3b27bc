"""Push notifications on a phone: the offer to turn them on waits for a tap, a push that reaches the service worker
shows its notification, tapping that notification opens the appointment, and quick exit turns push off.

Two things a test machine lacks are stood in for; nothing of the app is:
- The push service (Google's, for Chromium), which headless Chromium cannot reach here. Messages are handed to the
  service worker through DevTools (`ServiceWorker.deliverPushMessage`), and the tests of turning push on and off
  give the pages a PushManager whose subscription belongs to a fake push service kept by the test.
- The phone's notification tray. Chromium on Linux shows notifications through the desktop's D-Bus notification
  server: the tap tests start a private session bus with a small notification server that records what is shown
  and taps a notification by sending the `ActionInvoked` signal, as a desktop does when a person clicks one.
  Chromium then fires a real, trusted `notificationclick` in sw.js, with the right to focus and open windows that
  only a real tap gives. Those tests run in a persistent (non-incognito) profile: in Chromium 156, the tap on a
  notification of one of Playwright's incognito-like contexts never reaches the worker.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import BrowserContext, BrowserType, Locator, Page, expect
from sqlalchemy import select
from sqlmodel import Session

from server import clock
from server.accounts.models import User
from server.accounts.visitor import Visitor
from server.appointments import service
from server.appointments.models import ServiceType
from server.appointments.slots import free_slots
from server.db import make_engine
from server.notifications.models import PushSubscription
from tests.browser.test_appointments import choose_a_free_slot, choose_service, send_request
from tests.servers import stop
from tests.support.browser import sign_in, wait_until_controlled

pytestmark = pytest.mark.browser

# What the server sends (server/notifications/push.py): a neutral text, the page to open, a tag per event.
REMINDER_TEXT = "Bintang Ceria: ada pengingat untuk Anda"
# What sw.js shows when a message cannot be read.
DEFAULT_TEXT = "Bintang Ceria: ada kabar baru untuk Anda"
WAIT_SECONDS = 15


def reminder(appointment_id: int, body: str = REMINDER_TEXT) -> str:
    return json.dumps({"title": "Bintang Ceria", "body": body, "url": f"/konseling/{appointment_id}",
                       "tag": f"appt-{appointment_id}-reminder_1h"})


# --- the appointment ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def appointment_id(live_database: str) -> int:
    """A confirmed appointment of `orangtua` (Ibu Wati) with `konselor`, written straight into the live database
    (booking through the pages is test_appointments.py's business, and the offer test's). The latest free slot of
    the coming two weeks, clear of the early slots the booking tests take."""
    engine = make_engine(live_database)
    try:
        with Session(engine) as db:
            parent = db.execute(select(User).where(User.username == "orangtua")).scalar_one()
            counselor = db.execute(select(User).where(User.username == "konselor")).scalar_one()
            service_type = db.execute(select(ServiceType).where(ServiceType.name == "Konseling individu")).scalar_one()
            offered = [slot for slots in free_slots(db, service_type, now=clock.now(), days=14,
                                                    counselor_id=counselor.id).values() for slot in slots]
            assert offered, "konselor has no free slot in the coming two weeks"
            appointment = service.request_appointment(
                db, Visitor(user=parent), service_type_id=service_type.id, counselor_id=counselor.id,
                starts_at=offered[-1].starts_at, note="Pemberitahuan di HP.",
            )
            service.confirm(db, appointment, counselor, version=appointment.version)
            db.commit()
            return appointment.id
    finally:
        engine.dispose()


def push_devices(live_database: str, endpoint: str) -> list[PushSubscription]:
    engine = make_engine(live_database)
    try:
        with Session(engine) as db:
            return list(db.execute(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).scalars())
    finally:
        engine.dispose()


# --- the push service --------------------------------------------------------------------------------------------


class DevToolsPush:
    """Delivers push messages to the app's service worker as the push service would, through DevTools, and follows
    what the browser displays (DevTools' record of notifications). `page` is any page of the context: it only
    carries the DevTools session."""

    def __init__(self, context: BrowserContext, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.cdp = context.new_cdp_session(page)
        registrations: dict[str, dict[str, Any]] = {}
        self.displayed: list[dict[str, str]] = []

        def updated(event: dict[str, Any]) -> None:
            registrations.update({found["registrationId"]: found for found in event["registrations"]})

        def recorded(event: dict[str, Any]) -> None:
            entry = event["backgroundServiceEvent"]
            if entry["eventName"] == "Notification displayed":
                self.displayed.append({item["key"]: item["value"] for item in entry["eventMetadata"]})

        self.cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
        self.cdp.on("BackgroundService.backgroundServiceEventReceived", recorded)
        self.cdp.send("ServiceWorker.enable")
        self.cdp.send("BackgroundService.startObserving", {"service": "notifications"})
        self.cdp.send("BackgroundService.setRecording", {"shouldRecord": True, "service": "notifications"})

        def ours() -> list[str]:
            return [found["registrationId"] for found in registrations.values()
                    if found["scopeURL"] == f"{origin}/" and not found["isDeleted"]]

        self.until(ours, f"DevTools reported no service worker registration for {origin}")
        self.registration_id = ours()[0]

    def until(self, condition: Callable[[], object], failure: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            assert time.monotonic() < deadline, failure
            self.page.evaluate("() => 0")  # lets Playwright hand over the DevTools events that have arrived

    def deliver(self, data: str) -> dict[str, str]:
        """Push `data`; returns the title and body of the notification the browser displayed for it."""
        before = len(self.displayed)
        self.cdp.send("ServiceWorker.deliverPushMessage",
                      {"origin": self.origin, "registrationId": self.registration_id, "data": data})
        self.until(lambda: len(self.displayed) > before, f"no notification displayed for the push {data!r}")
        return self.displayed[before]


def notifications(page: Page, *, tag: str | None = None) -> list[dict[str, Any]]:
    """The notifications of the service worker's registration with `tag` (or without a tag when `tag` is None),
    oldest first.

    Asked only once the browser has displayed the last push's notification (DevToolsPush.deliver waits for that):
    asking again and again while a push was being handled sometimes left its notification out of the answers for
    good, although showNotification() had succeeded."""
    return page.evaluate(
        """async (tag) => {
          const registration = await navigator.serviceWorker.getRegistration();
          const found = (await registration.getNotifications(tag ? { tag } : {})).filter((n) => tag || !n.tag);
          return found.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url }));
        }""",
        tag,
    )


# --- shown and replaced ------------------------------------------------------------------------------------------


def test_a_push_shows_its_notification_and_the_same_tag_replaces_it(
    page: Page, context: BrowserContext, live_server: str, appointment_id: int
):
    sign_in(page, "orangtua")
    page.goto(f"/konseling/{appointment_id}")
    wait_until_controlled(page)
    context.grant_permissions(["notifications"], origin=live_server)
    push = DevToolsPush(context, page, live_server)
    tag = f"appt-{appointment_id}-reminder_1h"

    assert push.deliver(reminder(appointment_id)) == {"Title": "Bintang Ceria", "Body": REMINDER_TEXT}
    assert notifications(page, tag=tag) == [
        {"title": "Bintang Ceria", "body": REMINDER_TEXT, "tag": tag, "url": f"/konseling/{appointment_id}"}]

    # A second message about the same thing takes the place of the first instead of piling up.
    push.deliver(reminder(appointment_id, body="Bintang Ceria: ada kabar baru soal jadwal"))
    assert notifications(page, tag=tag) == [
        {"title": "Bintang Ceria", "body": "Bintang Ceria: ada kabar baru soal jadwal", "tag": tag,
         "url": f"/konseling/{appointment_id}"}]


@pytest.mark.parametrize("payload", [
    pytest.param("", id="empty"),
    pytest.param("bukan JSON", id="not-json"),
    pytest.param("null", id="json-null"),
    pytest.param("[1, 2]", id="json-list"),
    pytest.param(json.dumps({"title": 7, "body": None, "tag": 3}), id="wrong-types"),
    pytest.param(json.dumps({"url": "https://penipu.example/masuk"}), id="another-site"),
])
def test_a_push_it_cannot_read_still_shows_a_neutral_notification(
    page: Page, context: BrowserContext, live_server: str, payload: str
):
    """A browser punishes a worker that receives a push and shows nothing; and a message must never send the person
    off the site."""
    page.goto("/")
    wait_until_controlled(page)
    context.grant_permissions(["notifications"], origin=live_server)
    assert DevToolsPush(context, page, live_server).deliver(payload) == {"Title": "Bintang Ceria", "Body": DEFAULT_TEXT}
    assert notifications(page) == [{"title": "Bintang Ceria", "body": DEFAULT_TEXT, "tag": "", "url": "/"}]


# --- the offer and quick exit ------------------------------------------------------------------------------------


@dataclass
class FakePushService:
    """This phone's subscription at a push service that does not exist. The pages' PushManager asks it (through
    exposed functions) instead of Google's, so that a subscription outlives a page as it would in a browser."""

    endpoint: str
    p256dh: str
    auth: str
    subscribed_with: str | None = None  # the applicationServerKey of the current subscription
    unsubscribed: int = 0
    permission_requests: list[str] = field(default_factory=list)

    def answer(self, action: str, key: str | None = None) -> bool:
        if action == "subscribe":
            self.subscribed_with = key
        elif action == "unsubscribe":
            was_on, self.subscribed_with = self.subscribed_with is not None, None
            self.unsubscribed += 1
            return was_on
        return self.subscribed_with is not None


FAKE_PUSH_MANAGER = """(device) => {
  const ask = Notification.requestPermission.bind(Notification);
  Notification.requestPermission = (...args) => {
    window.permissionRequested(location.pathname);
    return ask(...args);
  };
  const subscription = {
    endpoint: device.endpoint,
    expirationTime: null,
    toJSON: () => ({ endpoint: device.endpoint, expirationTime: null,
                     keys: { p256dh: device.p256dh, auth: device.auth } }),
    unsubscribe: () => window.fakePushService("unsubscribe", null),
  };
  PushManager.prototype.subscribe = async function (options) {
    if (!options || options.userVisibleOnly !== true || !options.applicationServerKey) {
      throw new DOMException("userVisibleOnly and applicationServerKey are required", "NotAllowedError");
    }
    const key = btoa(String.fromCharCode(...new Uint8Array(options.applicationServerKey)))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
    await window.fakePushService("subscribe", key);
    return subscription;
  };
  PushManager.prototype.getSubscription = async function () {
    return (await window.fakePushService("current", null)) ? subscription : null;
  };
}"""


@pytest.fixture
def push_service(
    context: BrowserContext, live_database: str, request: pytest.FixtureRequest
) -> Iterator[FakePushService]:
    """Every page of `context` gets a PushManager backed by a FakePushService, and a Notification.requestPermission
    that tells the test each time it is called (and then asks the browser as usual)."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    fake = FakePushService(endpoint=f"https://push.invalid/send/{os.getpid()}-{request.node.name}",
                           p256dh=base64url(key), auth=base64url(os.urandom(16)))
    context.expose_function("permissionRequested", lambda path: fake.permission_requests.append(path))
    context.expose_function("fakePushService", fake.answer)
    arg = json.dumps({"endpoint": fake.endpoint, "p256dh": fake.p256dh, "auth": fake.auth})
    context.add_init_script(f"({FAKE_PUSH_MANAGER})({arg});")
    yield fake
    # The live server would otherwise keep trying to reach this device for the rest of the session.
    engine = make_engine(live_database)
    try:
        with Session(engine) as db:
            for row in db.execute(select(PushSubscription).where(PushSubscription.endpoint == fake.endpoint)).scalars():
                db.delete(row)
            db.commit()
    finally:
        engine.dispose()


def base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def server_key(page: Page) -> str:
    return page.evaluate("() => fetch('/push/kunci').then((response) => response.json()).then((key) => key.publicKey)")


def user_id(live_database: str, username: str) -> int:
    engine = make_engine(live_database)
    try:
        with Session(engine) as db:
            return db.execute(select(User.id).where(User.username == username)).scalar_one()
    finally:
        engine.dispose()


def push_card(page: Page) -> Locator:
    return page.locator("[data-push-card]")


ON = "Pemberitahuan menyala di HP ini."


def test_push_is_offered_after_booking_and_permission_is_asked_only_on_a_tap(
    page: Page, context: BrowserContext, live_server: str, live_database: str, push_service: FakePushService
):
    sign_in(page, "orangtua")
    page.goto("/konseling")
    choose_service(page, "Konseling individu")
    choose_a_free_slot(page)
    page.get_by_role("combobox", name="Untuk anak yang mana?", exact=True).select_option(label="Dimas")
    appointment_id = send_request(page)

    card = push_card(page)
    expect(card).to_be_visible()
    expect(card.get_by_role("heading", name="Pemberitahuan di HP ini")).to_be_visible()
    enable = card.get_by_role("button", name="Nyalakan pemberitahuan", exact=True)
    expect(enable).to_be_visible()
    # Signing in, the booking form and the appointment page have loaded, and nothing has asked yet.
    assert push_service.permission_requests == []
    assert page.evaluate("() => Notification.permission") == "default"
    assert push_devices(live_database, push_service.endpoint) == []

    context.grant_permissions(["notifications"], origin=live_server)  # the person answers "Izinkan" to the prompt
    enable.click()
    expect(card.get_by_role("status")).to_have_text(ON)
    expect(enable).to_be_hidden()
    assert push_service.permission_requests == [f"/konseling/{appointment_id}"]
    assert push_service.subscribed_with == server_key(page)
    [device] = push_devices(live_database, push_service.endpoint)
    assert device.user_id == user_id(live_database, "orangtua")
    assert device.p256dh == push_service.p256dh

    # Once push is on, the offer stays away, and nothing asks again.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jadwal konseling")
    expect(card).to_be_hidden()
    assert len(push_service.permission_requests) == 1


def test_push_is_turned_off_on_the_settings_page(
    page: Page, context: BrowserContext, live_server: str, live_database: str, push_service: FakePushService
):
    sign_in(page, "orangtua")
    page.goto("/notifikasi/pengaturan")
    card = push_card(page)
    context.grant_permissions(["notifications"], origin=live_server)
    card.get_by_role("button", name="Nyalakan pemberitahuan", exact=True).click()
    expect(card.get_by_role("status")).to_have_text(ON)
    assert len(push_devices(live_database, push_service.endpoint)) == 1

    card.get_by_role("button", name="Matikan di HP ini", exact=True).click()
    expect(card.get_by_role("button", name="Nyalakan pemberitahuan", exact=True)).to_be_visible()
    expect(card.get_by_role("status")).to_be_hidden()
    assert push_service.subscribed_with is None
    assert push_service.unsubscribed == 1
    assert push_devices(live_database, push_service.endpoint) == []


def test_quick_exit_turns_push_off_for_this_device(
    page: Page, context: BrowserContext, live_server: str, live_database: str, appointment_id: int,
    push_service: FakePushService, neutral_site: str,
):
    sign_in(page, "orangtua")
    page.goto(f"/konseling/{appointment_id}")
    context.grant_permissions(["notifications"], origin=live_server)
    push_card(page).get_by_role("button", name="Nyalakan pemberitahuan", exact=True).click()
    expect(push_card(page).get_by_role("status")).to_have_text(ON)
    page.goto("/notifikasi")  # a later page of the visit: the subscription outlives the page that made it
    assert len(push_devices(live_database, push_service.endpoint)) == 1

    page.get_by_role("link", name="Keluar cepat", exact=True).click()
    page.wait_for_url(neutral_site)
    # The server forgot the device, the push service was told to forget it, and the worker that received the pushes
    # is gone. A same-origin page that registers nothing (the manifest) shows what is left.
    assert push_devices(live_database, push_service.endpoint) == []
    assert push_service.subscribed_with is None
    assert push_service.unsubscribed == 1
    page.goto("/manifest.webmanifest")
    assert page.evaluate("() => navigator.serviceWorker.getRegistrations().then((found) => found.length)") == 0


def test_quick_exit_without_a_connection_still_removes_the_service_worker(
    page: Page, context: BrowserContext, neutral_site: str
):
    """Without the server's Clear-Site-Data answer, the page itself unregisters the worker, and with it the
    browser drops this device's push subscription."""
    page.goto("/")
    wait_until_controlled(page)
    context.set_offline(True)
    page.get_by_role("link", name="Keluar cepat", exact=True).click()
    page.wait_for_url(neutral_site)
    context.set_offline(False)
    page.goto("/manifest.webmanifest")
    assert page.evaluate("() => navigator.serviceWorker.getRegistrations().then((found) => found.length)") == 0


# --- tapping the notification ------------------------------------------------------------------------------------

NOTIFICATION_SERVER = r'''
import json
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

NAME = "org.freedesktop.Notifications"
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)


def say(**event):
    print(json.dumps(event), flush=True)


class Notifications(dbus.service.Object):
    def __init__(self, bus):
        self.bus_name = dbus.service.BusName(NAME, bus)
        super().__init__(bus, "/org/freedesktop/Notifications")
        self.last_id = 0

    @dbus.service.method(NAME, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["actions", "body", "body-hyperlinks", "body-markup"]

    @dbus.service.method(NAME, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("bintang-test-tray", "bintang", "1", "1.2")

    @dbus.service.method(NAME, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces_id, icon, summary, body, actions, hints, timeout):
        if not replaces_id:
            self.last_id += 1
        number = int(replaces_id or self.last_id)
        say(event="shown", id=number, summary=str(summary), body=str(body), actions=[str(a) for a in actions])
        return dbus.UInt32(number)

    @dbus.service.method(NAME, in_signature="u", out_signature="")
    def CloseNotification(self, number):
        say(event="closed", id=int(number))

    @dbus.service.signal(NAME, signature="us")
    def ActionInvoked(self, number, action):
        pass


tray = Notifications(dbus.SessionBus())
loop = GLib.MainLoop()


def command(source, condition):
    line = sys.stdin.readline()
    if not line:
        loop.quit()
        return False
    verb, number = line.split()
    if verb == "tap":
        tray.ActionInvoked(dbus.UInt32(int(number)), "default")
        say(event="tapped", id=int(number))
    return True


GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, command)
say(event="ready")
loop.run()
'''

SYSTEM_PYTHON = "/usr/bin/python3"


class NotificationTray:
    """The desktop notification server Chromium talks to, on a private session bus: what was shown, and taps."""

    def __init__(self, directory: Path) -> None:
        daemon = shutil.which("dbus-daemon")
        has_dbus_python = Path(SYSTEM_PYTHON).exists() and subprocess.run(
            [SYSTEM_PYTHON, "-c", "import dbus, dbus.mainloop.glib, gi.repository.GLib"], capture_output=True,
        ).returncode == 0
        if not daemon or not has_dbus_python:
            pytest.fail("tapping a notification needs Debian's dbus-daemon, python3-dbus and python3-gi; "
                        "`make test` installs them with chromium")
        self.daemon = subprocess.Popen(
            [daemon, "--session", f"--address=unix:path={directory / 'bus'}", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, text=True,
        )
        self.address = self.daemon.stdout.readline().strip()
        assert self.address, "dbus-daemon did not start"
        script = directory / "tray.py"
        script.write_text(NOTIFICATION_SERVER, encoding="utf-8")
        self.server = subprocess.Popen(
            [SYSTEM_PYTHON, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": self.address},
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for(lambda event: event["event"] == "ready")

    def _read(self) -> None:
        for line in self.server.stdout:
            self.events.put(json.loads(line))

    def wait_for(self, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The next event that `matches`, skipping the others."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the notification tray saw nothing of the kind"
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if matches(event):
                return event

    def forget(self) -> None:
        """Drop what earlier phones left (Chromium closes its notifications when it quits)."""
        while not self.events.empty():
            self.events.get_nowait()

    def shown(self) -> dict[str, Any]:
        return self.wait_for(lambda event: event["event"] == "shown")

    def tap(self, notification: dict[str, Any]) -> None:
        self.server.stdin.write(f"tap {notification['id']}\n")
        self.server.stdin.flush()

    def close(self) -> None:
        for process in (self.server, self.daemon):
            stop(process)


@pytest.fixture(scope="module")
def tray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotificationTray]:
    found = NotificationTray(tmp_path_factory.mktemp("tray"))
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
def phone(
    tray: NotificationTray, browser_type: BrowserType, browser_type_launch_args: dict[str, Any],
    browser_context_args: dict[str, Any], tmp_path: Path,
) -> Iterator[BrowserContext]:
    """A Pixel 7 with a fresh persistent profile whose notifications go to `tray`. Its first page stays blank: the
    rest of the phone, open on something else."""
    tray.forget()
    options = {key: value for key, value in browser_context_args.items() if key != "default_browser_type"}
    context = browser_type.launch_persistent_context(
        tmp_path / "profile", **browser_type_launch_args, **options,
        env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": tray.address},
    )
    try:
        yield context
    finally:
        context.close()


def remind_on(phone: BrowserContext, live_server: str, appointment_id: int, tray: NotificationTray) -> dict[str, Any]:
    """A reminder of the appointment, pushed to the phone; returns what the tray shows."""
    phone.grant_permissions(["notifications"], origin=live_server)
    DevToolsPush(phone, phone.pages[0], live_server).deliver(reminder(appointment_id))
    shown = tray.shown()
    assert shown["summary"] == "Bintang Ceria", shown
    assert shown["body"].endswith(REMINDER_TEXT), shown
    return shown


def expect_appointment_page(page: Page, appointment_id: int) -> None:
    page.wait_for_url(re.compile(rf"/konseling/{appointment_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Jadwal konseling")


def test_tapping_the_notification_takes_the_open_app_to_the_appointment(
    phone: BrowserContext, tray: NotificationTray, live_server: str, appointment_id: int
):
    page = sign_in(phone.new_page(), "orangtua")
    page.goto("/notifikasi")
    wait_until_controlled(page)
    shown = remind_on(phone, live_server, appointment_id, tray)

    tray.tap(shown)
    expect_appointment_page(page, appointment_id)
    # sw.js closed the notification it was tapped on.
    tray.wait_for(lambda event: event == {"event": "closed", "id": shown["id"]})
    assert len(phone.pages) == 2


def test_tapping_the_notification_with_the_app_closed_opens_the_appointment(
    phone: BrowserContext, tray: NotificationTray, live_server: str, appointment_id: int
):
    page = sign_in(phone.new_page(), "orangtua")
    wait_until_controlled(page)
    page.close()
    shown = remind_on(phone, live_server, appointment_id, tray)

    with phone.expect_page() as opened:
        tray.tap(shown)
    expect_appointment_page(opened.value, appointment_id)


def test_tapping_the_notification_opens_the_appointment_when_the_open_app_page_is_not_the_workers(
    phone: BrowserContext, tray: NotificationTray, live_server: str, appointment_id: int
):
    """A page loaded with a hard reload is not served by the worker, nor is the first page of a first visit (sw.js
    does not claim pages): the worker cannot steer such a window, so the tap must still lead to the appointment."""
    page = sign_in(phone.new_page(), "orangtua")
    page.goto("/notifikasi")
    wait_until_controlled(page)
    with page.expect_navigation():
        phone.new_cdp_session(page).send("Page.reload", {"ignoreCache": True})  # Ctrl+Shift+R
    assert page.evaluate("() => navigator.serviceWorker.controller") is None
    shown = remind_on(phone, live_server, appointment_id, tray)

    with phone.expect_page() as opened:
        tray.tap(shown)
    expect_appointment_page(opened.value, appointment_id)
