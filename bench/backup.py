"""Backup and restore of 100,000 reports (issue 21): time and archive size, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.backup [--reports 100000]
    createdb -h 127.0.0.1 -U postgres benchbackup           # and PostgreSQL, when asked for
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/benchbackup .venv/bin/python -m bench.backup
    dropdb -h 127.0.0.1 -U postgres benchbackup

Fills a fresh database with reports as people write them (a child's words of 30-80 words, a phone number on every
third, a category, the chronology's "submitted" and one message each, an audit entry each, a push subscription
on every tenth; bulk inserts), then times what the daily timer and the drill do: `backup` (snapshot, manifest with
a digest per table, encryption to one recipient), `verify` (restore into a scratch database and compare), and
`restore` into a new, empty database (a second SQLite file; a second PostgreSQL database beside
BENCH_DATABASE_URL's, created and dropped). Aim: backup within 2 minutes, restore within 10.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from server import migrate
from server.accounts.demo import seed_demo
from server.accounts.models import District, User
from server.backups import service as backups
from server.backups.archive import write_identity
from server.db import make_engine
from server.models import AuditEntry
from server.notifications.models import PushSubscription
from server.reports.models import FAR_FUTURE, CaseEvent, Category, Report, ReportCategory
from server.settings import Settings

CHUNK = 5000
VOCABULARY = ("aku takut pulang ke rumah karena ayah sering marah dan memukul ibu kakak adik di sekolah teman "
              "mengejek terus setiap hari guru tidak tahu malam kemarin dia datang lagi sambil berteriak tolong "
              "saya ingin cerita tapi malu badan sakit sekali tidak bisa tidur nenek bilang jangan bilang siapa-siapa "
              "uang jajan diambil paksa di kelas handphone disita pesan ancaman dari orang tidak dikenal").split()


def fill(url: str, count: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    rng = random.Random(20261207)
    with Session(engine) as session:
        seed_demo(session)
        session.commit()
        districts = list(session.execute(select(District.id)).scalars())
        staff = session.execute(select(User.id).where(User.username == "konselor")).scalar_one()
    now = datetime.now(UTC).replace(microsecond=0)
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            reports, links, events, audits, devices = [], [], [], [], []
            for n in range(start + 1, min(start + CHUNK, count) + 1):
                created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
                district = rng.choice(districts)
                words = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(30, 80)))
                phone = n % 3 == 0
                reports.append(dict(
                    id=n, created_at=created, updated_at=created, version=1, code_hash=f"{n:064x}",
                    pin_hash="$argon2id$v=19$m=65536,t=3,p=4$" + os.urandom(16).hex() + "$" + os.urandom(32).hex(),
                    reporter_kind="child", danger_now=False, urgency="sedang", urgency_rank=2, district_id=district,
                    team_district_id=district, child_words=words, how_learned="", closed_reason="",
                    status="submitted", is_open=True, first_response_due_at=created + timedelta(days=3),
                    first_response_at=None, next_due_at=FAR_FUTURE,
                    contact_method="whatsapp" if phone else "app",
                    contact_detail=f"0812{rng.randint(10_000_000, 99_999_999)}" if phone else "",
                    suspected_spam=False, child_age=rng.randint(6, 17), child_gender=rng.choice(["girl", "boy"]),
                    happened_where=rng.choice(["home", "school", "online"]), in_household=False,
                ))
                links.append(dict(report_id=n, category=rng.choice(list(Category)).value))
                events.append(dict(report_id=n, at=created, actor_id=None, kind="submitted", from_status="",
                                   to_status="submitted", body="", visible_to_reporter=False, from_reporter=False))
                events.append(dict(report_id=n, at=created + timedelta(hours=5), actor_id=staff, kind="message",
                                   from_status="", to_status="",
                                   body="Terima kasih sudah bercerita. Kami akan menghubungi kamu besok siang.",
                                   visible_to_reporter=True, from_reporter=False))
                audits.append(dict(at=created, actor_label="anonymous", action="report.submitted",
                                   object_type="report", object_id=str(n), detail=""))
                if n % 10 == 0:
                    devices.append(dict(endpoint=f"https://fcm.googleapis.com/fcm/send/{os.urandom(20).hex()}",
                                        p256dh="B" + os.urandom(32).hex()[:86], auth=os.urandom(11).hex(),
                                        report_id=n, created_at=created, last_seen_at=created))
            connection.execute(insert(Report), reports)
            connection.execute(insert(ReportCategory), links)
            connection.execute(insert(CaseEvent), events)
            connection.execute(insert(AuditEntry), audits)
            connection.execute(insert(PushSubscription), devices)
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval(pg_get_serial_sequence('report', 'id'), :n)"), {"n": count})
            connection.execute(text("ANALYZE"))
    engine.dispose()


def timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def measure(url: str, restore_url: str, count: int, folder: Path) -> list[str]:
    started = time.perf_counter()
    fill(url, count)
    kind = url.split(":")[0].split("+")[0]
    print(f"filled {count:,} reports in {time.perf_counter() - started:.1f} s ({kind})", flush=True)
    identity = folder / f"identity-{kind}.txt"
    settings = replace(Settings(), database_url=url, data_dir=folder / f"data-{kind}",
                       backup_dir_setting=str(folder / f"backups-{kind}"),
                       backup_recipients=(write_identity(identity),))
    engine = make_engine(url)
    result, backup_seconds = timed(lambda: backups.backup(engine, settings))
    _, verify_seconds = timed(lambda: backups.verify(engine, settings, identity, result.path))
    engine.dispose()
    new = replace(settings, database_url=restore_url, data_dir=folder / f"new-machine-{kind}")
    new_engine = make_engine(restore_url)
    _, restore_seconds = timed(lambda: backups.restore(new_engine, new, result.path, identity))
    new_engine.dispose()
    if kind == "sqlite":
        size = Path(make_url(url).database).stat().st_size
    else:
        with make_engine(url).connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    rows = sum(t["rows"] for t in result.manifest["tables"].values())
    return [kind, f"{rows:,}", f"{size / 1e6:,.0f}", f"{result.size / 1e6:,.1f}", f"{backup_seconds:,.1f}",
            f"{verify_seconds:,.1f}", f"{restore_seconds:,.1f}"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    args = parser.parse_args(argv)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lines.append(measure(f"sqlite:///{folder / 'bench.sqlite3'}", f"sqlite:///{folder / 'new' / 'bench.sqlite3'}",
                             args.reports, folder))
        pg = os.environ.get("BENCH_DATABASE_URL")
        if pg:
            base = make_url(pg.replace("postgresql://", "postgresql+psycopg://", 1))
            name = f"{base.database}_restored"
            admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                lines.append(measure(pg, base.set(database=name).render_as_string(hide_password=False),
                                     args.reports, folder))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    header = ["database", "rows", "database MB", "archive MB", "backup s", "verify s", "restore s"]
    print("\n| " + " | ".join(header) + " |")
    print("| " + " | ".join("---" if n == 0 else "---:" for n in range(len(header))) + " |")
    for line in lines:
        print("| " + " | ".join(line) + " |")


if __name__ == "__main__":
    main()
