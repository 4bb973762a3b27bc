"""/metrics: Prometheus's text format, only for callers on this machine that did not come through the proxy, or
with METRICS_TOKEN; requests by route template, never by path; the database's numbers read at scrape time."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from server import clock
from server.health import heartbeat, metrics
from server.notifications import outbox
from server.notifications.models import JobStatus
from tests.servers import ROOT, app_process, free_port, stop, wait_until_healthy
from tests.support.health import wait_until
from tests.support.reports import make_report, submit_report, user_named
from tests.support.web import post_form

TOKEN = "metrics-token-for-the-tests-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def scrape(client, app, settings):
    app.state.settings = replace(settings, metrics_token=TOKEN)

    def get() -> str:
        response = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        return response.text

    return get


def test_a_stranger_is_told_the_address_does_not_exist(client):
    response = client.get("/metrics")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.text
    assert "bintang_" not in response.text


@pytest.mark.parametrize("header", ["Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", ""])
def test_a_wrong_token_is_told_the_same(client, app, settings, header):
    app.state.settings = replace(settings, metrics_token=TOKEN)
    response = client.get("/metrics", headers={"authorization": header})
    assert response.status_code == 404
    assert "bintang_" not in response.text


def test_requests_are_counted_by_route_template_and_status_never_by_path(scrape, client):
    before = scrape()
    client.get("/kasus/4242")  # signed out: sent to sign in
    client.get("/tidak-ada/9876")
    after = scrape()
    route = {"method": "GET", "route": "/kasus/{report_id}", "status": "303"}
    assert value(after, "bintang_http_requests_total", **route) == value(before, "bintang_http_requests_total",
                                                                          **route) + 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, "bintang_http_requests_total", **unmatched) >= 1
    assert value(after, "bintang_http_request_duration_seconds_count", method="GET", route="/kasus/{report_id}") >= 1
    assert 'le="0.25",method="GET",route="/kasus/{report_id}"' in after
    # Only the labels can hold a path: the values are numbers in which any digits may turn up (a timestamp).
    labels = " ".join(line.split("}")[0] for line in after.splitlines() if "{" in line and not line.startswith("#"))
    assert "4242" not in labels
    assert "9876" not in labels
    assert "tidak-ada" not in after


def test_sign_in_failures_are_counted_by_kind(scrape, client, make_client):
    before = scrape()
    post_form(client, "/masuk", {"username": "konselor", "password": "bukan-kata-sandinya"})
    post_form(make_client(), "/cek", {"code": "AAAA-BBBB-CCCC-DDDD", "pin": "123456"}, token_from="/cek")
    after = scrape()
    for kind in ("password", "report_code"):
        assert value(after, "bintang_sign_in_failures_total", kind=kind) == \
            value(before, "bintang_sign_in_failures_total", kind=kind) + 1, kind
    assert ("bintang_sign_in_failures_total", (("kind", "two_factor"),)) in samples(after)


def test_the_database_numbers_are_read_when_asked(scrape, app, db, engine):
    text = scrape()
    assert value(text, "bintang_dispatcher_heartbeat_age_seconds") == float("inf")
    assert value(text, "bintang_check_ok", check="dispatcher") == 0.0
    assert value(text, "bintang_check_ok", check="database") == 1.0

    heartbeat.beat(engine, "host:1", started_at=clock.now(), now=clock.now() - timedelta(seconds=7))
    parent = user_named(db, "orangtua")
    now = clock.now()
    for status, due in [(JobStatus.PENDING, now - timedelta(minutes=5)), (JobStatus.PENDING, now - timedelta(minutes=1)),
                        (JobStatus.PENDING, now + timedelta(minutes=9)), (JobStatus.FAILED, now - timedelta(hours=3))]:
        [job] = outbox.enqueue(db, "case_status", url="/laporan-saya/1", topic="t", user_ids=[parent.id])
        job.status, job.due_at = status, due
    db.commit()
    make_report(app, db, at=now - timedelta(days=10))

    text = scrape()
    assert value(text, "bintang_dispatcher_heartbeat_age_seconds") == 7.0
    heartbeat.stopped(engine, "host:1")  # a stopped dispatcher is no running one
    assert value(scrape(), "bintang_dispatcher_heartbeat_age_seconds") == float("inf")
    assert value(text, "bintang_check_ok", check="dispatcher") == 1.0
    assert value(text, "bintang_notification_jobs_due") == 2.0
    assert value(text, "bintang_notification_oldest_due_age_seconds") == 300.0
    assert value(text, "bintang_notification_jobs_failed_24h") == 1.0
    assert value(text, "bintang_cases_past_deadline") == 1.0


def test_nothing_anyone_typed_reaches_the_metrics(scrape, client):
    sent = submit_report(client, child_words="Paman Joko memukulku dengan ikat pinggang.")
    text = scrape()
    for secret in ("Paman Joko", sent.code, sent.pin):
        assert secret not in text


@pytest.mark.real_clock
def test_a_caller_on_this_machine_reads_them_but_not_through_the_proxy(database_url, tmp_path):
    with app_process(database_url, tmp_path / "var") as base:
        direct = httpx.get(f"{base}/metrics")
        assert direct.status_code == 200
        assert "bintang_http_requests_total" in direct.text
        proxied = httpx.get(f"{base}/metrics", headers={"x-forwarded-for": "203.0.113.9"})
        assert proxied.status_code == 404
        assert "bintang_" not in proxied.text


@pytest.mark.real_clock
def test_several_processes_add_up_their_counts_in_the_multiprocess_folder(database_url, tmp_path):
    """`bintang run --workers 2` with PROMETHEUS_MULTIPROC_DIR: whichever process answers the scrape, it counts
    every process's requests; and a new run starts from an empty folder."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_99999.db").write_bytes(b"left by an earlier run")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path / "var"), "LOG_LEVEL": "WARNING",
           "DISPATCHER": "off", "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    process = subprocess.Popen([sys.executable, "-m", "server.cli", "run", "--port", str(port), "--workers", "2"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, timeout=120.0)  # two processes starting on a busy machine
        assert not (folder / "counter_99999.db").exists()
        # Side by side, on new connections, so that both processes take some of them.
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: httpx.get(f"{base}/lapor", headers={"connection": "close"},
                                                         timeout=30.0).status_code,
                                     range(40)))
        assert statuses == [200] * 40
        def lapor_total() -> float:
            text = httpx.get(f"{base}/metrics", headers={"connection": "close"}).text
            return value(text, "bintang_http_requests_total", method="GET", route="/lapor", status="200")

        # A request is counted once its answer has gone out: the last ones may be counted a moment after the client
        # has read them.
        assert wait_until(lambda: lapor_total() == 40.0, 10.0)
        assert [lapor_total() for _ in range(3)] == [40.0, 40.0, 40.0]
        per_process = {path.name: lapor_count(path) for path in folder.glob("counter_*.db")}
    finally:
        stop(process)
    # Each process's file holds its own share; the scrape added them up.
    assert sum(per_process.values()) == 40.0, per_process


def lapor_count(path) -> float:
    return sum(found for key, found, _at, _pos in MmapedDict.read_all_values_from_file(str(path))
               if '"bintang_http_requests_total"' in key and '"/lapor"' in key and '"200"' in key)


def test_the_scrape_adds_up_every_process_file_in_the_folder(engine, settings, tmp_path):
    """What two web processes leave in PROMETHEUS_MULTIPROC_DIR (written here as prometheus-client writes them),
    added up by whichever process answers."""
    key = mmap_key("bintang_http_requests", "bintang_http_requests_total", ["method", "route", "status"],
                   ["GET", "/lapor", "200"], "HTTP requests answered, by method, route template and status.")
    for pid, count in ((101, 3.0), (102, 4.0)):
        written = MmapedDict(str(tmp_path / f"counter_{pid}.db"))
        written.write_value(key, count, 0.0)
        written.close()
    text = metrics.exposition(engine, replace(settings, metrics_multiproc_dir=str(tmp_path))).decode()
    assert value(text, "bintang_http_requests_total", method="GET", route="/lapor", status="200") == 7.0
    assert value(text, "bintang_notification_jobs_due") == 0.0  # the database's numbers beside them
