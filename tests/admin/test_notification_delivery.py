"""/admin/pemberitahuan: supervisors see how delivery goes, failures with their cause; nobody else does."""

import pytest

from server.notifications import outbox
from server.notifications.models import JobStatus
from tests.appointments.test_pages_support import person


def test_supervisors_see_counts_by_state_and_why_something_failed(as_user, db):
    parent = person(db, "orangtua")
    jobs = outbox.enqueue(db, "appointment_confirmed", url="/konseling/1", topic="t", user_ids=[parent.id])
    jobs += outbox.enqueue(db, "reminder_1h", url="/konseling/1", topic="u", user_ids=[parent.id])
    jobs[0].status, jobs[0].last_error, jobs[0].attempts = JobStatus.FAILED, "refused: 413 Payload Too Large", 1
    jobs[1].status = JobStatus.SENT
    db.commit()
    response = as_user("supervisor").get("/admin/pemberitahuan")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    html = response.text
    assert 'data-status="failed">1<' in html and 'data-status="sent">1<' in html
    assert "refused: 413 Payload Too Large" in html and "dikonfirmasi" in html


@pytest.mark.parametrize("username", ["konselor", "guru", "orangtua"])
def test_only_supervisors_see_delivery(as_user, username):
    assert as_user(username).get("/admin/pemberitahuan").status_code == 403
