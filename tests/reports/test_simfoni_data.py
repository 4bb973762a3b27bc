"""The data SIMFONI-PPA counts, filled in on the case page by the staff who may handle the case: the incident
and the victim, perpetrators, services; validated next to each field, audited, on the chronology."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from server.reports import simfoni, simfoni_data
from server.reports.models import Category
from tests.support.reports import audit_entries, case_post, district_named, events, fresh, make_report


def utara_case(app, db: Session) -> int:
    return make_report(app, db, district_id=str(district_named(db, "Banjarbaru Utara").id)).report.id


def test_it_keeps_the_incident_and_the_victim_and_audits_the_change(app, db, as_user):
    report_id = utara_case(app, db)
    client = as_user("konselor")
    response = case_post(client, report_id, "simfoni", {
        "incident_on": "2026-11-28", "in_household": "1", "victim_education": "smp", "victim_disability": "ya",
        "victim_disability_kind": "Tunarungu"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/kasus/{report_id}#simfoni"
    report = fresh(db, report_id)
    assert (report.incident_on, report.in_household, report.victim_education, report.victim_disability,
            report.victim_disability_kind) == (date(2026, 11, 28), True, "smp", "ya", "Tunarungu")
    assert len(audit_entries(db, "report.simfoni_updated", report_id)) == 1
    assert [e.body for e in events(db, report_id, "simfoni")] == ["Data korban dan kejadian diperbarui."]
    page = client.get(f"/kasus/{report_id}").text
    assert 'value="2026-11-28"' in page
    assert 'value="Tunarungu"' in page


def test_a_wrong_answer_is_refused_next_to_its_field_and_what_was_typed_is_kept(app, db, as_user):
    report_id = utara_case(app, db)
    client = as_user("konselor")
    response = case_post(client, report_id, "simfoni", {
        "incident_on": "2026-12-25", "victim_education": "sd", "victim_disability": "ya",
        "victim_disability_kind": ""})
    assert response.status_code == 422
    assert "Tanggal ini belum lewat. Tulis tanggal hari ini atau sebelumnya." in response.text
    assert "Tulis jenis disabilitasnya." in response.text
    assert 'value="2026-12-25"' in response.text
    assert '<option value="sd" selected>' in response.text
    report = fresh(db, report_id)
    assert report.incident_on is None
    assert report.victim_education == ""
    assert audit_entries(db, "report.simfoni_updated", report_id) == []


def test_a_day_that_is_not_a_date_is_refused(app, db, as_user):
    report_id = utara_case(app, db)
    response = case_post(as_user("konselor"), report_id, "simfoni", {"incident_on": "kemarin"})
    assert response.status_code == 422
    assert "Tulis tanggal seperti 2026-11-30." in response.text
    assert 'value="kemarin"' in response.text


def test_perpetrators_are_added_one_by_one_and_audited(app, db, as_user):
    report_id = utara_case(app, db)
    client = as_user("konselor")
    for relationship in ("orang_tua", "tetangga"):
        response = case_post(client, report_id, "pelaku", {
            "perpetrator_sex": "laki_laki", "perpetrator_age_band": "25-44", "perpetrator_relationship": relationship})
        assert response.status_code == 303
    assert [p.relationship for p in simfoni_data.perpetrators_of(db, report_id)] == ["orang_tua", "tetangga"]
    assert len(audit_entries(db, "report.perpetrator_added", report_id)) == 2
    assert "Laki-laki · 25–44 tahun · Tetangga" in client.get(f"/kasus/{report_id}").text


def test_a_perpetrator_without_answers_is_refused_with_a_message_for_each(app, db, as_user):
    report_id = utara_case(app, db)
    response = case_post(as_user("konselor"), report_id, "pelaku", {
        "perpetrator_sex": "perempuan", "perpetrator_age_band": "", "perpetrator_relationship": "musuh"})
    assert response.status_code == 422
    assert "Pilih kelompok umur pelaku." in response.text
    assert "Pilih hubungan pelaku dengan anak." in response.text
    assert '<option value="perempuan" selected>' in response.text
    assert simfoni_data.perpetrators_of(db, report_id) == []


def test_a_service_is_recorded_with_its_day_and_audited(app, db, as_user):
    report_id = utara_case(app, db)
    client = as_user("konselor")
    response = case_post(client, report_id, "layanan", {
        "service_kind": "kesehatan", "service_given_on": "2026-11-30", "service_given_by": "Puskesmas Cempaka",
        "service_note": "Visum"})
    assert response.status_code == 303
    [given] = simfoni_data.services_of(db, report_id)
    assert (given.kind, given.given_on, given.given_by, given.note) == (
        "kesehatan", date(2026, 11, 30), "Puskesmas Cempaka", "Visum")
    assert audit_entries(db, "report.service_added", report_id)[0].actor_id is not None
    assert "Layanan dicatat." in [e.body for e in events(db, report_id, "simfoni")]


def test_a_service_without_a_kind_or_day_is_refused_and_keeps_the_note(app, db, as_user):
    report_id = utara_case(app, db)
    response = case_post(as_user("konselor"), report_id, "layanan", {
        "service_kind": "", "service_given_on": "", "service_given_by": "LBH", "service_note": "Catatan ini"})
    assert response.status_code == 422
    assert "Pilih jenis layanan." in response.text
    assert "Tulis tanggal layanan diberikan." in response.text
    assert "Catatan ini</textarea>" in response.text
    assert 'value="LBH"' in response.text
    assert simfoni_data.services_of(db, report_id) == []


@pytest.mark.parametrize(("action", "data"), [
    ("simfoni", {"incident_on": "2026-11-28"}),
    ("pelaku", {"perpetrator_sex": "laki_laki", "perpetrator_age_band": "25-44",
                "perpetrator_relationship": "guru"}),
    ("layanan", {"service_kind": "pengaduan", "service_given_on": "2026-11-30"}),
])
@pytest.mark.parametrize(("username", "expected"), [("konselor2", 404), ("guru", 403), ("orangtua", 403)])
def test_only_staff_who_may_handle_the_case_may_fill_it_in(action, data, username, expected, app, db, as_user):
    report_id = utara_case(app, db)
    response = case_post(as_user(username), report_id, action, data)
    assert response.status_code == expected
    assert fresh(db, report_id).incident_on is None
    assert simfoni_data.perpetrators_of(db, report_id) == []
    assert simfoni_data.services_of(db, report_id) == []
    assert events(db, report_id, "simfoni") == []


def test_a_supervisor_may_fill_it_in(app, db, as_user):
    report_id = utara_case(app, db)
    assert case_post(as_user("supervisor"), report_id, "simfoni", {"incident_on": "2026-11-01"}).status_code == 303


def test_signed_out_nobody_can_fill_it_in(app, db, make_client):
    report_id = utara_case(app, db)
    response = case_post(make_client(), report_id, "simfoni", {"incident_on": "2026-11-28"})
    assert response.status_code in (401, 403)
    assert fresh(db, report_id).incident_on is None


@pytest.mark.parametrize(("category", "form"), [
    ("physical", "fisik"), ("psychological", "psikis"), ("sexual", "seksual"), ("exploitation", "eksploitasi"),
    ("trafficking", "trafficking"), ("neglect", "penelantaran"), ("bullying", "psikis"),
    ("mental_health", "lainnya"), ("other", "lainnya"),
])
def test_every_category_maps_to_a_simfoni_form_of_violence(category, form):
    assert simfoni.CATEGORY_TO_FORM[category] == form


def test_the_mapping_covers_every_category_and_only_simfoni_forms():
    assert set(simfoni.CATEGORY_TO_FORM) == set(Category)
    assert set(simfoni.CATEGORY_TO_FORM.values()) <= set(simfoni.FORMS)


@pytest.mark.parametrize(("age", "band"), [(None, "unknown"), (0, "0-5"), (5, "0-5"), (6, "6-12"), (12, "6-12"),
                                       (13, "13-17"), (17, "13-17"), (18, "unknown")])
def test_the_victims_age_band_comes_from_the_age_given(age, band):
    assert simfoni.age_band(age) == band


def test_a_perpetrator_or_service_entered_by_mistake_is_removed_and_the_removal_kept(app, db, as_user):
    report_id = utara_case(app, db)
    client = as_user("konselor")
    case_post(client, report_id, "pelaku", {"perpetrator_sex": "perempuan", "perpetrator_age_band": "18-24",
                                            "perpetrator_relationship": "pacar"})
    case_post(client, report_id, "layanan", {"service_kind": "pemulangan", "service_given_on": "2026-11-30"})
    [perpetrator], [given] = simfoni_data.perpetrators_of(db, report_id), simfoni_data.services_of(db, report_id)
    assert case_post(client, report_id, f"pelaku/{perpetrator.id}/hapus").status_code == 303
    assert case_post(client, report_id, f"layanan/{given.id}/hapus").status_code == 303
    assert simfoni_data.perpetrators_of(db, report_id) == []
    assert simfoni_data.services_of(db, report_id) == []
    assert len(audit_entries(db, "report.perpetrator_removed", report_id)) == 1
    assert len(audit_entries(db, "report.service_removed", report_id)) == 1
    assert [e.body for e in events(db, report_id, "simfoni")][-2:] == ["Data pelaku dihapus.", "Catatan layanan dihapus."]


def test_another_cases_perpetrator_cannot_be_removed_through_this_case(app, db, as_user):
    mine, other = utara_case(app, db), utara_case(app, db)
    client = as_user("konselor")
    case_post(client, other, "pelaku", {"perpetrator_sex": "perempuan", "perpetrator_age_band": "18-24",
                                        "perpetrator_relationship": "pacar"})
    [perpetrator] = simfoni_data.perpetrators_of(db, other)
    response = case_post(client, mine, f"pelaku/{perpetrator.id}/hapus")
    assert response.status_code == 422
    assert "Data pelaku tidak ditemukan." in response.text
    assert len(simfoni_data.perpetrators_of(db, other)) == 1


def test_a_counselor_of_another_team_cannot_remove_anything(app, db, as_user):
    report_id = utara_case(app, db)
    case_post(as_user("konselor"), report_id, "layanan", {"service_kind": "pemulangan",
                                                          "service_given_on": "2026-11-30"})
    [given] = simfoni_data.services_of(db, report_id)
    assert case_post(as_user("konselor2"), report_id, f"layanan/{given.id}/hapus").status_code == 404
    assert case_post(as_user("guru"), report_id, f"layanan/{given.id}/hapus").status_code == 403
    assert len(simfoni_data.services_of(db, report_id)) == 1


@pytest.mark.parametrize("action", ["pelaku/99999999999999999999/hapus", "layanan/99999999999999999999/hapus"])
def test_an_id_no_row_can_have_is_not_found(action, app, db, as_user):
    report_id = utara_case(app, db)
    assert case_post(as_user("konselor"), report_id, action).status_code == 404
