import re

import pytest
from sqlalchemy import select

from server.accounts import demo
from server.accounts import service as accounts
from server.accounts.models import Guardianship, WebSession
from server.admin import service
from tests.support.admin import (
    PEOPLE_WHO_ARE_NOT_SUPERVISORS,
    admin_post,
    audit_entries,
    district_named,
    school_named,
    user_named,
)
from tests.support.web import post_form, sign_in

NEW_TEACHER = {
    "display_name": "Guru BK Andi",
    "username": "andi.guru",
    "role": "teacher",
    "school_id": "1",
    "district_id": "",
    "password": "pelangi sore di taman",
}
CHILD = {"nickname": "Rara", "birth_year": "2015", "school_id": "1", "relation": "ayah"}

PAGES = ["/admin/pengguna", "/admin/pengguna?peran=teacher", "/admin/pengguna/baru", "/admin/pengguna/5"]
FORMS = [
    ("/admin/pengguna/baru", NEW_TEACHER),
    ("/admin/pengguna/5/nonaktifkan", {}),
    ("/admin/pengguna/5/aktifkan", {}),
    ("/admin/pengguna/5/anak", CHILD),
]


@pytest.fixture
def school_id(db):
    """`school_id("SMP Negeri 1 Banjarbaru")`: the id of a demo school."""
    return lambda name: school_named(db, name).id


@pytest.fixture
def teacher_form(school_id):
    """NEW_TEACHER at a demo school, with any field changed."""

    def form(school: str = "SMP Negeri 1 Banjarbaru", **changes: str) -> dict[str, str]:
        return {**NEW_TEACHER, "school_id": str(school_id(school)), **changes}

    return form


# --- who may ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_it_shows_every_page_to_a_supervisor(supervisor, path):
    assert supervisor.get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("username", PEOPLE_WHO_ARE_NOT_SUPERVISORS)
def test_it_refuses_every_page_to_teachers_and_counselors(as_user, username, path):
    assert as_user(username).get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_it_sends_a_signed_out_visitor_to_sign_in(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/masuk?lanjut=/admin/pengguna")


@pytest.mark.parametrize(("path", "data"), FORMS)
@pytest.mark.parametrize("username", PEOPLE_WHO_ARE_NOT_SUPERVISORS)
def test_it_refuses_every_change_from_teachers_and_counselors(as_user, db, username, path, data):
    response = admin_post(as_user(username), path, data)
    assert response.status_code == 403
    assert user_named(db, "andi.guru") is None
    assert user_named(db, "orangtua").active
    assert not [e for e in audit_entries(db, "admin.child_linked")]


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_it_refuses_every_change_from_a_signed_out_visitor(client, db, path, data):
    response = admin_post(client, path, data)
    assert response.status_code == 401
    assert user_named(db, "andi.guru") is None
    assert user_named(db, "orangtua").active


def test_it_answers_404_for_someone_who_does_not_exist(supervisor):
    assert supervisor.get("/admin/pengguna/9999").status_code == 404
    assert admin_post(supervisor, "/admin/pengguna/9999/nonaktifkan").status_code == 404


# --- the list --------------------------------------------------------------------------------------------


def test_it_lists_people_with_their_role_place_and_status(supervisor):
    response = supervisor.get("/admin/pengguna")
    assert "Guru BK Sari" in response.text
    assert "SMP Negeri 1 Banjarbaru" in response.text
    assert "Konselor Rina" in response.text
    assert 'class="table-wrap"' in response.text
    assert "<title>Pengguna · Bintang Ceria</title>" in response.text


def test_it_filters_the_list_by_role(supervisor):
    response = supervisor.get("/admin/pengguna?peran=counselor")
    assert "Konselor Rina" in response.text
    assert "Konselor Budi" in response.text
    assert "Guru BK Sari" not in response.text
    assert re.search(r'<option value="counselor" selected>', response.text)


def test_it_ignores_a_role_that_does_not_exist(supervisor):
    response = supervisor.get("/admin/pengguna?peran=raja")
    assert response.status_code == 200
    assert "Guru BK Sari" in response.text


def test_it_updates_only_the_list_for_htmx_and_keeps_the_address_shareable(supervisor):
    page = supervisor.get("/admin/pengguna")
    assert 'hx-get="/admin/pengguna"' in page.text
    assert 'hx-push-url="true"' in page.text
    fragment = supervisor.get("/admin/pengguna?peran=teacher", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="daftar-pengguna"')
    assert "<html" not in fragment.text
    assert "Guru BK Sari" in fragment.text
    assert "Konselor Rina" not in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    full = supervisor.get("/admin/pengguna?peran=teacher")
    assert "<html" in full.text
    assert "Guru BK Sari" in full.text


def test_it_pages_through_people_by_id(supervisor, monkeypatch):
    monkeypatch.setattr(service, "PAGE_SIZE", 2)
    first = supervisor.get("/admin/pengguna")
    assert "Supervisor Dinas" in first.text
    assert "Konselor Rina" in first.text
    assert "Konselor Budi" not in first.text
    next_link = re.search(r'href="(/admin/pengguna\?setelah=\d+)"', first.text).group(1)
    second = supervisor.get(next_link)
    assert "Konselor Budi" in second.text
    assert "Guru BK Sari" in second.text
    assert "Supervisor Dinas" not in second.text
    assert "Ke halaman pertama" in second.text
    fragment = supervisor.get(next_link, headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="daftar-pengguna"')
    assert "Konselor Budi" in fragment.text
    third = supervisor.get(re.search(r'href="(/admin/pengguna\?setelah=\d+)"', second.text).group(1))
    assert "Ibu Wati" in third.text
    assert "Dimas" in third.text
    assert "Halaman berikutnya" not in third.text


def test_it_keeps_the_role_filter_when_paging(supervisor, monkeypatch):
    monkeypatch.setattr(service, "PAGE_SIZE", 1)
    first = supervisor.get("/admin/pengguna?peran=counselor")
    assert "Konselor Rina" in first.text
    assert "Konselor Budi" not in first.text
    next_link = re.search(r'href="(/admin/pengguna\?peran=counselor&amp;setelah=\d+)"', first.text).group(1)
    second = supervisor.get(next_link.replace("&amp;", "&"))
    assert "Konselor Budi" in second.text
    assert "Konselor Rina" not in second.text


# --- creating people -------------------------------------------------------------------------------------


def test_it_creates_a_teacher_who_can_then_sign_in(supervisor, db, make_client, teacher_form, school_id):
    response = admin_post(supervisor, "/admin/pengguna/baru", teacher_form())
    assert response.status_code == 303
    created = user_named(db, "andi.guru")
    assert response.headers["location"] == f"/admin/pengguna/{created.id}?pesan=pengguna-dibuat"
    assert created.role == "teacher"
    assert created.school_id == school_id("SMP Negeri 1 Banjarbaru")
    assert created.display_name == "Guru BK Andi"
    confirmation = supervisor.get(response.headers["location"])
    assert "Akun sudah dibuat." in confirmation.text
    sign_in(make_client(), "andi.guru", NEW_TEACHER["password"])


def test_it_creates_a_counselor_in_a_district_team(supervisor, db, teacher_form):
    district = district_named(db, "Cempaka")
    form = teacher_form(username="konselor.dewi", display_name="Konselor Dewi", role="counselor", school_id="",
                     district_id=str(district.id))
    assert admin_post(supervisor, "/admin/pengguna/baru", form).status_code == 303
    assert user_named(db, "konselor.dewi").district_id == district.id


def test_it_audits_a_new_account_without_its_password(supervisor, db, teacher_form):
    admin_post(supervisor, "/admin/pengguna/baru", teacher_form())
    [entry] = audit_entries(db, "admin.user_created")
    assert entry.actor_id == user_named(db, "supervisor").id
    assert entry.actor_label == "supervisor"
    assert (entry.object_type, entry.object_id) == ("user", str(user_named(db, "andi.guru").id))
    assert entry.ip
    assert NEW_TEACHER["password"] not in entry.detail


def test_it_explains_each_problem_next_to_its_field_and_keeps_what_was_typed(supervisor, db):
    form = {"display_name": "Guru Baru", "username": "X", "role": "teacher", "school_id": "", "district_id": "",
            "password": "qz7kx"}
    response = admin_post(supervisor, "/admin/pengguna/baru", form)
    assert response.status_code == 422
    assert "Nama pengguna 3–60 karakter" in response.text
    assert "Guru harus terdaftar di sebuah sekolah. Pilih sekolahnya." in response.text
    assert "Kata sandi minimal 10 karakter." in response.text
    assert 'value="Guru Baru"' in response.text
    assert '<option value="teacher" selected>' in response.text
    assert 'href="#field-username"' in response.text
    assert 'id="error-password"' in response.text
    assert "qz7kx" not in response.text
    assert not audit_entries(db, "admin.user_created")


def test_the_error_summary_follows_the_order_of_the_form(supervisor, teacher_form):
    response = admin_post(supervisor, "/admin/pengguna/baru", teacher_form(username="X", display_name="", password="x"))
    assert re.findall(r'<a href="#field-(\w+)">', response.text) == ["display_name", "username", "password"]


def test_it_never_sends_a_typed_password_back(supervisor, teacher_form):
    response = admin_post(supervisor, "/admin/pengguna/baru", teacher_form(display_name=""))
    assert response.status_code == 422
    assert "Tulis nama yang ditampilkan." in response.text
    assert NEW_TEACHER["password"] not in response.text
    assert 'value="andi.guru"' in response.text


def test_it_refuses_a_common_password(supervisor, db, teacher_form):
    response = admin_post(supervisor, "/admin/pengguna/baru", teacher_form(password="password123"))
    assert response.status_code == 422
    assert "Kata sandi ini terlalu umum" in response.text
    assert user_named(db, "andi.guru") is None


def test_it_refuses_a_name_already_taken(supervisor, teacher_form):
    response = admin_post(supervisor, "/admin/pengguna/baru", teacher_form(username="Guru"))
    assert response.status_code == 422
    assert "Nama pengguna ini sudah dipakai." in response.text


def test_it_requires_a_district_team_for_a_counselor(supervisor, teacher_form):
    response = admin_post(supervisor, "/admin/pengguna/baru", teacher_form(role="counselor", school_id=""))
    assert response.status_code == 422
    assert "Konselor harus masuk tim sebuah kecamatan." in response.text


def test_it_refuses_a_supervisor_in_a_district_that_does_not_exist(supervisor, db, teacher_form):
    form = teacher_form(username="sup.baru", role="supervisor", school_id="", district_id="9999")
    response = admin_post(supervisor, "/admin/pengguna/baru", form)
    assert response.status_code == 422
    assert "Pilih kecamatan yang masih aktif, atau kosongkan." in response.text
    assert user_named(db, "sup.baru") is None


def test_a_deactivated_school_cannot_be_chosen_for_a_new_teacher(supervisor, db, teacher_form, school_id):
    school_id = school_id("SMA Negeri 1 Banjarbaru")
    assert admin_post(supervisor, f"/admin/sekolah/{school_id}/nonaktifkan").status_code == 303
    form_page = supervisor.get("/admin/pengguna/baru")
    assert "SMA Negeri 1 Banjarbaru" not in form_page.text
    assert "SMP Negeri 1 Banjarbaru" in form_page.text
    response = admin_post(supervisor, "/admin/pengguna/baru", teacher_form("SMA Negeri 1 Banjarbaru"))
    assert response.status_code == 422
    assert "Guru harus terdaftar di sebuah sekolah. Pilih sekolahnya." in response.text
    assert user_named(db, "andi.guru") is None


# --- deactivating and reactivating -----------------------------------------------------------------------


def test_deactivating_someone_ends_their_sessions_and_stops_their_sign_in(supervisor, as_user, db, make_client):
    teacher = as_user("guru")
    assert teacher.get("/akun").status_code == 200
    guru = user_named(db, "guru")
    response = admin_post(supervisor, f"/admin/pengguna/{guru.id}/nonaktifkan")
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/pengguna/{guru.id}?pesan=dinonaktifkan"
    assert "Akun sudah dinonaktifkan." in supervisor.get(response.headers["location"]).text
    assert not user_named(db, "guru").active
    assert not db.execute(select(WebSession).where(WebSession.user_id == guru.id)).first()
    still_open = teacher.get("/akun", follow_redirects=False)
    assert still_open.status_code == 303
    assert still_open.headers["location"].startswith("/masuk")
    again = post_form(make_client(), "/masuk", {"username": "guru", "password": demo.DEMO_PASSWORD})
    assert again.status_code == 422
    assert "Nama pengguna atau kata sandi salah." in again.text


def test_it_audits_a_deactivation_once(supervisor, db):
    guru = user_named(db, "guru")
    admin_post(supervisor, f"/admin/pengguna/{guru.id}/nonaktifkan")
    admin_post(supervisor, f"/admin/pengguna/{guru.id}/nonaktifkan")
    [entry] = audit_entries(db, "admin.user_deactivated")
    assert (entry.actor_label, entry.object_type, entry.object_id) == ("supervisor", "user", str(guru.id))


def test_a_reactivated_person_can_sign_in_again(supervisor, db, make_client):
    guru = user_named(db, "guru")
    admin_post(supervisor, f"/admin/pengguna/{guru.id}/nonaktifkan")
    response = admin_post(supervisor, f"/admin/pengguna/{guru.id}/aktifkan")
    assert response.status_code == 303
    assert "Akun sudah diaktifkan kembali." in supervisor.get(response.headers["location"]).text
    assert user_named(db, "guru").active
    sign_in(make_client(), "guru")
    [entry] = audit_entries(db, "admin.user_reactivated")
    assert entry.object_id == str(guru.id)


def test_a_supervisor_cannot_deactivate_themselves(supervisor, db):
    me = user_named(db, "supervisor")
    page = supervisor.get(f"/admin/pengguna/{me.id}")
    assert f"/admin/pengguna/{me.id}/nonaktifkan" not in page.text
    response = admin_post(supervisor, f"/admin/pengguna/{me.id}/nonaktifkan")
    assert response.status_code == 422
    assert "Anda tidak bisa menonaktifkan akun Anda sendiri." in response.text
    assert user_named(db, "supervisor").active
    assert supervisor.get("/admin").status_code == 200
    assert not audit_entries(db, "admin.user_deactivated")


# --- children of a parent --------------------------------------------------------------------------------


def test_it_links_a_child_to_a_parent(supervisor, db, school_id):
    parent = user_named(db, "orangtua")
    cempaka = str(school_id("SD Negeri 1 Cempaka"))
    response = admin_post(supervisor, f"/admin/pengguna/{parent.id}/anak", {**CHILD, "school_id": cempaka})
    assert response.status_code == 303
    page = supervisor.get(response.headers["location"])
    assert "Anak sudah dihubungkan dengan akun ini." in page.text
    assert "Rara (lahir 2015)" in page.text
    rara = next(child for child in accounts.children_of(db, parent.id) if child.nickname == "Rara")
    assert (rara.birth_year, rara.school_id) == (2015, school_id("SD Negeri 1 Cempaka"))
    guardianship = db.execute(select(Guardianship).where(Guardianship.child_id == rara.id)).scalar_one()
    assert (guardianship.parent_id, guardianship.relation) == (parent.id, "ayah")
    [entry] = audit_entries(db, "admin.child_linked")
    assert (entry.object_type, entry.object_id) == ("child", str(rara.id))
    assert "Rara" not in entry.detail


def test_a_child_may_have_no_school(supervisor, db):
    parent = user_named(db, "orangtua")
    response = admin_post(supervisor, f"/admin/pengguna/{parent.id}/anak", {**CHILD, "school_id": ""})
    assert response.status_code == 303
    assert any(c.nickname == "Rara" and c.school_id is None for c in accounts.children_of(db, parent.id))


def test_it_explains_problems_with_a_child_and_keeps_what_was_typed(supervisor, db):
    parent = user_named(db, "orangtua")
    response = admin_post(
        supervisor, f"/admin/pengguna/{parent.id}/anak", {"nickname": "Rara", "birth_year": "1990", "relation": ""}
    )
    assert response.status_code == 422
    assert "Tulis tahun lahir dengan 4 angka" in response.text
    assert "Pilih hubungan orang tua atau wali dengan anak." in response.text
    assert 'value="Rara"' in response.text
    assert 'value="1990"' in response.text
    response = admin_post(supervisor, f"/admin/pengguna/{parent.id}/anak", {**CHILD, "nickname": " "})
    assert response.status_code == 422
    assert "Tulis nama panggilan anak." in response.text
    assert not audit_entries(db, "admin.child_linked")


def test_a_child_cannot_be_placed_in_a_deactivated_school(supervisor, db, school_id):
    parent = user_named(db, "orangtua")
    school_id = school_id("SD Negeri 1 Cempaka")
    admin_post(supervisor, f"/admin/sekolah/{school_id}/nonaktifkan")
    response = admin_post(supervisor, f"/admin/pengguna/{parent.id}/anak", {**CHILD, "school_id": str(school_id)})
    assert response.status_code == 422
    assert "Pilih sekolah dari daftar" in response.text


def test_only_a_parent_can_have_a_child_linked(supervisor, db):
    guru = user_named(db, "guru")
    assert "Hubungkan anak" not in supervisor.get(f"/admin/pengguna/{guru.id}").text
    response = admin_post(supervisor, f"/admin/pengguna/{guru.id}/anak", CHILD)
    assert response.status_code == 422
    assert "Anak hanya bisa dihubungkan dengan akun orang tua atau wali." in response.text
    assert not audit_entries(db, "admin.child_linked")
