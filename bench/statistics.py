"""Statistics queries with 100,000 reports in the database (issue 14).

    .venv/bin/python -m bench.statistics [--reports 100000] [--runs 7]
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/benchstats .venv/bin/python -m bench.statistics

Fills a fresh SQLite file (and, when BENCH_DATABASE_URL names an empty PostgreSQL database, that too) with
reports spread over the last year, every second one with a perpetrator and every third with a service, then
times the statistics of this year as a supervisor (every team) and as a counselor (one team) three ways: counted
from nothing (a process that has remembered no month), with nothing changed since the last count (twelve months
remembered), right after a report of this month changed (that month counted again, the rest remembered), and as the
first visit after a restart (the year counted in the background at start, server/statistics/warm.py); then
the month's SIMFONI list, the KLA pack, and reading every row of the year for an export. Prints the median of the runs in
milliseconds. The database calls are timed directly, without HTTP; then the whole /statistik/ page is timed
through Litestar's test client, signed in as the demo supervisor.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import statistics as stats
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from litestar.testing import TestClient
from sqlalchemy import insert, select, text
from sqlmodel import Session

from server import migrate, process_cache
from server.accounts.demo import DEMO_PASSWORD, seed_demo
from server.accounts.models import District, User
from server.app import create_app
from server.db import make_engine
from server.reports import simfoni
from server.reports.models import FAR_FUTURE, CaseService, Category, Perpetrator, Report, ReportCategory, Status
from server.settings import Settings
from server.statistics import export, service, warm

CHUNK = 5000


def fill(url: str, count: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    rng = random.Random(20261204)
    with Session(engine) as session:
        seed_demo(session)
        session.commit()
        districts = list(session.execute(select(District.id)).scalars())
        staff = session.execute(select(User.id).where(User.username == "supervisor")).scalar_one()
    now = datetime.now(UTC).replace(microsecond=0)
    statuses = [s.value for s in (Status.SUBMITTED, Status.ASSIGNED, Status.IN_PROGRESS, Status.MONITORING,
                                  Status.CLOSED, Status.CLOSED)]
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            reports, links, perpetrators, services = [], [], [], []
            for n in range(start + 1, min(start + CHUNK, count) + 1):
                created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
                district = rng.choice(districts)
                status = rng.choice(statuses)
                responded = created + timedelta(hours=rng.expovariate(1 / 30)) if rng.random() < 0.8 else None
                reports.append(dict(
                    id=n, created_at=created, updated_at=created, version=1, code_hash=f"{n:064x}", pin_hash="x",
                    reporter_kind="child", danger_now=False, urgency="sedang", urgency_rank=2, district_id=district,
                    team_district_id=district, child_words="(bench)", how_learned="", closed_reason="",
                    status=status, is_open=status != Status.CLOSED, first_response_due_at=created + timedelta(days=3),
                    first_response_at=responded, next_due_at=FAR_FUTURE, contact_method="app",
                    suspected_spam=False, child_age=rng.choice([None, *range(3, 18)]),
                    child_gender=rng.choice(["", "girl", "boy"]), happened_where=rng.choice(["home", "school", "online"]),
                    in_household=rng.random() < 0.3,
                ))
                links.append(dict(report_id=n, category=rng.choice(list(Category)).value))
                if n % 2 == 0:
                    perpetrators.append(dict(report_id=n, created_at=created, created_by_id=staff, sex="laki_laki",
                                             age_band="25-44", relationship=rng.choice(simfoni.RELATIONSHIPS)))
                if n % 3 == 0:
                    services.append(dict(report_id=n, created_at=created, created_by_id=staff,
                                         kind=rng.choice(simfoni.SERVICE_KINDS), given_on=created.date(),
                                         given_by="", note=""))
            connection.execute(insert(Report), reports)
            connection.execute(insert(ReportCategory), links)
            connection.execute(insert(Perpetrator), perpetrators)
            connection.execute(insert(CaseService), services)
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
    engine.dispose()


def timed(action: Callable[[], object], runs: int, before: Callable[[], object] | None = None) -> float:
    """The median of `runs` timings of `action`; `before` runs first each time, untimed."""
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return stats.median(samples)


def measure(url: str, count: int, runs: int) -> None:
    started = time.perf_counter()
    fill(url, count)
    print(f"\nfilled {count:,} reports in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
    engine = make_engine(url)
    with Session(engine) as session:
        supervisor = session.execute(select(User).where(User.username == "supervisor")).scalar_one()
        counselor = session.execute(select(User).where(User.username == "konselor")).scalar_one()
        year = datetime.now(UTC).year
        whole_year = service.StatisticsFilter(service.Period(year, None))
        this_month = service.Period(year, datetime.now(UTC).month)
        year_conditions = service._conditions(supervisor, whole_year)  # the export's own filter

        latest = session.execute(select(Report).order_by(Report.created_at.desc()).limit(1)).scalar_one()

        def change_a_report_of_this_month() -> None:
            latest.child_gender = "boy" if latest.child_gender != "boy" else "girl"
            session.commit()

        def read_export() -> int:
            return sum(1 for _row in export.rows(session, year_conditions, identity=False))

        def restart_and_warm() -> None:
            """A new process: it remembers nothing, and counts the year in the background before the visit."""
            process_cache.forget_all()
            warm.warm(engine)

        def year_of(user: User) -> Callable[[], object]:
            return lambda: service.statistics(session, user, whole_year)

        rows = [
            ("year, supervisor: counted from nothing", year_of(supervisor), process_cache.forget_all),
            ("year, supervisor: nothing changed", year_of(supervisor), None),
            ("year, supervisor: first visit after a restart, warmed", year_of(supervisor), restart_and_warm),
            ("warming at start, every scope (in the background)", lambda: warm.warm(engine), process_cache.forget_all),
            ("year, supervisor: a report of this month changed", year_of(supervisor), change_a_report_of_this_month),
            ("year, counselor (one team): counted from nothing", year_of(counselor), process_cache.forget_all),
            ("year, counselor: a report of this month changed", year_of(counselor), change_a_report_of_this_month),
            ("not yet in SIMFONI, this month", lambda: service.not_entered_in_simfoni(session, supervisor, this_month),
             None),
            ("KLA pack of the year", lambda: service.kla_pack(session, year), None),
            ("export rows of the year, read in chunks", read_export, None),
        ]
        print(f"{'query':<60} {'median ms':>10}")
        for label, action, before in rows:
            print(f"{label:<60} {timed(action, runs, before):>10.1f}")
        page_timings(url, runs, change_a_report_of_this_month)
    engine.dispose()


def page_timings(url: str, runs: int, change: Callable[[], None]) -> None:
    """The whole page, /statistik/ of this year, as a supervisor: routing, the counts, the SVG charts, the tables,
    through Litestar's test client (no network)."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = replace(Settings(), database_url=url, data_dir=Path(data_dir))
        app = create_app(settings)
        logging.disable(logging.INFO)  # the app's request log would interleave with the table
        with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
            form = client.get("/masuk")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
            assert token, "no CSRF token on /masuk"
            signed_in = client.post("/masuk", data={"_csrf_token": token.group(1), "username": "supervisor",
                                                     "password": DEMO_PASSWORD}, follow_redirects=False)
            assert signed_in.status_code == 303, signed_in.text

            def page() -> None:
                response = client.get("/statistik/")
                assert response.status_code == 200, response.status_code

            page()  # the months counted once in this process, as after the first visit since a restart
            for label, before in (("/statistik/ page, supervisor: nothing changed", None),
                                  ("/statistik/ page, supervisor: a report of this month changed", change)):
                print(f"{label:<60} {timed(page, runs, before):>10.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.reports, args.runs)
    if os.environ.get("BENCH_DATABASE_URL"):
        measure(os.environ["BENCH_DATABASE_URL"], args.reports, args.runs)


if __name__ == "__main__":
    main()
