"""Who may open and act on a case, checked on every case route: the assigned counselor (owner), a counselor of
the same district team (colleague), a counselor of another team (stranger), a supervisor, reporters and
children, and someone signed out."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import Session

from server.accounts.models import Role, User
from server.reports import cases, simfoni_data
from tests.support.reports import (
    TEST_IP,
    add_person,
    audit_entries,
    district_named,
    events,
    fresh,
    make_report,
    referrals_of,
    user_named,
)
from tests.support.web import csrf_token, sign_in

ALLOWED = {"owner", "colleague", "supervisor"}


def a_sexual_violence_case_of_the_utara_team(app, db: Session) -> tuple[int, int]:
    """A Banjarbaru Utara case assigned to the demo konselor, with a police deadline and a referral."""
    report = make_report(app, db, categories=["sexual"], district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    konselor = user_named(db, "konselor")
    cases.assign(db, report, konselor, counselor_id=konselor.id, version=None, ip=TEST_IP)
    referral = cases.add_referral(db, report, konselor, agency_kind="health", agency_name="Puskesmas Banjarbaru",
                                    note="", ip=TEST_IP)
    db.commit()
    return report.id, referral.id


def case_routes(report_id: int, referral_id: int, actor: User | None, db: Session) -> list[tuple[str, str, dict[str, Any]]]:
    """Every case route with a form that would succeed for someone allowed to use it."""
    konselor = user_named(db, "konselor")
    assignee = actor.id if actor is not None and actor.role == Role.COUNSELOR else konselor.id
    return [
        ("GET", f"/kasus/{report_id}", {}),
        ("POST", f"/kasus/{report_id}/triase",
         {"urgency": "tinggi", "categories": ["sexual", "physical"],
          "district_id": district_named(db, "Banjarbaru Utara").id}),
        ("POST", f"/kasus/{report_id}/catatan", {"body": "Catatan kunjungan rumah."}),
        ("POST", f"/kasus/{report_id}/pesan", {"body": "Halo, kami sudah membaca laporanmu."}),
        ("POST", f"/kasus/{report_id}/polisi", {}),
        ("POST", f"/kasus/{report_id}/rujukan", {"agency_kind": "legal_aid", "agency_name": "LBH Banjarbaru"}),
        ("POST", f"/kasus/{report_id}/rujukan/{referral_id}", {"status": "accepted"}),
        ("POST", f"/kasus/{report_id}/status", {"to": "in_progress"}),
        ("POST", f"/kasus/{report_id}/tugaskan", {"counselor_id": assignee}),
        ("GET", f"/kasus/{report_id}/simfoni", {}),
        ("POST", f"/kasus/{report_id}/simfoni", {"incident_on": "2026-11-28", "victim_education": "sd"}),
        ("POST", f"/kasus/{report_id}/pelaku", {"perpetrator_sex": "laki_laki", "perpetrator_age_band": "25-44",
                                                "perpetrator_relationship": "tetangga"}),
        ("POST", f"/kasus/{report_id}/layanan", {"service_kind": "pengaduan", "service_given_on": "2026-11-30"}),
    ]


def call(client: TestClient, method: str, path: str, data: dict[str, Any]):
    if method == "GET":
        return client.get(path, follow_redirects=False)
    return client.post(path, data={"_csrf_token": csrf_token(client, "/"), **data}, follow_redirects=False)


def person(role: str, db: Session, as_user, make_client) -> tuple[TestClient, User | None]:
    if role == "signed_out":
        return make_client(), None
    username = {"owner": "konselor", "colleague": "konselor3", "stranger": "konselor2", "supervisor": "supervisor",
                "teacher": "guru", "parent": "orangtua", "child": "anak"}[role]
    if role == "colleague":
        add_person(db, "konselor3", Role.COUNSELOR, district="Banjarbaru Utara")
    return as_user(username), user_named(db, username)


@pytest.mark.parametrize("role", ["owner", "colleague", "supervisor"])
def test_the_owner_a_colleague_of_the_team_and_a_supervisor_may_use_every_case_route(
        role, app, db, as_user, make_client):
    report_id, referral_id = a_sexual_violence_case_of_the_utara_team(app, db)
    client, actor = person(role, db, as_user, make_client)
    for method, path, data in case_routes(report_id, referral_id, actor, db):
        response = call(client, method, path, data)
        expected = 200 if method == "GET" else 303
        assert response.status_code == expected, (role, path, response.status_code)
        if method == "POST":
            assert response.headers["location"].startswith(f"/kasus/{report_id}#")
    report = fresh(db, report_id)
    assert report.status == "in_progress"
    assert report.urgency == "tinggi"
    assert report.police_reported_at is not None
    assert [r.status for r in referrals_of(db, report_id)] == ["accepted", "sent"]
    assert report.assigned_to_id == (actor.id if role != "supervisor" else user_named(db, "konselor").id)
    assert {e.actor_id for e in events(db, report_id) if e.kind in ("triaged", "note", "message", "police", "status")} \
        == {actor.id}
    assert audit_entries(db, "report.viewed.staff", report_id)[-1].actor_id == actor.id
    assert report.victim_education == "sd"
    assert [p.relationship for p in simfoni_data.perpetrators_of(db, report_id)] == ["tetangga"]
    assert [s.kind for s in simfoni_data.services_of(db, report_id)] == ["pengaduan"]
    assert audit_entries(db, "report.viewed.simfoni", report_id)[-1].actor_id == actor.id


@pytest.mark.parametrize(("role", "expected"), [
    ("stranger", 404),
    ("teacher", 403),
    ("parent", 403),
    ("child", 403),
])
def test_a_counselor_of_another_team_gets_not_found_and_reporters_and_children_get_forbidden(
        role, expected, app, db, as_user, make_client):
    report_id, referral_id = a_sexual_violence_case_of_the_utara_team(app, db)
    client, actor = person(role, db, as_user, make_client)
    before = [(e.id, e.kind) for e in events(db, report_id)]
    version = fresh(db, report_id).version
    for method, path, data in case_routes(report_id, referral_id, actor, db):
        response = call(client, method, path, data)
        assert response.status_code == expected, (role, path, response.status_code)
        assert "Puskesmas Banjarbaru" not in response.text
    assert [(e.id, e.kind) for e in events(db, report_id)] == before
    report = fresh(db, report_id)
    assert report.version == version
    assert report.status == "assigned"
    assert report.police_reported_at is None
    assert [r.status for r in referrals_of(db, report_id)] == ["sent"]
    assert report.incident_on is None
    assert simfoni_data.perpetrators_of(db, report_id) == []
    assert simfoni_data.services_of(db, report_id) == []
    assert audit_entries(db, "report.viewed.staff", report_id) == []
    assert audit_entries(db, "report.viewed.simfoni", report_id) == []


def test_someone_signed_out_is_sent_to_sign_in_for_a_case_page_and_refused_for_every_action(
        app, db, make_client):
    report_id, referral_id = a_sexual_violence_case_of_the_utara_team(app, db)
    client = make_client()
    before = [e.id for e in events(db, report_id)]
    for method, path, data in case_routes(report_id, referral_id, None, db):
        response = call(client, method, path, data)
        if method == "GET":
            assert response.status_code == 303, path
            assert response.headers["location"] == f"/masuk?lanjut={path}"
        else:
            assert response.status_code in (401, 403), (path, response.status_code)
    assert [e.id for e in events(db, report_id)] == before
    assert fresh(db, report_id).status == "assigned"
    assert client.get("/kasus/", follow_redirects=False).headers["location"].startswith("/masuk?lanjut=/kasus")


@pytest.mark.parametrize("username", ["guru", "orangtua", "anak"])
def test_the_inbox_is_for_staff_only(username, as_user):
    assert as_user(username).get("/kasus/").status_code == 403


def test_a_report_with_no_district_is_every_counselors_until_it_is_assigned(app, db, as_user):
    report = make_report(app, db).report
    utara, cempaka, supervisor = as_user("konselor"), as_user("konselor2"), as_user("supervisor")
    assert utara.get(f"/kasus/{report.id}").status_code == 200
    assert cempaka.get(f"/kasus/{report.id}").status_code == 200
    assert f'href="/kasus/{report.id}"' in cempaka.get("/kasus/").text
    response = supervisor.post(f"/kasus/{report.id}/tugaskan", data={
        "_csrf_token": csrf_token(supervisor, "/"), "counselor_id": user_named(db, "konselor").id},
        follow_redirects=False)
    assert response.status_code == 303
    assert utara.get(f"/kasus/{report.id}").status_code == 200
    assert cempaka.get(f"/kasus/{report.id}").status_code == 404
    assert f'href="/kasus/{report.id}"' not in cempaka.get("/kasus/").text


def test_an_unassigned_case_in_a_teams_district_is_that_teams_and_not_found_for_another_team(
        app, db, as_user, make_client):
    """Only a report with no district yet is every counselor's; once it has a district, the team of that
    district handles it even before anyone is assigned, and a counselor of another team does not learn it is
    there."""
    report = make_report(app, db, child_words="Aku dipukul paman di rumah nenek.",
                         district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    supervisor = user_named(db, "supervisor")
    referral = cases.add_referral(db, fresh(db, report.id), supervisor, agency_kind="health",
                                    agency_name="Puskesmas Banjarbaru", note="", ip=TEST_IP)
    db.commit()
    report = fresh(db, report.id)
    assert report.assigned_to_id is None
    assert report.team_district_id == district_named(db, "Banjarbaru Utara").id

    team = as_user("konselor")
    page = team.get(f"/kasus/{report.id}")
    assert page.status_code == 200
    assert "Aku dipukul paman di rumah nenek." in page.text
    assert f'href="/kasus/{report.id}"' in team.get("/kasus/").text

    other_team, stranger = person("stranger", db, as_user, make_client)
    before = [(e.id, e.kind) for e in events(db, report.id)]
    for method, path, data in case_routes(report.id, referral.id, stranger, db):
        response = call(other_team, method, path, data)
        assert response.status_code == 404, (path, response.status_code)
        assert "Aku dipukul paman" not in response.text
        assert "Puskesmas Banjarbaru" not in response.text
    assert f'href="/kasus/{report.id}"' not in other_team.get("/kasus/").text
    assert [(e.id, e.kind) for e in events(db, report.id)] == before
    assert fresh(db, report.id).assigned_to_id is None
    assert [entry.actor_id for entry in audit_entries(db, "report.viewed.staff", report.id)] == [
        user_named(db, "konselor").id]


def test_a_counselor_may_handle_a_case_assigned_to_them_in_another_teams_district(app, db, as_user):
    report = make_report(app, db, district_id=str(district_named(db, "Cempaka").id)).report
    konselor = user_named(db, "konselor")
    report = fresh(db, report.id)
    report.assigned_to_id = konselor.id  # assigned while the case stays with the Cempaka team
    db.commit()
    assert as_user("konselor").get(f"/kasus/{report.id}").status_code == 200
    assert as_user("konselor2").get(f"/kasus/{report.id}").status_code == 200


def test_an_inactive_counselor_cannot_open_the_teams_cases(app, db, make_client):
    report = make_report(app, db, district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    client = sign_in(make_client(), "konselor")
    konselor = user_named(db, "konselor")
    konselor.active = False
    db.commit()
    refused = client.get(f"/kasus/{report.id}", follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/masuk?lanjut=/kasus/{report.id}"


def test_an_unknown_case_is_not_found(as_user):
    assert as_user("supervisor").get("/kasus/999999").status_code == 404
