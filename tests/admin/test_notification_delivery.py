"""/admin/pemberitahuan: supervisors see how delivery goes, failures with their cause; nobody else does."""

import pytest

from server.notifications import outbox
from server.notifications.models import JobStatus
from tests.support.appointments import person


def test_supervisors_see_counts_by_state_and_why_something_failed(as_user, db):
    parent = person(db, "orangtua")
    jobs = outbox.enqueue(db, "appointment_confirmed", url="/konseling/1", topic="t", user_ids=[parent.id])
    jobs += outbox.enqueue(db, "reminder_1h", url="/konseling/1", topic="u", user_ids=[parent.id])
    jobs[0].status, jobs[0].last_error, jobs[0].attempts = JobStatus.FAILED, "refused: 413 Payload Too Large", 1
    jobs[1].status = JobStatus.SENT
    db.commit()
    response = as_user("supervisor").get("/admin/pemberitahuan")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert 'data-status="failed">1<' in html
    assert 'data-status="sent">1<' in html
    assert "refused: 413 Payload Too Large" in html
    assert "dikonfirmasi" in html
    assert "Layanan push menolak pesan ini karena terlalu besar." in html


@pytest.mark.parametrize(("last_error", "explained"), [
    ("refused: 413 Payload Too Large", "menolak pesan ini karena terlalu besar"),
    ("refused: 401 Unauthorized", "Minta pengelola server memeriksa VAPID_PRIVATE_KEY"),
    ("refused: 403 Forbidden", "Minta pengelola server memeriksa VAPID_PRIVATE_KEY"),
    ("refused: 400 Bad Request", "Layanan push menolak pesan ini."),
    ("refused: unusable subscription keys", "perlu menyalakan pemberitahuan lagi"),
    ("refused: endpoint refused: endpoint address is not public", "bukan layanan push publik"),
    ("gave up after 5 tries: timeout", "tidak bisa dihubungi, juga setelah 5 kali dicoba"),
    ("gave up after 3 tries: connection: ConnectError", "tidak bisa dihubungi, juga setelah 3 kali dicoba"),
    ("gave up after 5 tries: 503 Service Unavailable", "sibuk atau sedang bermasalah, juga setelah 5 kali dicoba"),
])
def test_each_recorded_cause_is_explained_in_plain_words(as_user, db, last_error, explained):
    parent = person(db, "orangtua")
    job = outbox.enqueue(db, "appointment_confirmed", url="/konseling/1", topic="t", user_ids=[parent.id])[0]
    job.status, job.last_error, job.attempts = JobStatus.FAILED, last_error, 1
    db.commit()
    html = as_user("supervisor").get("/admin/pemberitahuan").text
    assert explained in html
    assert f'Rincian teknis: <span lang="en">{last_error}</span>' in html


def test_the_explanation_speaks_english_too(as_user, db):
    parent = person(db, "orangtua")
    job = outbox.enqueue(db, "appointment_confirmed", url="/konseling/1", topic="t", user_ids=[parent.id])[0]
    job.status, job.last_error, job.attempts = JobStatus.FAILED, "refused: 413 Payload Too Large", 1
    db.commit()
    supervisor = as_user("supervisor")
    supervisor.cookies.set("bahasa", "en")
    assert "The push service refused this message because it is too large." in supervisor.get(
        "/admin/pemberitahuan").text


@pytest.mark.parametrize("username", ["konselor", "guru", "orangtua"])
def test_only_supervisors_see_delivery(as_user, username):
    assert as_user(username).get("/admin/pemberitahuan").status_code == 403
