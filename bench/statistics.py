"""Statistics queries with 100,000 reports in the database (issue 14).

    .venv/bin/python -m bench.statistics [--reports 100000] [--runs 7]
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/benchstats .venv/bin/python -m bench.statistics

Fills a fresh SQLite file (and, when BENCH_DATABASE_URL names an empty PostgreSQL database, that too) with
reports spread over the last year, every second one with a perpetrator and every third with a service, then
times the statistics of this year as a supervisor (every team) and as a counselor (one team), the month's
SIMFONI list, the KLA pack, and reading every row of the year for an export. Prints the median of the runs in
milliseconds. The database calls are timed directly, without HTTP.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics as stats
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlmodel import Session

from server import migrate
from server.accounts.demo import seed_demo
from server.accounts.models import District, User
from server.db import make_engine
from server.reports import simfoni
from server.reports.models import FAR_FUTURE, CaseService, Category, Perpetrator, Report, ReportCategory, Status
from server.statistics import export, service

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


def timed(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
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
        year_conditions = service._conditions(supervisor, whole_year)  # noqa: SLF001 - the export's own filter

        def read_export() -> int:
            return sum(1 for _row in export.rows(session, year_conditions, identity=False))

        rows = [
            ("statistics of the year, supervisor (all teams)", lambda: service.statistics(session, supervisor, whole_year)),
            ("statistics of the year, counselor (one team)", lambda: service.statistics(session, counselor, whole_year)),
            ("not yet in SIMFONI, this month", lambda: service.not_entered_in_simfoni(session, supervisor, this_month)),
            ("KLA pack of the year", lambda: service.kla_pack(session, year)),
            ("export rows of the year, read in chunks", read_export),
        ]
        print(f"{'query':<50} {'median ms':>10}")
        for label, action in rows:
            print(f"{label:<50} {timed(action, runs):>10.1f}")
    engine.dispose()


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
