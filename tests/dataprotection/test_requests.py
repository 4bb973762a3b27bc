"""Requests about one's own data: asked by a signed-in person or a code holder in plain words, kept in a register
only supervisors see, with a 3×24 hour clock, alerts before it runs out, a decision with a reason that reaches the
person, and an erasure that removes what the law allows and keeps the child-protection record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server import clock, worker
from server.accounts.models import Passkey, User, WebSession
from server.accounts.visitor import Visitor
from server.dataprotection import requests
from server.dataprotection.models import DataRequest, RequestStatus
from server.notifications import consent
from server.notifications.models import ChannelConsent, NotificationJob, PushSubscription
from server.reports.models import Report
from tests.support.dataprotection import NOT_SUPERVISORS, audit_entries, form_post, user_named
from tests.support.reports import ADULT_EXTRA, make_report, submit_report
from tests.support.web import post_form, sign_in


def _requests(db) -> list[DataRequest]:
    db.expire_all()
    return list(db.execute(select(DataRequest).order_by(DataRequest.id)).scalars())


def _jobs(db, kind: str) -> list[NotificationJob]:
    db.expire_all()
    return list(db.execute(select(NotificationJob).where(NotificationJob.kind == kind)).scalars())


def _ask(client, kind="erasure", details="Tolong hapus akun saya.", path="/akun/permintaan-data"):
    return form_post(client, path, {"kind": kind, "details": details}, token_from=path)


@pytest.mark.parametrize("who", ["orangtua", "guru", "anak"])
def test_a_signed_in_person_asks_and_the_clock_is_three_times_24_hours(as_user, db, who):
    client = as_user(who)
    page = client.get("/akun/permintaan-data")
    assert page.status_code == 200
    assert "Menghapus data saya" in page.text
    assert "3 × 24 jam" in page.text
    response = _ask(client, kind="correction", details="Nama sekolah saya salah.")
    assert response.status_code == 303
    assert response.headers["location"] == "/akun/permintaan-data?pesan=terkirim"
    [item] = _requests(db)
    assert item.kind == "correction"
    assert item.requester_user_id == user_named(db, who).id
    assert item.due_at - item.received_at == timedelta(hours=72)
    assert item.received_at == clock.now()
    assert item.status == RequestStatus.OPEN
    after = client.get(response.headers["location"])
    assert "Permintaan sudah diterima" in after.text
    assert "Membetulkan data saya" in after.text
    assert len(audit_entries(db, "dataprotection.request_received")) == 1


def test_a_wrong_form_comes_back_with_indonesian_errors_and_what_was_typed(as_user, db):
    client = as_user("orangtua")
    response = _ask(client, kind="", details="Data anak saya")
    assert response.status_code == 422
    assert "Pilih apa yang diminta." in response.text
    assert "Data anak saya</textarea>" in response.text
    response = _ask(client, kind="correction", details="")
    assert response.status_code == 422
    assert "Tulis sedikit apa yang diminta" in response.text
    assert 'value="correction" checked' in response.text
    assert _requests(db) == []


def test_asking_needs_the_csrf_token_and_a_person(as_user, make_client, db):
    signed_in, client = as_user("orangtua"), make_client()
    refused = signed_in.post("/akun/permintaan-data", data={"kind": "erasure"}, follow_redirects=False)
    assert refused.status_code == 403
    response = post_form(client, "/akun/permintaan-data", {"kind": "erasure"}, token_from="/", follow_redirects=False)
    assert response.status_code == 401
    assert _requests(db) == []


def test_one_persons_requests_are_not_shown_to_a_colleague(as_user, db):
    _ask(as_user("orangtua"), kind="access", details="Siapa yang membaca laporan saya?")
    other = as_user("guru").get("/akun/permintaan-data")
    assert other.status_code == 200
    assert "Siapa yang membaca laporan saya?" not in other.text
    assert 'id="permintaan-' not in other.text


def test_a_code_holder_asks_at_cek(app, db, make_client):
    holder = make_client()
    sent = submit_report(holder)
    post_form(holder, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek", follow_redirects=False)
    assert "Minta sesuatu tentang data saya" in holder.get("/cek/laporan").text
    response = _ask(holder, kind="restriction", details="", path="/cek/permintaan-data")
    assert response.status_code == 303
    assert response.headers["location"] == "/cek/permintaan-data?pesan=terkirim"
    [item] = _requests(db)
    assert item.requester_user_id is None
    assert item.report_id is not None
    stranger = make_client()
    assert stranger.get("/cek/permintaan-data", follow_redirects=False).status_code == 303
    assert _ask(stranger, path="/cek/permintaan-data").status_code == 401


@pytest.fixture
def erasure(as_user, db) -> DataRequest:
    _ask(as_user("orangtua"))
    return _requests(db)[0]


@pytest.mark.parametrize("who", NOT_SUPERVISORS)
def test_only_supervisors_see_and_decide_the_register(as_user, db, erasure, who):
    client = as_user(who)
    assert client.get("/perlindungan-data/permintaan").status_code == 403
    assert client.get(f"/perlindungan-data/permintaan/{erasure.id}").status_code == 403
    response = form_post(client, f"/perlindungan-data/permintaan/{erasure.id}",
                         {"status": "granted", "answer": "Sudah."})
    assert response.status_code == 403
    assert _requests(db)[0].status == RequestStatus.OPEN
    assert audit_entries(db, "dataprotection.request_decided") == []


def test_the_register_shows_the_clock_and_viewing_is_audited(as_user, db, erasure, pinned_clock):
    supervisor = as_user("supervisor")
    listing = supervisor.get("/perlindungan-data/permintaan")
    assert listing.status_code == 200
    assert "Menghapus data saya" in listing.text
    assert 'data-clock="berjalan"' in listing.text
    pinned_clock.shift(timedelta(hours=73))
    supervisor = as_user("supervisor")  # the first sign-in has ended by now
    assert 'data-clock="lewat"' in supervisor.get("/perlindungan-data/permintaan").text
    assert supervisor.get(f"/perlindungan-data/permintaan/{erasure.id}").status_code == 200
    assert len(audit_entries(db, "dataprotection.request_viewed")) == 1


def test_supervisors_are_alerted_once_a_day_before_the_clock_runs_out(as_user, db, erasure, pinned_clock):
    assert requests.alert_running_out(db) == 0
    pinned_clock.shift(timedelta(hours=48, minutes=1))
    assert requests.alert_running_out(db) == 1
    db.commit()
    assert requests.alert_running_out(db) == 0
    jobs = _jobs(db, "data_request_due")
    assert [job.recipient_user_id for job in jobs] == [user_named(db, "supervisor").id]
    assert jobs[0].url == f"/perlindungan-data/permintaan/{erasure.id}"


def test_a_decision_needs_a_reason_and_keeps_what_was_typed(as_user, db, erasure):
    response = form_post(as_user("supervisor"), f"/perlindungan-data/permintaan/{erasure.id}",
                         {"status": "", "answer": "Sebagian"})
    assert response.status_code == 422
    assert "Pilih keputusannya." in response.text
    assert "Sebagian</textarea>" in response.text
    response = form_post(as_user("supervisor"), f"/perlindungan-data/permintaan/{erasure.id}",
                         {"status": "refused", "answer": "  "})
    assert response.status_code == 422
    assert "Tulis jawaban dan alasannya." in response.text
    assert _requests(db)[0].status == RequestStatus.OPEN


def test_an_access_request_refused_to_protect_a_child_keeps_the_reason_and_tells_the_person(as_user, db):
    parent = as_user("orangtua")
    _ask(parent, kind="access", details="Saya mau tahu siapa yang melaporkan keluarga saya.")
    item = _requests(db)[0]
    reason = "Ditolak: membuka data itu dapat membahayakan seorang anak (UU PDP Pasal 15)."
    response = form_post(as_user("supervisor"), f"/perlindungan-data/permintaan/{item.id}",
                         {"status": "refused", "answer": reason, "version": str(item.version)})
    assert response.status_code == 303
    item = _requests(db)[0]
    assert item.status == RequestStatus.REFUSED
    assert item.answer == reason
    assert item.decided_by_id == user_named(db, "supervisor").id
    [job] = _jobs(db, "data_request_answered")
    assert job.recipient_user_id == user_named(db, "orangtua").id
    assert job.url == "/akun/permintaan-data"
    assert reason in parent.get("/akun/permintaan-data").text
    [entry] = audit_entries(db, "dataprotection.request_decided")
    assert '"decision": "refused"' in entry.detail
    again = form_post(as_user("supervisor"), f"/perlindungan-data/permintaan/{item.id}",
                      {"status": "granted", "answer": "Ya"})
    assert again.status_code == 422
    assert "Permintaan ini sudah dijawab." in again.text


def test_an_erasure_removes_the_account_numbers_and_devices_and_keeps_the_report(app, as_user, db, make_client):
    parent = user_named(db, "orangtua")
    report = make_report(app, db, user=parent, reporter_kind="parent", contact_method="phone",
                         contact_detail="081234567890", **ADULT_EXTRA).report
    db.add(PushSubscription(endpoint="https://push.example/abc", p256dh="k", auth="a", user_id=parent.id))
    consent.agree(db, Visitor(user=parent), number="081234567890", whatsapp=True, sms=True)
    db.commit()
    client = as_user("orangtua")
    _ask(client)
    item = _requests(db)[0]
    response = form_post(as_user("supervisor"), f"/perlindungan-data/permintaan/{item.id}",
                         {"status": "granted", "answer": "Akun Ibu kami hapus."})
    assert response.status_code == 303
    db.expire_all()
    user = db.get(User, parent.id)
    assert not user.active
    assert user.username == f"dihapus-{parent.id}"
    assert user.display_name == "Akun dihapus"
    assert db.execute(select(WebSession).where(WebSession.user_id == parent.id)).first() is None
    assert db.execute(select(PushSubscription).where(PushSubscription.user_id == parent.id)).first() is None
    assert db.execute(select(Passkey).where(Passkey.user_id == parent.id)).first() is None
    assert db.execute(select(ChannelConsent).where(ChannelConsent.user_id == parent.id)).first() is None
    kept = db.get(Report, report.id)
    assert kept is not None
    assert kept.contact_detail == ""
    assert kept.child_words
    item = _requests(db)[0]
    assert item.answer.startswith("Akun Ibu kami hapus.")
    assert "tidak dimusnahkan" in item.answer
    assert "UU PDP Pasal 15 ayat 1" in item.answer
    assert client.get("/akun", follow_redirects=False).status_code == 303
    with pytest.raises(AssertionError):
        sign_in(make_client(), "orangtua")


def test_the_worker_sends_the_alert(app, db, erasure, settings, pinned_clock):
    pinned_clock.shift(timedelta(hours=49))
    worker.purge(app.state.engine, settings)
    assert len(_jobs(db, "data_request_due")) == 1
    worker.purge(app.state.engine, settings)
    assert len(_jobs(db, "data_request_due")) == 1
