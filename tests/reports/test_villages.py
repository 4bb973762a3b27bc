"""The kelurahan/desa after the kecamatan on the report form (issue 24): a grouped choice that works without
JavaScript, narrowed to the chosen kecamatan by htmx; optional, checked against the kecamatan on the server,
stored on the report, and carried with its Kemendagri code on the SIMFONI sheet and in identity exports."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.accounts.models import Village
from tests.support.reports import district_named, fresh, make_report, submit_report
from tests.support.statistics import export, table


def village_named(db, name: str) -> Village:
    return db.execute(select(Village).where(Village.name == name)).scalar_one()


def test_without_javascript_the_form_offers_every_kelurahan_grouped_by_kecamatan(client):
    html = client.get("/lapor").text
    field = re.search(r'<select class="field__input" id="field-village_id".*?</select>', html, re.S).group(0)
    assert '<optgroup label="Kecamatan Banjarbaru Utara">' in field
    assert '<optgroup label="Kecamatan Cempaka">' in field
    assert ">Komet</option>" in field
    assert ">Palam</option>" in field
    assert '<option value="">Tidak tahu</option>' in field
    # With htmx, a change of kecamatan fetches the field for that kecamatan.
    assert re.search(r'id="field-district_id"[^>]*hx-get="/lapor/kelurahan"[^>]*hx-target="#village-field"', html)


def test_the_htmx_fragment_holds_only_the_chosen_kecamatans_kelurahan(client, db):
    cempaka = district_named(db, "Cempaka")
    response = client.get(f"/lapor/kelurahan?district_id={cempaka.id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert '<optgroup label="Kecamatan Cempaka">' in response.text
    assert ">Palam</option>" in response.text
    assert "Komet" not in response.text
    assert "<html" not in response.text
    everything = client.get("/lapor/kelurahan?district_id=").text
    assert ">Komet</option>" in everything
    assert ">Palam</option>" in everything


def test_a_kelurahan_of_another_kecamatan_is_refused_with_everything_kept(client, db):
    utara, palam = district_named(db, "Banjarbaru Utara"), village_named(db, "Palam")
    sent = submit_report(client, district_id=str(utara.id), village_id=str(palam.id), where_detail="dekat pasar")
    assert sent.response.status_code == 422
    assert "Kelurahan/desa ini bukan di kecamatan yang dipilih." in sent.response.text
    assert 'value="dekat pasar"' in sent.response.text
    # The field shown again holds the chosen kecamatan's kelurahan only.
    assert '<optgroup label="Kecamatan Banjarbaru Utara">' in sent.response.text
    unknown = submit_report(client, village_id="999999")
    assert unknown.response.status_code == 422
    assert "Pilih kelurahan/desa dari daftar." in unknown.response.text


def test_the_kelurahan_is_optional_and_stored_and_names_the_kecamatan_when_that_was_not_chosen(app, db):
    komet = village_named(db, "Komet")
    named = make_report(app, db, village_id=str(komet.id)).report
    assert (fresh(db, named.id).village_id, fresh(db, named.id).district_id) == (
        komet.id, district_named(db, "Banjarbaru Utara").id)
    unnamed = make_report(app, db).report
    assert fresh(db, unnamed.id).village_id is None


def test_the_simfoni_sheet_and_exports_carry_the_kemendagri_codes(app, db, as_user):
    komet = village_named(db, "Komet")
    report = make_report(app, db, district_id=str(district_named(db, "Banjarbaru Utara").id),
                         village_id=str(komet.id)).report
    sheet = as_user("supervisor").get(f"/kasus/{report.id}/simfoni").text
    assert re.search(r"<dd data-district>Banjarbaru Utara \(kode 63\.72\.04\)</dd>", sheet)
    assert re.search(r"<dd data-village>Komet \(kode 63\.72\.04\.1003\)</dd>", sheet)
    [row] = table(export(as_user("supervisor")).content)
    assert (row["kecamatan"], row["kode_kecamatan"]) == ("Banjarbaru Utara", "63.72.04")
    assert "kelurahan" not in row
    assert "Komet" not in row.values()  # de-identified: the kecamatan only
    [named] = table(export(as_user("supervisor"), identitas="1", alasan="Permintaan Unit PPA Polres").content)
    assert (named["kelurahan"], named["kode_kelurahan"]) == ("Komet", "63.72.04.1003")
