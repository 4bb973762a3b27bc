"""The per-case SIMFONI input sheet (/kasus/{id}/simfoni), marking a case as entered, and the month's list of
cases not entered yet (/statistik/simfoni)."""

from __future__ import annotations

import pytest

from server.reports import cases, simfoni_data
from tests.support.reports import (
    TEST_IP,
    audit_entries,
    district_named,
    events,
    fresh,
    make_report,
    set_state,
    user_named,
)
from tests.support.web import csrf_token


def a_case_with_simfoni_data(app, db) -> int:
    report = make_report(app, db, categories=["sexual", "bullying"], child_age="14", child_gender="girl",
                         district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    konselor = user_named(db, "konselor")
    cases.assign(db, report, konselor, counselor_id=konselor.id, version=None, ip=TEST_IP)
    simfoni_data.update_simfoni(db, report, konselor, incident_on="2026-11-20", in_household=True, education="smp",
                           disability="tidak", disability_kind="", ip=TEST_IP)
    simfoni_data.add_perpetrator(db, report, konselor, sex="laki_laki", age_band="45-59", relationship="orang_tua_tiri",
                            ip=TEST_IP)
    simfoni_data.add_service(db, report, konselor, kind="kesehatan", given_on="2026-11-25", given_by="RSUD Idaman",
                        note="", ip=TEST_IP)
    db.commit()
    return report.id


def test_the_sheet_shows_simfonis_fields_in_its_order_and_the_view_is_audited(app, db, as_user):
    report_id = a_case_with_simfoni_data(app, db)
    response = as_user("konselor").get(f"/kasus/{report_id}/simfoni")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    text = response.text
    order = [text.index(heading) for heading in ("1. Identitas korban", "2. Kejadian", "3. Pelaku", "4. Layanan")]
    assert order == sorted(order)
    for shown in ("13–17 tahun", "SMP/sederajat", "2026-11-20", "Psikis, Seksual", "Orang tua tiri/angkat",
                  "45–59 tahun", "RSUD Idaman", "Tandai: sudah diinput ke SIMFONI"):
        assert shown in text, shown
    [view] = audit_entries(db, "report.viewed.simfoni", report_id)
    assert view.actor_id == user_named(db, "konselor").id
    assert "<title>" in text
    assert "BC-" not in text.split("<title>")[1].split("</title>")[0]


def test_marking_it_entered_is_kept_audited_and_shown(app, db, as_user):
    report_id = a_case_with_simfoni_data(app, db)
    client = as_user("konselor")
    response = client.post(f"/kasus/{report_id}/simfoni/tandai", data={"_csrf_token": csrf_token(client, "/")},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/kasus/{report_id}/simfoni"
    assert fresh(db, report_id).entered_in_simfoni_at is not None
    assert len(audit_entries(db, "report.simfoni_entered", report_id)) == 1
    assert "Ditandai sudah diinput ke SIMFONI-PPA." in [e.body for e in events(db, report_id, "simfoni")]
    page = client.get(f"/kasus/{report_id}/simfoni").text
    assert "Sudah diinput ke SIMFONI pada 1 Des 2026 09.17.00 WITA." in page
    assert "Tandai: sudah diinput ke SIMFONI" not in page
    again = client.post(f"/kasus/{report_id}/simfoni/tandai", data={"_csrf_token": csrf_token(client, "/")},
                        follow_redirects=False)
    assert again.status_code == 422
    assert "Kasus ini sudah ditandai sudah diinput ke SIMFONI." in again.text
    assert len(audit_entries(db, "report.simfoni_entered", report_id)) == 1


@pytest.mark.parametrize(("username", "expected"), [("konselor2", 404), ("guru", 403), ("anak", 403)])
def test_only_staff_who_may_handle_the_case_see_the_sheet_or_mark_it(username, expected, app, db, as_user):
    report_id = a_case_with_simfoni_data(app, db)
    client = as_user(username)
    response = client.get(f"/kasus/{report_id}/simfoni")
    assert response.status_code == expected
    assert "RSUD Idaman" not in response.text
    marked = client.post(f"/kasus/{report_id}/simfoni/tandai", data={"_csrf_token": csrf_token(client, "/")},
                         follow_redirects=False)
    assert marked.status_code == expected
    assert fresh(db, report_id).entered_in_simfoni_at is None
    assert audit_entries(db, "report.viewed.simfoni", report_id) == []


def test_signed_out_the_sheet_sends_to_sign_in(app, db, make_client):
    report_id = a_case_with_simfoni_data(app, db)
    response = make_client().get(f"/kasus/{report_id}/simfoni", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/masuk?lanjut=/kasus/{report_id}/simfoni"


def test_the_month_list_shows_the_teams_cases_not_entered_yet(app, db, as_user):
    entered = a_case_with_simfoni_data(app, db)
    waiting = a_case_with_simfoni_data(app, db)
    duplicate = a_case_with_simfoni_data(app, db)
    set_state(db, entered, entered_in_simfoni_at=fresh(db, entered).created_at)
    set_state(db, duplicate, status="duplicate")
    response = as_user("konselor").get("/statistik/simfoni?bulan=2026-12")
    assert response.status_code == 200
    assert f'href="/kasus/{waiting}/simfoni"' in response.text
    assert f'href="/kasus/{entered}/simfoni"' not in response.text
    assert f'href="/kasus/{duplicate}/simfoni"' not in response.text
    assert f'href="/kasus/{waiting}/simfoni"' not in as_user("konselor2").get("/statistik/simfoni?bulan=2026-12").text
    assert f'href="/kasus/{waiting}/simfoni"' not in as_user("supervisor").get("/statistik/simfoni?bulan=2026-11").text
    assert f'href="/kasus/{waiting}/simfoni"' in as_user("supervisor").get("/statistik/simfoni").text


def test_a_month_that_cannot_be_read_is_refused_next_to_the_field(as_user):
    response = as_user("supervisor").get("/statistik/simfoni?bulan=Desember")
    assert response.status_code == 422
    assert "Tulis bulan seperti 2026-12." in response.text
    assert 'value="Desember"' in response.text


@pytest.mark.parametrize("username", ["guru", "orangtua"])
def test_the_month_list_is_for_staff_only(username, as_user):
    assert as_user(username).get("/statistik/simfoni").status_code == 403


def test_personal_data_in_the_childs_words_is_masked_on_the_sheet_and_kept_on_the_case_page(app, db, as_user):
    words = "Om Darto tetangga di jl. Kenanga no 5 rt 03 mukul aku, nomor dia 0812 3456 7890, NIK 6372011508100001"
    report = make_report(app, db, child_words=words, where_detail="rumah paman Darto di gg. Mawar 2",
                         district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    client = as_user("konselor")
    sheet = client.get(f"/kasus/{report.id}/simfoni")
    assert sheet.status_code == 200
    assert ("Om [NAMA] tetangga di [ALAMAT] mukul aku, nomor dia [TELEPON], NIK [NIK]") in sheet.text
    assert "rumah paman [NAMA] di [ALAMAT]" in sheet.text
    assert "Data pribadi dalam teks disamarkan" in sheet.text
    for value in ("Darto", "Kenanga", "0812 3456 7890", "6372011508100001", "Mawar"):
        assert value not in sheet.text, value
    case_page = client.get(f"/kasus/{report.id}")
    assert case_page.status_code == 200
    assert words in case_page.text
