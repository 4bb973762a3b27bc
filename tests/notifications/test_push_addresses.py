"""Push goes only to public push services (issue 12): a subscription's endpoint is a URL whoever subscribes
chooses, and the server connects there. Refused when a page subscribes (a clear 422), and again when sending,
after the name is looked up; the server connects to the address it checked. PUSH_ALLOWED_HOSTS lets a local push
service through (the end-to-end tests use one)."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlmodel import Session

from server import worker
from server.notifications import dispatcher, outbox, push
from server.notifications.models import JobStatus, NotificationJob, PushSubscription
from server.notifications.push import Device, Outcome
from server.notifications.transport import PushTransport
from tests.notifications.dispatch_support import FakeResponse, FakeTransport, Phone, person
from tests.support.notifications import device, send

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
LISTED = "localhost:8090"

NOT_PUBLIC = [
    "https://127.0.0.1/send/1",
    "https://10.1.2.3/send/1",
    "https://172.16.0.9/send/1",
    "https://192.168.1.1/send/1",
    "https://100.64.0.1/send/1",  # shared (carrier-grade NAT)
    "https://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
    "https://0.0.0.0/send/1",
    "https://224.0.0.1/send/1",
    "https://240.0.0.1/send/1",
    "https://[::1]/send/1",
    "https://[::]/send/1",
    "https://[fe80::1]/send/1",
    "https://[fd00::1]/send/1",
    "https://[ff02::1]/send/1",
    "https://[::ffff:127.0.0.1]/send/1",
    "https://[::ffff:10.0.0.1]/send/1",
    "https://[2002:7f00:1::]/send/1",  # 6to4 of 127.0.0.1
    "https://[64:ff9b::a00:1]/send/1",  # NAT64 of 10.0.0.1
    "https://2130706433/send/1",  # 127.0.0.1 written as one number
    "https://0x7f.1/send/1",
    "https://localhost/send/1",
    "https://push.localhost/send/1",
    "https://metadata/computeMetadata/v1/",  # one label: the local network's names
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://push.example.net:8443/send/1",  # a public host, but not its https port
    "http://localhost:8091/notify/abc",  # a port of a listed host that is not the one listed
    "http://push.example.net/send/1",
]


# Forms a resolver or an HTTP library reads otherwise than the check did (issue 19): full-width and other digits and
# letters, dots and percent-escapes that a name lookup turns into a loopback address or a name that is not public,
# labels no host name has, and characters no URL may carry. A browser's endpoint is plain ASCII.
NOT_PLAIN = [
    "https://１２７.０.０.１/send/1",  # full-width digits
    "https://127.0.0.１/send/1",  # one of them
    "https://０ｘ７ｆ.１/send/1",  # 127.0.0.1 in full-width hexadecimal
    "https://١٢٧.٠.٠.١/send/1",  # Arabic-Indic digits
    "https://127.0.0。1/send/1",  # an ideographic full stop, which IDNA reads as a dot
    "https://push.ｌｏｃａｌｈｏｓｔ/send/1",  # full-width letters
    "https://metadata.google.ｉｎｔｅｒｎａｌ/computeMetadata/v1/",
    "https://locаlhost.example/send/1",  # a Cyrillic а
    "https://%31%32%37.0.0.1/send/1",  # percent-encoded digits
    "https://127.0.0%2e1/send/1",  # a percent-encoded dot
    "https://push..example.net/send/1",  # an empty label
    "https://-push.example.net/send/1",  # a label that starts with a hyphen
    "https://_push.example.net/send/1",  # an underscore
    "https://push.example.net/send/a b",  # a space
    "https://push.example.net/send/é",  # a letter that is not ASCII in the path
]


@pytest.fixture
def settings(settings):
    return replace(settings, vapid_private_key=push.generate_private_key(), push_allowed_hosts=(LISTED,))


def subscriptions(db) -> list[str]:
    db.expire_all()
    return list(db.execute(select(PushSubscription.endpoint).order_by(PushSubscription.id)).scalars())


# --- when a page subscribes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", NOT_PUBLIC)
def test_a_subscription_to_a_host_that_is_not_public_is_refused(as_user, db, endpoint):
    response = send(as_user("orangtua"), "/push/langganan", {**device(), "endpoint": endpoint})
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    assert body["error"].startswith("endpoint ")
    assert subscriptions(db) == []


@pytest.mark.parametrize("endpoint", NOT_PLAIN)
def test_a_subscription_whose_endpoint_is_not_a_plain_url_is_refused_as_when_sending(as_user, db, settings, endpoint):
    response = send(as_user("orangtua"), "/push/langganan", {**device(), "endpoint": endpoint})
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    assert body["error"].startswith("endpoint ")
    assert subscriptions(db) == []
    # The same check when sending (one function): refused before anything goes out, with the same reason.
    transport = FakeTransport(lambda _url: FakeResponse(201))
    phone = Phone()
    outcome = worker.make_sender(settings, session=transport).send(
        Device(endpoint, phone.p256dh, phone.auth), b"{}", ttl=60, urgency="normal", topic="t")
    assert outcome == Outcome(-2, reason=f"endpoint refused: {body['error']}")
    assert transport.requests == []


def test_a_renewed_subscription_to_a_host_that_is_not_public_is_refused(as_user, make_client, db):
    mine = device()
    assert send(as_user("orangtua"), "/push/langganan", mine).status_code == 200
    response = make_client().post("/push/ganti", json={
        "oldEndpoint": mine["endpoint"], "subscription": {**device(), "endpoint": "https://169.254.169.254/x"}})
    assert response.status_code == 422
    assert subscriptions(db) == [mine["endpoint"]]


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/abc:def",
    "https://updates.push.services.mozilla.com/wpush/v2/abc",
    "https://web.push.apple.com/QAbc",
    "https://push.example.net:443/send/1",
    "https://[2001:4860:4860::8888]/send/1",
    "http://localhost:8090/notify/abc",  # listed in PUSH_ALLOWED_HOSTS: plain http too
])
def test_a_public_push_service_or_a_listed_host_is_accepted(as_user, db, endpoint):
    response = send(as_user("orangtua"), "/push/langganan", {**device(), "endpoint": endpoint})
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert subscriptions(db) == [endpoint]


# --- when sending -------------------------------------------------------------------------------------------


class RecordingTransport(PushTransport):
    """The real transport with a pretend resolver, recording where it would connect (and refusing to)."""

    def __init__(self, answers: list[list[str]]) -> None:
        super().__init__(lookup=self._lookup)
        self.answers = answers
        self.lookups: list[str] = []
        self.connects: list[tuple[str, int]] = []

    def _lookup(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers[min(len(self.lookups), len(self.answers)) - 1]

    def open(self, address: str, port: int, timeout: float) -> socket.socket:
        self.connects.append((address, port))
        raise ConnectionRefusedError("not in a test")


def send_with(settings, transport) -> Outcome:
    phone = Phone()
    sender = worker.make_sender(settings, session=transport)
    return sender.send(Device("https://push.example.net/send/1", phone.p256dh, phone.auth), b"{}", ttl=60,
                       urgency="normal", topic="t")


@pytest.mark.parametrize("addresses", [["10.0.0.7"], ["93.184.216.34", "127.0.0.1"], ["::1"], ["169.254.169.254"]])
def test_a_name_that_resolves_to_an_address_that_is_not_public_is_not_connected_to(settings, addresses):
    transport = RecordingTransport([addresses])
    outcome = send_with(settings, transport)
    assert outcome == Outcome(-2, reason="endpoint refused: endpoint host resolves to an address that is not public")
    assert outcome.blocked
    assert not outcome.transient
    assert transport.lookups == ["push.example.net"]
    assert transport.connects == []


def test_it_connects_to_the_address_it_checked_not_to_a_second_answer(settings):
    # A name whose second lookup answers with a private address (DNS rebinding) is looked up once.
    transport = RecordingTransport([["93.184.216.34"], ["127.0.0.1"]])
    outcome = send_with(settings, transport)
    assert outcome == Outcome(0, reason="connection: ConnectionRefusedError")
    assert transport.lookups == ["push.example.net"]
    assert transport.connects == [("93.184.216.34", 443)]


def test_an_endpoint_that_is_not_public_is_refused_before_anything_is_sent(settings):
    transport = FakeTransport(lambda _url: FakeResponse(201))
    phone = Phone()
    outcome = worker.make_sender(settings, session=transport).send(
        Device("https://[::1]/send/1", phone.p256dh, phone.auth), b"{}", ttl=60, urgency="normal", topic="t")
    assert outcome == Outcome(-2, reason="endpoint refused: endpoint address is not public")
    assert transport.requests == []


def dispatch_news(db, engine, settings, transport) -> NotificationJob:
    [job] = outbox.enqueue(db, "case_message", url="/kasus/7", topic="report-7-staff",
                           user_ids=[person(db, "konselor").id], due_at=NOW)
    db.commit()
    dispatcher.drain(engine, worker.make_sender(settings, session=transport), worker="test", now=NOW)
    with Session(engine) as session:
        return session.get(NotificationJob, job.id)


def test_a_refused_endpoint_is_that_devices_failure_and_the_persons_other_devices_still_get_the_message(
        db, engine, settings):
    counselor = person(db, "konselor")
    refused, phone = Phone(), Phone()
    db.add(refused.subscription("https://[::1]/send/old-phone", user_id=counselor.id))
    db.add(phone.subscription("https://push.example.net/send/phone", user_id=counselor.id))
    db.commit()
    transport = FakeTransport(lambda _url: FakeResponse(201))

    job = dispatch_news(db, engine, settings, transport)

    assert (job.status, job.last_error) == (JobStatus.SENT, "1/2 devices")
    assert [request.url for request in transport.requests] == ["https://push.example.net/send/phone"]
    assert phone.read(transport.requests[0].data)["url"] == "/kasus/7"
    assert subscriptions(db) == ["https://push.example.net/send/phone"]  # the refused one is gone


def test_a_job_whose_only_device_is_refused_fails_with_the_reason_and_the_device_is_removed(db, engine, settings):
    db.add(Phone().subscription("https://169.254.169.254/latest/meta-data/", user_id=person(db, "konselor").id))
    db.commit()
    transport = FakeTransport(lambda _url: FakeResponse(201))

    job = dispatch_news(db, engine, settings, transport)

    assert job.status == JobStatus.FAILED
    assert job.last_error == "refused: endpoint refused: endpoint address is not public"
    assert transport.requests == []
    assert subscriptions(db) == []
