"""The child's voice: after a session recorded as attended, the one who booked it rates it once (a face, safe to
talk, optional words) at /penilaian/N. The rating is kept without anything leading back to the appointment or the
person; counselors never see it, supervisors see totals per month and service type at /admin/suara-anak."""

from __future__ import annotations

import random
import secrets

import pytest
from sqlalchemy import func, inspect, select, text
from sqlmodel import Session

from server import migrate
from server.aftercare import service
from server.aftercare.models import SessionRating, SessionRatingGiven, SessionRatingPending
from server.aftercare.service import SEALED_LENGTH, release_ratings
from server.i18n import LOCAL
from server.worker import purge
from tests.support.aftercare import attended, rate
from tests.support.appointments import counseling, person
from tests.support.reports import audit_entries

WORDS = "Kakak konselornya sabar, aku jadi berani cerita soal Pak Joko."


def attended_sessions(db, n: int) -> list:
    """`n` sessions of one service type in one month, all attended."""
    service_type = counseling(db)
    sessions = [attended(db, service_type=service_type) for _n in range(n)]
    assert len({(s.starts_at.astimezone(LOCAL).month, s.service_type_id) for s in sessions}) == 1
    return sessions


def pending(db) -> list[SessionRatingPending]:
    db.expire_all()
    return list(db.execute(select(SessionRatingPending)).scalars())


def ratings(db) -> list[SessionRating]:
    db.expire_all()
    return list(db.execute(select(SessionRating)).scalars())


def test_the_parent_rates_an_attended_session_once_and_it_is_kept_without_a_link(as_user, db):
    appointment = attended(db)
    parent = as_user("orangtua")
    page = parent.get(f"/penilaian/{appointment.id}")
    assert page.status_code == 200
    assert "Apakah aman untuk bercerita?" in page.text
    assert "konselor tidak tahu siapa yang menilai" in page.text
    assert f'href="/penilaian/{appointment.id}"' in parent.get(f"/konseling/{appointment.id}").text

    response = rate(parent, appointment.id, {"face": "baik", "safe": "yes", "words": WORDS})
    assert response.status_code == 200
    assert "Penilaian Anda sudah kami terima, tanpa nama." in response.text
    assert db.get(SessionRatingGiven, appointment.id) is not None
    [waiting] = pending(db)
    assert len(waiting.sealed) == 12 + SEALED_LENGTH + 16  # nonce, the padded answer, the tag: one length for all
    assert ratings(db) == []

    again = rate(parent, appointment.id, {"face": "tidak_baik", "safe": "no"})
    assert again.status_code == 409
    assert "Sesi ini sudah dinilai." in again.text
    assert len(pending(db)) == 1


def test_a_group_is_released_once_five_wait_with_the_month_and_service_type_only(as_user, db, settings):
    parent = as_user("orangtua")
    sessions = attended_sessions(db, 5)
    for n, appointment in enumerate(sessions[:4]):
        assert rate(parent, appointment.id, {"face": "baik", "safe": "yes", "words": f"{WORDS} {n}"}).status_code == 200
    assert release_ratings(db, settings.secret_key) == 0
    assert len(pending(db)) == 4
    assert ratings(db) == []
    assert rate(parent, sessions[4].id, {"face": "biasa", "safe": "no"}).status_code == 200
    assert release_ratings(db, settings.secret_key) == 5
    db.commit()
    assert pending(db) == []
    month = sessions[0].starts_at.astimezone(LOCAL).strftime("%Y-%m")
    assert sorted((r.month, r.service_type_id, r.face, r.safe_to_talk, r.words) for r in ratings(db)) == sorted(
        [(month, sessions[0].service_type_id, "baik", True, f"{WORDS} {n}") for n in range(4)]
        + [(month, sessions[0].service_type_id, "biasa", False, "")])


def test_ratings_sealed_under_another_secret_key_are_left_waiting(as_user, db, settings):
    parent = as_user("orangtua")
    for appointment in attended_sessions(db, 5):
        assert rate(parent, appointment.id, {"face": "baik", "safe": "yes"}).status_code == 200
    assert release_ratings(db, "another-secret-key-of-at-least-32-characters") == 0
    assert len(pending(db)) == 5
    assert ratings(db) == []


def test_the_rating_table_has_nothing_that_leads_to_a_person_an_appointment_or_a_time(engine):
    columns = {c["name"] for c in inspect(engine).get_columns("session_rating")}
    assert columns == {"id", "month", "service_type_id", "face", "safe_to_talk", "words"}
    assert {c["name"] for c in inspect(engine).get_columns("session_rating_given")} == {"appointment_id"}
    assert {c["name"] for c in inspect(engine).get_columns("session_rating_pending")} == {"id", "sealed"}


def test_a_rating_without_its_answers_comes_back_with_the_words_kept(as_user, db):
    appointment = attended(db)
    response = rate(as_user("orangtua"), appointment.id, {"words": "Ruangannya dingin."})
    assert response.status_code == 422
    assert "Pilih salah satu wajah: baik, biasa saja, atau tidak baik." in response.text
    assert "Jawab dulu: apakah aman untuk bercerita?" in response.text
    assert ">Ruangannya dingin.</textarea>" in response.text
    assert ratings(db) == []
    assert pending(db) == []


def test_a_session_not_recorded_as_attended_cannot_be_rated_yet(as_user, db):
    appointment = attended(db, recorded=False)
    parent = as_user("orangtua")
    assert "Sesi ini bisa dinilai setelah Anda hadir." in parent.get(f"/penilaian/{appointment.id}").text
    assert rate(parent, appointment.id, {"face": "baik", "safe": "yes"}).status_code == 409
    assert ratings(db) == []
    assert pending(db) == []


@pytest.mark.parametrize("username", ["konselor", "konselor2", "guru", "supervisor"])
def test_nobody_else_may_rate_it(username, as_user, db):
    appointment = attended(db)
    other = as_user(username)
    assert other.get(f"/penilaian/{appointment.id}").status_code == 404
    assert rate(other, appointment.id, {"face": "tidak_baik", "safe": "no"}).status_code == 404
    assert ratings(db) == []
    assert pending(db) == []
    assert db.execute(select(func.count()).select_from(SessionRatingGiven)).scalar_one() == 0


def test_the_counselors_pages_never_show_the_rating_and_supervisors_see_totals(as_user, db, engine, settings):
    sessions = attended_sessions(db, 5)
    parent = as_user("orangtua")
    for appointment in sessions:
        assert rate(parent, appointment.id, {"face": "tidak_baik", "safe": "no", "words": WORDS}).status_code == 200
    purge(engine, settings)
    counselor = as_user("konselor")
    for path in (f"/jadwal/{sessions[0].id}", "/jadwal", "/kasus/", "/kasus/pemantauan/", "/notifikasi"):
        page = counselor.get(path)
        assert page.status_code == 200, path
        assert "Pak Joko" not in page.text, path
        assert "Tidak aman" not in page.text, path
    assert counselor.get("/admin/suara-anak/").status_code == 403

    totals = as_user("supervisor").get("/admin/suara-anak/")
    assert totals.status_code == 200
    month = sessions[0].starts_at.astimezone(LOCAL).strftime("%Y-%m")
    assert (f'<tr data-month="{month}"><td>{month}</td><td>Konseling individu</td><td>5</td>\n'
            "    <td>0</td><td>0</td><td>5</td>\n    <td>0</td><td>5</td></tr>") in totals.text
    assert WORDS in totals.text
    assert person(db, "orangtua").display_name not in totals.text
    assert person(db, "konselor").display_name not in totals.text


def physical_order(db, table: str, column: str) -> list:
    """The rows as a dump or a backup lays them out: SQLite's rowid, PostgreSQL's heap (ctid)."""
    position = "ctid" if db.get_bind().dialect.name == "postgresql" else "rowid"
    db.expire_all()
    return list(db.execute(text(f"SELECT {column} FROM {table} ORDER BY {position}")).scalars())


@pytest.mark.both_databases
def test_the_ratings_order_no_longer_lines_up_with_who_rated_when(as_user, db, engine, settings, monkeypatch):
    # A seeded shuffle, so the test is the same on every run; the app's own is secrets.SystemRandom.
    monkeypatch.setattr("server.aftercare.service._shuffler", random.Random(4), raising=False)
    parent = as_user("orangtua")
    sessions = attended_sessions(db, 6)
    said = [f"Sesi ke-{n}: kakaknya baik." for n in range(1, 7)]
    for appointment, words, face in zip(sessions, said, ["tidak_baik", "baik", "biasa"] * 2, strict=True):
        assert rate(parent, appointment.id, {"face": face, "safe": "yes", "words": words}).status_code == 200
    # Nothing of a rating is readable before its group is released: not the words, not an order.
    assert ratings(db) == []
    for sealed in physical_order(db, "session_rating_pending", "sealed"):
        assert b"Sesi ke-" not in bytes(sealed)
        assert b"tidak_baik" not in bytes(sealed)
    # The audit log says someone rated a session, never which.
    entries = audit_entries(db, "appointment.rated")
    assert len(entries) == 6
    for entry in entries:
        assert entry.object_id == ""
        assert not any(str(a.id) in entry.detail for a in sessions)

    purge(engine, settings)  # the worker's round releases groups of five or more, shuffled
    released = physical_order(db, "session_rating", "words")
    assert sorted(released) == sorted(said)
    assert released != said
    assert physical_order(db, "session_rating_pending", "id") == []
    assert {r.month for r in ratings(db)} == {sessions[0].starts_at.astimezone(LOCAL).strftime("%Y-%m")}


def a_group(db, month: str, n: int, words: str) -> None:
    service_type = counseling(db, name=f"Konseling {month}")
    db.add_all(SessionRating(id=secrets.token_hex(16), month=month, service_type_id=service_type.id, face="baik",
                             safe_to_talk=True, words=f"{words} {i}") for i in range(n))
    db.commit()


def test_a_group_of_fewer_than_five_ratings_is_not_shown_nor_its_words(as_user, db):
    a_group(db, "2026-10", 4, "Aku takut pulang")
    a_group(db, "2026-11", 5, "Ruangannya nyaman")
    page = as_user("supervisor").get("/admin/suara-anak/")
    assert page.status_code == 200
    assert '<tr data-month="2026-11">' in page.text
    assert "Ruangannya nyaman 4" in page.text
    assert '<tr data-month="2026-10">' not in page.text
    assert "Aku takut pulang" not in page.text
    assert "Bulan dan jenis layanan dengan kurang dari 5 penilaian tidak ditampilkan" in page.text


@pytest.mark.both_databases
def test_two_workers_releasing_at_once_release_each_rating_once(as_user, db, engine, settings, monkeypatch):
    parent = as_user("orangtua")
    for appointment in attended_sessions(db, 5):
        assert rate(parent, appointment.id, {"face": "baik", "safe": "yes", "words": WORDS}).status_code == 200
    unseal, other_worker = service._unseal, []

    def other_worker_releases_first(secret_key, sealed):
        # The other worker releases and commits while this one is still opening what it read.
        if not other_worker:
            other_worker.append(True)
            with Session(engine) as other:
                other_worker.append(release_ratings(other, secret_key))
                other.commit()
        return unseal(secret_key, sealed)

    monkeypatch.setattr(service, "_unseal", other_worker_releases_first)
    assert purge(engine, settings)["ratings_released"] == 0
    assert other_worker == [True, 5]
    assert len(ratings(db)) == 5
    assert pending(db) == []


@pytest.mark.both_databases
def test_the_migration_writes_the_ratings_kept_before_again_in_a_random_order(engine, db):
    service_type_id = counseling(db).id
    db.close()
    migrate.downgrade(engine, "0011_job_event_at")
    given = [f"Sesi ke-{n:02d}" for n in range(12)]
    with engine.begin() as connection:
        for n, words in enumerate(given):
            connection.execute(text("INSERT INTO session_rating (id, month, service_type_id, face, safe_to_talk, words)"
                                    " VALUES (:id, '2026-11', :type, 'baik', true, :words)"),
                               {"id": f"r{n:02d}", "type": service_type_id, "words": words})
    migrate.upgrade(engine)
    kept = physical_order(db, "session_rating", "words")
    assert sorted(kept) == given
    assert kept != given
    assert not any(rating.id.startswith("r") and len(rating.id) == 3 for rating in ratings(db))
