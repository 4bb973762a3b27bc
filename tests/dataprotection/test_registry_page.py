"""The supervisors' records of processing: the page, its CSV for the DPIA, the officer's contact and the
retention periods (within their limits); nobody else sees any of it."""

from __future__ import annotations

import csv
import io

import pytest

from server.dataprotection import registry, rules, service
from tests.support.dataprotection import NOT_SUPERVISORS, audit_entries, form_post

VALID = {"dpo": "Pejabat PDP DP3A, ppd@dinas.example", "days_push_devices": "120", "days_contact_numbers": "60",
         "days_case": "1825"}


def test_the_supervisor_sees_every_record(as_user):
    response = as_user("supervisor").get("/perlindungan-data")
    assert response.status_code == 200
    for item in registry.RECORDS:
        assert f'id="catatan-{item.key}"' in response.text
    assert "Data spesifik" in response.text
    assert "Pelayanan publik perlindungan anak" in response.text


def test_the_csv_has_a_line_per_record_and_the_export_is_audited(as_user, db):
    response = as_user("supervisor").get("/perlindungan-data/catatan-pemrosesan.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(response.text)))
    assert tuple(lines[0]) == service.CSV_HEADER
    assert [line[0] for line in lines[1:]] == [item.key for item in registry.RECORDS]
    story = next(line for line in lines if line[0] == "report.story")
    assert story[6] == "ya"
    assert "(1825 hari)" in story[8]
    contact = next(line for line in lines if line[0] == "report.contact")
    assert "(90 hari)" in contact[8]
    assert len(audit_entries(db, "dataprotection.registry_exported")) == 1


@pytest.mark.parametrize("who", NOT_SUPERVISORS)
def test_nobody_else_sees_or_exports_it(as_user, db, who):
    client = as_user(who)
    assert client.get("/perlindungan-data").status_code == 403
    assert client.get("/perlindungan-data/catatan-pemrosesan.csv").status_code == 403
    assert form_post(client, "/perlindungan-data/pengaturan", VALID).status_code == 403
    assert service.dpo_contact(db) == ""
    assert audit_entries(db, "dataprotection.registry_exported") == []


def test_a_stranger_is_sent_to_sign_in(client):
    response = client.get("/perlindungan-data", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/perlindungan-data"


def test_the_settings_are_saved_and_audited(as_user, db):
    client = as_user("supervisor")
    response = form_post(client, "/perlindungan-data/pengaturan", VALID)
    assert response.status_code == 303
    assert response.headers["location"] == "/perlindungan-data?pesan=tersimpan"
    db.expire_all()
    assert service.dpo_contact(db) == VALID["dpo"]
    assert rules.days(db, "push_devices") == 120
    assert rules.days(db, "contact_numbers") == 60
    [entry] = audit_entries(db, "dataprotection.settings_changed")
    assert "push_devices" in entry.detail
    assert "Pengaturan pelindungan data sudah disimpan." in client.get(response.headers["location"]).text


def test_a_period_outside_its_limits_is_refused_next_to_the_field_keeping_what_was_typed(as_user, db):
    client = as_user("supervisor")
    response = form_post(client, "/perlindungan-data/pengaturan", {**VALID, "days_push_devices": "5", "dpo": ""})
    assert response.status_code == 422
    assert "Isi jumlah hari antara 30 dan 730." in response.text
    assert "Tulis kontak petugas pelindungan data" in response.text
    assert 'name="days_push_devices" type="number" value="5"' in response.text
    assert 'value="60"' in response.text
    assert rules.days(db, "push_devices") == 180
    assert audit_entries(db, "dataprotection.settings_changed") == []


def test_the_settings_form_needs_its_csrf_token(as_user, db):
    client = as_user("supervisor")
    response = client.post("/perlindungan-data/pengaturan", data=VALID, follow_redirects=False)
    assert response.status_code == 403
    assert service.dpo_contact(db) == ""
