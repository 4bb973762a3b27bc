import json

import pytest

from server import service_info
from tests.admin.conftest import PEOPLE_WHO_ARE_NOT_SUPERVISORS, admin_post, audit_entries

SETTINGS = {
    "service_name": "Sahabat Anak",
    "city_name": "Kabupaten Banjar",
    "emergency_number": "112",
    "sapa_number": "129",
    "sapa_whatsapp": "08111129129",
    "city_hotline": "0511-4772 000",
    "closed_on_cuti_bersama": "1",  # the box is ticked unless a supervisor unticks it
}


def _saved(db):
    db.expire_all()
    return service_info.load(db)


def test_it_shows_the_current_settings_to_a_supervisor(supervisor):
    response = supervisor.get("/admin/layanan")
    assert response.status_code == 200
    assert 'value="Bintang Ceria"' in response.text and 'value="Kota Banjarbaru"' in response.text
    assert 'value="08111129129"' in response.text
    assert '<legend>Nomor darurat</legend>' in response.text
    assert "<title>Layanan · Bintang Ceria</title>" in response.text


@pytest.mark.parametrize("username", PEOPLE_WHO_ARE_NOT_SUPERVISORS)
def test_it_refuses_the_page_and_the_form_to_teachers_and_counselors(as_user, db, username):
    person = as_user(username)
    assert person.get("/admin/layanan").status_code == 403
    assert admin_post(person, "/admin/layanan", SETTINGS).status_code == 403
    assert _saved(db).service_name == "Bintang Ceria"


def test_it_sends_a_signed_out_visitor_to_sign_in_and_refuses_their_post(client, db):
    response = client.get("/admin/layanan", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/admin/layanan"
    assert admin_post(client, "/admin/layanan", SETTINGS).status_code == 401
    assert _saved(db).service_name == "Bintang Ceria"


def test_the_home_page_shows_the_new_name_and_hotline_after_saving(supervisor, client, db):
    response = admin_post(supervisor, "/admin/layanan", SETTINGS)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/layanan?pesan=layanan-disimpan"
    assert "Pengaturan layanan sudah disimpan" in supervisor.get(response.headers["location"]).text
    home = client.get("/").text
    assert "<title>Sahabat Anak</title>" in home
    assert "Sahabat Anak adalah layanan konseling dari pemerintah Kabupaten Banjar" in home
    assert 'href="tel:05114772000"' in home
    assert _saved(db).city_hotline == "05114772000"


def test_it_audits_what_changed_from_what_to_what(supervisor, db):
    admin_post(supervisor, "/admin/layanan", SETTINGS)
    [entry] = audit_entries(db, "admin.service_settings_changed")
    assert (entry.actor_label, entry.object_type) == ("supervisor", "service")
    changed = json.loads(entry.detail)["changed"]
    assert changed["service_name"] == ["Bintang Ceria", "Sahabat Anak"]
    assert changed["city_hotline"] == ["", "05114772000"]
    assert "sapa_number" not in changed


def test_saving_without_a_change_records_nothing(supervisor, db):
    unchanged = {**SETTINGS, "service_name": "Bintang Ceria", "city_name": "Kota Banjarbaru", "city_hotline": ""}
    assert admin_post(supervisor, "/admin/layanan", unchanged).status_code == 303
    assert not audit_entries(db, "admin.service_settings_changed")


def test_it_keeps_whatsapp_numbers_in_the_national_form_the_link_needs(supervisor, client, db):
    admin_post(supervisor, "/admin/layanan", {**SETTINGS, "sapa_whatsapp": "+62 811-1129-129"})
    assert _saved(db).sapa_whatsapp == "08111129129"
    assert 'href="https://wa.me/628111129129"' in client.get("/").text


def test_the_optional_numbers_may_be_left_empty(supervisor, client, db):
    response = admin_post(supervisor, "/admin/layanan", {**SETTINGS, "sapa_whatsapp": "", "city_hotline": ""})
    assert response.status_code == 303
    home = client.get("/").text
    assert "wa.me" not in home
    assert 'href="tel:112"' in home


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("emergency_number", "", "Tulis nomor telepon dengan angka saja"),
        ("emergency_number", "11a2", "Tulis nomor telepon dengan angka saja"),
        ("sapa_number", "12", "Tulis nomor telepon dengan angka saja"),
        ("city_hotline", "0511 4772 000 1234 5678", "Tulis nomor telepon dengan angka saja"),
        ("city_hotline", "+112", "Tulis nomor telepon dengan angka saja"),
        ("city_hotline", "05++114772000", "Tulis nomor telepon dengan angka saja"),
        ("sapa_whatsapp", "0511477200", "Tulis nomor WhatsApp Indonesia"),
        ("sapa_whatsapp", "081", "Tulis nomor WhatsApp Indonesia"),
        ("service_name", "", "Tulis namanya."),
        ("service_name", "S" * 61, "Nama paling banyak 60 karakter."),
        ("service_name", "Layanan Korban Kekerasan", "Pakai nama yang tidak menyebut kekerasan."),
        ("city_name", "  ", "Tulis namanya."),
        ("city_name", "Kota\x00Banjarbaru", "Nama hanya boleh berisi huruf"),
    ],
)
def test_it_refuses_a_wrong_value_next_to_its_field_and_keeps_what_was_typed(supervisor, db, field, value, message):
    response = admin_post(supervisor, "/admin/layanan", {**SETTINGS, field: value})
    assert response.status_code == 422
    assert message in response.text
    assert f'id="error-{field}"' in response.text and f'href="#field-{field}"' in response.text
    assert 'value="Kabupaten Banjar"' in response.text or field == "city_name"
    assert _saved(db).service_name == "Bintang Ceria"
    assert not audit_entries(db, "admin.service_settings_changed")
