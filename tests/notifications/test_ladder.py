"""The channel ladder end to end against the local Cloud API and SMS gateway stand-in (tests/messaging.py): a
requester's reminder that push does not bring climbs to WhatsApp (an approved template), then SMS, then a
counselor's "call to confirm" task, each exactly once however many workers climb; statuses come back by signed
webhooks; a rate limit is retried by the dispatcher; BERHENTI is honoured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from server import worker
from server.accounts.visitor import Visitor
from server.appointments.models import Appointment, CallTask
from server.i18n import LOCAL
from server.notifications import consent, dispatcher, ladder, push
from server.notifications.models import ChannelConsent, JobStatus, NotificationJob
from server.notifications.push import ack_token
from tests.messaging import StandIn, messaging_stand_in
from tests.notifications.dispatch_support import FakeResponse, FakeTransport, subscription
from tests.support.appointments import appointment_for, counseling, person

NUMBER, E164 = "0812 3456 7890", "+6281234567890"


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    with messaging_stand_in() as service:
        yield service


@pytest.fixture
def settings(settings, stand_in):
    return replace(settings, vapid_private_key=push.generate_private_key(), **stand_in.whatsapp_settings,
                   **stand_in.sms_settings)


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport(lambda _url: FakeResponse(201, {}, "Created"))


@pytest.fixture
def appointment(db) -> Appointment:
    return appointment_for(db, counseling(db), confirmed=True)


def agree(db, username: str = "orangtua", **channels: bool) -> None:
    consent.agree(db, Visitor(user=person(db, username)), number=NUMBER,
                  **({"whatsapp": True, "sms": True} | channels))
    db.commit()


@pytest.fixture
def rounds(pinned_clock):
    def run(engine, settings, transport, now: datetime, workers: int = 2) -> None:
        """What several workers do in a round at `now` (the clock moved there): climb the ladder, then send what
        is due."""
        pinned_clock.move_to(now)
        for n in range(workers):
            worker.climb_ladder(engine, settings, now=now)
            dispatcher.drain(engine, worker.make_sender(settings, session=transport), worker=f"w{n}", now=now)
    return run


def parent_jobs(db, appointment: Appointment, kind: str = "reminder_24h") -> dict[str, NotificationJob]:
    db.expire_all()
    rows = db.execute(select(NotificationJob).where(
        NotificationJob.object_id == appointment.id, NotificationJob.kind == kind,
        NotificationJob.recipient_user_id == person(db, "orangtua").id)).scalars()
    return {job.channel: job for job in rows}


def due_24h(db, appointment: Appointment) -> datetime:
    return parent_jobs(db, appointment)["push"].due_at


def call_tasks(db) -> list[CallTask]:
    db.expire_all()
    return list(db.execute(select(CallTask)).scalars())


@pytest.mark.both_databases
def test_the_reminder_climbs_from_push_to_whatsapp_to_sms_to_a_call_each_once(rounds, db, engine, settings,
                                                                              transport, stand_in, appointment):
    agree(db)
    start = due_24h(db, appointment)
    root = parent_jobs(db, appointment)["push"]
    assert root.ladder
    assert root.channel == "push"

    rounds(engine, settings, transport, start)  # no device: push ends no_device
    rounds(engine, settings, transport, start + timedelta(minutes=1))
    jobs = parent_jobs(db, appointment)
    assert jobs["push"].status == JobStatus.NO_DEVICE
    assert jobs["whatsapp"].status == JobStatus.SENT
    assert "sms" not in jobs
    [message] = stand_in.of("whatsapp")
    assert message.to == "6281234567890"
    assert message.body["template"] == {
        "name": "pengingat_jadwal", "language": {"code": "id"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Pengingat"}]}]}
    assert jobs["whatsapp"].provider_id == message.message_id

    # Not delivered within the wait: SMS, once.
    rounds(engine, settings, transport, start + timedelta(minutes=29))
    assert stand_in.of("sms") == []
    rounds(engine, settings, transport, start + timedelta(minutes=32))
    rounds(engine, settings, transport, start + timedelta(minutes=33))
    [sms] = stand_in.of("sms")
    assert sms.to == E164
    assert sms.body["reference"] == str(parent_jobs(db, appointment)["sms"].id)
    assert "BERHENTI" in sms.body["text"]
    assert "Bintang" not in sms.body["text"]

    # Nothing known to have arrived three hours before: one call task, with the number.
    assert call_tasks(db) == []
    rounds(engine, settings, transport, appointment.starts_at - timedelta(hours=3, minutes=1))
    assert call_tasks(db) == []
    rounds(engine, settings, transport, appointment.starts_at - timedelta(hours=3))
    rounds(engine, settings, transport, appointment.starts_at - timedelta(hours=2))
    [task] = call_tasks(db)
    assert (task.appointment_id, task.phone, task.counselor_id) == (appointment.id, E164, appointment.counselor_id)

    # The last reminder climbs too, but the call is asked for once; every rung exists once.
    rounds(engine, settings, transport, appointment.starts_at - timedelta(hours=1))
    rounds(engine, settings, transport, appointment.starts_at - timedelta(minutes=59))
    assert len(call_tasks(db)) == 1
    assert len(stand_in.of("whatsapp")) == 2
    assert len(stand_in.of("sms")) == 1
    assert set(parent_jobs(db, appointment, "reminder_1h")) == {"push", "whatsapp"}
    assert db.execute(select(func.count()).select_from(NotificationJob).where(
        NotificationJob.step_of_id.is_not(None))).scalar_one() == 3
    # The counselor's own reminders never climb.
    counselor_jobs = db.execute(select(NotificationJob).where(
        NotificationJob.recipient_user_id == appointment.counselor_id, NotificationJob.kind.like("reminder_%"))).scalars()
    assert {(job.channel, job.ladder) for job in counselor_jobs} == {("push", False)}


@pytest.mark.both_databases
def test_workers_climbing_at_the_same_moment_write_each_rung_once(db, engine, settings, transport, stand_in,
                                                                  appointment, pinned_clock):
    agree(db)
    start = due_24h(db, appointment)
    pinned_clock.move_to(start)
    dispatcher.drain(engine, worker.make_sender(settings, session=transport), now=start)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def climb() -> None:
        try:
            barrier.wait(timeout=10)
            worker.climb_ladder(engine, settings, now=start)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=climb) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert set(parent_jobs(db, appointment)) == {"push", "whatsapp"}
    senders = [threading.Thread(target=dispatcher.drain, args=(engine, worker.make_sender(settings, session=transport)),
                                kwargs={"worker": f"w{n}", "now": start}) for n in range(3)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(timeout=30)
    assert len(stand_in.of("whatsapp")) == 1


def test_a_push_shown_on_the_phone_stops_the_ladder(rounds, db, engine, settings, transport, stand_in, appointment,
                                                    client):
    agree(db)
    db.add(subscription("https://push.example.net/send/abc", user_id=person(db, "orangtua").id))
    db.commit()
    start = due_24h(db, appointment)
    rounds(engine, settings, transport, start)
    root = parent_jobs(db, appointment)["push"]
    assert root.status == JobStatus.SENT
    assert root.shown_at is None

    # The service worker's acknowledgement: a made-up token is refused and changes nothing.
    refused = client.post("/push/tampil", json={"job": root.id, "t": "bukan-token"})
    assert refused.status_code == 403
    assert parent_jobs(db, appointment)["push"].shown_at is None
    shown = client.post("/push/tampil", json={"job": root.id, "t": ack_token(settings.secret_key, root.id)})
    assert shown.status_code == 200
    assert shown.json() == {"ok": True}
    assert parent_jobs(db, appointment)["push"].shown_at is not None

    rounds(engine, settings, transport, start + timedelta(hours=2))
    rounds(engine, settings, transport, appointment.starts_at - timedelta(hours=2))
    assert set(parent_jobs(db, appointment)) == {"push"}
    assert stand_in.requests == []
    assert call_tasks(db) == []


def test_a_push_not_shown_within_the_wait_goes_to_whatsapp(rounds, db, engine, settings, transport, stand_in,
                                                           appointment):
    agree(db)
    db.add(subscription("https://push.example.net/send/abc", user_id=person(db, "orangtua").id))
    db.commit()
    start = due_24h(db, appointment)
    rounds(engine, settings, transport, start)
    rounds(engine, settings, transport, start + timedelta(minutes=settings.ladder_push_wait_minutes - 1))
    assert stand_in.requests == []
    rounds(engine, settings, transport, start + timedelta(minutes=settings.ladder_push_wait_minutes))
    assert len(stand_in.of("whatsapp")) == 1


def test_signed_webhooks_mark_delivered_and_read_and_a_bad_signature_is_refused(rounds, db, engine, settings,
                                                                               transport, stand_in, appointment,
                                                                               client):
    agree(db)
    start = due_24h(db, appointment)
    rounds(engine, settings, transport, start)
    rounds(engine, settings, transport, start)
    [message] = stand_in.of("whatsapp")

    delivered = stand_in.status_webhook(message, "delivered")
    forged = client.post("/whatsapp/webhook", content=delivered,
                         headers={"X-Hub-Signature-256": stand_in.sign(delivered, "not-the-app-secret"),
                                  "Content-Type": "application/json"})
    unsigned = client.post("/whatsapp/webhook", content=delivered, headers={"Content-Type": "application/json"})
    assert (forged.status_code, unsigned.status_code) == (403, 403)
    assert parent_jobs(db, appointment)["whatsapp"].shown_at is None

    for status in ("sent", "delivered", "read"):
        body = stand_in.status_webhook(message, status)
        answer = client.post("/whatsapp/webhook", content=body,
                             headers={"X-Hub-Signature-256": stand_in.sign(body), "Content-Type": "application/json"})
        assert answer.status_code == 200
    job = parent_jobs(db, appointment)["whatsapp"]
    assert job.shown_at is not None
    assert job.seen_at is not None

    # Reached: no SMS, no call.
    rounds(engine, settings, transport, start + timedelta(hours=1))
    rounds(engine, settings, transport, appointment.starts_at - timedelta(hours=2))
    assert stand_in.of("sms") == []
    assert call_tasks(db) == []


def test_meta_checks_the_webhook_with_the_verify_token(client, settings):
    ok = client.get("/whatsapp/webhook", params={"hub.mode": "subscribe", "hub.verify_token": "kata-verifikasi",
                                                 "hub.challenge": "1158201444"})
    assert ok.status_code == 200
    assert ok.text == "1158201444"
    wrong = client.get("/whatsapp/webhook", params={"hub.mode": "subscribe", "hub.verify_token": "salah",
                                                    "hub.challenge": "1158201444"})
    assert wrong.status_code == 403
    assert "1158201444" not in wrong.text


@pytest.mark.parametrize("code", [429, 131056])
def test_a_rate_limit_is_retried_by_the_dispatcher(rounds, db, engine, settings, transport, stand_in, appointment,
                                                   code):
    agree(db)
    start = due_24h(db, appointment)
    stand_in.fail_next("whatsapp", code)
    rounds(engine, settings, transport, start, workers=1)  # push: no device
    worker.climb_ladder(engine, settings, now=start)
    stats = dispatcher.drain(engine, worker.make_sender(settings, session=transport), now=start)
    job = parent_jobs(db, appointment)["whatsapp"]
    assert stats.retried == 1
    assert job.status == JobStatus.PENDING
    assert job.due_at > start
    assert len(stand_in.requests) == 1
    assert stand_in.sent == []
    assert job.last_error.startswith("retry: 4")
    assert str(code) in job.last_error

    rounds(engine, settings, transport, job.due_at, workers=1)
    assert parent_jobs(db, appointment)["whatsapp"].status == JobStatus.SENT
    assert len(stand_in.of("whatsapp")) == 1


@pytest.mark.parametrize("how", ["text", "button"])
def test_berhenti_withdraws_the_agreement_and_nothing_more_is_sent(rounds, db, engine, settings, transport,
                                                                  stand_in, appointment, client, how):
    agree(db)
    body = (stand_in.text_webhook(E164, " Berhenti ") if how == "text"
            else stand_in.button_webhook(E164, "BERHENTI", "Berhenti"))
    answer = client.post("/whatsapp/webhook", content=body,
                         headers={"X-Hub-Signature-256": stand_in.sign(body), "Content-Type": "application/json"})
    assert answer.status_code == 200
    db.expire_all()
    [row] = db.execute(select(ChannelConsent)).scalars()
    assert row.withdrawn_at is not None
    assert row.withdrawn_how == ("berhenti" if how == "text" else "template")

    start = due_24h(db, appointment)
    for minutes in (0, 1, 40, 41):
        rounds(engine, settings, transport, start + timedelta(minutes=minutes))
    jobs = parent_jobs(db, appointment)
    assert jobs["whatsapp"].status == JobStatus.NO_DEVICE
    assert jobs["whatsapp"].last_error == "no consent for this channel"
    assert jobs["sms"].status == JobStatus.NO_DEVICE
    assert stand_in.requests == []


def test_whatsapp_and_sms_wait_for_the_morning(rounds, db, engine, settings, transport, stand_in, appointment):
    agree(db)
    start = due_24h(db, appointment)
    rounds(engine, settings, transport, start)
    rounds(engine, settings, transport, start)
    night = datetime.combine(start.astimezone(LOCAL).date(), time(22), tzinfo=LOCAL)
    job = parent_jobs(db, appointment)["whatsapp"]
    assert job.status == JobStatus.SENT  # sent in the day; now the SMS falls at night
    rounds(engine, settings, transport, night)
    sms = parent_jobs(db, appointment)["sms"]
    assert sms.status == JobStatus.PENDING
    assert sms.due_at.astimezone(LOCAL).hour == 7
    assert stand_in.of("sms") == []


def test_a_child_agrees_only_for_their_own_account(db):
    child = person(db, "anak")
    consent.agree(db, Visitor(user=child), number=NUMBER, whatsapp=True, sms=False)
    db.commit()
    assert consent.current(db, user_id=child.id, report_id=None).phone == E164
    assert consent.current(db, user_id=person(db, "orangtua").id, report_id=None) is None


def test_the_sms_gateway_reports_delivery_and_replies_with_its_token(rounds, db, engine, settings, transport,
                                                                     stand_in, appointment, client):
    agree(db, whatsapp=False)
    start = due_24h(db, appointment)
    for minutes in (0, 1, 2):
        rounds(engine, settings, transport, start + timedelta(minutes=minutes))
    [sms] = stand_in.of("sms")
    report = {"id": sms.message_id, "status": "delivered"}
    assert client.post("/sms/laporan", json=report).status_code == 403
    assert client.post("/sms/laporan", json=report, headers={"Authorization": "Bearer salah"}).status_code == 403
    assert parent_jobs(db, appointment)["sms"].shown_at is None
    good = {"Authorization": f"Bearer {settings.sms_gateway_token}"}
    assert client.post("/sms/laporan", json=report, headers=good).status_code == 200
    assert parent_jobs(db, appointment)["sms"].shown_at is not None

    assert client.post("/sms/laporan", json={"from": E164, "text": "berhenti"}, headers=good).status_code == 200
    db.expire_all()
    [row] = db.execute(select(ChannelConsent)).scalars()
    assert row.withdrawn_how == "sms"
    # Reached by SMS: no call.
    rounds(engine, settings, transport, appointment.starts_at - timedelta(hours=2))
    assert call_tasks(db) == []


@pytest.mark.both_databases
def test_purging_a_finished_push_job_takes_its_rungs_along(db, engine, appointment):
    old = appointment.starts_at - timedelta(days=120)
    root = NotificationJob(kind="reminder_24h", url="/x", topic="t", ladder=True, status=JobStatus.NO_DEVICE,
                           recipient_user_id=person(db, "orangtua").id, created_at=old, due_at=old)
    db.add(root)
    db.flush()
    db.add(NotificationJob(kind="reminder_24h", url="/x", topic="t", channel="sms", step_of_id=root.id,
                           status=JobStatus.SENT, recipient_user_id=root.recipient_user_id,
                           created_at=old + timedelta(days=40), due_at=old))
    db.commit()
    dispatcher.purge_finished(db, now=appointment.starts_at)
    db.commit()
    assert db.execute(select(func.count()).select_from(NotificationJob).where(
        NotificationJob.created_at < appointment.starts_at - timedelta(days=60))).scalar_one() == 0


def test_a_backlog_longer_than_a_round_climbs_round_after_round(rounds, db, engine, settings, transport,
                                                                appointment):
    other = appointment_for(db, counseling(db, name="Konseling keluarga"), confirmed=True, index=-2)
    agree(db)
    start = max(due_24h(db, appointment), due_24h(db, other))
    rounds(engine, settings, transport, start, workers=1)  # both pushes: no device
    wait, call_before = timedelta(minutes=30), timedelta(hours=3)
    for _ in range(2):  # a round of one: the first reminder waits for its WhatsApp, the second is not stuck behind
        ladder.climb(db, wait=wait, call_before=call_before, now=start, limit=1)
        db.commit()
    assert set(parent_jobs(db, appointment)) == set(parent_jobs(db, other)) == {"push", "whatsapp"}
