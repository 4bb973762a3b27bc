"""The dispatcher's throughput with the channel ladder on (issue 26): N requesters whose day-before reminder is due,
none with a push device, all with a WhatsApp+SMS agreement, against the local Cloud API / SMS gateway stand-in
(tests/messaging.py).

    .venv/bin/python -m bench.ladder [--reminders 1000] [--database-url URL]

One round after another, as `bintang worker` runs them: the dispatcher drains the due push reminders (no device:
they end at once), the ladder climbs (a WhatsApp rung each), the dispatcher sends them to the stand-in; then, past
LADDER_PUSH_WAIT_MINUTES with nothing delivered, the ladder climbs to SMS and the dispatcher sends those. Prints,
per phase and in all, the jobs the dispatcher finished per minute and the rungs the ladder wrote per minute, and
checks the result: every reminder has exactly one WhatsApp and one SMS rung, and the stand-in got each once. The
stand-in runs in the same process on the same cores: compare phases and databases of one run.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlmodel import Session

from server import clock, migrate, worker
from server.accounts.demo import seed_demo
from server.accounts.models import Role, User
from server.appointments.models import Appointment, AppointmentStatus, ServiceType
from server.db import make_engine
from server.i18n import LOCAL
from server.notifications import dispatcher
from server.notifications.models import ChannelConsent, JobStatus, NotificationJob
from server.settings import Settings
from tests.messaging import messaging_stand_in

COUNSELORS = 40
SPACING = timedelta(minutes=75)
KIND = "reminder_24h"


def fill(engine, count: int) -> None:
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed_demo(session)
        service_type = ServiceType(name="Konseling individu (bench)", duration_minutes=60, buffer_after_minutes=15)
        session.add(service_type)
        session.commit()
        service_type_id = service_type.id
    now = clock.now().replace(microsecond=0)
    # Sessions a day ahead, in WITA's working hours or not: the rungs are sent whatever the hour (see main).
    first = now + timedelta(hours=30)
    person = dict(password_hash="-", active=True, created_at=now)
    with engine.begin() as connection:
        connection.execute(insert(User), [dict(username=f"bench-counselor-{n}", display_name="c", role=Role.COUNSELOR,
                                               **person) for n in range(COUNSELORS)])
        connection.execute(insert(User), [dict(username=f"bench-parent-{n}", display_name="p", role=Role.PARENT,
                                               **person) for n in range(count)])
        ids = dict(connection.execute(select(User.username, User.id).where(User.username.like("bench-%"))).all())
        connection.execute(insert(Appointment), [dict(
            created_at=now, updated_at=now, version=2, counselor_id=ids[f"bench-counselor-{n % COUNSELORS}"],
            service_type_id=service_type_id, starts_at=first + SPACING * (n // COUNSELORS),
            ends_at=first + SPACING * (n // COUNSELORS) + timedelta(hours=1),
            block_start=first + SPACING * (n // COUNSELORS), block_end=first + SPACING * (n // COUNSELORS + 1),
            status=AppointmentStatus.CONFIRMED, is_live=True, requester_user_id=ids[f"bench-parent-{n}"],
            child_agreed="", note="(bench)", decline_reason="", cancelled_by="", cancel_reason="")
            for n in range(count)])
        connection.execute(insert(ChannelConsent), [dict(
            user_id=ids[f"bench-parent-{n}"], phone=f"+62812{n:08d}", whatsapp=True, sms=True,
            show_service_name=False, agreed_at=now, withdrawn_how="") for n in range(count)])
        rows = connection.execute(select(Appointment.id, Appointment.requester_user_id, Appointment.starts_at,
                                         Appointment.version).where(Appointment.note == "(bench)")).all()
        connection.execute(insert(NotificationJob), [dict(
            kind=KIND, recipient_user_id=user_id, url=f"/konseling/{appointment_id}",
            topic=f"appt-{appointment_id}-{KIND}", urgency="normal", object_type="appointment",
            object_id=appointment_id, object_version=version, event_at=starts_at, status=JobStatus.PENDING,
            due_at=now - timedelta(seconds=1), created_at=now, attempts=0, last_error="", claimed_by="", ladder=True,
            channel="push", provider_id="") for appointment_id, user_id, starts_at, version in rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reminders", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    count = args.reminders

    with tempfile.TemporaryDirectory() as tmp, messaging_stand_in() as stand_in:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        settings = replace(Settings(), database_url=url, data_dir=Path(tmp) / "var", dispatcher="off",
                           **stand_in.whatsapp_settings, **stand_in.sms_settings)
        engine = make_engine(url)
        fill(engine, count)
        backend = engine.dialect.name
        version = (sqlite3.sqlite_version if backend == "sqlite"
                   else ".".join(map(str, engine.dialect.server_version_info or ())))
        sender = worker.make_sender(settings)
        # The quiet hours hold WhatsApp and SMS until 07.00 WITA: each phase runs at a daytime moment (_daytime).
        moments = {"push (no device)": None, "whatsapp": None,
                   "sms": timedelta(minutes=settings.ladder_push_wait_minutes + 1)}
        rows = []
        total_jobs, total_seconds = 0, 0.0
        for phase, later in moments.items():
            now = _daytime(clock.now() + (later or timedelta()))
            started = time.perf_counter()
            climbed = _climb_all(engine, settings, now) if phase != "push (no device)" else None
            climbed_at = time.perf_counter()
            stats = dispatcher.drain(engine, sender, now=now)
            ended = time.perf_counter()
            finished = stats.sent + stats.no_device + stats.failed
            rows.append((phase, (climbed.whatsapp + climbed.sms) if climbed else 0, climbed_at - started, finished,
                         ended - climbed_at))
            total_jobs += finished
            total_seconds += ended - started
        with Session(engine) as session:
            rungs = dict(session.execute(select(NotificationJob.channel, func.count()).where(
                NotificationJob.step_of_id.is_not(None)).group_by(NotificationJob.channel)).all())
        assert rungs == {"whatsapp": count, "sms": count}, rungs
        assert len(stand_in.of("whatsapp")) == count and len(stand_in.of("sms")) == count
        engine.dispose()

    print(f"{count:,} laddered reminders, {backend} {version}, Python {platform.python_version()}")
    print(f"\n{'phase':<20} {'rungs written':>14} {'climb s':>8} {'jobs sent':>10} {'send s':>7} {'jobs/min':>10}")
    for phase, written, climb_s, finished, send_s in rows:
        print(f"{phase:<20} {written:>14,} {climb_s:>8.2f} {finished:>10,} {send_s:>7.2f} "
              f"{finished / send_s * 60 if send_s else 0:>10,.0f}")
    print(f"{'all, climbs included':<20} {'':>14} {'':>8} {total_jobs:>10,} {total_seconds:>7.2f} "
          f"{total_jobs / total_seconds * 60:>10,.0f}")


def _climb_all(engine, settings: Settings, now: datetime):
    """Climbing rounds until one writes nothing (a round takes at most 500 reminders)."""
    total = worker.climb_ladder(engine, settings, now=now)
    while True:
        more = worker.climb_ladder(engine, settings, now=now)
        if not (more.whatsapp or more.sms or more.last_resort):
            return total
        total.whatsapp, total.sms, total.last_resort = (total.whatsapp + more.whatsapp, total.sms + more.sms,
                                                        total.last_resort + more.last_resort)


def _daytime(moment):
    """`moment`, or the next 10.00 WITA when it falls in the quiet hours (21.00–07.00 local time)."""
    local = moment.astimezone(LOCAL)
    if 7 <= local.hour < 21:
        return moment
    day = local.date() if local.hour < 7 else local.date() + timedelta(days=1)
    return datetime.combine(day, dtime(10), tzinfo=LOCAL).astimezone(moment.tzinfo)


if __name__ == "__main__":
    main()
