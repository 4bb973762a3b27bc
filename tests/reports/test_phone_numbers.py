"""The number a reporter asks to be called or messaged on: stored in one form (E.164), shown in the national form,
a typo refused next to the field with what was typed kept; WhatsApp needs a mobile number."""

from __future__ import annotations

import pytest

from tests.support.reports import (
    district_named,
    field_block,
    fresh,
    make_report,
    only_report,
    report_count,
    submit_report,
)


@pytest.mark.parametrize("typed", ["0812-3456-7890", "+62 812 3456 7890", "62 812 3456 7890", "0812.3456.7890"])
def test_a_number_is_stored_in_one_form_whatever_way_it_was_written(client, db, typed):
    sent = submit_report(client, contact_method="whatsapp", contact_detail=typed)
    assert sent.response.status_code == 200
    assert only_report(db).contact_detail == "+6281234567890"


@pytest.mark.parametrize(("typed", "words"), [
    ("0812 3456", "Jumlah angkanya tidak pas: nomor HP Indonesia 10 sampai 13 angka"),
    ("0812 3456 7890 1234", "Jumlah angkanya tidak pas"),
    ("1812 3456 7890", "Nomor Indonesia diawali 08, 62 atau +62"),
    ("0812 34S6 7890", "Nomor HP hanya berisi angka (boleh dengan spasi atau tanda -)"),
])
def test_a_typo_is_refused_next_to_the_field_and_what_was_typed_is_kept(client, db, typed, words):
    sent = submit_report(client, contact_method="phone", contact_detail=typed)
    assert sent.response.status_code == 422
    assert words in field_block(sent.response.text, "contact_detail")
    assert f'value="{typed}"' in sent.response.text
    assert report_count(db) == 0


def test_whatsapp_needs_a_mobile_number_and_a_call_may_go_to_a_landline(client, db):
    sent = submit_report(client, contact_method="whatsapp", contact_detail="(0511) 477 2345")
    assert sent.response.status_code == 422
    assert "Ini nomor telepon rumah; WhatsApp perlu nomor HP (diawali 08)" in field_block(
        sent.response.text, "contact_detail")
    assert 'value="(0511) 477 2345"' in sent.response.text
    sent = submit_report(client, contact_method="phone", contact_detail="(0511) 477 2345")
    assert sent.response.status_code == 200
    assert only_report(db).contact_detail == "+625114772345"


def test_the_counselor_sees_the_national_form_and_a_whatsapp_link(app, db, as_user):
    report_id = make_report(app, db, district_id=str(district_named(db, "Banjarbaru Utara").id),
                            contact_method="whatsapp", contact_detail="+62 813 9999 8765").report.id
    assert fresh(db, report_id).contact_detail == "+6281399998765"
    page = as_user("konselor").get(f"/kasus/{report_id}")
    assert page.status_code == 200
    assert "WhatsApp ke nomor ini: 0813-9999-8765" in page.text
    assert 'href="https://wa.me/6281399998765"' in page.text
