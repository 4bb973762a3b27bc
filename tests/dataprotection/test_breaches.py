"""The breach register: supervisors record an incident with the 3×24 hour clock from when it was found, the audit
log lists what a chosen account read in a window (the cases and their reporters), notices are drafted with what
Art. 46 asks, and the clock stops when both are marked sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.dataprotection.models import Breach
from tests.support.dataprotection import NOT_SUPERVISORS, audit_entries, form_post, user_named
from tests.support.reports import make_report

# The pinned clock is Tuesday 1 December 2026, 09.17 WITA.
FORM = {"found_at": "2026-12-01T09:00", "systems": "Akun konselor", "data_kinds": "Cerita anak, nomor telepon",
        "how": "Kata sandi konselor dipakai orang lain dari warnet.", "affected": "", "measures":
        "Akun dinonaktifkan dan kata sandi diganti.", "account": "konselor", "window_start": "2026-12-01T08:00",
        "window_end": "2026-12-01T10:00"}


def _breaches(db) -> list[Breach]:
    db.expire_all()
    return list(db.execute(select(Breach).order_by(Breach.id)).scalars())


def test_a_breach_is_recorded_with_its_clock_and_the_evidence_of_the_audit_log(app, db, as_user):
    report = make_report(app, db).report
    assert as_user("konselor").get(f"/kasus/{report.id}").status_code == 200
    supervisor = as_user("supervisor")
    assert supervisor.get("/perlindungan-data/insiden/baru").status_code == 200
    response = form_post(supervisor, "/perlindungan-data/insiden/baru", FORM)
    assert response.status_code == 303
    [breach] = _breaches(db)
    assert breach.found_at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert breach.due_at - breach.found_at == timedelta(hours=72)
    assert breach.account_id == user_named(db, "konselor").id
    assert len(audit_entries(db, "dataprotection.breach_recorded")) == 1
    page = supervisor.get(response.headers["location"])
    assert page.status_code == 200
    assert 'data-clock="berjalan"' in page.text
    assert f'<a href="/kasus/{report.id}">Kasus #{report.id}</a>' in page.text
    assert "pemegang kode (lewat /cek)" in page.text
    assert "report.viewed.staff" in page.text
    assert "Data apa: Cerita anak, nomor telepon." in page.text
    assert "Pasal 46" in page.text
    assert "kasus yang terbaca menurut log audit: 1" in page.text


def test_the_clock_stops_when_both_notices_are_marked_sent(db, as_user, pinned_clock):
    supervisor = as_user("supervisor")
    form_post(supervisor, "/perlindungan-data/insiden/baru", {**FORM, "account": "", "window_start": "",
                                                              "window_end": ""})
    [breach] = _breaches(db)
    pinned_clock.shift(timedelta(hours=80))
    supervisor = as_user("supervisor")
    assert 'data-clock="lewat"' in supervisor.get("/perlindungan-data/insiden").text
    for whom in ("people", "authority"):
        response = form_post(supervisor, f"/perlindungan-data/insiden/{breach.id}/diberitahukan", {"whom": whom})
        assert response.status_code == 303
    [breach] = _breaches(db)
    assert breach.people_notified_at is not None
    assert breach.authority_notified_at is not None
    assert "Selesai" in supervisor.get("/perlindungan-data/insiden").text
    assert len(audit_entries(db, "dataprotection.breach_notified")) == 2


def test_a_wrong_form_comes_back_with_indonesian_errors_and_what_was_typed(db, as_user):
    response = form_post(as_user("supervisor"), "/perlindungan-data/insiden/baru",
                         {**FORM, "found_at": "2026-12-09T09:00", "data_kinds": "", "account": "siapa",
                          "window_end": "2026-12-01T07:00"})
    assert response.status_code == 422
    assert "Waktu diketahui tidak boleh di masa depan." in response.text
    assert "Tulis jenis data yang bocor" in response.text
    assert "Tidak ada akun dengan nama pengguna ini." in response.text
    assert "Akhir rentang harus sesudah awalnya." in response.text
    assert 'value="Akun konselor"' in response.text
    assert "dari warnet.</textarea>" in response.text
    assert _breaches(db) == []


def test_a_change_is_saved_and_audited(db, as_user):
    supervisor = as_user("supervisor")
    form_post(supervisor, "/perlindungan-data/insiden/baru", FORM)
    [breach] = _breaches(db)
    assert 'value="2026-12-01T09:00"' in supervisor.get(f"/perlindungan-data/insiden/{breach.id}/ubah").text
    response = form_post(supervisor, f"/perlindungan-data/insiden/{breach.id}/ubah",
                         {**FORM, "affected": "Tiga pelapor kasus di Cempaka."})
    assert response.status_code == 303
    assert _breaches(db)[0].affected == "Tiga pelapor kasus di Cempaka."
    assert len(audit_entries(db, "dataprotection.breach_changed")) == 1


@pytest.mark.parametrize("who", NOT_SUPERVISORS)
def test_only_supervisors_see_or_fill_the_register(db, as_user, who):
    supervisor = as_user("supervisor")
    form_post(supervisor, "/perlindungan-data/insiden/baru", FORM)
    [breach] = _breaches(db)
    client = as_user(who)
    for path in ("/perlindungan-data/insiden", "/perlindungan-data/insiden/baru",
                 f"/perlindungan-data/insiden/{breach.id}", f"/perlindungan-data/insiden/{breach.id}/ubah"):
        assert client.get(path).status_code == 403, path
    assert form_post(client, "/perlindungan-data/insiden/baru", FORM).status_code == 403
    assert form_post(client, f"/perlindungan-data/insiden/{breach.id}/diberitahukan",
                     {"whom": "people"}).status_code == 403
    assert len(_breaches(db)) == 1
    assert _breaches(db)[0].people_notified_at is None


def test_the_forms_need_their_csrf_token(db, as_user):
    supervisor = as_user("supervisor")
    assert supervisor.post("/perlindungan-data/insiden/baru", data=FORM, follow_redirects=False).status_code == 403
    assert _breaches(db) == []
