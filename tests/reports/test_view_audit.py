"""Every page that shows a case's content leaves a view entry, also when it comes back refusing an action."""

from __future__ import annotations

from tests.support.reports import (
    audit_entries,
    case_post,
    district_named,
    fresh,
    make_report,
    submit_report,
    user_named,
)
from tests.support.web import post_form


def test_a_refused_case_action_that_shows_the_case_again_is_audited_as_a_view(app, db, as_user):
    report = make_report(app, db, district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    counselor = as_user("konselor")
    response = case_post(counselor, report.id, "triase", {"urgency": "", "categories": "bullying"})
    assert response.status_code == 422
    assert "Pilih tingkat urgensi." in response.text
    assert "Aku diejek terus di kelas" in response.text  # the case itself is on the page
    views = audit_entries(db, "report.viewed.staff", report.id)
    assert [v.actor_id for v in views] == [user_named(db, "konselor").id]


def test_a_refused_message_from_the_code_holder_is_audited_as_a_view(client, make_client, db):
    sent = submit_report(client)
    report_id = fresh(db, 1).id
    holder = make_client()
    post_form(holder, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek", follow_redirects=False)
    before = len(audit_entries(db, "report.viewed.code_holder", report_id))
    refused = post_form(holder, "/cek/laporan/pesan", {"message": "  "}, token_from="/cek")
    assert refused.status_code == 422
    assert "Pesan masih kosong." in refused.text
    assert len(audit_entries(db, "report.viewed.code_holder", report_id)) == before + 1


def test_a_refused_message_from_a_signed_in_reporter_is_audited_as_a_view(app, db, as_user):
    guru = user_named(db, "guru")
    report = make_report(app, db, user=guru, reporter_kind="teacher", how_learned="Dari murid.", child_knows="yes",
                         child_assent=None).report
    teacher = as_user("guru")
    refused = post_form(teacher, f"/laporan-saya/{report.id}/pesan", {"message": ""}, token_from="/")
    assert refused.status_code == 422
    assert "Pesan masih kosong." in refused.text
    assert [v.actor_id for v in audit_entries(db, "report.viewed.reporter", report.id)] == [guru.id]
