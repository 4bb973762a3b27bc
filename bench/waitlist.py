"""How long the worker's waiting-list round takes with N people waiting and nothing free: once when the schedule
changed (the search for free time runs) and once when nothing did (the round stops after its cheap checks).

    .venv/bin/python -m bench.waitlist --waiting 100
"""
import argparse
import tempfile
import time as t
from datetime import UTC, datetime, time, timedelta

import time_machine
from sqlalchemy import select
from sqlmodel import Session

from server import migrate
from server.accounts import demo
from server.accounts.models import User
from server.appointments.models import Appointment, AppointmentStatus, ServiceType, WeeklyHours
from server.appointments.slots import free_slots
from server.db import make_engine
from server.waitlist import service
from server.waitlist.models import WaitlistEntry

NOW = datetime(2026, 12, 1, 1, 17, tzinfo=UTC)
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--waiting", type=int, default=100)
ARGS = parser.parse_args()
with time_machine.travel(NOW, tick=False):
    d = tempfile.mkdtemp()
    engine = make_engine(f"sqlite:///{d}/b.sqlite3")
    migrate.upgrade(engine)
    with Session(engine) as s:
        demo.seed_demo(s); s.commit()
        st = ServiceType(name="x", duration_minutes=60, buffer_after_minutes=15, min_notice_hours=24, max_days_ahead=30)
        s.add(st); s.flush()
        ids = [u.id for u in s.execute(select(User).where(User.username.in_(["konselor", "konselor2"]))).scalars()]
        for c in ids:
            s.add_all(WeeklyHours(counselor_id=c, weekday=w, starts=time(8), ends=time(12)) for w in range(5))
        s.flush()
        last = {}
        for slot in sorted([x for day in free_slots(s, st, now=NOW, days=32).values() for x in day], key=lambda x: (x.counselor_id, x.starts_at)):
            if last.get(slot.counselor_id) and slot.starts_at < last[slot.counselor_id]:
                continue
            last[slot.counselor_id] = slot.ends_at + timedelta(minutes=15)
            s.add(Appointment(counselor_id=slot.counselor_id, service_type_id=st.id, starts_at=slot.starts_at, ends_at=slot.ends_at,
                              block_start=slot.starts_at, block_end=slot.ends_at + timedelta(minutes=15), status=AppointmentStatus.CONFIRMED))
        parent = s.execute(select(User).where(User.username == "orangtua")).scalar_one()
        n = ARGS.waiting
        s.add_all(WaitlistEntry(service_type_id=st.id, requester_user_id=parent.id, expires_at=NOW + timedelta(days=42)) for _ in range(n))
        s.commit()
    for label, always in (("scan (schedule changed)", True), ("nothing changed", False)):
        with Session(engine) as s:
            service.offer_round(s, always=True); s.commit()  # warm
        runs = []
        for _ in range(5):
            with Session(engine) as s:
                a = t.perf_counter(); service.offer_round(s, always=always); s.commit(); runs.append(t.perf_counter() - a)
        print(f"{n} waiting, {label}: median {sorted(runs)[2]*1000:.1f} ms")
