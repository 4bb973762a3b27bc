"""Inbox and follow-up latency with 100,000 reports in the database (issue 3).

    .venv/bin/python -m bench.reports [--reports 100000] [--requests 300] [--database-url URL]

Fills a fresh database (SQLite in a temporary folder unless --database-url names an empty PostgreSQL
database), starts one app process, and times sequential requests from one client: the counselor inbox (first
page, a filtered page, a deep keyset page), a case page, and the code holder's follow-up page. Prints median
and p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select
from sqlmodel import Session

from server import migrate
from server.accounts import auth
from server.accounts.demo import DEMO_PASSWORD, seed_demo
from server.accounts.models import District, User
from server.db import make_engine
from server.reports import codes
from server.reports.models import FAR_FUTURE, Category, Report, ReportCategory, Status, Urgency
from tests.servers import app_process

CHUNK = 5000


def fill(url: str, count: int) -> tuple[str, str]:
    """Insert `count` reports spread over districts, urgencies and states; returns one report's code and PIN."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    rng = random.Random(20261130)
    with Session(engine) as session:
        seed_demo(session)
        session.commit()
        districts = list(session.execute(select(District.id)).scalars())
        counselors = list(session.execute(select(User.id).where(User.role == "counselor")).scalars())
    pin_hash = auth.hash_password("123456")
    now = datetime.now(UTC).replace(microsecond=0)
    statuses = [Status.SUBMITTED, Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.MONITORING,
                Status.CLOSED, Status.CLOSED, Status.CLOSED]
    categories = list(Category)
    known_code = ""
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            reports, links = [], []
            for n in range(start, min(start + CHUNK, count)):
                code, _pin = codes.make_code_and_pin()
                known_code = known_code or code
                urgency = rng.choice(list(Urgency))
                status = rng.choice(statuses)
                created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
                due = created + timedelta(days=3)
                district = rng.choice(districts)
                reports.append(dict(
                    id=n + 1, created_at=created, updated_at=created, version=1, code_hash=codes.code_hash(code),
                    pin_hash=pin_hash, reporter_kind="child", danger_now=urgency == Urgency.EMERGENCY,
                    urgency=urgency.value, urgency_rank=urgency.rank, district_id=district, team_district_id=district,
                    child_words="(bench)", how_learned="", closed_reason="", status=status.value,
                    is_open=status != Status.CLOSED, first_response_due_at=due,
                    next_due_at=due if status != Status.CLOSED else FAR_FUTURE,
                    assigned_to_id=rng.choice(counselors) if status not in (Status.SUBMITTED, Status.TRIAGED) else None,
                    contact_method="app", suspected_spam=False,
                ))
                links.append(dict(report_id=n + 1, category=rng.choice(categories).value))
            connection.execute(insert(Report), reports)
            connection.execute(insert(ReportCategory), links)
    engine.dispose()
    return codes.format_code(known_code), "123456"


def timed(client: httpx.Client, url: str, requests: int) -> tuple[float, float]:
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        started = time.perf_counter()
        code, pin = fill(url, args.reports)
        print(f"filled {args.reports:,} reports in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
        with app_process(url, Path(tmp)) as base, httpx.Client(base_url=base) as staff, \
                httpx.Client(base_url=base) as holder:
            token = re.search(r'name="_csrf_token" value="([^"]+)"', staff.get("/masuk").text).group(1)
            staff.post("/masuk", data={"_csrf_token": token, "username": "supervisor", "password": DEMO_PASSWORD})
            deep = "/kasus/"
            for _ in range(20):  # follow the keyset cursor 20 pages deep
                match = re.search(r'hx-get="(/kasus/\?[^"]*setelah=[^"]+)"', staff.get(deep).text)
                deep = match.group(1).replace("&amp;", "&") if match else deep
            token = re.search(r'name="_csrf_token" value="([^"]+)"', holder.get("/cek").text).group(1)
            holder.post("/cek", data={"_csrf_token": token, "code": code, "pin": pin})
            rows = [
                ("inbox, first page (supervisor)", staff, "/kasus/"),
                ("inbox, filtered: sexual violence, one district", staff, "/kasus/?kategori=sexual&kecamatan=1"),
                ("inbox, 21st page by keyset cursor", staff, deep),
                ("inbox, htmx fragment", staff, "/kasus/?status=open"),
                ("case page", staff, "/kasus/1"),
                ("follow-up page (code holder)", holder, "/cek/laporan"),
            ]
            print(f"\n{'page':<48} {'median ms':>10} {'p99 ms':>8}")
            for label, client, path in rows:
                median, p99 = timed(client, path, args.requests)
                print(f"{label:<48} {median:>10.1f} {p99:>8.1f}")


if __name__ == "__main__":
    main()
