"""The supervisor's "Kesehatan layanan" page, and the banner every supervisor page shows while a check is red."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from server import clock
from server.health import heartbeat
from server.health import service as health
from server.notifications import outbox
from server.notifications.models import JobStatus
from tests.support.reports import make_report, user_named
from tests.support.web import post_form

BANNER = "Layanan bermasalah: Pengirim pemberitahuan. Lihat Kesehatan layanan."


def alive(engine, seconds_ago: int = 12) -> None:
    heartbeat.beat(engine, "host:1", started_at=clock.now() - timedelta(hours=1),
                   now=clock.now() - timedelta(seconds=seconds_ago))


def test_a_supervisor_sees_everything_green_while_the_dispatcher_runs(as_user, engine):
    alive(engine)
    response = as_user("supervisor").get("/admin/kesehatan")
    assert response.status_code == 200
    text = response.text
    assert "<h1>Kesehatan layanan</h1>" in text
    assert "Semua pemeriksaan baik. Layanan berjalan seperti seharusnya." in text
    assert "<dd data-dispatcher>Berjalan: terakhir aktif 12 detik yang lalu.</dd>" in text
    assert f"<dd>{health.version()}</dd>" in text
    assert "Terhubung, dan strukturnya sesuai dengan versi aplikasi ini." in text
    assert text.count('data-check-ok="yes"') == 6  # the backups: not set up in development
    assert "data-health-banner" not in text
    assert response.headers["cache-control"] == "no-store"


def test_a_stopped_dispatcher_is_red_on_the_page_and_in_a_banner_on_every_supervisor_page(as_user, engine):
    alive(engine, seconds_ago=5 * 60)
    supervisor = as_user("supervisor")
    response = supervisor.get("/admin/kesehatan")
    assert response.status_code == 200
    assert 'Ada yang perlu segera ditangani: lihat pemeriksaan yang bertanda "Bermasalah" di bawah.' in response.text
    assert ("Berhenti: terakhir aktif 5 menit yang lalu (batasnya 1 menit). Pemberitahuan, juga peringatan darurat "
            "untuk konselor, tidak terkirim sampai bintang worker berjalan lagi.") in response.text
    assert response.text.count('data-check-ok="no"') == 1
    for path in ("/admin", "/kasus/", "/statistik/", "/admin/kesehatan"):
        page = supervisor.get(path)
        assert page.status_code == 200
        assert BANNER in page.text, path


def test_a_worker_stopped_on_purpose_is_red_at_once(as_user, engine):
    alive(engine, seconds_ago=30)
    heartbeat.stopped(engine, "host:1", now=clock.now() - timedelta(seconds=20))
    response = as_user("supervisor").get("/admin/kesehatan")
    assert response.status_code == 200
    assert ("<dd data-dispatcher>Dihentikan 20 detik yang lalu. Pemberitahuan, juga peringatan darurat untuk "
            "konselor, tidak terkirim sampai bintang worker berjalan lagi.</dd>") in response.text
    assert BANNER in response.text


def test_no_dispatcher_ever_is_said_in_plain_words(as_user):
    response = as_user("supervisor").get("/admin/kesehatan")
    assert response.status_code == 200
    assert ("Belum pernah berjalan. Pemberitahuan, juga peringatan darurat untuk konselor, tidak terkirim sampai "
            "bintang worker berjalan.") in response.text
    assert BANNER in response.text


def test_the_banner_goes_once_the_dispatcher_is_back(as_user, engine):
    supervisor = as_user("supervisor")
    assert BANNER in supervisor.get("/admin").text
    alive(engine, seconds_ago=1)
    # Opening the page runs the checks at once; other pages follow this process's copy (at most 10 s old).
    assert BANNER not in supervisor.get("/admin/kesehatan").text
    assert BANNER not in supervisor.get("/admin").text


def test_a_counselor_never_sees_the_banner_and_is_refused_the_page(as_user):
    counselor = as_user("konselor")
    inbox = counselor.get("/kasus/")
    assert inbox.status_code == 200
    assert "data-health-banner" not in inbox.text
    response = counselor.get("/admin/kesehatan")
    assert response.status_code == 403
    assert "Anda tidak punya akses ke halaman ini" in response.text


def test_a_signed_out_stranger_is_sent_to_sign_in(client):
    response = client.get("/admin/kesehatan", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/admin/kesehatan"
    assert "data-health-banner" not in client.get("/").text


def test_it_counts_pushes_of_the_last_day_and_cases_past_their_deadline(as_user, app, db, engine):
    alive(engine)
    parent = user_named(db, "orangtua")
    now = clock.now()
    ended = [(JobStatus.SENT, now - timedelta(hours=2)), (JobStatus.SENT, now - timedelta(hours=23)),
             (JobStatus.SENT, now - timedelta(hours=25)), (JobStatus.FAILED, now - timedelta(hours=1)),
             (JobStatus.PENDING, now + timedelta(hours=1))]
    for status, at in ended:
        [job] = outbox.enqueue(db, "case_status", url="/laporan-saya/1", topic="t", user_ids=[parent.id])
        job.status, job.due_at = status, at
        job.sent_at = at if status == JobStatus.SENT else None
    db.commit()
    make_report(app, db, at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC))  # its first follow-up was due last week
    make_report(app, db, at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    make_report(app, db)  # due in three working days
    response = as_user("supervisor").get("/admin/kesehatan")
    assert response.status_code == 200
    assert "<dt>Terkirim, 24 jam terakhir</dt><dd data-sent>2</dd>" in response.text
    assert ('<dt>Gagal, 24 jam terakhir</dt><dd data-failed>1 · <a href="/admin/pemberitahuan">lihat sebabnya</a>'
            in response.text)
    assert ('<dt>Kasus melewati tenggat</dt><dd data-past-deadline>2 · <a href="/kasus/">buka kotak masuk</a>'
            in response.text)


def test_a_nearly_full_disk_is_red_with_what_is_left(as_user, app, engine, settings):
    alive(engine)
    app.state.settings = replace(settings, min_free_disk_mb=2**40)
    response = as_user("supervisor").get("/admin/kesehatan")
    assert response.status_code == 200
    assert "Tinggal " in response.text
    assert "(batasnya 1.073.741.824,0 GB)" in response.text
    assert "Layanan bermasalah: Ruang disk. Lihat Kesehatan layanan." in response.text


def test_it_speaks_english_too(as_user, engine):
    alive(engine)
    supervisor = as_user("supervisor")
    post_form(supervisor, "/bahasa", {"bahasa": "en", "lanjut": "/"}, token_from="/")
    response = supervisor.get("/admin/kesehatan")
    assert response.status_code == 200
    assert "<h1>Service health</h1>" in response.text
    assert "Running: last active 12 seconds ago." in response.text
    assert "All checks are fine. The service is working as it should." in response.text


@pytest.mark.parametrize("path", ["/admin"])
def test_the_admin_page_links_to_it(as_user, path):
    response = as_user("supervisor").get(path)
    assert response.status_code == 200
    assert 'href="/admin/kesehatan"' in response.text
