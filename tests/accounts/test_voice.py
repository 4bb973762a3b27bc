"""The one decision between "kamu" and "Anda" (server/accounts/visitor.py)."""

from __future__ import annotations

import pytest

from server.accounts.models import Role, User
from server.accounts.visitor import ANDA, KAMU, Visitor, voice


def someone(role: Role) -> User:
    return User(username=str(role), display_name=str(role), password_hash="-", role=role)


@pytest.mark.parametrize(("role", "expected"), [
    (Role.CHILD, KAMU), (Role.PARENT, ANDA), (Role.TEACHER, ANDA), (Role.COUNSELOR, ANDA), (Role.SUPERVISOR, ANDA),
])
def test_a_signed_in_person_is_spoken_to_by_their_role(role, expected):
    assert voice(someone(role)) == expected
    assert Visitor(user=someone(role)).voice == expected
    # Whatever a report they hold says: the account is who reads.
    assert Visitor(user=someone(role), case_report_id=1, case_reporter_kind="friend").voice == expected


@pytest.mark.parametrize(("kind", "expected"), [
    ("child", KAMU), ("friend", KAMU), ("parent", ANDA), ("teacher", ANDA), ("other", ANDA),
])
def test_a_code_holder_or_reporter_is_spoken_to_by_what_they_said_they_are(kind, expected):
    assert voice(None, kind) == expected
    assert Visitor(case_report_id=1, case_reporter_kind=kind).voice == expected


def test_someone_nobody_knows_yet_reads_kamu():
    assert voice(None) == KAMU
    assert Visitor().voice == KAMU


def test_the_home_page_speaks_to_a_child_or_someone_unknown_as_kamu_and_to_an_adult_as_anda(client, as_user):
    for reader in (client, as_user("anak")):
        page = reader.get("/")
        assert page.status_code == 200
        assert "Ada yang mengganggu pikiranmu? Kamu tidak sendiri." in page.text
        assert "Anda tidak sendiri" not in page.text
        assert "Yang Anda ceritakan" not in page.text
    for username in ("orangtua", "guru", "konselor"):
        page = as_user(username).get("/")
        assert page.status_code == 200
        assert "Ada yang mengganggu pikiran Anda? Anda tidak sendiri." in page.text, username
        assert "Yang Anda ceritakan dijaga kerahasiaannya oleh konselor." in page.text
        assert "pikiranmu" not in page.text
        assert "kamu boleh tidak menyebut nama" not in page.text
        assert "Yang kamu ceritakan" not in page.text


def test_the_code_page_speaks_to_an_adult_account_as_anda(client, as_user):
    assert "Tulis kode laporan dan PIN yang kamu dapat waktu melapor." in client.get("/cek").text
    page = as_user("orangtua").get("/cek")
    assert page.status_code == 200
    assert "Tulis kode laporan dan PIN yang Anda dapat waktu melapor." in page.text
    assert "bahwa Anda pernah melapor" in page.text
    assert "kamu" not in page.text.lower().replace("kamus", "")


def test_a_refusal_speaks_to_a_child_as_kamu_and_to_a_parent_as_anda(as_user):
    child = as_user("anak").get("/admin")
    assert child.status_code == 403
    assert "Kamu tidak punya akses ke halaman ini" in child.text
    assert "Jika kamu merasa ini keliru" in child.text
    assert "Anda tidak punya akses" not in child.text
    assert "Jika Anda merasa" not in child.text
    parent = as_user("orangtua").get("/admin")
    assert parent.status_code == 403
    assert "Anda tidak punya akses ke halaman ini" in parent.text
    assert "Kamu tidak punya akses" not in parent.text


def test_the_account_page_speaks_to_a_child_as_kamu_and_to_a_parent_as_anda(as_user):
    child = as_user("anak").get("/akun")
    assert child.status_code == 200
    assert "Kalimat pendek yang mudah kamu ingat" in child.text
    assert "mudah Anda ingat" not in child.text
    parent = as_user("orangtua").get("/akun")
    assert parent.status_code == 200
    assert "Kalimat pendek yang mudah Anda ingat" in parent.text
    assert "mudah kamu ingat" not in parent.text
