"""The restore drill of issue 21, on both databases: 1,000 reports with messages, appointments, push
subscriptions, check-ins and audit entries; a backup while someone keeps writing; a restore on a new machine;
every table as the snapshot had it; a code and PIN still open their case; a push subscription still gets its
message, signed with the restored VAPID key."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import inspect, select, text
from sqlmodel import Session

from server import worker
from server.accounts.models import User
from server.app import create_app
from server.backups import service as backups
from server.backups.models import BackupRun
from server.db import make_engine
from server.models import AuditEntry
from server.notifications import outbox
from server.reports import intake, report_form
from tests.pushservice import push_service
from tests.servers import pause
from tests.support.backups import fill
from tests.support.reports import TEST_IP, report_fields
from tests.support.web import csrf_token, post_form


def rows_of(engine) -> dict[str, set[tuple]]:
    with engine.connect() as conn:
        return {name: {tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))}
                for name in inspect(conn).get_table_names()}


def wait_for(condition, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        pause(0.02)
    raise AssertionError("the writer did not write")


@pytest.mark.both_databases
def test_a_backup_taken_while_people_write_restores_every_row_on_a_new_machine(app, db, engine, settings, key,
                                                                                 empty_url, bintang, tmp_path):
    filled = fill(db, settings, 1000)
    before = rows_of(engine)
    assert len(before["report"]) == 1000
    assert len(before["appointment"]) == 250
    assert len(before["push_subscription"]) == 250
    assert len(before["check_in"]) == 250
    assert len(before["audit_entry"]) > 1000
    assert len(before["case_event"]) > 1500

    # Someone keeps reporting while the backup runs.
    stop, written = threading.Event(), []

    def keep_writing() -> None:
        with Session(engine) as session:
            while not stop.is_set():
                form = report_form.ReportForm.from_data(report_fields(child_words=f"Laporan baru {len(written)}"))
                intake.submit_report(session, settings, form, user=None, ip=TEST_IP)
                session.commit()
                written.append(1)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        wait_for(lambda: len(written) >= 3)
        ran = bintang(settings, "backup")
        during = len(written)
        wait_for(lambda: len(written) >= during + 3)
    finally:
        stop.set()
        writer.join()
    assert ran.code == 0, ran.err
    archive = Path(ran.out.strip().splitlines()[-1])
    manifest = backups.read_manifest(archive, key.identity)
    reports_in_snapshot = manifest["tables"]["report"]["rows"]
    assert 1000 < reports_in_snapshot < 1000 + len(written)

    # The new machine: an empty database and an empty data folder.
    new = replace(settings, database_url=empty_url, data_dir=tmp_path / "new-machine-data")
    restored = bintang(new, "restore", str(archive), "--identity", str(key.identity))
    assert restored.code == 0, restored.err
    assert f"restored {archive}" in restored.out
    assert "the sentinel found: as the manifest says" in restored.out
    assert "VAPID key: written to" in restored.out or "VAPID_PRIVATE_KEY" in restored.out

    new_engine = make_engine(empty_url)
    after = rows_of(new_engine)
    # Every table has the manifest's count, and every row there before the writer started, unchanged (but for
    # the two counters each new report raises: the report month's version and the address's hourly count).
    for name, expected in manifest["tables"].items():
        # The restore's own record and audit entry come after the check.
        restored_count = len(after[name]) - (1 if name in ("backup_run", "audit_entry") else 0)
        assert restored_count == expected["rows"], name
        if name not in ("rate_limit_counter", "report_month_version"):
            assert before[name] <= after[name], name
    with Session(new_engine) as session:
        last_run = session.execute(select(BackupRun).order_by(BackupRun.id.desc()).limit(1)).scalar_one()
        assert (last_run.kind, last_run.ok, last_run.archive) == ("restore", True, archive.name)
        entry = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert (entry.action, entry.object_id, entry.actor_label) == ("database.restored", archive.name,
                                                                     "bintang restore")

    # A code and PIN still open their case on the new machine.
    report_id, code, pin = filled.codes[0]
    with TestClient(app=create_app(new), base_url="http://127.0.0.1:8000") as holder:
        opened = post_form(holder, "/cek", {"code": code, "pin": pin}, token_from="/cek", follow_redirects=False)
        assert opened.status_code == 303
        assert opened.headers["location"] == "/cek/laporan"
        page = holder.get("/cek/laporan")
        assert page.status_code == 200
        assert "Terima kasih, kami hubungi (0)." in page.text
    new_engine.dispose()


@pytest.mark.both_databases
@pytest.mark.real_clock  # the local push service checks the VAPID signature's expiry against the real time
def test_a_push_subscription_made_before_the_backup_gets_its_message_after_the_restore(
        app, db, settings, key, empty_url, bintang, tmp_path, as_user):
    with push_service() as push:
        settings_with_push = replace(settings, push_allowed_hosts=(push.host,))
        app.state.settings = settings_with_push
        parent = as_user("orangtua")
        server_key = parent.get("/push/kunci").json()["publicKey"]
        device = push.subscribe(server_key)
        response = parent.post("/push/langganan", json=device.subscription,
                               headers={"X-CSRFToken": csrf_token(parent, "/")})
        assert response.status_code == 200
        assert response.json() == {"ok": True}

        archive = Path(bintang(settings_with_push, "backup").out.strip().splitlines()[-1])
        new = replace(settings_with_push, database_url=empty_url, data_dir=tmp_path / "new-machine-data")
        restored = bintang(new, "restore", str(archive), "--identity", str(key.identity))
        assert restored.code == 0, restored.err

        new_engine = make_engine(empty_url)
        with Session(new_engine) as session:
            parent_id = session.execute(select(User.id).where(User.username == "orangtua")).scalar_one()
            outbox.enqueue(session, "case_message", url="/notifikasi", topic="after-restore", user_ids=[parent_id])
            session.commit()
        stats = worker.tick(new_engine, worker.make_sender(new), new)
        new_engine.dispose()
        assert stats.sent == 1, stats
        assert [p["body"] for p in push.payloads(device)] == ["Bintang Ceria: ada kabar baru untuk Anda"]
