"""/metrics in Prometheus's text format: this process's counters (server/telemetry.py; every process's, added up,
with PROMETHEUS_MULTIPROC_DIR) and what the database says at the moment of the scrape.

The database's numbers (notifications due, failed, the oldest wait, the dispatcher's heartbeat, cases past their
deadline, each readiness check) are read when Prometheus asks, not kept by the processes: they are the same
whichever process answers, so several uvicorn workers need no shared state for them, and a scrape every 15-60 s
costs a few indexed counts."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from datetime import timedelta

from litestar.types import Scope
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server import clock
from server.health import checks, heartbeat
from server.notifications import service as notifications
from server.reports import deadlines
from server.settings import Settings

# Litestar adds "; charset=utf-8" to a text type.
CONTENT_TYPE = "text/plain; version=0.0.4"
# A request that came through a proxy carries one of these; the proxy's own address is loopback when it runs on
# the same machine, so a loopback peer alone does not mean the caller is on this machine.
FORWARDED_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip", b"x-forwarded-host")


def may_read(scope: Scope, settings: Settings) -> bool:
    """Loopback callers that did not come through a proxy (the real peer, never a forwarded header), or anyone
    with the bearer token METRICS_TOKEN when it is set."""
    headers = dict(scope.get("headers", []))
    if settings.metrics_token:
        sent = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = sent.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.metrics_token.encode()):
            return True
    client = scope.get("client")
    try:
        loopback = ipaddress.ip_address(client[0]).is_loopback if client else False
    except ValueError:  # not an address (a Unix socket, a test client)
        loopback = False
    return loopback and not any(name in headers for name in FORWARDED_HEADERS)


class DatabaseCollector:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings

    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        results = checks.run_all(self.engine, self.settings, now)
        ready = GaugeMetricFamily("bintang_check_ok", "1 when the readiness check is green, 0 when red.",
                                  labels=["check"])
        for result in results:
            ready.add_metric([result.name], 1.0 if result.ok else 0.0)
        yield ready
        try:
            running = heartbeat.last_seen(self.engine).running
        except Exception:  # noqa: BLE001 - the database is down: bintang_check_ok{check="database"} says so
            return
        yield GaugeMetricFamily(
            "bintang_dispatcher_heartbeat_age_seconds",
            "Seconds since a running dispatcher last wrote its heartbeat (+Inf when none runs).",
            value=float("inf") if running is None else max(0.0, (now - running).total_seconds()))
        try:
            with Session(self.engine) as session:
                queue = notifications.queue_state(session, since=now - timedelta(hours=24), now=now)
                past_deadline = deadlines.past_deadline_count(session, now)
        except Exception:  # noqa: BLE001 - the database is down: bintang_check_ok{check="database"} says so
            return
        yield GaugeMetricFamily("bintang_notification_jobs_due", "Notifications whose time has come, not sent yet.",
                                value=queue.due)
        oldest = (now - queue.oldest_due_at).total_seconds() if queue.oldest_due_at else 0.0
        yield GaugeMetricFamily("bintang_notification_oldest_due_age_seconds",
                                "How long the longest-waiting due notification has waited (0 when none waits).",
                                value=max(0.0, oldest))
        yield GaugeMetricFamily("bintang_notification_jobs_failed_24h",
                                "Notifications that ended failed in the last 24 hours.", value=queue.failed)
        yield GaugeMetricFamily("bintang_notification_jobs_sent_24h",
                                "Notifications sent in the last 24 hours.", value=queue.sent)
        yield GaugeMetricFamily("bintang_cases_past_deadline",
                                "Open cases with a deadline passed and not met.", value=past_deadline)


class _ThisProcess:
    """The default registry (this process's counters, and Python's process and GC numbers)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition(engine: Engine, settings: Settings) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if settings.metrics_multiproc_dir:
        MultiProcessCollector(registry, path=str(settings.metrics_multiproc_dir))
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector(engine, settings))
    return generate_latest(registry)
