"""The child's voice: after a session recorded as attended, the one who booked it rates it once (a face, safe to
talk, optional words) at /penilaian/N. The rating is kept without anything leading back to the appointment or the
person; counselors never see it, supervisors see totals per month and service type at /admin/suara-anak."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from server.aftercare.models import SessionRating, SessionRatingGiven
from server.appointments import service as appointments
from server.i18n import WITA
from tests.appointments.test_pages_support import appointment_for, counseling, fresh, person
from tests.conftest import post_form

WORDS = "Kakak konselornya sabar, aku jadi berani cerita soal Pak Joko."


def attended(db, username: str = "orangtua", *, recorded: bool = True):
    appointment = appointment_for(db, counseling(db), username=username, started=True)
    if recorded:
        appointments.record_attendance(db, appointment, person(db, "konselor"), attended=True,
                                       version=appointment.version)
        db.commit()
    return fresh(db, appointment.id)


def rate(client, appointment_id: int, data: dict):
    return post_form(client, f"/penilaian/{appointment_id}", data, token_from="/", follow_redirects=False)


def ratings(db) -> list[SessionRating]:
    db.expire_all()
    return list(db.execute(select(SessionRating)).scalars())


def test_the_parent_rates_an_attended_session_once_and_it_is_kept_without_a_link(as_user, db):
    appointment = attended(db)
    parent = as_user("orangtua")
    page = parent.get(f"/penilaian/{appointment.id}")
    assert page.status_code == 200 and "Apakah aman untuk bercerita?" in page.text
    assert "konselor tidak tahu siapa yang menilai" in page.text
    assert f'href="/penilaian/{appointment.id}"' in parent.get(f"/konseling/{appointment.id}").text

    response = rate(parent, appointment.id, {"face": "baik", "safe": "yes", "words": WORDS})
    assert response.status_code == 200 and "Penilaian Anda sudah kami terima, tanpa nama." in response.text
    [rating] = ratings(db)
    assert (rating.month, rating.service_type_id, rating.face, rating.safe_to_talk, rating.words) == (
        appointment.starts_at.astimezone(WITA).strftime("%Y-%m"), appointment.service_type_id, "baik", True, WORDS)
    assert db.get(SessionRatingGiven, appointment.id) is not None

    again = rate(parent, appointment.id, {"face": "tidak_baik", "safe": "no"})
    assert again.status_code == 409 and "Sesi ini sudah dinilai." in again.text
    assert len(ratings(db)) == 1


def test_the_rating_table_has_nothing_that_leads_to_a_person_an_appointment_or_a_time(engine):
    columns = {c["name"] for c in inspect(engine).get_columns("session_rating")}
    assert columns == {"id", "month", "service_type_id", "face", "safe_to_talk", "words"}
    assert {c["name"] for c in inspect(engine).get_columns("session_rating_given")} == {"appointment_id"}


def test_a_rating_without_its_answers_comes_back_with_the_words_kept(as_user, db):
    appointment = attended(db)
    response = rate(as_user("orangtua"), appointment.id, {"words": "Ruangannya dingin."})
    assert response.status_code == 422
    assert "Pilih salah satu wajah: baik, biasa saja, atau tidak baik." in response.text
    assert "Jawab dulu: apakah aman untuk bercerita?" in response.text
    assert ">Ruangannya dingin.</textarea>" in response.text
    assert ratings(db) == []


def test_a_session_not_recorded_as_attended_cannot_be_rated_yet(as_user, db):
    appointment = attended(db, recorded=False)
    parent = as_user("orangtua")
    assert "Sesi ini bisa dinilai setelah Anda hadir." in parent.get(f"/penilaian/{appointment.id}").text
    assert rate(parent, appointment.id, {"face": "baik", "safe": "yes"}).status_code == 409
    assert ratings(db) == []


@pytest.mark.parametrize("username", ["konselor", "konselor2", "guru", "supervisor"])
def test_nobody_else_may_rate_it(username, as_user, db):
    appointment = attended(db)
    other = as_user(username)
    assert other.get(f"/penilaian/{appointment.id}").status_code == 404
    assert rate(other, appointment.id, {"face": "tidak_baik", "safe": "no"}).status_code == 404
    assert ratings(db) == [] and db.execute(select(func.count()).select_from(SessionRatingGiven)).scalar_one() == 0


def test_the_counselors_pages_never_show_the_rating_and_supervisors_see_totals(as_user, db):
    appointment = attended(db)
    assert rate(as_user("orangtua"), appointment.id, {"face": "tidak_baik", "safe": "no", "words": WORDS}) \
        .status_code == 200
    counselor = as_user("konselor")
    for path in (f"/jadwal/{appointment.id}", "/jadwal", "/kasus/", "/kasus/pemantauan/", "/notifikasi"):
        page = counselor.get(path)
        assert page.status_code == 200, path
        assert "Pak Joko" not in page.text and "Tidak aman" not in page.text, path
    assert counselor.get("/admin/suara-anak/").status_code == 403

    totals = as_user("supervisor").get("/admin/suara-anak/")
    assert totals.status_code == 200
    month = appointment.starts_at.astimezone(WITA).strftime("%Y-%m")
    assert (f'<tr data-month="{month}"><td>{month}</td><td>Konseling individu</td><td>1</td>\n'
            "    <td>0</td><td>0</td><td>1</td>\n    <td>0</td><td>1</td></tr>") in totals.text
    assert WORDS in totals.text
    assert person(db, "orangtua").display_name not in totals.text
    assert person(db, "konselor").display_name not in totals.text
