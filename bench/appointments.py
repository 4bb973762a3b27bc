"""Free-slot computation and booking under load: 32 connections, req/s and latency (issue 4).

    .venv/bin/python -m bench.appointments [--duration 10s] [--connections 32] [--database-url URL]

Fills a fresh database (SQLite in a temporary folder unless --database-url names an empty PostgreSQL
database) with the demo people, ten counselors on the demo weekly hours (a few on leave), the two demo service
types and a few hundred appointments already booked over the next four weeks, then starts the app and
drives it with wrk (Debian package `wrk`), a fresh app process for each load:

1. free slots: the htmx fragment /konseling?layanan=..[&dari=..&hari=..] that the booking page swaps in, for both
   service types and every week they can be booked, each connection signed in as another child;
2. booking: POST /konseling from many children (each at most MAX_OPEN_REQUESTS times, so the limit of open
   requests never refuses anyone), most at distinct free slots, every fifth slot wanted by four children at
   once. A 303 holds the slot; a 422 naming the slot field means someone else holds it.

Afterwards the database is asked whether two live appointments of one counselor overlap.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bench.wrk import Plan, Run, lua_string
from bench.wrk import run as wrk_run
from server import migrate
from server.accounts import auth
from server.accounts import service as accounts
from server.accounts.demo import DEMO_PASSWORD, has_people, seed_demo
from server.accounts.models import District, Role, User
from server.appointments.demo import seed_demo_schedule
from server.appointments.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    ServiceType,
    WeeklyHours,
)
from server.appointments.service import MAX_OPEN_REQUESTS
from server.appointments.slots import block_of, free_slots
from server.db import make_engine
from server.i18n import LOCAL
from tests.servers import app_process

COUNSELORS = 10
EXISTING = 400
# One slot in five is wanted by this many children at the same moment.
CONTENDED_EVERY = 5
CONTENDERS = 4
SLOT_WEEKS = 4
# Part of service.SlotTaken's message when the database refused the insert (Indonesian, the default language).
RACED_MESSAGE = "baru saja dipesan orang lain"
PROBE_SECONDS = 10.0


@dataclass(frozen=True)
class Fixture:
    service_type_ids: list[int]
    slot_paths: list[str]
    # (service type, start as the booking form sends it) in booking order, contended ones repeated; the service
    # assigns the counselor, so one start chosen for several counselors is booked that many times.
    targets: list[tuple[int, str]]
    contended: int
    children: list[User]
    tokens: list[str]  # one session token per child, in the order of `children`
    existing: int


def _add_counselors(session: Session, count: int) -> None:
    districts = list(session.execute(select(District).order_by(District.id)).scalars())
    have = session.execute(select(func.count()).select_from(User).where(User.role == Role.COUNSELOR)).scalar_one()
    for n in range(have, count):
        accounts.create_user(session, accounts.UserForm(
            username=f"konselor-bench-{n}", display_name=f"Konselor Bench {n}", role=Role.COUNSELOR,
            district_id=districts[n % len(districts)].id, password=DEMO_PASSWORD))


def _add_children(session: Session, prefix: str, count: int) -> list[User]:
    """Child accounts in bulk: one password hash for all, since argon2 per account would take half a minute."""
    password_hash = auth.hash_password(DEMO_PASSWORD)
    children = [User(username=f"{prefix}-{n}", display_name=f"Anak {n}", password_hash=password_hash,
                     role=Role.CHILD) for n in range(count)]
    session.add_all(children)
    session.flush()
    return children


def _book_existing(session: Session, rng: random.Random, now: datetime, counselors: list[int],
                   service_types: list[ServiceType], count: int) -> int:
    """Appointments already in the calendar over the next four weeks: mostly confirmed, some waiting for an
    answer, a few cancelled (which hold nothing). Placed where the counselor works and nothing overlaps."""
    hours = {(h.counselor_id, h.weekday): (h.starts, h.ends) for h in session.execute(select(WeeklyHours)).scalars()}
    busy: dict[int, list[tuple[datetime, datetime]]] = {c: [] for c in counselors}
    children = _add_children(session, "anak-lama", 60)
    today = now.astimezone(LOCAL).date()
    made = attempts = 0
    while made < count and attempts < count * 50:
        attempts += 1
        counselor = rng.choice(counselors)
        service_type = rng.choice(service_types)
        day = today + timedelta(days=rng.randint(1, 28))
        if (counselor, day.weekday()) not in hours:
            continue
        opens, closes = hours[counselor, day.weekday()]
        first = datetime.combine(day, opens, tzinfo=LOCAL)
        slots = int((datetime.combine(day, closes, tzinfo=LOCAL) - first).total_seconds() // 1800)
        starts_at = first + timedelta(minutes=30 * rng.randrange(slots))
        ends_at = starts_at + timedelta(minutes=service_type.duration_minutes)
        if ends_at.time() > closes or ends_at.date() != day:
            continue
        block_start, block_end = block_of(service_type, starts_at)
        if any(s < block_end and block_start < e for s, e in busy[counselor]):
            continue
        roll = rng.random()
        status = (AppointmentStatus.CONFIRMED if roll < 0.75 else
                  AppointmentStatus.REQUESTED if roll < 0.93 else AppointmentStatus.CANCELLED)
        live = status != AppointmentStatus.CANCELLED
        hold = min(now + timedelta(hours=24), starts_at) if status == AppointmentStatus.REQUESTED else None
        if live:
            busy[counselor].append((block_start, block_end))
        session.add(Appointment(
            counselor_id=counselor, service_type_id=service_type.id, starts_at=starts_at.astimezone(UTC),
            ends_at=ends_at.astimezone(UTC), block_start=block_start.astimezone(UTC),
            block_end=block_end.astimezone(UTC), status=status, is_live=live, hold_expires_at=hold,
            requester_user_id=rng.choice(children).id, created_at=now, updated_at=now,
            cancelled_by="requester" if not live else "",
        ))
        made += 1
    session.flush()
    return made


def _targets(session: Session, rng: random.Random, now: datetime,
             service_types: list[ServiceType]) -> tuple[list[tuple[int, str]], int]:
    """Free slots that do not overlap one another (a counselor's time is shared by both service types), in
    random order; every CONTENDED_EVERY-th is asked for by CONTENDERS children in a row."""
    # Starts inside the notice period by the time the load runs would be refused for another reason.
    later = now + timedelta(hours=1)
    candidates = []
    for service_type in service_types:
        days = service_type.max_days_ahead + 2
        for slots in free_slots(session, service_type, now=later, days=days).values():
            candidates += [(service_type, slot) for slot in slots]
    rng.shuffle(candidates)
    taken: dict[int, list[tuple[datetime, datetime]]] = {}
    chosen = []
    for service_type, slot in candidates:
        block = block_of(service_type, slot.starts_at)
        spans = taken.setdefault(slot.counselor_id, [])
        if any(s < block[1] and block[0] < e for s, e in spans):
            continue
        spans.append(block)
        chosen.append((service_type.id, str(int(slot.starts_at.timestamp()))))
    targets, contended = [], 0
    for n, target in enumerate(chosen):
        if n % CONTENDED_EVERY == 0:
            targets += [target] * CONTENDERS
            contended += 1
        else:
            targets.append(target)
    return targets, contended


def fill(url: str, counselors: int, existing: int) -> Fixture:
    engine = make_engine(url)
    migrate.upgrade(engine)
    rng = random.Random(20261201)
    now = datetime.now(UTC).replace(microsecond=0)
    with Session(engine, expire_on_commit=False) as session:
        if has_people(session):
            raise SystemExit("bench.appointments needs an empty database: this one already has people")
        seed_demo(session)
        _add_counselors(session, counselors)
        seed_demo_schedule(session)
        counselor_ids = list(session.execute(
            select(User.id).where(User.role == Role.COUNSELOR).order_by(User.id)).scalars())
        # Two counselors are away for a few days: leave is part of what free_slots subtracts.
        for counselor_id, first in zip(counselor_ids[-2:], (3, 10), strict=True):
            day = (now + timedelta(days=first)).astimezone(LOCAL).date()
            session.add(AvailabilityException(
                counselor_id=counselor_id, reason="leave",
                starts_at=datetime.combine(day, datetime.min.time(), tzinfo=LOCAL).astimezone(UTC),
                ends_at=datetime.combine(day + timedelta(days=3), datetime.min.time(), tzinfo=LOCAL).astimezone(UTC)))
        service_types = list(session.execute(select(ServiceType).order_by(ServiceType.id)).scalars())
        made = _book_existing(session, rng, now, counselor_ids, service_types, existing)
        session.commit()

        targets, contended = _targets(session, rng, now, service_types)
        # Each child asks at most MAX_OPEN_REQUESTS times, and never twice for one contended slot.
        children = _add_children(session, "anak-bench", -(-len(targets) // MAX_OPEN_REQUESTS) + CONTENDERS)
        tokens = [auth.start_session(session, child, ip="127.0.0.1") for child in children]
        session.commit()
        today = now.astimezone(LOCAL).date()
        slot_paths = []
        for service_type in service_types:
            for week in range(SLOT_WEEKS):
                if week * 7 > service_type.max_days_ahead:
                    break
                query = {"layanan": service_type.id}
                if week:
                    query["dari"] = query["hari"] = (today + timedelta(days=7 * week)).isoformat()
                slot_paths.append(f"/konseling?{urlencode(query)}")
    engine.dispose()
    return Fixture([t.id for t in service_types], slot_paths, targets, contended, children, tokens, made)


# --- wrk ---------------------------------------------------------------------------------------------------

# An answer is held (200/303), taken (422 with the slot's error; "raced" when the database's overlap rule refused
# the insert after the free-slot check had passed), refused (another 422), or failed.
RESPONSE_LUA = r"""
function response(status, headers, body)
  if status == 200 or status == 303 then ok = ok + 1
  elseif status == 422 and string.find(body, 'id="error-slot"', 1, true) then
    taken = taken + 1
    if string.find(body, RACED, 1, true) then raced = raced + 1 end
  elseif status == 422 then refused = refused + 1
  else failed = failed + 1 end
end
"""
COUNTS = ["ok", "taken", "raced", "refused", "failed"]


def wrk(base: str, plan: Plan, folder: Path, name: str, *, threads: int, connections: int, duration: str) -> Run:
    return wrk_run(base, plan, folder / f"{name}.lua", counts=COUNTS,
                   response_lua=f"RACED = {lua_string(RACED_MESSAGE)}\n" + RESPONSE_LUA,
                   threads=threads, connections=connections, duration=duration)


# --- the run -----------------------------------------------------------------------------------------------


def _cookie(token: str, csrf_cookie: str) -> str:
    return f"{auth.SESSION_COOKIE}={token}; bc_csrf={csrf_cookie}"


def _answers_within(base: str, path: str, cookie: str, seconds: float) -> float | None:
    """Seconds until the app answers one more request right after wrk stopped, or None if it does not answer in
    time. A healthy app clears what wrk left in flight within a second or two; a stalled one does not answer."""
    started = time.perf_counter()
    try:
        httpx.get(base + path, headers={"Cookie": cookie, "HX-Request": "true"}, timeout=seconds).raise_for_status()
    except httpx.TimeoutException:
        return None
    return time.perf_counter() - started


def overlaps(url: str) -> int:
    """Pairs of live appointments of one counselor whose blocks (buffers included) overlap."""
    engine = make_engine(url)
    a, b = aliased(Appointment), aliased(Appointment)
    with Session(engine) as session:
        count = session.execute(select(func.count()).select_from(a).join(b, and_(
            a.counselor_id == b.counselor_id, a.id < b.id, a.is_live, b.is_live,
            a.block_start < b.block_end, b.block_start < a.block_end))).scalar_one()
    engine.dispose()
    return count


def booked_by(url: str, children: list[User]) -> tuple[int, int]:
    """Live requests the bench's children hold, and the most any one child holds."""
    engine = make_engine(url)
    ids = [child.id for child in children]
    with Session(engine) as session:
        per_child = session.execute(
            select(func.count()).select_from(Appointment)
            .where(Appointment.requester_user_id.in_(ids), Appointment.is_live)
            .group_by(Appointment.requester_user_id)).scalars().all()
    engine.dispose()
    return sum(per_child), max(per_child, default=0)


def main(argv: list[str] | None = None) -> int:
    """Run both loads and print the table; 1 when a problem was found (printed), else 0."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--duration", default="10s", help="of each wrk run, as wrk takes it (10s, 1m)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--counselors", type=int, default=COUNSELORS)
    parser.add_argument("--existing", type=int, default=EXISTING, help="appointments already booked")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench.appointments needs wrk (Debian package: wrk; `make wrk` installs it as root)")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
        started = time.perf_counter()
        fixture = fill(url, args.counselors, args.existing)
        print(f"filled in {time.perf_counter() - started:.1f} s ({url.split(':')[0]}): {args.counselors} counselors, "
              f"{len(fixture.service_type_ids)} service types, {fixture.existing} appointments already booked, "
              f"{len(fixture.children)} children signed in")
        # A fresh app process for each load, so that one run's backlog never slows the next.
        with app_process(url, folder) as base, httpx.Client(base_url=base) as client:
            page = client.get("/masuk")
            csrf_token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            cookies = [_cookie(token, client.cookies["bc_csrf"]) for token in fixture.tokens]
            # Free slots: each connection a different signed-in child, each path a service type and week.
            slot_plan = [("GET", path, {"Cookie": cookie, "HX-Request": "true", "HX-Target": "slots"}, None)
                         for cookie in cookies[:args.connections] for path in fixture.slot_paths]
            check = client.get(fixture.slot_paths[0], headers={"Cookie": cookies[0], "HX-Request": "true"})
            assert check.status_code == 200 and 'name="slot"' in check.text and "<html" not in check.text, \
                check.status_code
            slots = wrk(base, slot_plan, folder, "slots", threads=args.threads, connections=args.connections,
                        duration=args.duration)
            slots_after = _answers_within(base, fixture.slot_paths[0], cookies[0], PROBE_SECONDS)

        with app_process(url, folder) as base:
            # Child n % len(children) asks for target n, so no child goes over MAX_OPEN_REQUESTS and the
            # CONTENDERS children in a row who want one slot are different children.
            booking_plan = []
            for n, (service_type_id, key) in enumerate(fixture.targets):
                # A phone session needs a number to call; other services ignore it.
                body = urlencode({"_csrf_token": csrf_token, "layanan": service_type_id, "slot": key,
                                  "note": "Ingin bercerita soal sekolah.", "phone_number": "0812 3456 7890"})
                headers = {"Cookie": cookies[n % len(cookies)], "Content-Type": "application/x-www-form-urlencoded"}
                booking_plan.append(("POST", "/konseling", headers, body))
            booking = wrk(base, booking_plan, folder, "booking", threads=args.threads,
                          connections=args.connections, duration=args.duration)
            booking_after = _answers_within(base, fixture.slot_paths[0], cookies[0], PROBE_SECONDS)

        held, most = booked_by(url, fixture.children)
        overlapping = overlaps(url)

    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration} --latency, one app process "
          f"(uvicorn, one worker) for each load")
    print(f"\n{'load':<34} {'answers':>8} {'req/s':>8} {'p50 ms':>8} {'p75 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
    for label, run in (("free slots, htmx fragment (GET)", slots), ("booking (POST /konseling)", booking)):
        shares = "".join(f" {run.percentiles[share]:>8.1f}" if run.requests else f" {'-':>8}"
                         for share in ("50%", "75%", "90%", "99%"))
        print(f"{label:<34} {run.requests:>8} {run.requests_per_second:>8.1f}{shares}")
    c = booking.counts

    def after(seconds: float | None) -> str:
        return f"answered again {seconds:.1f} s after wrk stopped" if seconds is not None else \
            f"NO answer within {PROBE_SECONDS:.0f} s after wrk stopped"

    print(f"\nfree slots: {slots.counts['ok']} answered 200, {slots.failed} failed or timed out; {after(slots_after)}")
    distinct = len(fixture.targets) - fixture.contended * (CONTENDERS - 1)
    print(f"booking plan: {distinct} distinct free slots, {fixture.contended} of them wanted by {CONTENDERS} children "
          f"in a row ({len(fixture.targets)} requests)")
    print(f"booking: held {c['ok']}, refused (slot taken) {c['taken']}, of which by the database's overlap rule "
          f"{c['raced']}, refused (other) {c['refused']}, failed or timed out {booking.failed}")
    if c["wrapped"]:
        print(f"  the plan ran out {c['wrapped']} time(s): later requests asked again for slots already held")
    # wrk stops with up to one request per connection in flight: those may be held without wrk seeing the 303.
    print(f"  {after(booking_after)}")
    print(f"held in the database: {held} (most by one child: {most}, limit {MAX_OPEN_REQUESTS})")
    print(f"overlaps: {overlapping}")
    problems = []
    for label, run, after in (("free slots", slots, slots_after), ("booking", booking, booking_after)):
        if after is None:
            problems.append(f"{label}: the app did not answer a request within {PROBE_SECONDS:.0f} s after the load "
                            f"stopped ({run.requests} answers during it): it stalled")
        if run.failed:
            problems.append(f"{label}: {run.failed} requests failed or timed out")
    if not 0 <= held - c["ok"] <= args.connections:
        problems.append(f"booking: wrk saw {c['ok']} held but the database holds {held}")
    if overlapping:
        problems.append(f"{overlapping} overlapping live appointments")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
