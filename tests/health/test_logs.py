"""Logs: one JSON line per request and per background event on standard output, with a request id, and never
anything a person typed or carries: form values, case content, codes, PINs, passwords, cookies, query strings of
private pages, client addresses."""

from __future__ import annotations

import json
import logging

import pytest

from server.notifications import dispatcher, outbox
from server.worker import make_sender
from tests.support.reports import case_post, fresh, submit_report, user_named
from tests.support.web import post_form

CHILD_WORDS = "Paman Joko memukul aku pakai ikat pinggang setiap malam."
PASSWORD = "kata-sandi-yang-salah-sekali"


@pytest.fixture
def lines(capsys):
    """The JSON lines written to standard output so far (and every one of them must be JSON)."""
    logging.getLogger("bintang").setLevel(logging.DEBUG)

    def read() -> list[dict]:
        out = capsys.readouterr().out
        found = [json.loads(line) for line in out.splitlines() if line.strip()]
        # httpx is the test's client, not the app: it logs the addresses the test asked for.
        return [line for line in found if line["logger"] != "httpx"]

    read()  # what came before the test's own requests
    yield read
    logging.getLogger("bintang").setLevel(logging.INFO)


def requests_of(found: list[dict]) -> list[dict]:
    return [line for line in found if line.get("event") == "request"]


def test_one_line_per_request_with_route_template_status_duration_and_request_id(client, lines):
    response = client.get("/kasus/4242?urutan=rahasia", headers={"x-request-id": "proxy-id-0123456789"},
                          follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["x-request-id"] == "proxy-id-0123456789"
    [line] = requests_of(lines())
    assert line["method"] == "GET"
    assert line["route"] == "/kasus/{report_id}"
    assert line["status"] == 303
    assert line["request_id"] == "proxy-id-0123456789"
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"
    assert line["logger"] == "bintang.request"
    assert line["message"].startswith("GET /kasus/{report_id} 303 ")
    assert "4242" not in json.dumps(line)
    assert "rahasia" not in json.dumps(line)


@pytest.mark.parametrize("incoming", ["", "pendek", "ada spasi di dalamnya", "A" * 65, "ABCD-EFGH-JKLM-NPQR\n123456",
                                      "<script>alert(1)</script>"])
def test_a_request_id_that_is_not_sane_is_replaced_by_a_new_one(client, lines, incoming):
    response = client.get("/", headers={"x-request-id": incoming} if incoming else {})
    assert response.status_code == 200
    made = response.headers["x-request-id"]
    assert len(made) == 32
    assert made != incoming
    [line] = requests_of(lines())
    assert line["request_id"] == made
    if incoming:
        assert incoming not in json.dumps(line)


def test_a_request_that_matches_no_route_is_logged_by_its_path_without_the_query(client, lines):
    assert client.get("/tidak-ada?kode=ABCD-EFGH").status_code == 404
    [line] = requests_of(lines())
    assert line["route"] == "/tidak-ada"
    assert line["status"] == 404
    assert "ABCD" not in json.dumps(line)


def test_nothing_typed_or_carried_reaches_the_log(client, make_client, as_user, db, lines):
    """A report with words, its code and PIN at /cek, a message, a counselor's note, a wrong password, a private
    page's query string, cookies and the client's address: none of them may appear in any line."""
    sent = submit_report(client, child_words=CHILD_WORDS, where_detail="rumah nenek di gang mawar",
                         headers={"x-forwarded-for": "198.51.100.23"})
    holder = make_client()
    post_form(holder, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek")
    post_form(holder, "/cek/laporan/pesan", {"message": "Paman Joko datang lagi tadi malam."}, token_from="/cek/laporan")
    post_form(make_client(), "/masuk", {"username": "konselor", "password": PASSWORD})
    counselor = as_user("konselor")
    report_id = fresh(db, 1).id
    counselor.get(f"/kasus/{report_id}")
    counselor.get("/kasus/?cari=gang+mawar&status=baru")
    case_post(counselor, report_id, "catatan", {"body": "Rumah di gang mawar nomor tujuh."})
    cookies = [value for jar in (client, holder, counselor) for value in jar.cookies.values() if len(value) >= 8]
    found = lines()
    assert {(line["method"], line["route"]) for line in requests_of(found)} >= {
        ("POST", "/lapor"), ("POST", "/cek"), ("POST", "/cek/laporan/pesan"), ("POST", "/masuk"),
        ("GET", "/kasus/{report_id}"), ("GET", "/kasus")}
    everything = "\n".join(json.dumps(line, ensure_ascii=False) for line in found)
    secrets = ["Paman Joko", "ikat pinggang", "gang mawar", "nomor tujuh", sent.code, sent.code.replace("-", ""),
               sent.pin, PASSWORD, "cari=", "198.51.100.23", "testclient", *cookies]
    assert sent.code
    assert sent.pin
    assert cookies
    for secret in secrets:
        assert secret not in everything, secret


def test_a_dispatcher_logs_each_job_it_handled_by_id_and_outcome_only(engine, db, settings, lines):
    parent = user_named(db, "orangtua")
    [job] = outbox.enqueue(db, "case_status", url="/laporan-saya/31337", topic="report-31337", user_ids=[parent.id])
    db.commit()
    dispatcher.drain(engine, make_sender(settings), worker="host:1")
    [line] = [line for line in lines() if line.get("event") == "push_job"]
    assert line == {**line, "job": job.id, "outcome": "no_device", "worker": "host:1", "logger": "bintang.dispatcher"}
    assert "31337" not in json.dumps(line)
    assert "orangtua" not in json.dumps(line)
