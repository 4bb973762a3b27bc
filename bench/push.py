"""2,000 due reminders sent to a real local push service by one dispatcher, against a bare pywebpush loop
(issue 5).

    .venv/bin/python -m bench.push [--messages 2000] [--database-url URL]

Fills a fresh database (SQLite in a temporary folder unless --database-url names an empty PostgreSQL database)
with the demo people plus, for each message, one parent with one device and one confirmed appointment whose
reminder is due (the common case: one phone per person). Every device is a client of web-push-testing
(tests/pushservice.py), which checks each VAPID signature and decrypts each message as a browser would.

Then, in the same run and against the same push service:
1. dispatcher: `dispatcher.drain` with one Sender (worker.make_sender): claims in batches, checks each job
   still applies, looks up the device, encrypts, signs, sends, records the outcome;
2. bare: a loop of `pywebpush.webpush(...)` over the same devices with the same payloads, VAPID key and headers,
   over one requests.Session, recording nothing; once before and once after the dispatcher, and averaged.
All runs are checked at the push service: every device must hold exactly the three expected payloads.

Prints messages per second for both, the ratio dispatcher/bare, and the dispatcher's own cost per message
(its time minus the bare loop's, divided by the number of messages). The push service runs on the same cores:
compare the two rows of one run, not runs on different machines.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import requests
from pywebpush import webpush
from sqlalchemy import func, insert, select
from sqlmodel import Session

from server import clock, migrate, worker
from server.accounts.demo import seed_demo
from server.accounts.models import Role, User
from server.appointments.models import Appointment, AppointmentStatus, ServiceType
from server.db import make_engine
from server.notifications import dispatcher
from server.notifications.models import JobStatus, NotificationJob, PushSubscription
from server.notifications.push import Device, load_vapid, opaque_topic, payload, public_key, topic_key
from server.settings import Settings
from tests.pushservice import Client, PushService, push_service

COUNSELORS = 40
SESSION = timedelta(minutes=60)
SPACING = timedelta(minutes=75)  # session plus buffer: a counselor's appointments never overlap
KIND = "reminder_24h"
CHUNK = 1000
WARM_UP = 20


@dataclass(frozen=True)
class Message:
    """One due reminder: the device it goes to and what that device must show."""

    device: Client
    data: bytes
    topic: str
    ttl: int


def _person(username: str, role: str, now: datetime) -> dict[str, object]:
    # Nobody signs in during the bench, so no real password hash is needed.
    return dict(username=username, display_name=username, password_hash="-", role=role, active=True, created_at=now)


def fill(engine, push: PushService, settings: Settings, count: int) -> list[Message]:
    """The demo people, `count` parents each with one device and one confirmed appointment in the next three days,
    and each appointment's day-before reminder due (a backlog, as after the worker was down)."""
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed_demo(session)
        service_type = ServiceType(name="Konseling individu (bench)", duration_minutes=60, buffer_after_minutes=15)
        session.add(service_type)
        session.commit()
        service_type_id = service_type.id
    key = public_key(load_vapid(settings))
    devices = [push.subscribe(key) for _ in range(count)]
    now = clock.now().replace(microsecond=0)
    messages: list[Message] = []
    with engine.begin() as connection:
        connection.execute(insert(User), [_person(f"bench-counselor-{n}", Role.COUNSELOR, now)
                                          for n in range(COUNSELORS)])
        connection.execute(insert(User), [_person(f"bench-parent-{n}", Role.PARENT, now) for n in range(count)])
        ids = dict(connection.execute(select(User.username, User.id).where(User.username.like("bench-%"))).all())
        for start in range(0, count, CHUNK):
            appointments, subscriptions = [], []
            for n in range(start, min(start + CHUNK, count)):
                starts_at = now + timedelta(hours=2) + SPACING * (n // COUNSELORS)
                appointments.append(dict(
                    created_at=now, updated_at=now, version=2, counselor_id=ids[f"bench-counselor-{n % COUNSELORS}"],
                    service_type_id=service_type_id, starts_at=starts_at, ends_at=starts_at + SESSION,
                    block_start=starts_at, block_end=starts_at + SPACING, status=AppointmentStatus.CONFIRMED,
                    is_live=True, requester_user_id=ids[f"bench-parent-{n}"], child_agreed="", note="(bench)",
                    decline_reason="", cancelled_by="", cancel_reason=""))
                subscriptions.append(dict(
                    endpoint=devices[n].endpoint, p256dh=devices[n].p256dh, auth=devices[n].auth,
                    user_id=ids[f"bench-parent-{n}"], language="id", device="Android · Chrome", created_at=now,
                    last_seen_at=now))
            connection.execute(insert(Appointment), appointments)
            connection.execute(insert(PushSubscription), subscriptions)
        appointment_rows = connection.execute(
            select(Appointment.id, Appointment.requester_user_id, Appointment.starts_at, Appointment.version)
            .where(Appointment.note == "(bench)").order_by(Appointment.id)).all()
        device_of = {ids[f"bench-parent-{n}"]: devices[n] for n in range(count)}
        jobs = []
        for n, (appointment_id, user_id, starts_at, version) in enumerate(appointment_rows):
            url, topic = f"/konseling/{appointment_id}", f"appt-{appointment_id}-{KIND}"
            # A backlog: each reminder came due a moment ago (in the order the dispatcher takes them).
            jobs.append(dict(kind=KIND, recipient_user_id=user_id, url=url, topic=topic, urgency="normal",
                             object_type="appointment", object_id=appointment_id, object_version=version,
                             status=JobStatus.PENDING, due_at=now - timedelta(seconds=count - n), created_at=now,
                             attempts=0, last_error="", claimed_by=""))
            # What the dispatcher puts on the wire: the topic as the keyed hash for this device (push.opaque_topic).
            tag = opaque_topic(topic_key(settings.secret_key), topic, device_of[user_id].endpoint)
            messages.append(Message(device_of[user_id], payload(KIND, url, tag, "id"), tag,
                                    dispatcher.ttl_for(starts_at, now)))
        connection.execute(insert(NotificationJob), jobs)
    return messages


def bare_loop(settings: Settings, messages: list[Message]) -> float:
    """What a script calling pywebpush for each message does: sign, encrypt, post over one kept connection."""
    vapid = load_vapid(settings)
    with requests.Session() as http:
        started = time.perf_counter()
        for message in messages:
            webpush(message.device.subscription, data=message.data, vapid_private_key=vapid,
                    vapid_claims={"sub": settings.vapid_subject}, ttl=message.ttl,
                    timeout=settings.push_timeout_seconds,
                    headers={"Content-Type": "application/octet-stream", "Urgency": "normal", "Topic": message.topic},
                    requests_session=http)
        return time.perf_counter() - started


def warm_up(push: PushService, settings: Settings) -> None:
    """Open connections, load the key and the code paths of both senders before anything is timed."""
    device = push.subscribe(public_key(load_vapid(settings)))
    data = payload(KIND, "/", "warm-up", "id")
    sender = worker.make_sender(settings)
    for _ in range(WARM_UP):
        outcome = sender.send(Device(device.endpoint, device.p256dh, device.auth), data, ttl=60, urgency="normal",
                              topic="warm-up")
        assert outcome.delivered, outcome
    bare_loop(settings, [Message(device, data, "warm-up", 60)] * WARM_UP)
    assert len(push.messages(device)) == 2 * WARM_UP


def verify(push: PushService, messages: list[Message]) -> None:
    """Every device got exactly the expected payload three times: from the dispatcher and both bare loops."""
    wrong = [m.device.client_hash for m in messages
             if [json.loads(text) for text in push.messages(m.device)] != [json.loads(m.data)] * 3]
    assert not wrong, f"{len(wrong)} device(s) did not receive all three messages, e.g. {wrong[0]}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp, push_service() as push:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        settings = replace(Settings(), database_url=url, data_dir=Path(tmp) / "var", dispatcher="off",
                           push_allowed_hosts=(push.host,))
        engine = make_engine(url)
        started = time.perf_counter()
        messages = fill(engine, push, settings, args.messages)
        backend = engine.dialect.name
        version = (sqlite3.sqlite_version if backend == "sqlite"
                   else ".".join(map(str, engine.dialect.server_version_info or ())))
        print(f"{len(messages):,} parents subscribed at the push service, appointments and due reminders written "
              f"in {time.perf_counter() - started:.1f} s ({backend} {version}, Python {platform.python_version()})")
        warm_up(push, settings)

        # The bare loop runs before and after the dispatcher, so neither side gets the push service fresher.
        bare_before = bare_loop(settings, messages)
        sender = worker.make_sender(settings)
        started = time.perf_counter()
        stats = dispatcher.drain(engine, sender, lease_seconds=settings.dispatch_lease_seconds,
                                 max_attempts=settings.push_max_attempts)
        dispatched = time.perf_counter() - started
        assert (stats.claimed, stats.sent) == (len(messages), len(messages)), stats
        with Session(engine) as session:
            done = session.execute(select(func.count()).select_from(NotificationJob)
                                   .where(NotificationJob.status == JobStatus.SENT)).scalar_one()
        assert done == len(messages), done
        bare_after = bare_loop(settings, messages)
        verify(push, messages)
        engine.dispose()

    count = len(messages)
    bare = (bare_before + bare_after) / 2
    print(f"\n{'sender':<44} {'seconds':>8} {'messages/s':>11} {'ms/message':>11}")
    for label, seconds in (("bare pywebpush.webpush loop, before", bare_before),
                           ("dispatcher.drain, one Sender", dispatched),
                           ("bare pywebpush.webpush loop, after", bare_after)):
        print(f"{label:<44} {seconds:>8.2f} {count / seconds:>11.0f} {seconds / count * 1000:>11.2f}")
    print(f"\nratio dispatcher/bare (messages/s, bare = mean of both loops): {bare / dispatched:.2f}")
    print(f"dispatcher overhead per message: {(dispatched - bare) / count * 1000:.2f} ms "
          "(claiming, checking the appointment, finding the device, recording the outcome)")
    print(f"the push service received and decrypted all {3 * count:,} messages ({count:,} devices checked)")


if __name__ == "__main__":
    main()
