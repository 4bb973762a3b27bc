"""Pages under load, 32 connections, against a bare Litestar ceiling measured in the same run (issue 6).

    .venv/bin/python -m bench.pages [--reports 100000] [--duration 10s] [--connections 32] [--no-postgres]

A run takes about five minutes; it needs wrk and, unless --no-postgres, PostgreSQL on 127.0.0.1 (trust auth).

Fills a database with 100,000 reports (bench.reports.fill) plus the appointments bench's schedule (ten more
counselors on the demo weekly hours, 400 appointments in the next four weeks), signs in one child per connection
and the demo counselor once per connection (sessions written straight to the database, as bench.appointments
does, so no login rate limit applies), and drives each page with `wrk -t2 -c32 -d10s --latency`:

- home `/` and the report form `/lapor`, anonymous (with the CSRF cookie a returning visitor has);
- the free-slot fragment `/konseling?layanan=..[&dari=..&hari=..]` that htmx swaps into the booking page, each
  connection another signed-in child, both service types and every week they can be booked;
- the counselor inbox `/kasus/` (first page, full HTML), signed in as the demo counselor; then at a
  counselor's pace (32 connections, each waiting an exponential pause of mean 1 s, at most 4 s, after every answer,
  for 20 s: requests arrive as from 32 people at work, not in a saturating queue); then from a single connection
  (`-t1 -c1 -d5s`), for the page's own latency.

Scenarios: SQLite with one app process; PostgreSQL (a database `benchpages` created on 127.0.0.1 with trust auth,
dropped afterwards) with one and with two app processes (`bintang run --workers 2`, DISPATCHER=off). Each
scenario is one `bintang run` serving its pages one after the other. The ceiling is bench/ceiling.py (one
handler, one Jinja page of ~12 KB, no database, no middleware) served by uvicorn the same way: with one process
at the start and at the end of the run (the ratio uses their mean) and with two processes. Any answer other
than 200 and any socket error counts as a failure. After each scenario the peak RSS (VmHWM) of every app process
is read from /proc before it is stopped.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import select
from sqlmodel import Session

from bench import appointments, reports
from bench.wrk import Plan, Run
from bench.wrk import run as wrk_run
from server.accounts import auth
from server.accounts.models import Role, User
from server.appointments.demo import seed_demo_schedule
from server.appointments.models import ServiceType
from server.db import make_engine
from server.i18n import LOCAL
from tests.servers import ROOT, free_port, stop, wait_until_healthy

POSTGRES_DATABASE = "benchpages"
POSTGRES_URL = f"postgresql://postgres@127.0.0.1/{POSTGRES_DATABASE}"
PROBE_SECONDS = 10.0
CEILING = "ceiling (bare handler)"
HOME = "home /"
REPORT_FORM = "report form /lapor"
INBOX = "counselor inbox /kasus/"
# The aims of issue 6.
PUBLIC_SHARE_AIM = 0.5
INBOX_P99_AIM_MS = 50.0
PACED_PAUSE_MS = 1000


def _conn(connections: int, pause_ms: int) -> str:
    return f"{connections} conn" + (f" ~{pause_ms / 1000:g}s" if pause_ms else "")


# Only a 200 counts as served.
RESPONSE_LUA = r"""
function response(status, headers, body)
  if status == 200 then ok = ok + 1 else failed = failed + 1 end
end
"""


@dataclass(frozen=True)
class Page:
    label: str
    plan: Plan
    fragment: bool  # an htmx fragment rather than a whole page
    connections: int = 0  # 0: as many as --connections
    pause_ms: int = 0  # each connection waits on average this long after an answer before it asks again


@dataclass(frozen=True)
class Fixture:
    child_tokens: list[str]
    counselor_tokens: list[str]
    slot_paths: list[str]


@dataclass(frozen=True)
class Row:
    scenario: str
    database: str
    processes: int
    page: str
    connections: int
    pause_ms: int
    size: int  # bytes of one answer
    run: Run
    after: float | None  # seconds until the app answered 200 again once wrk stopped; None: it did not


@dataclass(frozen=True)
class Server:
    base: str
    pids: list[int]  # the processes that serve requests (with --workers, the worker children)


# --- the database ------------------------------------------------------------------------------------------


def fill(url: str, report_count: int, connections: int) -> Fixture:
    """bench.reports' 100,000 reports, bench.appointments' schedule, and signed-in children and counselor."""
    reports.fill(url, report_count)
    engine = make_engine(url)
    rng = random.Random(20261202)
    now = datetime.now(UTC).replace(microsecond=0)
    with Session(engine, expire_on_commit=False) as session:
        appointments._add_counselors(session, appointments.COUNSELORS)
        seed_demo_schedule(session)
        counselor_ids = list(session.execute(
            select(User.id).where(User.role == Role.COUNSELOR).order_by(User.id)).scalars())
        service_types = list(session.execute(select(ServiceType).order_by(ServiceType.id)).scalars())
        appointments._book_existing(session, rng, now, counselor_ids, service_types, appointments.EXISTING)
        children = appointments._add_children(session, "anak-halaman", connections)
        child_tokens = [auth.start_session(session, child, ip="127.0.0.1") for child in children]
        counselor = session.execute(select(User).where(User.username == "konselor")).scalar_one()
        counselor_tokens = [auth.start_session(session, counselor, ip="127.0.0.1") for _ in range(connections)]
        session.commit()
        today = now.astimezone(LOCAL).date()
        slot_paths = []
        for service_type in service_types:
            for week in range(appointments.SLOT_WEEKS):
                if week * 7 > service_type.max_days_ahead:
                    break
                day = (today + timedelta(days=7 * week)).isoformat()
                query = {"layanan": service_type.id, **({"dari": day, "hari": day} if week else {})}
                slot_paths.append(f"/konseling?{urlencode(query)}")
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done by now on a live server (it is off on this machine's test cluster).
        # Without statistics the planner answers the counselor's inbox with a bitmap scan of every open case of
        # the team and the counselor (~70 ms) instead of walking ix_report_inbox (~0.1 ms).
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return Fixture(child_tokens, counselor_tokens, slot_paths)


@contextmanager
def postgres_database() -> Iterator[str]:
    connection = ["-h", "127.0.0.1", "-U", "postgres"]
    # Left over by an interrupted run of this bench: the name is this bench's own.
    subprocess.run(["dropdb", *connection, "--if-exists", POSTGRES_DATABASE], check=True)
    subprocess.run(["createdb", *connection, POSTGRES_DATABASE], check=True)
    try:
        yield POSTGRES_URL
    finally:
        subprocess.run(["dropdb", *connection, "--if-exists", POSTGRES_DATABASE], check=False)


# --- processes ---------------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name in parentheses may hold spaces: the parent id is the second field after it.
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _worker_pids(pid: int) -> list[int]:
    """uvicorn --workers starts its workers with multiprocessing's spawn (beside a resource tracker)."""
    return sorted(child for child in _children(pid)
                  if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes())


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


@contextmanager
def serve(command: list[str], env: dict[str, str], folder: Path, workers: int) -> Iterator[Server]:
    """Start `command --port P` and wait until each of its `workers` processes has started its application."""
    port = free_port()
    log_path = folder / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([*command, "--port", str(port)], cwd=ROOT, env={**os.environ, **env},
                                   stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process)
        deadline = time.monotonic() + 30
        while log_path.read_bytes().count(b"Application startup complete") < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} workers did not start within 30 s:\n{log_path.read_text()}")
            time.sleep(0.05)  # polling interval while the workers start
        pids = _worker_pids(process.pid) if workers > 1 else [process.pid]
        assert len(pids) == workers, pids
        yield Server(base, pids)
    finally:
        stop(process, timeout=15)


def app_server(url: str, folder: Path, workers: int) -> AbstractContextManager[Server]:
    env = {"DATABASE_URL": url, "DATA_DIR": str(folder), "LOG_LEVEL": "WARNING"}
    if workers > 1:
        env["DISPATCHER"] = "off"  # as the README says for several processes
    bintang = str(Path(sys.executable).parent / "bintang")
    return serve([bintang, "run", "--host", "127.0.0.1", "--workers", str(workers)], env, folder, workers)


def ceiling_server(folder: Path, workers: int) -> AbstractContextManager[Server]:
    # The same uvicorn settings as `bintang run`.
    command = [sys.executable, "-m", "uvicorn", "--factory", "bench.ceiling:create_app", "--host", "127.0.0.1",
               "--workers", str(workers), "--no-access-log", "--no-server-header", "--no-proxy-headers"]
    return serve(command, {}, folder, workers)


# --- wrk ---------------------------------------------------------------------------------------------------


def wrk(base: str, plan: Plan, folder: Path, *, threads: int, connections: int, duration: str,
        pause_ms: int = 0) -> Run:
    # Paced: each connection waits an exponentially distributed pause (mean pause_ms) after an answer, so requests
    # arrive as from independent people rather than in lockstep bursts of every connection at once. At most 4 s:
    # uvicorn closes a connection idle for 5 s, and wrk would count the next request on it as a read error.
    paced = f"function delay() return math.min(4000, math.floor(-math.log(1 - math.random()) * {pause_ms})) end\n"
    return wrk_run(base, plan, folder / "pages.lua", counts=["ok", "failed"], response_lua=RESPONSE_LUA,
                   extra_lua=paced if pause_ms else "", threads=threads, connections=connections, duration=duration)


def _size_of(base: str, page: Page) -> int:
    """Checks that the first request of the plan is answered 200 with what it should be; its size in bytes."""
    method, path, headers, _body = page.plan[0]
    response = httpx.request(method, base + path, headers=headers, timeout=30)
    assert response.status_code == 200, (path, response.status_code)
    assert ("<html" not in response.text) == page.fragment, (path, page.fragment)
    return len(response.content)


def measure(server: Server, pages: list[Page], folder: Path, args: argparse.Namespace,
            scenario: tuple[str, str, int]) -> list[Row]:
    rows = []
    for page in pages:
        size = _size_of(server.base, page)
        connections = page.connections or args.connections
        single = connections == 1
        run = wrk(server.base, page.plan, folder, threads=1 if single else args.threads, connections=connections,
                  duration=args.single_duration if single else args.paced_duration if page.pause_ms else args.duration,
                  pause_ms=page.pause_ms)
        _method, path, headers, _body = page.plan[0]
        try:
            after = appointments._answers_within(server.base, path, headers["Cookie"], PROBE_SECONDS)
        except httpx.HTTPStatusError:
            after = None  # answered, but not with a 200: as bad as no answer
        rows.append(Row(*scenario, page.label, connections, page.pause_ms, size, run, after))
        print(f"  {scenario[0]:<13} {page.label:<34} {_conn(connections, page.pause_ms):>12} "
              f"{run.requests_per_second:>8.1f} req/s  "
              f"p99 {run.percentiles.get('99%', float('nan')):.1f} ms  not 200: {run.failed}", flush=True)
    return rows


def app_pages(base: str, fixture: Fixture, connections: int) -> list[Page]:
    """The four pages, with the CSRF cookie this app hands out, and the inbox once more from a single client."""
    csrf = httpx.get(base + "/", timeout=30).cookies["bc_csrf"]
    visitor = {"Cookie": f"bc_csrf={csrf}"}
    children = [appointments._cookie(token, csrf) for token in fixture.child_tokens[:connections]]
    counselor = [appointments._cookie(token, csrf) for token in fixture.counselor_tokens[:connections]]
    inbox = [("GET", "/kasus/", {"Cookie": cookie}, None) for cookie in counselor]
    return [
        Page(HOME, [("GET", "/", visitor, None)] * connections, fragment=False),
        Page(REPORT_FORM, [("GET", "/lapor", visitor, None)] * connections, fragment=False),
        Page("free slots (htmx fragment, child)",
             [("GET", path, {"Cookie": cookie, "HX-Request": "true", "HX-Target": "slots"}, None)
              for cookie in children for path in fixture.slot_paths], fragment=True),
        Page(INBOX, inbox, fragment=False),
        # 32 counselors at work: each opens the inbox again about a second after the last answer (far more often
        # than a district team does). The latency a counselor meets, rather than the queue of a saturating load.
        Page(INBOX, inbox, fragment=False, pause_ms=PACED_PAUSE_MS),
        # The page's own latency, without 31 other requests queued in front of it.
        Page(INBOX, inbox[:1], fragment=False, connections=1),
    ]


def ceiling_pages(connections: int) -> list[Page]:
    # A cookie like the visitors' CSRF cookie, so that the requests are of the same size; the ceiling ignores it.
    return [Page(CEILING, [("GET", "/", {"Cookie": "bc_csrf=" + "0" * 128}, None)] * connections, fragment=False)]


# --- the run -----------------------------------------------------------------------------------------------


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Run every scenario and print the tables; 1 when a request failed or the app stalled, else 0."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--duration", default="10s", help="of each wrk run, as wrk takes it (10s, 1m)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--single-duration", default="5s", help="of the inbox's single-client wrk run")
    parser.add_argument("--paced-duration", default="20s",
                        help="of the inbox run where each connection waits a second between requests")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite and the ceiling only")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench.pages needs wrk (Debian package: wrk; `make wrk` installs it as root)")

    started = time.perf_counter()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    print(f"bench.pages: {os.cpu_count()} cores ({cpu}); load average at start {_load()}", flush=True)
    rows: list[Row] = []
    memory: list[tuple[str, str, int, list[float]]] = []

    def scenario(name: str, database: str, server: Server, pages: list[Page]) -> None:
        print(f"{name}, {database}, {len(server.pids)} process(es); load average {_load()}", flush=True)
        rows.extend(measure(server, pages, folder, args, (name, database, len(server.pids))))
        memory.append((name, database, len(server.pids), [peak_rss_mb(pid) for pid in server.pids]))

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with ceiling_server(folder, 1) as server:
            scenario("ceiling", "-", server, ceiling_pages(args.connections))

        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        fill_started = time.perf_counter()
        fixture = fill(url, args.reports, args.connections)
        print(f"filled SQLite in {time.perf_counter() - fill_started:.0f} s", flush=True)
        with app_server(url, folder, 1) as server:
            scenario("app", "SQLite", server, app_pages(server.base, fixture, args.connections))

        if not args.no_postgres:
            with postgres_database() as url:
                fill_started = time.perf_counter()
                fixture = fill(url, args.reports, args.connections)
                print(f"filled PostgreSQL in {time.perf_counter() - fill_started:.0f} s", flush=True)
                for workers in (1, 2):
                    with app_server(url, folder, workers) as server:
                        scenario("app", "PostgreSQL", server, app_pages(server.base, fixture, args.connections))
            with ceiling_server(folder, 2) as server:
                scenario("ceiling", "-", server, ceiling_pages(args.connections))

        with ceiling_server(folder, 1) as server:
            scenario("ceiling again", "-", server, ceiling_pages(args.connections))

    ceilings = [row.run.requests_per_second for row in rows if row.page == CEILING and row.processes == 1]
    ceiling = sum(ceilings) / len(ceilings)
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration} --latency (the paced inbox: "
          f"-d{args.paced_duration}, a pause of mean {PACED_PAUSE_MS} ms after each answer; the single-client inbox: "
          f"-t1 -c1 -d{args.single_duration}); {args.reports:,} reports; ratio = req/s / {ceiling:.0f} req/s, the "
          f"mean of the one-process ceiling runs ({', '.join(f'{c:.0f}' for c in ceilings)})")
    print(f"load average at end {_load()}; whole run {time.perf_counter() - started:.0f} s\n")
    header = (f"{'scenario':<14} {'db':<10} {'proc':>4}  {'page':<34} {'conn':>12} {'bytes':>6} {'req/s':>8} "
              f"{'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'not 200':>8}")
    print(header)
    print("-" * len(header))
    for row in rows:
        p = row.run.percentiles
        saturating = row.connections == args.connections and not row.pause_ms
        ratio = f"{row.run.requests_per_second / ceiling:.2f}" if saturating else "-"
        print(f"{row.scenario:<14} {row.database:<10} {row.processes:>4}  {row.page:<34} "
              f"{_conn(row.connections, row.pause_ms):>12} "
              f"{row.size:>6} {row.run.requests_per_second:>8.1f} {p.get('50%', float('nan')):>8.1f} "
              f"{p.get('99%', float('nan')):>8.1f} {ratio:>6} {row.run.failed:>8}")
    print(f"\n{'scenario':<14} {'db':<10} {'proc':>4}  peak RSS (VmHWM) per process, MB")
    for name, database, processes, peaks in memory:
        print(f"{name:<14} {database:<10} {processes:>4}  {', '.join(f'{mb:.0f}' for mb in peaks)}")

    print()
    for row in rows:
        where = f"{row.database}, {row.processes} process(es), {row.connections} connection(s)" + (
            f", each waiting {row.pause_ms} ms between requests" if row.pause_ms else "")
        if row.page in (HOME, REPORT_FORM):
            share = row.run.requests_per_second / ceiling
            verdict = "met" if share >= PUBLIC_SHARE_AIM else "NOT met"
            print(f"aim {verdict}: {row.page} at {share:.2f} of the ceiling (aim >= {PUBLIC_SHARE_AIM}), {where}")
        elif row.page == INBOX:
            p99 = row.run.percentiles.get("99%", float("inf"))
            verdict = "met" if p99 < INBOX_P99_AIM_MS else "NOT met"
            print(f"aim {verdict}: inbox p99 {p99:.1f} ms (aim < {INBOX_P99_AIM_MS:.0f} ms), {where}")
    problems = []
    for row in rows:
        where = f"{row.page} ({row.database}, {row.processes} process(es), {row.connections} connection(s))"
        if row.run.failed:
            problems.append(f"{where}: {row.run.failed} answers other than 200 or socket errors")
        if row.after is None:
            problems.append(f"{where}: no 200 within {PROBE_SECONDS:.0f} s after wrk stopped: it stalled or fails")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
