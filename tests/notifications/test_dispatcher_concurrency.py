"""Several dispatchers on one database: claims never overlap, a dispatcher that dies mid-send leaves its jobs to
the next one once its lease runs out, and four real `bintang worker` processes send each of 400 jobs once.

The push service here is a small threaded HTTP server in the test that answers 201 and counts what it got."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from server import worker
from server.accounts.models import User
from server.notifications import dispatcher, outbox, push
from server.notifications.models import FINAL_STATUSES, JobStatus, NotificationJob
from tests.notifications.dispatch_support import FakeResponse, FakeTransport, person, subscription
from tests.servers import ROOT, pause, wait_for_exit

# Worker processes stamp what they send with the real time, which these tests compare with their own.
pytestmark = [pytest.mark.real_clock, pytest.mark.both_databases]

BINTANG = Path(sys.executable).with_name("bintang")
T = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


# --- claim() on its own ------------------------------------------------------------------------------------------


def some_jobs(db, count: int, due_at: datetime = T) -> list[int]:
    user_id = person(db, "orangtua").id
    jobs = [job for n in range(count) for job in outbox.enqueue(
        db, "case_message", url=f"/kasus/{n}", topic=f"report-{n}-staff", user_ids=[user_id], due_at=due_at)]
    db.commit()
    return [job.id for job in jobs]


def job_now(engine, job_id: int) -> NotificationJob:
    with Session(engine) as session:
        return session.get(NotificationJob, job_id)


def test_dispatchers_claiming_at_the_same_moment_never_take_the_same_job(db, engine):
    ids = some_jobs(db, 60)
    start = threading.Barrier(6)
    taken: dict[str, list[int]] = {}

    def dispatcher_thread(name: str) -> None:
        mine: list[int] = []
        start.wait()
        for _ in range(len(ids)):  # bounded: claims that kept returning leased jobs must fail the test, not hang it
            batch = dispatcher.claim(engine, name, batch=7, now=T)
            if not batch:
                break
            mine += batch
        taken[name] = mine

    threads = [threading.Thread(target=dispatcher_thread, args=(f"d{n}",), daemon=True) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    claimed = [job_id for batch in taken.values() for job_id in batch]
    assert len(taken) == 6
    assert sorted(claimed) == sorted(ids)
    with Session(engine) as session:
        holders = dict(session.execute(select(NotificationJob.id, NotificationJob.claimed_by)).all())
    assert all(holders[job_id] == name for name, batch in taken.items() for job_id in batch)


def test_two_claims_in_turn_get_disjoint_batches_and_a_third_gets_nothing(db, engine):
    ids = some_jobs(db, 5)
    first = dispatcher.claim(engine, "a", batch=3, now=T)
    second = dispatcher.claim(engine, "b", batch=3, now=T)
    assert len(first) == 3
    assert len(second) == 2
    assert sorted(first + second) == ids
    assert dispatcher.claim(engine, "c", now=T + timedelta(seconds=59)) == []  # all leased for 60 s


def test_a_job_whose_lease_ran_out_is_claimed_again_and_the_old_holder_cannot_finish_it(db, engine, settings):
    [job_id] = some_jobs(db, 1)
    db.add(subscription("https://push.example.net/send/1", user_id=person(db, "orangtua").id))
    db.commit()
    assert dispatcher.claim(engine, "a", lease_seconds=60, now=T) == [job_id]
    assert dispatcher.claim(engine, "b", now=T + timedelta(seconds=59)) == []
    taken_over: list[int] = []

    def slow_answer(_url: str) -> FakeResponse:
        # While "a" waits for the push service, its lease runs out and "b" takes the job.
        taken_over.extend(dispatcher.claim(engine, "b", lease_seconds=60, now=T + timedelta(seconds=61)))
        return FakeResponse(201, reason="Created")

    settings = replace(settings, vapid_private_key=push.generate_private_key())
    sender = worker.make_sender(settings, session=FakeTransport(slow_answer))
    assert dispatcher.process(engine, sender, job_id, "a", max_attempts=5, now=T) == "lost"
    assert taken_over == [job_id]
    job = job_now(engine, job_id)
    assert (job.status, job.claimed_by, job.attempts, job.sent_at) == (JobStatus.SENDING, "b", 2, None)

    sender.session = FakeTransport(lambda _url: FakeResponse(201, reason="Created"))
    assert dispatcher.process(engine, sender, job_id, "b", max_attempts=5, now=T + timedelta(seconds=61)) == "sent"
    assert job_now(engine, job_id).status == JobStatus.SENT


def test_a_job_is_claimed_only_once_it_is_due_and_never_once_it_ended(db, engine):
    [later] = some_jobs(db, 1, due_at=T + timedelta(minutes=10))
    [ended] = some_jobs(db, 1)
    db.get(NotificationJob, ended).status = JobStatus.SENT
    db.commit()
    assert dispatcher.claim(engine, "a", now=T) == []
    assert dispatcher.claim(engine, "a", now=T + timedelta(minutes=10) - timedelta(microseconds=1)) == []
    assert dispatcher.claim(engine, "a", now=T + timedelta(minutes=10)) == [later]


def test_a_claim_never_takes_rows_another_dispatcher_is_holding(db, engine):
    """PostgreSQL: SKIP LOCKED passes over a row another connection has locked, without waiting. SQLite: a claim
    waits for the single write lock (claims are serialised), so it cannot run beside another writer at all."""
    if engine.dialect.name == "sqlite":
        jobs = some_jobs(db, 3)
        impatient = create_engine(engine.url, connect_args={"timeout": 0.2})
        try:
            with engine.connect() as other:
                other.exec_driver_sql("BEGIN IMMEDIATE")
                with pytest.raises(OperationalError, match="locked"):
                    dispatcher.claim(impatient, "a", now=T)
                other.exec_driver_sql("ROLLBACK")
            assert dispatcher.claim(impatient, "a", now=T) == jobs
        finally:
            impatient.dispose()
        return
    first, *others = some_jobs(db, 3)
    # A claim that waited for the lock would fail after 3 s here instead of hanging the test.
    impatient = create_engine(engine.url, connect_args={"options": "-c lock_timeout=3000"})
    try:
        with engine.connect() as other:
            other.execute(select(NotificationJob.id).where(NotificationJob.id == first).with_for_update())
            assert dispatcher.claim(impatient, "a", now=T) == others
            other.rollback()
        assert dispatcher.claim(impatient, "a", now=T) == [first]
    finally:
        impatient.dispose()


# --- real worker processes against a local push service ------------------------------------------------------


class PushService(ThreadingHTTPServer):
    """Answers every POST with 201 and counts them by path. With `hold_first`, the first request gets no
    answer until `release` is set (a push service that is slow just when a dispatcher dies)."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, *, hold_first: bool = False) -> None:
        self.hold_first = hold_first
        self.counts: Counter[str] = Counter()
        self.arrivals: list[tuple[str, datetime]] = []
        self.held_path: str | None = None
        self.first_request = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _PushHandler)
        self.host = f"127.0.0.1:{self.server_address[1]}"  # as PUSH_ALLOWED_HOSTS must list it
        self.url = f"http://{self.host}"

    def handle_error(self, request, client_address) -> None:
        # A killed dispatcher's connection goes away under the held request: that is the point, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _PushHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PushService

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        service = self.server
        with service.lock:
            service.counts[self.path] += 1
            service.arrivals.append((self.path, datetime.now(UTC)))
            hold = service.hold_first and service.held_path is None
            if hold:
                service.held_path = self.path
        if hold:
            service.first_request.set()
            service.release.wait(60)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def push_service() -> Iterator[Callable[..., PushService]]:
    started: list[PushService] = []

    def start(**kwargs: bool) -> PushService:
        service = PushService(**kwargs)
        threading.Thread(target=service.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.release.set()
        service.shutdown()
        service.server_close()


class Workers:
    """`bintang worker` processes on the test's database, each logging to a file of its own."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.env = {**os.environ, "BINTANG_ENV": "development", "DATABASE_URL": database_url,
                    "DATA_DIR": str(tmp_path / "var"), "VAPID_PRIVATE_KEY": push.generate_private_key(),
                    "DISPATCH_INTERVAL_SECONDS": "0.1", "LOG_LEVEL": "WARNING"}
        self.processes: list[subprocess.Popen] = []

    def start(self, **env: str) -> subprocess.Popen:
        log = (self.tmp_path / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen([str(BINTANG), "worker"], cwd=ROOT, env={**self.env, **env}, stdout=log,
                                   stderr=subprocess.STDOUT)
        log.close()
        self.processes.append(process)
        return process

    @staticmethod
    def name(process: subprocess.Popen) -> str:
        """What the worker calls itself in `claimed_by` (dispatcher.worker_name() inside that process)."""
        return f"{socket.gethostname()[:40]}:{process.pid}"

    def output(self, process: subprocess.Popen) -> str:
        return (self.tmp_path / f"worker-{self.processes.index(process)}.log").read_text(errors="replace")

    def check_alive(self) -> None:
        for process in self.processes:
            if process.returncode is None and process.poll() is not None:
                raise AssertionError(f"worker exited with {process.returncode}:\n{self.output(process)}")

    def stop(self) -> None:
        """SIGTERM: each finishes the round it is in and exits 0."""
        alive = [p for p in self.processes if p.poll() is None]
        for process in alive:
            process.send_signal(signal.SIGTERM)
        for process in alive:
            code = wait_for_exit(process, 30)  # not Popen.wait(timeout=...): it sleeps, see tests/servers.py
            if code is None:
                process.kill()
                process.wait()
                raise AssertionError(f"worker {process.pid} did not stop on SIGTERM")
            assert code == 0, self.output(process)


@pytest.fixture
def workers(database_url, tmp_path) -> Iterator[Workers]:
    group = Workers(database_url, tmp_path)
    yield group
    for process in group.processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_for(condition: Callable[[], bool], what: str, workers: Workers, timeout: float = 90.0) -> None:
    """Poll until `condition()` holds, failing early if a worker dies and late after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        workers.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting {timeout} s for {what}")
        pause(0.05)


def recipients_with_one_device(db, count: int, service: PushService) -> dict[int, str]:
    """`count` people, each with one subscribed device at `/push/<n>`; returns user id → endpoint path."""
    people = [User(username=f"penerima{n}", display_name=f"Penerima {n}", password_hash="-", role="parent")
              for n in range(count)]
    db.add_all(people)
    db.flush()
    db.add_all(subscription(f"{service.url}/push/{n}", user_id=user.id) for n, user in enumerate(people))
    db.commit()
    return {user.id: f"/push/{n}" for n, user in enumerate(people)}


def announce(db, user_ids: list[int]) -> list[int]:
    jobs = outbox.enqueue(db, "case_message", url="/kasus/1", topic="report-1-staff", user_ids=user_ids)
    db.commit()
    return [job.id for job in jobs]


def jobs_by_id(engine, ids: list[int]) -> dict[int, NotificationJob]:
    with Session(engine) as session:
        return {job.id: job for job in session.execute(
            select(NotificationJob).where(NotificationJob.id.in_(ids))).scalars()}


def all_final(engine, ids: list[int]) -> Callable[[], bool]:
    return lambda: all(job.status in FINAL_STATUSES for job in jobs_by_id(engine, ids).values())


def test_four_worker_processes_send_each_of_400_jobs_exactly_once(db, engine, workers, push_service):
    service = push_service()
    paths = recipients_with_one_device(db, 400, service)
    # Readiness is read from each worker's "started" line (INFO), so the jobs appear while all four poll.
    started = [workers.start(LOG_LEVEL="INFO", PUSH_ALLOWED_HOSTS=service.host) for _ in range(4)]
    wait_for(lambda: all("started" in workers.output(p) for p in started), "four workers to start", workers)
    ids = announce(db, list(paths))

    wait_for(all_final(engine, ids), "every job to end", workers)
    workers.stop()

    jobs = jobs_by_id(engine, ids)
    assert Counter(job.status for job in jobs.values()) == {JobStatus.SENT: 400}
    assert service.counts == Counter({path: 1 for path in paths.values()})  # 400 POSTs, one per device
    assert all(job.attempts == 1 for job in jobs.values())
    senders = Counter(job.claimed_by for job in jobs.values())
    assert set(senders) <= {workers.name(p) for p in started}
    assert len(senders) > 1, senders  # the work was shared, not one worker taking it all


def test_a_worker_killed_mid_send_leaves_its_jobs_to_the_next_once_the_lease_runs_out(db, engine, workers,
                                                                                      push_service):
    service = push_service(hold_first=True)
    paths = recipients_with_one_device(db, 5, service)
    ids = announce(db, list(paths))
    first = workers.start(DISPATCH_LEASE_SECONDS="2", PUSH_TIMEOUT_SECONDS="30", PUSH_ALLOWED_HOSTS=service.host)

    wait_for(service.first_request.is_set, "the first worker to be sending", workers)
    held = next(job_id for job_id, job in jobs_by_id(engine, ids).items()
                if paths[job.recipient_user_id] == service.held_path)
    others = [job_id for job_id in ids if job_id != held]
    # It is stuck on one send; the batch's other jobs were sent side by side and did not wait for it.
    wait_for(all_final(engine, others), "the other jobs of the batch to be sent", workers)
    in_flight = jobs_by_id(engine, ids)
    assert (in_flight[held].status, in_flight[held].claimed_by) == (JobStatus.SENDING, workers.name(first))
    lease_until = in_flight[held].lease_until
    first.kill()
    first.wait()
    service.release.set()

    second = workers.start(DISPATCH_LEASE_SECONDS="2", PUSH_ALLOWED_HOSTS=service.host)
    wait_for(all_final(engine, ids), "the second worker to send the job", workers)
    workers.stop()

    jobs = jobs_by_id(engine, ids)
    # The job in flight was taken over after the lease ran out, and sent by the second worker on its second claim.
    assert (jobs[held].status, jobs[held].claimed_by, jobs[held].attempts) == (JobStatus.SENT, workers.name(second), 2)
    assert {(jobs[n].status, jobs[n].claimed_by, jobs[n].attempts) for n in others} == {
        (JobStatus.SENT, workers.name(first), 1)}
    # At-least-once at the moment of a crash: the message in flight reached the push service before the
    # dispatcher died and is sent again (the same Topic lets the push service replace the undelivered copy);
    # every other message went out exactly once, and nothing was re-sent before the lease ran out.
    assert service.counts == Counter({path: 2 if path == service.held_path else 1 for path in paths.values()})
    [resent] = [when for n, (path, when) in enumerate(service.arrivals) if n > 0 and path == service.held_path]
    assert resent >= lease_until


def test_a_worker_asked_to_stop_mid_send_exits_within_the_push_timeout_and_releases_the_job(db, engine, workers,
                                                                                            push_service):
    """Issue 19: stopping (SIGTERM, as systemd does) is bounded whatever is in flight: the send ends within its own
    deadline, and the job it did not deliver is released (no lease, due at once, not counted as a try), so
    another worker sends it at once, and only that one."""
    service = push_service(hold_first=True)  # takes the first request and answers nothing until released
    paths = recipients_with_one_device(db, 3, service)
    ids = announce(db, list(paths))
    first = workers.start(PUSH_TIMEOUT_SECONDS="4", PUSH_ALLOWED_HOSTS=service.host)
    wait_for(service.first_request.is_set, "the worker to be sending", workers)
    held = next(job_id for job_id, job in jobs_by_id(engine, ids).items()
                if paths[job.recipient_user_id] == service.held_path)
    assert jobs_by_id(engine, [held])[held].status == JobStatus.SENDING  # mid-send

    first.send_signal(signal.SIGTERM)
    # The push timeout and a few seconds (measured: 5.6-5.8 s on a loaded 2-core machine).
    code = wait_for_exit(first, 4 + 6)
    assert code == 0, f"the worker did not exit within 10 s of SIGTERM:\n{workers.output(first)}"

    job = jobs_by_id(engine, [held])[held]
    assert (job.status, job.claimed_by, job.lease_until, job.attempts) == (JobStatus.PENDING, "", None, 0)
    assert job.due_at <= datetime.now(UTC)  # claimable at once, by anyone
    service.release.set()  # the push service answers again
    second = workers.start(PUSH_ALLOWED_HOSTS=service.host)
    # Far sooner than a retry's 30 s: the job was given back, not put off.
    wait_for(all_final(engine, ids), "another worker to send the released job", workers, timeout=20.0)
    workers.stop()

    jobs = jobs_by_id(engine, ids)
    assert (jobs[held].status, jobs[held].claimed_by, jobs[held].attempts) == (JobStatus.SENT, workers.name(second), 1)
    # The others went out beside it before the stop (or, not started yet when it came, were released too).
    assert {(j.status, j.attempts) for j in jobs.values()} == {(JobStatus.SENT, 1)}
    assert {j.claimed_by for j in jobs.values()} <= {workers.name(first), workers.name(second)}
    # The released job reached the push service twice, the first time unanswered; every other job once.
    assert service.counts == Counter({path: 2 if path == service.held_path else 1 for path in paths.values()})
