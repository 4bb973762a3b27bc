"""Readiness (/readyz): the database reachable and migrated, a dispatcher alive (its heartbeat), free disk; and the
heartbeat every dispatcher writes."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import select, text

from server import clock, worker
from server.app import create_app
from server.health import checks, heartbeat
from server.health.models import DispatcherHeartbeat
from server.notifications import dispatcher
from server.settings import SettingsError, from_env
from tests.servers import app_process
from tests.support.health import wait_until


def rows(engine) -> list[DispatcherHeartbeat]:
    with engine.connect() as connection:
        return list(connection.execute(select(DispatcherHeartbeat)).all())


def test_the_worker_loop_writes_its_heartbeat_on_every_round(engine, settings, pinned_clock):
    settings = replace(settings, dispatch_interval_seconds=0.02)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop, engine, settings), daemon=True)
    started = clock.now()
    thread.start()
    try:
        assert wait_until(lambda: [r.last_seen for r in rows(engine)] == [started])
        # A later round stamps the later time: the heartbeat moves while the loop runs.
        pinned_clock.shift(timedelta(seconds=30))
        assert wait_until(lambda: [r.last_seen for r in rows(engine)] == [started + timedelta(seconds=30)])
    finally:
        stop.set()
        thread.join(15.0)
    assert not thread.is_alive()
    # A clean stop says so: readiness need not wait a minute for the heartbeat to grow old.
    [row] = rows(engine)
    assert row.worker == dispatcher.worker_name()
    assert row.started_at == started
    assert row.stopped_at == row.last_seen == started + timedelta(seconds=30)


@pytest.mark.both_databases
def test_a_heartbeat_is_one_row_per_dispatcher_and_stopped_ones_are_forgotten_after_a_week(engine):
    now = clock.now()
    heartbeat.beat(engine, "host:1", started_at=now - timedelta(days=8), now=now - timedelta(days=8))
    heartbeat.beat(engine, "host:2", started_at=now - timedelta(days=6), now=now - timedelta(days=6))
    heartbeat.beat(engine, "host:3", started_at=now - timedelta(hours=1), now=now - timedelta(minutes=2))
    heartbeat.beat(engine, "host:3", started_at=now - timedelta(hours=1), now=now)
    assert heartbeat.forget_stopped(engine, now) == 1
    assert sorted((r.worker, r.last_seen) for r in rows(engine)) == [
        ("host:2", now - timedelta(days=6)), ("host:3", now)]
    assert heartbeat.last_seen(engine) == heartbeat.Seen(running=now, any=now)
    heartbeat.stopped(engine, "host:3", now + timedelta(seconds=5))
    assert heartbeat.last_seen(engine) == heartbeat.Seen(running=now - timedelta(days=6), any=now + timedelta(seconds=5))


def test_the_worker_purge_forgets_dispatchers_gone_for_a_week(engine, settings):
    heartbeat.beat(engine, "gone:1", started_at=clock.now() - timedelta(days=9), now=clock.now() - timedelta(days=8))
    purged = worker.purge(engine, settings)
    assert purged["dispatcher_heartbeats"] == 1
    assert rows(engine) == []


def test_ready_when_every_check_is_green(client, engine):
    heartbeat.beat(engine, "host:1", started_at=clock.now(), now=clock.now() - timedelta(seconds=59))
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "detail": "reachable, migrations at head"}
    assert body["checks"]["dispatcher"] == {"ok": True, "detail": "last heartbeat 59 s ago"}
    assert body["checks"]["disk"]["ok"] is True
    assert body["checks"]["disk"]["detail"].endswith(" MB free")
    assert response.headers["cache-control"] == "no-store"


def test_not_ready_without_any_dispatcher(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["dispatcher"] == {"ok": False, "detail": "no heartbeat"}
    assert body["checks"]["database"]["ok"] is True


def test_not_ready_once_the_heartbeat_is_older_than_the_setting(client, engine, app, settings):
    heartbeat.beat(engine, "host:1", started_at=clock.now(), now=clock.now() - timedelta(seconds=61))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["dispatcher"] == {"ok": False, "detail": "last heartbeat 61 s ago"}
    app.state.settings = replace(settings, heartbeat_max_age_seconds=120)
    assert client.get("/readyz").status_code == 200


def test_not_ready_at_once_when_the_only_dispatcher_stopped_cleanly(client, engine):
    heartbeat.beat(engine, "host:1", started_at=clock.now(), now=clock.now() - timedelta(seconds=30))
    heartbeat.stopped(engine, "host:1", now=clock.now() - timedelta(seconds=20))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["dispatcher"] == {"ok": False, "detail": "stopped 20 s ago"}
    # Another one still running is enough.
    heartbeat.beat(engine, "host:2", started_at=clock.now(), now=clock.now() - timedelta(seconds=3))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["dispatcher"] == {"ok": True, "detail": "last heartbeat 3 s ago"}


def test_not_ready_when_the_disk_is_nearly_full(client, engine, app, settings):
    heartbeat.beat(engine, "host:1", started_at=clock.now())
    app.state.settings = replace(settings, min_free_disk_mb=2**40)  # more than any disk here has
    response = client.get("/readyz")
    assert response.status_code == 503
    disk = response.json()["checks"]["disk"]
    assert disk["ok"] is False
    assert disk["detail"].endswith(" MB free")


@pytest.mark.both_databases
def test_not_ready_when_the_database_is_not_at_the_newest_migration(client, engine):
    heartbeat.beat(engine, "host:1", started_at=clock.now())
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0011_job_event_at'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "migrations not at head"}


def test_not_ready_when_the_database_cannot_be_reached(settings):
    broken = replace(settings, database_url="postgresql://nobody@127.0.0.1:1/none")
    with TestClient(app=create_app(broken)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()["checks"]
    assert body["database"] == {"ok": False, "detail": "unreachable or not migrated"}
    assert body["dispatcher"] == {"ok": False, "detail": "check failed"}


def test_a_check_added_to_the_list_is_part_of_readiness(client, engine, monkeypatch):
    """How the backups' checks plug in: one more entry in the list."""
    heartbeat.beat(engine, "host:1", started_at=clock.now())
    backup = checks.Check("backup", lambda _e, _s, _n: checks.Result("backup", False, "last good backup 30 h ago"))
    monkeypatch.setattr(checks, "CHECKS", [*checks.CHECKS, backup])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["backup"] == {"ok": False, "detail": "last good backup 30 h ago"}


@pytest.mark.real_clock
def test_an_app_process_with_the_inline_dispatcher_is_ready(database_url, tmp_path):
    with app_process(database_url, tmp_path / "var", DISPATCHER="inline", DISPATCH_INTERVAL_SECONDS="0.1") as base:
        assert wait_until(lambda: httpx.get(f"{base}/readyz").status_code == 200, 30.0)
        assert httpx.get(f"{base}/readyz").json()["checks"]["dispatcher"]["ok"] is True


def test_settings_refuse_a_heartbeat_limit_a_running_dispatcher_could_not_meet():
    with pytest.raises(SettingsError, match="HEARTBEAT_MAX_AGE_SECONDS must be longer than DISPATCH_INTERVAL_SECONDS"):
        from_env({"HEARTBEAT_MAX_AGE_SECONDS": "5", "DISPATCH_INTERVAL_SECONDS": "5"})
    with pytest.raises(SettingsError, match="MIN_FREE_DISK_MB must be 0 or more"):
        from_env({"MIN_FREE_DISK_MB": "-1"})
    settings = from_env({"HEARTBEAT_MAX_AGE_SECONDS": "90", "MIN_FREE_DISK_MB": "2048", "METRICS_TOKEN": " t0ken "})
    assert (settings.heartbeat_max_age_seconds, settings.min_free_disk_mb, settings.metrics_token) == (90, 2048, "t0ken")
