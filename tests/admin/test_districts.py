import pytest

from tests.support.admin import PEOPLE_WHO_ARE_NOT_SUPERVISORS, admin_post, audit_entries, district_named

FORMS = [
    ("/admin/kecamatan", {"name": "Martapura"}),
    ("/admin/kecamatan/1/nonaktifkan", {}),
    ("/admin/kecamatan/1/aktifkan", {}),
]


def test_it_lists_districts_for_a_supervisor(supervisor):
    response = supervisor.get("/admin/kecamatan")
    assert response.status_code == 200
    assert "Liang Anggang" in response.text
    assert "Cempaka" in response.text
    assert 'class="table-wrap"' in response.text
    assert "<title>Kecamatan · Bintang Ceria</title>" in response.text


@pytest.mark.parametrize("username", PEOPLE_WHO_ARE_NOT_SUPERVISORS)
def test_it_refuses_the_page_to_teachers_and_counselors(as_user, username):
    assert as_user(username).get("/admin/kecamatan").status_code == 403


def test_it_sends_a_signed_out_visitor_to_sign_in(client):
    response = client.get("/admin/kecamatan", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/admin/kecamatan"


@pytest.mark.parametrize(("path", "data"), FORMS)
@pytest.mark.parametrize("username", PEOPLE_WHO_ARE_NOT_SUPERVISORS)
def test_it_refuses_every_change_from_teachers_and_counselors(as_user, db, username, path, data):
    assert admin_post(as_user(username), path, data).status_code == 403
    assert district_named(db, "Martapura") is None
    assert district_named(db, "Banjarbaru Utara").active


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_it_refuses_every_change_from_a_signed_out_visitor(client, db, path, data):
    assert admin_post(client, path, data).status_code == 401
    assert district_named(db, "Martapura") is None
    assert district_named(db, "Banjarbaru Utara").active


def test_it_answers_404_for_a_district_that_does_not_exist(supervisor):
    assert admin_post(supervisor, "/admin/kecamatan/9999/aktifkan").status_code == 404


def test_it_adds_a_district_and_says_so(supervisor, db):
    response = admin_post(supervisor, "/admin/kecamatan", {"name": " Martapura "})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/kecamatan?pesan=kecamatan-dibuat"
    assert "Kecamatan sudah ditambahkan." in supervisor.get(response.headers["location"]).text
    district = district_named(db, "Martapura")
    assert district.active
    [entry] = audit_entries(db, "admin.district_created")
    assert (entry.actor_label, entry.object_type, entry.object_id) == ("supervisor", "district", str(district.id))
    assert "Martapura" in supervisor.get("/admin/sekolah").text


def test_it_explains_a_missing_or_duplicate_name_and_keeps_what_was_typed(supervisor, db):
    response = admin_post(supervisor, "/admin/kecamatan", {"name": ""})
    assert response.status_code == 422
    assert "Tulis namanya." in response.text
    response = admin_post(supervisor, "/admin/kecamatan", {"name": "cempaka"})
    assert response.status_code == 422
    assert "Kecamatan ini sudah ada di daftar." in response.text
    assert 'value="cempaka"' in response.text
    assert not audit_entries(db, "admin.district_created")


def test_a_deactivated_district_cannot_be_chosen_for_a_new_counselor(supervisor, db):
    district = district_named(db, "Liang Anggang")
    response = admin_post(supervisor, f"/admin/kecamatan/{district.id}/nonaktifkan")
    assert response.status_code == 303
    assert "Kecamatan sudah dinonaktifkan." in supervisor.get(response.headers["location"]).text
    assert not district_named(db, "Liang Anggang").active
    form = {"display_name": "Konselor Dewi", "username": "dewi", "role": "counselor", "district_id": district.id,
            "password": "pelangi sore di taman"}
    response = admin_post(supervisor, "/admin/pengguna/baru", form)
    assert response.status_code == 422
    assert "Konselor harus masuk tim sebuah kecamatan." in response.text
    [entry] = audit_entries(db, "admin.district_deactivated")
    assert entry.object_id == str(district.id)


def test_it_reactivates_a_district(supervisor, db):
    district = district_named(db, "Liang Anggang")
    admin_post(supervisor, f"/admin/kecamatan/{district.id}/nonaktifkan")
    response = admin_post(supervisor, f"/admin/kecamatan/{district.id}/aktifkan")
    assert "Kecamatan sudah diaktifkan kembali." in supervisor.get(response.headers["location"]).text
    assert district_named(db, "Liang Anggang").active
    assert len(audit_entries(db, "admin.district_reactivated")) == 1
