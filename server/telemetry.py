"""The process's Prometheus counters: requests by route template and status, their durations, failed sign-ins.
Every module may count here (it imports nothing of ours); `/metrics` (server/health/metrics.py) exposes them with
the numbers read from the database at scrape time.

With several uvicorn worker processes each process counts its own requests, and a scrape reaches one of them.
With `PROMETHEUS_MULTIPROC_DIR` set (before this module is imported: prometheus-client picks its storage then),
every process writes its counts to files there and a scrape adds them all up; `bintang run` empties that folder
when it starts the processes (prometheus-client's rule: the folder must be wiped between runs)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "bintang_http_requests_total", "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "bintang_http_request_duration_seconds", "Time to answer an HTTP request, by method and route template.",
    ["method", "route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SIGN_IN_FAILURES = Counter(
    "bintang_sign_in_failures_total",
    "Wrong sign-ins: a staff or family password (password), a two-factor code (two_factor), a report code and PIN "
    "at /cek (report_code).",
    ["kind"],
)
SIGN_IN_KINDS = ("password", "two_factor", "report_code")
for _kind in SIGN_IN_KINDS:  # shown as 0 from the start, so an alert on their rate has a series to look at
    SIGN_IN_FAILURES.labels(kind=_kind)
# A request that matched no route is counted under this, never under its path (which could be anything).
UNMATCHED = "unmatched"


def sign_in_failed(kind: str) -> None:
    SIGN_IN_FAILURES.labels(kind=kind).inc()
