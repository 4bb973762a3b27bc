"""Subscribing a device, turning push off, the settings page and the in-app list, through the pages. Tried
with the owner, a colleague, a stranger, a code holder and someone signed out."""

from __future__ import annotations

import base64
import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from server import clock
from server.notifications import outbox
from server.notifications.models import JobStatus, NotificationJob, PushSubscription
from server.notifications.service import MAX_DEVICES
from tests.support.appointments import code_holder, person
from tests.support.notifications import b64, device, send
from tests.support.web import csrf_token

ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile"


def subscriptions(db) -> list[PushSubscription]:
    db.expire_all()
    return list(db.execute(select(PushSubscription).order_by(PushSubscription.id)).scalars())


def test_a_signed_in_person_subscribes_this_device_and_sending_it_again_updates_the_same_row(as_user, db):
    client = as_user("orangtua")
    first = device()
    response = send(client, "/push/langganan", first, **{"User-Agent": ANDROID})
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    again = {**first, "keys": device()["keys"]}
    assert send(client, "/push/langganan", again).status_code == 200
    [row] = subscriptions(db)
    assert row.user_id == person(db, "orangtua").id
    assert row.report_id is None
    assert row.endpoint == first["endpoint"]
    assert row.p256dh == again["keys"]["p256dh"]
    assert row.language == "id"


def test_the_device_belongs_to_whoever_sends_it_last(as_user, db):
    shared = device()
    assert send(as_user("orangtua"), "/push/langganan", shared).status_code == 200
    assert send(as_user("guru"), "/push/langganan", shared).status_code == 200
    [row] = subscriptions(db)
    assert row.user_id == person(db, "guru").id


def test_a_code_holder_subscribes_with_the_case(client, db):
    report_id = code_holder(client, db)
    assert send(client, "/push/langganan", device()).status_code == 200
    [row] = subscriptions(db)
    assert row.report_id == report_id
    assert row.user_id is None


def test_someone_signed_out_cannot_subscribe(client, db):
    assert send(client, "/push/langganan", device()).status_code == 401
    assert subscriptions(db) == []


def test_a_subscription_without_the_csrf_token_is_refused(as_user, db):
    response = as_user("orangtua").post("/push/langganan", json=device())
    assert response.status_code == 403
    assert subscriptions(db) == []


@pytest.mark.parametrize("broken", [
    {"endpoint": "http://push.example.net/send/1"},  # plain http to a real host
    {"endpoint": "ftp://push.example.net/x"},
    {"endpoint": "https://" + "a" * 1000 + ".net/x"},
    {"keys": {"p256dh": "short", "auth": b64(os.urandom(16))}},
    {"keys": {"p256dh": b64(os.urandom(65)), "auth": b64(os.urandom(8))}},
    {"keys": {"p256dh": b64(b"\x04" + b"\xff" * 64), "auth": b64(os.urandom(16))}},  # 65 bytes, not a point
    {"keys": {}},
    {"endpoint": None},
])
def test_a_subscription_that_is_not_one_is_refused(as_user, db, broken):
    body = {**device(), **broken}
    response = send(as_user("orangtua"), "/push/langganan", body)
    assert response.status_code == 422
    assert response.json()["ok"] is False
    assert subscriptions(db) == []


def test_an_oversized_body_is_refused(as_user, db):
    body = {**device(), "padding": "x" * 5000}
    assert send(as_user("orangtua"), "/push/langganan", body).status_code == 413
    assert subscriptions(db) == []


def test_a_local_push_service_is_refused_unless_push_allowed_hosts_lists_it(as_user, db):
    # The server would connect there; test_push_addresses.py has the host listed, and accepted.
    body = {**device(), "endpoint": "http://localhost:8090/notify/abc"}
    response = send(as_user("orangtua"), "/push/langganan", body)
    assert response.status_code == 422
    assert response.json() == {"ok": False, "error": "endpoint must be an https URL"}
    assert subscriptions(db) == []


def test_a_person_keeps_at_most_ten_devices_the_oldest_make_way(as_user, db):
    client = as_user("orangtua")
    for n in range(MAX_DEVICES + 2):
        assert send(client, "/push/langganan", device(n)).status_code == 200
    rows = subscriptions(db)
    assert len(rows) == MAX_DEVICES
    assert {row.endpoint for row in rows} == {device(n)["endpoint"] for n in range(2, MAX_DEVICES + 2)}


def test_turning_off_this_device_removes_it(as_user, db):
    client = as_user("orangtua")
    mine = device()
    send(client, "/push/langganan", mine)
    response = send(client, "/push/berhenti", {"endpoint": mine["endpoint"]})
    assert response.status_code == 200
    assert response.json()["removed"] is True
    assert subscriptions(db) == []


def test_the_service_worker_passes_a_renewed_subscription_on_with_the_old_endpoint(as_user, make_client, db):
    old = device(1)
    send(as_user("orangtua"), "/push/langganan", old)
    renewed = device(2)
    # No cookies and no CSRF token in a service worker: the old endpoint is the proof.
    response = make_client().post("/push/ganti", json={"oldEndpoint": old["endpoint"], "subscription": renewed})
    assert response.status_code == 200
    [row] = subscriptions(db)
    assert row.endpoint == renewed["endpoint"]
    assert row.user_id == person(db, "orangtua").id


def test_a_renewal_for_an_unknown_endpoint_creates_nothing(client, db):
    response = client.post("/push/ganti", json={"oldEndpoint": "https://push.example.net/x", "subscription": device()})
    assert response.status_code == 404
    assert subscriptions(db) == []


def test_quick_exit_turns_push_off_for_this_device(as_user, db):
    client = as_user("orangtua")
    mine = device()
    send(client, "/push/langganan", mine)
    response = send(client, "/keluar-cepat", {"endpoint": mine["endpoint"]})
    assert response.status_code == 204
    assert subscriptions(db) == []


def test_quick_exit_without_a_body_still_signs_out(as_user):
    client = as_user("orangtua")
    token = csrf_token(client, "/")
    assert client.post("/keluar-cepat", headers={"X-CSRFToken": token}).status_code == 204
    assert client.get("/akun", follow_redirects=False).status_code == 303


def test_the_public_key_is_offered_to_pages(client):
    response = client.get("/push/kunci")
    assert response.status_code == 200
    key = response.json()["publicKey"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65
    assert raw[0] == 4


# --- the settings page ----------------------------------------------------------------------------------------


def test_the_settings_page_lists_my_devices_and_removes_one(as_user, db):
    client = as_user("orangtua")
    send(client, "/push/langganan", device(1), **{"User-Agent": ANDROID})
    page = client.get("/notifikasi/pengaturan")
    assert page.status_code == 200
    assert "Android · Chrome" in page.text
    assert page.headers["cache-control"] == "no-store"
    [row] = subscriptions(db)
    response = client.post(f"/notifikasi/perangkat/{row.id}/hapus", data={"_csrf_token": csrf_token(client, "/")},
                           follow_redirects=False)
    assert response.status_code == 303
    assert subscriptions(db) == []


@pytest.mark.parametrize("other", ["konselor", "guru"])
def test_nobody_else_can_remove_my_device(as_user, db, other):
    send(as_user("orangtua"), "/push/langganan", device(1))
    [row] = subscriptions(db)
    client = as_user(other)
    assert "device-1" not in client.get("/notifikasi/pengaturan").text
    client.post(f"/notifikasi/perangkat/{row.id}/hapus", data={"_csrf_token": csrf_token(client, "/")})
    assert len(subscriptions(db)) == 1


def test_signed_out_the_notification_pages_ask_to_sign_in(client):
    for path in ("/notifikasi", "/notifikasi/pengaturan"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/masuk")


# --- the in-app list -----------------------------------------------------------------------------------------


def test_the_list_shows_what_is_due_newest_first_and_marks_it_read(as_user, db):
    parent = person(db, "orangtua")
    now = clock.now()
    outbox.enqueue(db, "appointment_confirmed", url="/konseling/7", topic="a", user_ids=[parent.id],
                   due_at=now - timedelta(hours=2))
    outbox.enqueue(db, "appointment_moved", url="/konseling/8", topic="b", user_ids=[parent.id],
                   due_at=now - timedelta(hours=1))
    outbox.enqueue(db, "reminder_24h", url="/konseling/9", topic="c", user_ids=[parent.id],
                   due_at=now + timedelta(days=1))
    [cancelled] = outbox.enqueue(db, "appointment_declined", url="/konseling/10", topic="d", user_ids=[parent.id],
                                 due_at=now - timedelta(minutes=5))
    cancelled.status = JobStatus.CANCELLED
    db.commit()
    client = as_user("orangtua")
    html = client.get("/notifikasi").text
    moved, confirmed = html.index("/konseling/8"), html.index("/konseling/7")
    assert moved < confirmed, "newest first"
    assert "dipindah" in html
    assert "dikonfirmasi" in html
    assert "/konseling/9" not in html, "a reminder is not shown before its time"
    assert "/konseling/10" not in html, "what no longer applies is not shown"
    assert html.count(">Baru<") == 2
    db.expire_all()
    assert all(job.read_at is not None for job in db.execute(
        select(NotificationJob).where(NotificationJob.due_at <= now)).scalars() if job.status != "cancelled")
    assert ">Baru<" not in client.get("/notifikasi").text


def test_the_list_shows_only_my_own_items(as_user, db):
    outbox.enqueue(db, "case_message", url="/kasus/1", topic="x", user_ids=[person(db, "konselor").id],
                   due_at=clock.now() - timedelta(minutes=1))
    db.commit()
    assert "/kasus/1" in as_user("konselor").get("/notifikasi").text
    assert "/kasus/1" not in as_user("konselor2").get("/notifikasi").text
    assert "/kasus/1" not in as_user("orangtua").get("/notifikasi").text


def test_a_code_holder_sees_the_items_of_their_case_only(client, make_client, db):
    report_id = code_holder(client, db)
    outbox.enqueue(db, "case_message", url="/cek/laporan", topic="y", report_id=report_id,
                   due_at=clock.now() - timedelta(minutes=1))
    db.commit()
    assert "/cek/laporan" in client.get("/notifikasi").text
    other = make_client()
    code_holder(other, db)
    assert "/cek/laporan" not in other.get("/notifikasi").text
