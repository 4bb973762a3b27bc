import re

import pytest
from sqlalchemy import select

from server import audit
from server.admin import service
from server.models import AuditEntry
from tests.support.admin import PEOPLE_WHO_ARE_NOT_SUPERVISORS, admin_post, user_named

pytestmark = pytest.mark.both_databases  # the database itself is under test: SQLite and PostgreSQL


def _add_entries(db, count: int) -> list[int]:
    entries = [audit.record(db, "signin", actor_label=f"orang{n}", ip=f"10.0.0.{n}") for n in range(count)]
    db.commit()
    return [entry.id for entry in entries]


def test_it_shows_the_latest_entries_first_in_wita_with_actor_action_object_and_address(supervisor, db):
    guru = user_named(db, "guru")
    admin_post(supervisor, f"/admin/pengguna/{guru.id}/nonaktifkan")
    page = supervisor.get("/admin/audit")
    assert page.status_code == 200
    text = page.text
    assert text.index("Akun dinonaktifkan") < text.index("<td>Masuk</td>")
    row = re.search(
        r"<tr>\s*<td>([^<]*)<span[^>]*>IP ([^<]*)</span></td>\s*<td>supervisor</td>\s*<td>Akun dinonaktifkan(.*?)</tr>",
        text,
        re.S,
    )
    assert row, text
    assert row.group(1).endswith(" WITA")
    assert row.group(2) == "testclient"
    assert f'href="/admin/pengguna/{guru.id}">Pengguna #{guru.id}</a>' in row.group(3)
    assert 'class="table-wrap"' in text
    assert "<title>Log audit · Bintang Ceria</title>" in text


def test_it_names_an_action_it_does_not_know_by_its_code(supervisor, db):
    audit.record(db, "report.viewed", actor_label="konselor", object_type="report", object_id=7)
    db.commit()
    assert "<td>report.viewed<span" in supervisor.get("/admin/audit").text


def test_the_code_holder_is_named_one_way_old_entries_included(supervisor, db):
    """Entries for someone with a report's code were once labelled "anonymous"; the append-only table keeps them as
    written, and the page names both the code holder."""
    audit.record(db, "report.submitted", actor_label="anonymous", object_type="report", object_id=8)
    audit.record(db, "report.viewed.code_holder", actor_label=audit.CODE_HOLDER, object_type="report", object_id=8)
    db.commit()
    text = supervisor.get("/admin/audit").text
    assert text.count("<td>code-holder</td>") == 2
    assert "<td>anonymous</td>" not in text
    labels = set(db.execute(select(AuditEntry.actor_label).where(AuditEntry.object_id == "8")).scalars())
    assert labels == {"anonymous", "code-holder"}


def test_it_pages_back_in_time_by_id(supervisor, db, monkeypatch):
    monkeypatch.setattr(service, "PAGE_SIZE", 3)
    ids = _add_entries(db, 5)
    first = supervisor.get("/admin/audit").text
    assert "orang4" in first
    assert "orang2" in first
    assert "orang1" not in first
    older = re.search(r'href="(/admin/audit\?sebelum=\d+)"', first).group(1)
    assert older == f"/admin/audit?sebelum={ids[2]}"
    second = supervisor.get(older).text
    assert "orang1" in second
    assert "orang0" in second
    assert "orang2" not in second
    assert "Ke catatan terbaru" in second


def test_the_last_page_has_no_link_further_back(supervisor, db, monkeypatch):
    monkeypatch.setattr(service, "PAGE_SIZE", 1000)
    page = supervisor.get("/admin/audit").text
    assert "Catatan yang lebih lama" not in page
    oldest = db.execute(select(AuditEntry.id).order_by(AuditEntry.id).limit(1)).scalar_one()
    assert supervisor.get(f"/admin/audit?sebelum={oldest}").text.count("<tr>") == 0


def test_it_is_read_only(supervisor, db):
    before = len(db.execute(select(AuditEntry.id)).all())
    assert admin_post(supervisor, "/admin/audit", {}).status_code == 405
    db.expire_all()
    assert len(db.execute(select(AuditEntry.id)).all()) == before


@pytest.mark.parametrize("username", PEOPLE_WHO_ARE_NOT_SUPERVISORS)
def test_it_refuses_teachers_and_counselors(as_user, username):
    assert as_user(username).get("/admin/audit").status_code == 403


def test_it_sends_a_signed_out_visitor_to_sign_in(client):
    response = client.get("/admin/audit", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/admin/audit"

