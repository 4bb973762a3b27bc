import pytest

from tests.support.admin import PEOPLE_WHO_ARE_NOT_SUPERVISORS, admin_post, audit_entries, district_named, school_named

FORMS = [
    ("/admin/sekolah", {"name": "SD Negeri 2 Cempaka", "district_id": "1"}),
    ("/admin/sekolah/1/nonaktifkan", {}),
    ("/admin/sekolah/1/aktifkan", {}),
]


@pytest.fixture
def cempaka(db):
    return district_named(db, "Cempaka")


# --- who may ---------------------------------------------------------------------------------------------


def test_it_lists_schools_with_their_district_for_a_supervisor(supervisor):
    response = supervisor.get("/admin/sekolah")
    assert response.status_code == 200
    assert "SMP Negeri 5 Banjarbaru" in response.text
    assert "Landasan Ulin" in response.text
    assert 'class="table-wrap"' in response.text
    assert "<title>Sekolah · Bintang Ceria</title>" in response.text


@pytest.mark.parametrize("username", PEOPLE_WHO_ARE_NOT_SUPERVISORS)
def test_it_refuses_the_page_to_teachers_and_counselors(as_user, username):
    assert as_user(username).get("/admin/sekolah").status_code == 403


def test_it_sends_a_signed_out_visitor_to_sign_in(client):
    response = client.get("/admin/sekolah", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/admin/sekolah"


@pytest.mark.parametrize(("path", "data"), FORMS)
@pytest.mark.parametrize("username", PEOPLE_WHO_ARE_NOT_SUPERVISORS)
def test_it_refuses_every_change_from_teachers_and_counselors(as_user, db, username, path, data):
    assert admin_post(as_user(username), path, data).status_code == 403
    assert school_named(db, "SD Negeri 2 Cempaka") is None
    assert school_named(db, "SMP Negeri 1 Banjarbaru").active


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_it_refuses_every_change_from_a_signed_out_visitor(client, db, path, data):
    assert admin_post(client, path, data).status_code == 401
    assert school_named(db, "SD Negeri 2 Cempaka") is None
    assert school_named(db, "SMP Negeri 1 Banjarbaru").active


def test_it_answers_404_for_a_school_that_does_not_exist(supervisor):
    assert admin_post(supervisor, "/admin/sekolah/9999/nonaktifkan").status_code == 404


# --- creating --------------------------------------------------------------------------------------------


def test_it_adds_a_school_and_says_so(supervisor, db, cempaka):
    response = admin_post(supervisor, "/admin/sekolah", {"name": "  SD Negeri 2   Cempaka ", "district_id": cempaka.id})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/sekolah?pesan=sekolah-dibuat"
    page = supervisor.get(response.headers["location"])
    assert "Sekolah sudah ditambahkan." in page.text
    assert "SD Negeri 2 Cempaka" in page.text
    school = school_named(db, "SD Negeri 2 Cempaka")
    assert school.district_id == cempaka.id
    assert school.active
    [entry] = audit_entries(db, "admin.school_created")
    assert (entry.actor_label, entry.object_type, entry.object_id) == ("supervisor", "school", str(school.id))


def test_a_new_school_can_be_chosen_for_a_teacher(supervisor, db, cempaka):
    admin_post(supervisor, "/admin/sekolah", {"name": "SD Negeri 2 Cempaka", "district_id": cempaka.id})
    assert "SD Negeri 2 Cempaka (Cempaka)" in supervisor.get("/admin/pengguna/baru").text


def test_it_explains_what_is_missing_and_keeps_what_was_typed(supervisor, db):
    response = admin_post(supervisor, "/admin/sekolah", {"name": "SD Negeri 2 Cempaka", "district_id": ""})
    assert response.status_code == 422
    assert "Pilih kecamatan tempat sekolah ini berada." in response.text
    assert 'value="SD Negeri 2 Cempaka"' in response.text
    response = admin_post(supervisor, "/admin/sekolah", {"name": " ", "district_id": "1"})
    assert response.status_code == 422
    assert "Tulis namanya." in response.text
    assert '<option value="1" selected>' in response.text
    assert not audit_entries(db, "admin.school_created")


def test_it_refuses_a_school_already_listed_in_that_district(supervisor, db):
    district = district_named(db, "Banjarbaru Utara")
    response = admin_post(supervisor, "/admin/sekolah", {"name": "smp negeri 1 banjarbaru", "district_id": district.id})
    assert response.status_code == 422
    assert "Sekolah dengan nama ini sudah ada di kecamatan itu." in response.text


def test_it_refuses_a_name_that_is_too_long(supervisor, cempaka):
    response = admin_post(supervisor, "/admin/sekolah", {"name": "S" * 121, "district_id": cempaka.id})
    assert response.status_code == 422
    assert "Nama paling banyak 120 karakter." in response.text


def test_a_school_cannot_be_added_to_a_deactivated_district(supervisor, db, cempaka):
    admin_post(supervisor, f"/admin/kecamatan/{cempaka.id}/nonaktifkan")
    assert f'<option value="{cempaka.id}"' not in supervisor.get("/admin/sekolah").text
    response = admin_post(supervisor, "/admin/sekolah", {"name": "SD Negeri 2 Cempaka", "district_id": cempaka.id})
    assert response.status_code == 422
    assert school_named(db, "SD Negeri 2 Cempaka") is None


# --- deactivating and reactivating -----------------------------------------------------------------------


def test_it_deactivates_and_reactivates_a_school_and_audits_both(supervisor, db):
    school = school_named(db, "SMK Negeri 1 Banjarbaru")
    response = admin_post(supervisor, f"/admin/sekolah/{school.id}/nonaktifkan")
    assert response.status_code == 303
    page = supervisor.get(response.headers["location"])
    assert "Sekolah sudah dinonaktifkan." in page.text
    assert f'action="/admin/sekolah/{school.id}/aktifkan"' in page.text
    assert not school_named(db, "SMK Negeri 1 Banjarbaru").active
    response = admin_post(supervisor, f"/admin/sekolah/{school.id}/aktifkan")
    assert "Sekolah sudah diaktifkan kembali." in supervisor.get(response.headers["location"]).text
    assert school_named(db, "SMK Negeri 1 Banjarbaru").active
    assert [e.object_id for e in audit_entries(db, "admin.school_deactivated")] == [str(school.id)]
    assert [e.object_id for e in audit_entries(db, "admin.school_reactivated")] == [str(school.id)]


def test_deactivating_twice_is_recorded_once(supervisor, db):
    school = school_named(db, "SMK Negeri 1 Banjarbaru")
    admin_post(supervisor, f"/admin/sekolah/{school.id}/nonaktifkan")
    admin_post(supervisor, f"/admin/sekolah/{school.id}/nonaktifkan")
    assert len(audit_entries(db, "admin.school_deactivated")) == 1


def test_each_button_says_which_school_it_is_for(supervisor):
    page = supervisor.get("/admin/sekolah")
    assert 'Nonaktifkan<span class="visually-hidden"> SMK Negeri 1 Banjarbaru</span>' in page.text
