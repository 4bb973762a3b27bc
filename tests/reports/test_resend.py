"""A report form sent again: the idempotency key alone opens nothing. The code and PIN are random, the key is
kept only as its SHA-256, the receipt with the PIN is shown once, a resend from the same browser (Back, then
Reload) gets a neutral "already sent" page, and only the offline queue of the browser that sent the report (the
same per-browser cookie, a JSON replay) may get its receipt again, after a lost answer."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import func, select

from server.reports import codes, intake
from server.reports.models import Report
from tests.support.reports import make_report, submit_report
from tests.support.web import post_form

KEY = "0b6f5a52-1c1e-4bb4-9d33-5e3f1f0c8a11"
JSON = {"accept": "application/json"}


def report_count(db) -> int:
    db.expire_all()
    return db.execute(select(func.count()).select_from(Report)).scalar_one()


def only_report(db) -> Report:
    db.expire_all()
    return db.execute(select(Report)).scalar_one()


def old_derivation(secret_key: str, key: str) -> str:
    """How the code used to be made from the key: anyone holding the key and the secret could recompute it."""
    digest = hmac.new(secret_key.encode(), b"code:" + key.encode(), hashlib.sha256).digest()
    return codes._encode(digest[:10], codes.CODE_LENGTH)


def test_the_code_and_pin_are_random_not_derived_from_the_idempotency_key(client, app, db):
    sent = submit_report(client, idempotency_key=KEY)
    assert sent.code
    assert sent.code.replace("-", "") != old_derivation(app.state.settings.secret_key, KEY)


def test_the_idempotency_key_is_kept_only_as_its_sha256(client, db):
    submit_report(client, idempotency_key=KEY)
    report = only_report(db)
    assert report.idempotency_key_hash == hashlib.sha256(KEY.encode()).hexdigest()
    assert KEY not in repr(report.model_dump())


def test_posting_only_the_key_from_another_browser_shows_already_sent_without_the_code_or_pin(
        client, make_client, db):
    sent = submit_report(client, idempotency_key=KEY)
    stranger = make_client()
    response = post_form(stranger, "/lapor", {"idempotency_key": KEY}, token_from="/lapor")
    assert response.status_code == 200
    assert "Laporan ini sudah terkirim" in response.text
    assert 'href="/cek"' in response.text
    assert sent.pin not in response.text
    assert sent.code not in response.text
    assert sent.code.replace("-", "") not in response.text
    as_json = post_form(stranger, "/lapor", {"idempotency_key": KEY}, token_from="/lapor", headers=JSON)
    assert as_json.status_code == 200
    assert as_json.json() == {"sent": True, "url": "/cek"}
    assert report_count(db) == 1


def test_resending_the_form_from_the_same_browser_shows_already_sent_never_the_pin_again(client, db):
    """Back, then Reload, after the receipt: the browser posts the same form again."""
    first = submit_report(client, idempotency_key=KEY)
    assert first.code
    assert first.pin
    again = submit_report(client, idempotency_key=KEY)
    assert again.response.status_code == 200
    assert "Laporan ini sudah terkirim" in again.response.text
    assert 'href="/cek"' in again.response.text
    assert first.pin not in again.response.text
    assert first.code not in again.response.text
    assert again.response.headers["cache-control"] == "no-store"
    assert report_count(db) == 1


def test_a_form_without_script_carries_a_key_from_the_server_so_a_resend_is_recognised(client, db):
    page = client.get("/lapor").text
    key = page.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    assert 8 <= len(key) <= 64
    other = client.get("/lapor").text.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    assert other != key


def test_the_offline_queue_of_the_same_browser_gets_its_receipt_again_after_a_lost_answer(client, db):
    first = submit_report(client, idempotency_key=KEY, headers=JSON).response.json()
    again = submit_report(client, idempotency_key=KEY, headers=JSON)
    assert again.response.status_code == 200
    assert again.response.json()["code"] == first["code"]
    assert again.response.json()["pin"] == first["pin"]
    assert report_count(db) == 1


def test_a_json_replay_from_another_browser_gets_no_code_or_pin(client, make_client, db):
    submit_report(client, idempotency_key=KEY, headers=JSON)
    stranger = make_client()
    replay = submit_report(stranger, idempotency_key=KEY, headers=JSON)
    assert replay.response.status_code == 200
    assert replay.response.json() == {"sent": True, "url": "/cek"}


def test_the_database_holds_neither_the_pin_nor_the_code_in_clear(client, db):
    body = submit_report(client, idempotency_key=KEY, headers=JSON).response.json()
    stored = repr(only_report(db).model_dump())
    assert body["pin"] not in stored
    assert body["code"].replace("-", "") not in stored


def test_the_receipt_is_given_again_only_for_a_day(client, db, pinned_clock):
    body = submit_report(client, idempotency_key=KEY, headers=JSON).response.json()
    pinned_clock.move_to(only_report(db).created_at + intake.RECEIPT_RESEND_WINDOW + timedelta(minutes=1))
    replay = submit_report(client, idempotency_key=KEY, headers=JSON)
    assert replay.response.json() == {"sent": True, "url": "/cek"}
    assert body["pin"] not in replay.response.text
    assert only_report(db).sealed_receipt is None


def test_resends_are_rate_limited_per_address(client, make_client, db, frozen_limits):
    submit_report(client, idempotency_key=KEY, headers=JSON)
    stranger = make_client()
    for _ in range(intake.RESENDS_PER_ADDRESS_PER_HOUR):
        assert submit_report(stranger, idempotency_key=KEY, headers=JSON).response.status_code == 200
    limited = submit_report(client, idempotency_key=KEY, headers=JSON)
    assert limited.response.status_code == 429
    assert "pin" not in limited.response.json()
    html = submit_report(client, idempotency_key=KEY)
    assert html.response.status_code == 429
    assert "Laporan ini sudah terkirim" in html.response.text


def test_a_resend_is_audited_without_the_receipt(client, make_client, db):
    submit_report(client, idempotency_key=KEY, headers=JSON)
    submit_report(make_client(), idempotency_key=KEY)
    from tests.support.reports import audit_entries
    entries = audit_entries(db, "report.resent", only_report(db).id)
    assert len(entries) == 1


def test_a_signed_in_reporter_resending_their_own_report_is_taken_to_it(as_user, db):
    teacher = as_user("guru")
    fields = {"reporter_kind": "teacher", "how_learned": "Cerita murid.", "child_knows": "yes"}
    first = submit_report(teacher, idempotency_key=KEY, **fields)
    again = submit_report(teacher, idempotency_key=KEY, **fields)
    assert first.response.status_code == again.response.status_code == 303
    assert again.response.headers["location"] == first.response.headers["location"]
    assert report_count(db) == 1


def test_make_report_through_the_service_still_works_without_a_browser(app, db):
    receipt = make_report(app, db, idempotency_key=KEY)
    assert receipt.pin
    assert receipt.code
    assert receipt.report.sealed_receipt is None
