"""Check-ins from end to end against a real local push service (web-push-testing, see tests/pushservice.py): the
code holder's phone subscribes, the counselor closes the case on the case page with a plan, and the dispatcher
sends the first check-in when it is due, not before, with the neutral words only; "tidak baik" on the page it
opens gives the counselor a task; a declined plan sends nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine

from server import worker
from server.aftercare.models import CheckInStatus
from server.i18n import LOCAL
from server.notifications import dispatcher
from tests.pushservice import PushService, push_service
from tests.support.aftercare import check_ins, open_with_code
from tests.support.appointments import report_with_code
from tests.support.notifications import subscribe
from tests.support.reports import case_post, fresh, jobs, user_named
from tests.support.web import post_form

# The local push service checks the VAPID signature's expiry against the real time.
pytestmark = pytest.mark.real_clock


@pytest.fixture
def push() -> Iterator[PushService]:
    with push_service() as service:
        yield service


@pytest.fixture
def settings(settings, push):
    return replace(settings, push_allowed_hosts=(push.host,))


def counselor_closes(counselor, db, report_id: int, plan: dict) -> None:
    konselor = user_named(db, "konselor")
    assert case_post(counselor, report_id, "tugaskan", {"counselor_id": konselor.id}).status_code == 303
    response = case_post(counselor, report_id, "status", {
        "to": "closed", "reason": "Anak sudah aman.", "version": fresh(db, report_id).version, **plan})
    assert response.status_code == 303, response.text


def report_id_of(db, code: str) -> int:
    from sqlalchemy import select

    from server.reports.codes import code_hash
    from server.reports.models import Report

    db.expire_all()
    return db.execute(select(Report.id).where(Report.code_hash == code_hash(code))).scalar_one()


def test_the_first_check_in_goes_to_the_code_holders_phone_when_due_and_tidak_baik_reopens_a_task(
        client, as_user, db, engine, settings, push):
    code, pin = report_with_code(client)
    open_with_code(client, code, pin)
    phone = subscribe(client, push)
    report_id = report_id_of(db, code)
    counselor = as_user("konselor")
    counselor_closes(counselor, db, report_id, {"check_in_plan": "plan", "check_in_steps": ["2w", "3m"]})
    sender = worker.make_sender(settings)
    dispatcher.drain(engine, sender)  # what is due now: the news that the report is finished
    before = len(push.messages(phone))

    first = check_ins(db, report_id)[0]
    assert first.step == "2w"
    assert 7 <= first.due_at.astimezone(LOCAL).hour < 21
    dispatcher.drain(engine, sender, now=first.due_at - timedelta(minutes=1))
    assert len(push.messages(phone)) == before  # not yet

    stats = dispatcher.drain(engine, sender, now=first.due_at + timedelta(minutes=1))
    assert (stats.sent, stats.failed) == (1, 0)
    [message] = push.payloads(phone)[before:]
    assert message == {"title": "Bintang Ceria", "body": "Bintang Ceria: ada pesan baru",
                       "url": f"/pemantauan/{first.id}", "tag": sender.topic(f"checkin-{first.id}", phone.endpoint)}
    report = fresh(db, report_id)
    for text in push.messages(phone)[before:]:
        assert report.reference not in text
        assert "laporan" not in text.lower()
        assert "pantau" not in message["body"]

    # Two weeks on, the phone opens the report with its code and PIN again; the message shows the one question.
    with time_machine.travel(first.due_at + timedelta(minutes=5), tick=False):
        open_with_code(client, code, pin)
        assert "Bagaimana kabarmu sekarang?" in client.get(message["url"]).text
        response = post_form(client, message["url"], {"face": "tidak_baik"}, token_from="/",
                             follow_redirects=False)
    assert response.status_code == 200
    answered = check_ins(db, report_id)[0]
    assert answered.status == CheckInStatus.ANSWERED
    assert answered.follow_up_due_at is not None
    assert [j.recipient_user_id for j in jobs(db, "check_in_follow_up", report_id)] == [user_named(db, "konselor").id]
    # The repeat three days later is not sent.
    dispatcher.drain(engine, sender, now=first.retry_at + timedelta(minutes=1))
    assert len(push.payloads(phone)) == before + 1
    assert f"/kasus/{report_id}" in counselor.get("/kasus/pemantauan/").text


def test_a_declined_plan_sends_nothing_to_the_phone(client, as_user, db, engine, settings, push):
    code, pin = report_with_code(client)
    open_with_code(client, code, pin)
    phone = subscribe(client, push)
    report_id = report_id_of(db, code)
    counselor_closes(as_user("konselor"), db, report_id,
                     {"check_in_plan": "none", "check_in_reason": "Anak tidak mau dihubungi lagi."})
    sender = worker.make_sender(settings)
    dispatcher.drain(engine, sender)
    before = len(push.messages(phone))
    assert check_ins(db, report_id) == []
    dispatcher.drain(engine, sender, now=fresh(db, report_id).updated_at + timedelta(days=200))
    assert len(push.messages(phone)) == before
    assert all(json.loads(m)["body"] != "Bintang Ceria: ada pesan baru" for m in push.messages(phone))
