"""The backups' lights in readiness and on "Kesehatan layanan": the last good backup, the last verified restore and
the last off-host copy; older than 26 hours (8 days for the verified restore), a failed last run, or none at all is
red, so a backup never fails silently."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session

from server import clock
from server.backups.models import BackupRun, RunKind
from server.health import checks, heartbeat

RECIPIENT = "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"


@pytest.fixture
def settings(settings):
    """Backups set up, with an off-host copy."""
    return replace(settings, backup_recipients=(RECIPIENT,), backup_remote="rest:http://127.0.0.1:9/bintang")


def ran(engine, kind: RunKind, *, hours_ago: float, ok: bool = True, reason: str = "") -> None:
    ended = clock.now() - timedelta(hours=hours_ago)
    with Session(engine) as session:
        session.add(BackupRun(kind=kind.value, started_at=ended - timedelta(minutes=1), ended_at=ended, ok=ok,
                              reason=reason))
        session.commit()


def lights(engine, settings) -> dict[str, tuple[bool, str]]:
    return {r.name: (r.ok, r.detail) for r in checks.run_all(engine, settings) if r.name.startswith("backup_")}


def test_recent_backup_verify_and_copy_are_green(engine, settings):
    ran(engine, RunKind.BACKUP, hours_ago=3)
    ran(engine, RunKind.VERIFY, hours_ago=24 * 6)
    ran(engine, RunKind.OFF_HOST, hours_ago=3)
    assert lights(engine, settings) == {"backup_backup": (True, "recent"), "backup_verify": (True, "recent"),
                                        "backup_offhost": (True, "recent")}


def test_a_backup_older_than_26_hours_a_verify_older_than_8_days_and_no_copy_at_all_are_red(engine, settings):
    ran(engine, RunKind.BACKUP, hours_ago=27)
    ran(engine, RunKind.VERIFY, hours_ago=24 * 8 + 1)
    assert lights(engine, settings) == {"backup_backup": (False, "stale"), "backup_verify": (False, "stale"),
                                        "backup_offhost": (False, "never")}


def test_a_failed_last_run_is_red_even_after_a_good_one(engine, settings):
    ran(engine, RunKind.BACKUP, hours_ago=20)
    ran(engine, RunKind.BACKUP, hours_ago=1, ok=False, reason="disk full")
    assert lights(engine, settings)["backup_backup"] == (False, "failed")


def test_in_production_backups_not_set_up_are_red_and_in_development_they_are_left_out(engine, settings):
    bare = replace(settings, backup_recipients=(), backup_remote="")
    assert set(lights(engine, bare).values()) == {(True, "not set up")}
    assert set(lights(engine, replace(bare, env="production")).values()) == {(False, "not set up")}


def test_readiness_and_the_supervisors_page_say_a_stale_backup_in_plain_words(client, as_user, engine, settings):
    heartbeat.beat(engine, "host:1", started_at=clock.now() - timedelta(hours=1), now=clock.now())
    ran(engine, RunKind.BACKUP, hours_ago=30)
    ran(engine, RunKind.VERIFY, hours_ago=24)
    ran(engine, RunKind.OFF_HOST, hours_ago=2)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["backup_backup"] == {"ok": False, "detail": "stale"}
    assert ready.json()["checks"]["backup_verify"] == {"ok": True, "detail": "recent"}
    page = as_user("supervisor").get("/admin/kesehatan")
    assert page.status_code == 200
    assert "Cadangan terlalu lama: terakhir berhasil 1 hari yang lalu." in page.text
    assert "Salinan di luar server terakhir berhasil 2 jam yang lalu." in page.text
    assert "Layanan bermasalah: Cadangan data. Lihat Kesehatan layanan." in page.text
