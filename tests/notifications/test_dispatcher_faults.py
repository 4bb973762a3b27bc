"""What the dispatcher does with each answer a push service can give, through the real Sender (real VAPID
signature, real RFC 8291 encryption) with a fake transport in place of the network, on a real database.

Time moves through the `now=` of drain(): no test waits for a clock."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server import service_info, worker
from server.accounts.visitor import Visitor
from server.appointments import service as appointments
from server.appointments.models import Appointment, ServiceType, WeeklyHours
from server.i18n import LOCAL
from server.notifications import dispatcher, outbox, push
from server.notifications.models import JobStatus, NotificationJob, PushSubscription
from tests.notifications.dispatch_support import FakeResponse, FakeTransport, Phone, b64, person, subscription

# Tuesday 1 December 2026, 08.00 WITA; the session asked for is Wednesday 09.00 WITA (25 hours later).
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
WEDNESDAY_9 = datetime(2026, 12, 2, 9, 0, tzinfo=LOCAL).astimezone(UTC)
ENDPOINT = "https://push.example.net/send/device-1"
REASONS = {201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           410: "Gone", 413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}


def answer(status: int, **headers: str) -> FakeResponse:
    return FakeResponse(status, headers, REASONS[status], text='{"reason": "as the push service says"}')


@pytest.fixture(autouse=True)
def at_now(pinned_clock) -> None:
    """What the fixtures write is stamped at NOW too, as the dispatcher sees it."""
    pinned_clock.move_to(NOW)


@pytest.fixture
def settings(settings):
    return replace(settings, vapid_private_key=push.generate_private_key(), push_timeout_seconds=7.5)


@pytest.fixture
def transport() -> FakeTransport:
    """Accepts everything unless a test gives it other answers."""
    return FakeTransport(lambda _url: answer(201))


@pytest.fixture
def sender(settings, transport):
    return worker.make_sender(settings, session=transport)


@pytest.fixture
def dispatch(engine, sender, settings):
    """Dispatch everything due at `now`, as `bintang worker` would with these settings."""

    def run(now: datetime) -> dispatcher.Stats:
        return dispatcher.drain(engine, sender, worker="test-dispatcher", lease_seconds=settings.dispatch_lease_seconds,
                                max_attempts=settings.push_max_attempts, now=now)

    return run


def job_now(engine, job_id: int) -> NotificationJob:
    with Session(engine) as session:
        return session.get(NotificationJob, job_id)


def news_for(db, username: str = "orangtua", *, kind: str = "case_message", urgency: str = "normal",
             topic: str = "report-7-staff") -> NotificationJob:
    [job] = outbox.enqueue(db, kind, url="/kasus/7", topic=topic, user_ids=[person(db, username).id],
                           urgency=urgency, due_at=NOW)
    db.commit()
    return job


def subscribe(db, endpoint: str = ENDPOINT, username: str = "orangtua") -> PushSubscription:
    row = subscription(endpoint, user_id=person(db, username).id)
    db.add(row)
    db.commit()
    return row


def endpoints_left(engine) -> list[str]:
    with Session(engine) as session:
        return list(session.execute(select(PushSubscription.endpoint).order_by(PushSubscription.id)).scalars())


def retry_until_final(engine: Engine, dispatch: Callable[[datetime], dispatcher.Stats], job_id: int,
                      start: datetime) -> tuple[NotificationJob, list[float]]:
    """Dispatch at `start`, then again exactly when the job is due each time; returns the job as it ended and
    the waits (seconds) the dispatcher chose between tries. Also checks a retry is never taken early."""
    now, waits = start, []
    for _ in range(20):
        dispatch(now)
        job = job_now(engine, job_id)
        if job.status != JobStatus.PENDING:
            return job, waits
        assert job.claimed_by == ""
        assert job.lease_until is None
        waits.append((job.due_at - now).total_seconds())
        assert dispatch(job.due_at - timedelta(seconds=1)).claimed == 0
        now = job.due_at
    raise AssertionError("the job never ended")


def expected_waits(max_attempts: int, retry_after: float = 0.0) -> list[float]:
    return [max(dispatcher.backoff(attempt), retry_after) for attempt in range(1, max_attempts)]


# --- accepted -------------------------------------------------------------------------------------------------


def _verify_vapid(authorization: str, vapid, subject: str) -> None:
    """`vapid t=<JWT>,k=<public key>`: the JWT names the push service's origin and our subject, and is signed
    (ES256) by the key whose public half is `k`."""
    assert authorization.startswith("vapid t=")
    token, key = authorization.removeprefix("vapid t=").split(",k=")
    assert key == push.public_key(vapid)
    header, claims, signature = token.split(".")

    def unb64(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    assert json.loads(unb64(header))["alg"] == "ES256"
    claims = json.loads(unb64(claims))
    assert claims["aud"] == "https://push.example.net"
    assert claims["sub"] == subject
    raw = unb64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    vapid.public_key.verify(der, token.rsplit(".", 1)[0].encode(), ec.ECDSA(hashes.SHA256()))


def test_it_sends_an_accepted_job_once_signed_encrypted_with_the_jobs_headers(db, engine, dispatch, transport,
                                                                               settings, sender):
    phone = Phone()
    db.add(phone.subscription(ENDPOINT, user_id=person(db, "orangtua").id))
    job = news_for(db)

    stats = dispatch(NOW)

    assert (stats.claimed, stats.sent) == (1, 1)
    ended = job_now(engine, job.id)
    assert ended.status == JobStatus.SENT
    assert ended.sent_at is not None
    assert ended.last_error == ""
    assert ended.attempts == 1
    assert ended.lease_until is None
    [request] = transport.requests
    assert request.url == ENDPOINT
    assert request.timeout == 7.5
    headers = request.headers
    assert headers["ttl"] == "86400"  # nothing scheduled: a day
    assert headers["urgency"] == "normal"
    assert headers["topic"] == sender.topic("report-7-staff", ENDPOINT)
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["content-type"] == "application/octet-stream"
    _verify_vapid(headers["authorization"], sender.vapid, settings.vapid_subject)
    assert b"Bintang" not in request.data  # encrypted on the wire ...
    assert phone.read(request.data) == {  # ... and the phone reads the neutral message
        "title": "Bintang Ceria", "body": "Bintang Ceria: ada kabar baru untuk Anda", "url": "/kasus/7",
        "tag": headers["topic"]}
    assert dispatch(NOW + timedelta(hours=1)).claimed == 0
    assert len(transport.requests) == 1


def test_an_emergency_goes_out_with_high_urgency(db, engine, dispatch, transport, sender):
    subscribe(db, username="konselor")
    job = news_for(db, "konselor", kind="emergency_report", urgency="high", topic="report-7-urgent")
    dispatch(NOW)
    assert job_now(engine, job.id).status == JobStatus.SENT
    [request] = transport.requests
    assert request.headers["urgency"] == "high"
    assert request.headers["topic"] == sender.topic("report-7-urgent", ENDPOINT)


# --- appointments: TTL from the time left, urgency from the job, and the re-check before sending ------------


@pytest.fixture
def requested(db) -> Appointment:
    """Orang tua asks konselor for Wednesday 09.00 WITA (a session that needs confirming)."""
    service_type = ServiceType(name="Konseling individu", duration_minutes=60, buffer_after_minutes=15,
                               min_notice_hours=24, max_days_ahead=30)
    db.add(service_type)
    counselor = person(db, "konselor")
    db.add_all(WeeklyHours(counselor_id=counselor.id, weekday=day, starts=time(8), ends=time(12)) for day in range(5))
    db.commit()
    appointment = appointments.request_appointment(
        db, Visitor(user=person(db, "orangtua")), service_type_id=service_type.id,
        counselor_id=counselor.id, starts_at=WEDNESDAY_9, now=NOW)
    db.commit()
    return appointment


@pytest.fixture
def confirmed(db, requested) -> Appointment:
    appointments.confirm(db, requested, person(db, "konselor"), version=requested.version, now=NOW)
    db.commit()
    return requested


def jobs_of(engine, appointment: Appointment) -> dict[tuple[str, str], NotificationJob]:
    """The appointment's jobs by (kind, recipient username)."""
    with Session(engine) as session:
        names = {u.id: u.username for u in (person(session, "orangtua"), person(session, "konselor"))}
        jobs = session.execute(select(NotificationJob).where(NotificationJob.object_type == "appointment",
                                                             NotificationJob.object_id == appointment.id)).scalars()
        return {(j.kind, names[j.recipient_user_id]): j for j in jobs}


def test_appointment_pushes_live_until_the_session_at_most_a_day_and_the_1h_reminder_is_urgent(
        db, engine, dispatch, transport, sender, confirmed):
    subscribe(db)
    sent: dict[str, dict[str, str]] = {}

    def dispatch_at(now: datetime) -> None:
        dispatch(now)
        for request in transport.requests:
            sent.setdefault(request.headers["topic"], request.headers)

    dispatch_at(NOW)  # the confirmation: the session is 25 hours away
    dispatch_at(WEDNESDAY_9 - timedelta(hours=23, minutes=30))  # the 24-hour reminder, half an hour late
    dispatch_at(WEDNESDAY_9 - timedelta(minutes=50))  # the 1-hour reminder, ten minutes late

    def topic_of(kind: str) -> str:
        return sender.topic(f"appt-{confirmed.id}-{kind}", ENDPOINT)

    assert {topic: (h["ttl"], h["urgency"]) for topic, h in sent.items()} == {
        topic_of("appointment_confirmed"): ("86400", "normal"),
        topic_of("reminder_24h"): (str(23 * 3600 + 30 * 60), "normal"),
        topic_of("reminder_1h"): (str(50 * 60), "high"),
    }
    jobs = jobs_of(engine, confirmed)
    assert {key[0]: job.status for key, job in jobs.items() if key[1] == "orangtua"} == {
        "appointment_confirmed": "sent", "reminder_24h": "sent", "reminder_1h": "sent"}


def test_a_job_about_an_older_version_of_the_appointment_is_cancelled_unsent(db, engine, dispatch, transport,
                                                                            confirmed):
    # The counselor's "new request" job was written for the version before the confirmation.
    subscribe(db, "https://push.example.net/send/counselor", username="konselor")
    dispatch(NOW)
    job = jobs_of(engine, confirmed)[("appointment_requested", "konselor")]
    assert (job.status, job.last_error, job.sent_at) == (JobStatus.CANCELLED, "no longer applies", None)
    assert transport.requests == []


def test_nothing_is_sent_about_a_session_that_has_started(db, engine, dispatch, transport, confirmed):
    subscribe(db)
    dispatch(WEDNESDAY_9)  # the dispatcher was down until the session began
    jobs = jobs_of(engine, confirmed)
    assert {key[0]: job.status for key, job in jobs.items() if key[1] == "orangtua"} == {
        "appointment_confirmed": "cancelled", "reminder_24h": "cancelled", "reminder_1h": "cancelled"}
    assert transport.requests == []


def test_a_retry_never_lands_after_the_session_it_reminds_of(db, engine, dispatch, transport, confirmed):
    subscribe(db)
    transport.answer = lambda _url: answer(503)
    reminder = jobs_of(engine, confirmed)[("reminder_1h", "orangtua")]

    ended, waits = retry_until_final(engine, dispatch, reminder.id, WEDNESDAY_9 - timedelta(seconds=100))

    # Tried 100, 70 and 10 s before the start; after the third the backoff (120 s) would land after the start,
    # so it stops there, well before PUSH_MAX_ATTEMPTS.
    assert waits == [dispatcher.backoff(1), dispatcher.backoff(2)] == [30.0, 60.0]
    assert ended.status == JobStatus.FAILED
    assert ended.attempts == 3 < 5
    assert ended.last_error == "gave up after 3 tries: 503 Service Unavailable"
    assert ended.due_at < WEDNESDAY_9


# --- transient trouble: retried later, then given up -----------------------------------------------------------


def test_429_waits_at_least_as_long_as_the_push_service_asks_then_gives_up(db, engine, dispatch, transport,
                                                                          settings, caplog):
    subscribe(db)
    transport.answer = lambda _url: answer(429, **{"Retry-After": "120"})
    job = news_for(db)

    dispatch(NOW)
    first = job_now(engine, job.id)
    assert first.status == JobStatus.PENDING
    assert first.due_at == NOW + timedelta(seconds=120)
    assert first.last_error == "retry: 429 Too Many Requests"
    assert first.attempts == 1

    with caplog.at_level(logging.WARNING, logger="bintang.dispatcher"):
        ended, waits = retry_until_final(engine, dispatch, job.id, first.due_at)

    assert settings.push_max_attempts == 5
    assert [120.0] + waits == expected_waits(5, retry_after=120) == [120, 120, 120, 240]
    assert ended.status == JobStatus.FAILED
    assert ended.attempts == 5
    assert ended.sent_at is None
    assert ended.last_error == "gave up after 5 tries: 429 Too Many Requests"
    assert len(transport.requests) == 5
    assert any("given up after 5 tries" in r.getMessage() for r in caplog.records)


def test_retry_after_is_read_in_both_of_its_forms():
    date = datetime(2026, 12, 1, 7, 28, tzinfo=UTC)
    assert push.parse_retry_after("120") == 120.0
    assert push.parse_retry_after("Tue, 01 Dec 2026 07:28:00 GMT", now=(date - timedelta(minutes=1)).timestamp()) == 60
    assert push.parse_retry_after("Tue, 01 Dec 2026 07:28:00 GMT", now=(date + timedelta(minutes=1)).timestamp()) == 0
    assert push.parse_retry_after("soon") is None
    assert push.parse_retry_after(None) is None


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_with_exponential_backoff_then_fail(db, engine, dispatch, transport, settings,
                                                                      status):
    subscribe(db)
    transport.answer = lambda _url: answer(status)
    job = news_for(db)

    ended, waits = retry_until_final(engine, dispatch, job.id, NOW)

    assert waits == expected_waits(settings.push_max_attempts) == [30, 60, 120, 240]
    assert ended.status == JobStatus.FAILED
    assert ended.attempts == settings.push_max_attempts
    assert ended.last_error == f"gave up after 5 tries: {status} {REASONS[status]}"
    assert len(transport.requests) == settings.push_max_attempts


@pytest.mark.parametrize(("fault", "cause"), [
    (requests.Timeout("read timed out"), "timeout"),
    (requests.ConnectionError("connection refused"), "connection: ConnectionError"),
])
def test_no_answer_is_retried_then_fails_and_every_try_has_a_timeout(db, engine, dispatch, transport, settings,
                                                                     fault, cause):
    subscribe(db)
    transport.answer = lambda _url: fault
    job = news_for(db)

    dispatch(NOW)
    assert job_now(engine, job.id).last_error == f"retry: {cause}"
    ended, waits = retry_until_final(engine, dispatch, job.id, job_now(engine, job.id).due_at)

    assert [30.0] + waits == expected_waits(settings.push_max_attempts)
    assert (ended.status, ended.last_error) == (JobStatus.FAILED, f"gave up after 5 tries: {cause}")
    assert [r.timeout for r in transport.requests] == [settings.push_timeout_seconds] * 5 == [7.5] * 5


# --- refused: failed at once, cause kept, payload never logged ------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_a_refusal_fails_at_once_with_its_cause_and_the_log_never_shows_the_message(db, engine, dispatch,
                                                                                    transport, caplog, status):
    subscribe(db)
    transport.answer = lambda _url: answer(status)
    job = news_for(db)

    with caplog.at_level(logging.DEBUG):
        dispatch(NOW)
        dispatch(NOW + timedelta(days=1))

    ended = job_now(engine, job.id)
    assert (ended.status, ended.attempts) == (JobStatus.FAILED, 1)
    assert ended.last_error == f"refused: {status} {REASONS[status]}"
    assert len(transport.requests) == 1
    assert endpoints_left(engine) == [ENDPOINT]  # a refusal is about the message, not the device
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.name == "bintang.dispatcher"
    assert f"{status} {REASONS[status]}" in warning.getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ada kabar baru" not in logged
    assert "/kasus/7" not in logged
    assert "as the push service says" not in logged


# --- devices that went away -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_an_expired_subscription_is_deleted_and_its_only_owner_has_no_device(db, engine, dispatch, transport,
                                                                             status):
    subscribe(db)
    transport.answer = lambda _url: answer(status)
    job = news_for(db)
    stats = dispatch(NOW)
    assert stats.no_device == 1
    assert job_now(engine, job.id).status == JobStatus.NO_DEVICE
    assert endpoints_left(engine) == []
    assert dispatch(NOW + timedelta(days=1)).claimed == 0
    assert len(transport.requests) == 1


def test_with_two_devices_one_gone_the_job_is_sent_and_the_other_device_stays(db, engine, dispatch, transport):
    old, new = "https://push.example.net/send/old-phone", "https://push.example.net/send/new-phone"
    subscribe(db, old)
    subscribe(db, new)
    transport.answer = lambda url: answer(410 if url == old else 201)
    job = news_for(db)
    dispatch(NOW)
    ended = job_now(engine, job.id)
    assert (ended.status, ended.last_error) == (JobStatus.SENT, "1/2 devices")
    assert sorted(r.url for r in transport.requests) == sorted([old, new])
    assert endpoints_left(engine) == [new]


def test_someone_without_a_device_gets_no_push_only_the_in_app_list(db, engine, dispatch, transport):
    subscribe(db, username="konselor")  # somebody else's device
    job = news_for(db)
    assert dispatch(NOW).no_device == 1
    ended = job_now(engine, job.id)
    assert (ended.status, ended.sent_at) == (JobStatus.NO_DEVICE, None)
    assert transport.requests == []


def unusable(db, endpoint: str = "https://push.example.net/send/broken") -> PushSubscription:
    """65 bytes pass the subscribe form's length check, but these are no point on P-256: nothing can be
    encrypted for this device."""
    row = PushSubscription(endpoint=endpoint, p256dh=b64(b"\x04" + bytes(64)), auth=b64(bytes(16)),
                           user_id=person(db, "orangtua").id)
    db.add(row)
    db.commit()
    return row


def test_a_device_with_unusable_keys_neither_stops_the_others_nor_makes_the_job_repeat(db, engine, dispatch,
                                                                                      transport):
    subscribe(db)  # a working phone, tried first
    unusable(db)
    job = news_for(db)
    for minutes in (0, 2, 10, 60):  # each time long after a lease would have run out
        dispatch(NOW + timedelta(minutes=minutes))
    ended = job_now(engine, job.id)
    assert (ended.status, ended.attempts, ended.last_error) == (JobStatus.SENT, 1, "1/2 devices")
    assert [r.url for r in transport.requests] == [ENDPOINT]  # the working phone got it once


def test_a_job_whose_only_device_has_unusable_keys_fails_once_with_the_cause(db, engine, dispatch, transport):
    unusable(db)
    job = news_for(db)
    for minutes in (0, 2, 10, 60):
        dispatch(NOW + timedelta(minutes=minutes))
    ended = job_now(engine, job.id)
    assert (ended.status, ended.attempts) == (JobStatus.FAILED, 1)
    assert ended.last_error == "refused: unusable subscription keys"
    assert transport.requests == []


# --- what a phone shows ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "body"), [
    ("reminder_24h", "Bintang Ceria: ada pengingat untuk Anda"),
    ("reminder_1h", "Bintang Ceria: ada pengingat untuk Anda"),
    ("emergency_report", "Bintang Ceria: ada kabar baru untuk Anda"),
    ("case_message", "Bintang Ceria: ada kabar baru untuk Anda"),
    ("appointment_confirmed", "Bintang Ceria: ada kabar baru untuk Anda"),
])
def test_the_payload_is_neutral_small_json(kind, body):
    message = push.payload(kind, "/konseling/3", "appt-3-x", "id")
    assert json.loads(message) == {"title": "Bintang Ceria", "body": body, "url": "/konseling/3", "tag": "appt-3-x"}
    assert len(message) < 200


def test_a_renamed_service_is_named_in_every_push_in_the_devices_language(db, engine, dispatch, transport, sender):
    indonesian, english = Phone(), Phone()
    parent = person(db, "orangtua")
    db.add(indonesian.subscription(ENDPOINT, user_id=parent.id))
    db.add(english.subscription(ENDPOINT + "-en", user_id=parent.id, language="en"))
    service_info.save(db, service_info.ServiceInfo(service_name="Sahabat Anak"))
    db.commit()
    news_for(db)
    dispatch(NOW)
    sent = {request.url: request.data for request in transport.requests}
    assert indonesian.read(sent[ENDPOINT]) == {
        "title": "Sahabat Anak", "body": "Sahabat Anak: ada kabar baru untuk Anda", "url": "/kasus/7",
        "tag": sender.topic("report-7-staff", ENDPOINT)}
    assert english.read(sent[ENDPOINT + "-en"])["body"] == "Sahabat Anak: there is news for you"


def test_a_device_with_an_unknown_language_reads_indonesian():
    assert push.payload("reminder_1h", "/", "t", "xx") == push.payload("reminder_1h", "/", "t", "id")
