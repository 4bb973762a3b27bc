"""Upgrading from every earlier migration with real data in the database: for each revision of the chain, a fresh
database is brought to that revision, filled with the rows a service would have held then (people, reports with
their messages and notes, appointments, audit entries, check-ins...) by plain INSERTs against the schema of that
revision (today's models may not match it), upgraded to the newest migration, and read back through today's models
and pages: the case opens with its code and PIN at /cek, the counselor still signs in with the old password and
sees the case, the appointment is on the schedule, the check-in's follow-up is listed."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from server import migrate
from server.accounts import auth
from server.db import make_engine
from server.migrations import import_all_models
from server.reports.codes import code_hash
from tests.support.postgres import postgres_database
from tests.support.web import post_form, sign_in

pytestmark = pytest.mark.both_databases  # migrations are the database's own rules: SQLite and PostgreSQL

CHAIN = [revision.revision for revision in
         reversed(list(ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions()))]

PASSWORD = "sandi-lama-konselor-2026"
CODE, PIN = "7K3M-Q9TX-2B4R-WH6P", "482913"
IDEMPOTENCY_KEY = "0f6d1c0e-5b1f-4c52-9d1e-3f9a4b2c7d10"
# A week before the pinned "now" (Tuesday 1 December 2026, 09.17 WITA).
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
# Thursday 3 December 2026, 10.00-11.00 WITA: this week's schedule.
SESSION_START, SESSION_END = datetime(2026, 12, 3, 2, 0, tzinfo=UTC), datetime(2026, 12, 3, 3, 0, tzinfo=UTC)

STAFF_MESSAGE = "Halo, kami sudah membaca laporanmu. Kamu tidak sendirian."
CHILD_MESSAGE = "Terima kasih kak, aku takut pulang."
NOTE = "Catatan rahasia: wali kelas sudah dihubungi."
CHILD_WORDS = "Aku sering dipukul kakak kelas di belakang sekolah."


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (this module's own, not the seeded copy of the other tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    with postgres_database("bintang_m_") as url:
        yield url


class Planter:
    """INSERTs against the schema as it is at the revision: a row names every column it ever had; the columns
    the table lacks at this revision are left out, and a table that does not exist yet is skipped."""

    def __init__(self, engine: Engine) -> None:
        self.metadata = MetaData()
        self.metadata.reflect(bind=engine)
        self.connection = engine.connect()
        self.planted: list[tuple[str, dict, dict]] = []  # (table, primary key, the values written)

    def has(self, table: str, column: str | None = None) -> bool:
        found = self.metadata.tables.get(table)
        return found is not None and (column is None or column in found.c)

    def put(self, table: str, **values) -> int | str | None:
        if not self.has(table):
            return None
        target = self.metadata.tables[table]
        row = {name: value for name, value in values.items() if name in target.c}
        key = self.connection.execute(target.insert().values(**row)).inserted_primary_key
        primary = {column.name: key[i] for i, column in enumerate(target.primary_key.columns)}
        self.planted.append((table, primary, row))
        return key[0]


def plant(engine: Engine, revision_index: int) -> dict[str, object]:
    """What a running service would hold: its districts and a school, a counselor, a supervisor, a parent and
    her child, an audit trail, two reports (one open with messages and a note, one closed with check-ins),
    an appointment, a push subscription, notifications."""
    p = Planter(engine)
    ids: dict[str, object] = {}
    districts = {name: p.put("district", name=name, active=True)
                 for name in ("Banjarbaru Utara", "Banjarbaru Selatan", "Cempaka", "Landasan Ulin", "Liang Anggang")}
    school = p.put("school", name="SMP Negeri 1 Banjarbaru", district_id=districts["Banjarbaru Utara"], active=True)
    people = {}
    for username, display_name, role, district in (
            ("konselor_rina", "Konselor Rina", "counselor", districts["Banjarbaru Utara"]),
            ("supervisor_dinas", "Supervisor Dinas", "supervisor", None),
            ("ibu_wati", "Ibu Wati", "parent", None)):
        people[username] = p.put("user_account", username=username, display_name=display_name,
                                 password_hash=auth.hash_password(PASSWORD), role=role, district_id=district,
                                 school_id=None, active=True, created_at=T0, last_sign_in_at=T0)
    counselor, supervisor, parent = people["konselor_rina"], people["supervisor_dinas"], people["ibu_wati"]
    ids.update(counselor=counselor, parent=parent)
    child = p.put("child", nickname="Dimas", birth_year=2013, school_id=school, user_id=None)
    p.put("guardianship", parent_id=parent, child_id=child, relation="ibu")
    p.put("service_setting", key="service_name", value="Bintang Ceria Banjarbaru")
    p.put("rate_limit_counter", key="report:address:203.0.113.9", window_start=T0, count=2)
    p.put("audit_entry", at=T0, actor_id=supervisor, actor_label="supervisor_dinas", action="admin.user_created",
          object_type="user", object_id=str(counselor), ip="10.20.30.40", detail='{"role": "counselor"}')
    ids["anonymous_audit"] = p.put(
        "audit_entry", at=T0, actor_id=None, actor_label="anonymous", action="report.submitted",
        object_type="report", object_id="1", detail="",
        # Kept before 0005_audit, which blanks it; never written after.
        ip="203.0.113.9" if revision_index < CHAIN.index("0005_audit") else "")

    report_columns = dict(
        version=3, pin_hash=auth.hash_password(PIN), reporter_kind="child", danger_now=False,
        happened_when="this_week", happened_where="school", where_detail="belakang sekolah",
        district_id=districts["Banjarbaru Utara"], school_id=school, child_age=13, child_gender="male",
        child_words=CHILD_WORDS, how_learned="", others_involved="kakak kelas", child_knows="",
        child_assent="yes", parent_consent="", consent_by="", consent_reason="", contact_method="app",
        contact_detail="", contact_safe_time="", team_district_id=districts["Banjarbaru Utara"],
        police_due_at=None, police_reported_at=None, forwarded_to="", duplicate_of_id=None,
        suspected_spam=False, afraid_to_go_home="yes", student_name="", student_class="",
        incident_on=date(2026, 11, 23), in_household=False, victim_education="smp", victim_disability="no",
        victim_disability_kind="", entered_in_simfoni_at=None)
    report = p.put("report", **report_columns, created_at=T0, updated_at=T0, code_hash=code_hash(CODE),
                   idempotency_key=IDEMPOTENCY_KEY, idempotency_key_hash=hashlib.sha256(IDEMPOTENCY_KEY.encode())
                   .hexdigest(), submitted_by_id=None, child_id=None, urgency="tinggi", urgency_rank=1,
                   status="in_progress", is_open=True, assigned_to_id=counselor,
                   first_response_due_at=datetime(2026, 11, 27, 1, 30, tzinfo=UTC),
                   first_response_at=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
                   next_due_at=datetime(9999, 12, 31, tzinfo=UTC), closed_reason="")
    ids["report"] = report
    if report is not None:
        for category in ("physical", "bullying"):
            p.put("report_category", report_id=report, category=category)
        for minutes, kind, body, actor, visible, from_reporter in (
                (0, "submitted", "", None, False, False),
                (60, "assigned", "", counselor, False, False),
                (90, "message", STAFF_MESSAGE, counselor, True, False),
                (120, "message", CHILD_MESSAGE, None, True, True),
                (150, "note", NOTE, counselor, False, False)):
            p.put("case_event", report_id=report, at=T0 + timedelta(minutes=minutes), actor_id=actor, kind=kind, from_status="", to_status="", body=body,
                visible_to_reporter=visible, from_reporter=from_reporter)
        p.put("referral", report_id=report, created_at=T0, updated_at=T0, created_by_id=counselor,
              agency_kind="health", agency_name="Puskesmas Banjarbaru Utara", status="sent",
              note="Pemeriksaan luka memar.")
        p.put("notification_job", kind="case_message", recipient_user_id=None, recipient_report_id=report,
              url="/cek/laporan", topic=f"report-{report}-reporter", urgency="normal", object_type="report",
              object_id=report, object_version=None, status="sent", due_at=T0, created_at=T0, sent_at=T0,
              read_at=None, attempts=1, last_error="", claimed_by="", lease_until=None, event_at=None)
        p.put("perpetrator", report_id=report, created_at=T0, created_by_id=counselor, sex="male",
              age_band="child", relationship="schoolmate")
        p.put("case_service", report_id=report, created_at=T0, created_by_id=counselor, kind="counseling",
              given_on=date(2026, 11, 25), given_by="Konselor Rina", note="Sesi pertama.")
        p.put("push_subscription", endpoint="https://fcm.googleapis.com/fcm/send/upgrade-test-endpoint",
              p256dh="BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
              auth="tBHItJI5svbpez7KI4CCXg", user_id=None, report_id=report, language="id", device="Android",
              created_at=T0, last_seen_at=T0)
        p.put("report_month_version", month=202611, n=4)

        closed = p.put("report", **report_columns, created_at=T0, updated_at=T0, code_hash=code_hash(
            "AAAA-BBBB-CCCC-DDDD"), idempotency_key=None, idempotency_key_hash=None, submitted_by_id=parent,
            child_id=child, urgency="sedang", urgency_rank=2, status="closed", is_open=False,
            assigned_to_id=counselor, first_response_due_at=T0, first_response_at=T0,
            next_due_at=datetime(9999, 12, 31, tzinfo=UTC), closed_reason="Dimas sudah aman dan didampingi.")
        ids["closed"] = closed
        plan = p.put("check_in_plan", report_id=closed, created_at=T0, created_by_id=counselor,
                     offsets="2w,1m,3m,6m", declined=False, declined_reason="")
        if plan is not None:
            ids["check_in"] = p.put(
                "check_in", plan_id=plan, report_id=closed, step="2w", recipient_user_id=parent,
                due_at=datetime(2026, 11, 30, 1, 30, tzinfo=UTC), retry_at=datetime(2026, 12, 3, 1, 30, tzinfo=UTC),
                give_up_at=datetime(2026, 12, 6, 1, 30, tzinfo=UTC), status="answered", version=2,
                answered_at=datetime(2026, 11, 30, 2, 0, tzinfo=UTC), answer="tidak_baik",
                message="Dimas masih takut ke sekolah.", follow_up_due_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
                follow_up_done_at=None, follow_up_done_by_id=None)

    service_type = p.put("service_type", name="Konseling individu", description="Bertemu konselor.",
                         duration_minutes=60, mode="face_to_face", place="Kantor UPTD PPA", buffer_before_minutes=0,
                         buffer_after_minutes=15, min_notice_hours=24, max_days_ahead=30, needs_confirmation=True,
                         active=True)
    if service_type is not None:
        p.put("weekly_hours", counselor_id=counselor, weekday=3, starts=time(8, 0), ends=time(12, 0),
              service_type_id=None)
        p.put("availability_exception", counselor_id=counselor, starts_at=datetime(2026, 12, 10, 0, 0, tzinfo=UTC),
              ends_at=datetime(2026, 12, 10, 9, 0, tzinfo=UTC), reason="training", note="Pelatihan")
        ids["appointment"] = p.put(
            "appointment", created_at=T0, updated_at=T0, version=2, counselor_id=counselor,
            service_type_id=service_type, starts_at=SESSION_START, ends_at=SESSION_END, block_start=SESSION_START,
            block_end=SESSION_END.replace(minute=15), status="confirmed", is_live=True, hold_expires_at=None,
            requester_user_id=parent, report_id=report, child_id=child, child_agreed="yes",
            note="Dimas ingin bercerita.", decline_reason="", cancelled_by="", cancel_reason="",
            rescheduled_from_id=None, phone_number="", counselor_change_reason="")
        p.put("notification_job", kind="appointment_reminder", recipient_user_id=parent, recipient_report_id=None,
              url=f"/konseling/{ids['appointment']}", topic=f"appointment-{ids['appointment']}", urgency="normal",
              object_type="appointment", object_id=ids["appointment"], object_version=2, status="pending",
              due_at=datetime(2026, 12, 2, 2, 0, tzinfo=UTC), created_at=T0, sent_at=None, read_at=None, attempts=0,
              last_error="", claimed_by="", lease_until=None, event_at=SESSION_START)
        p.put("session_rating", id=uuid.uuid4().hex, month="2026-11", service_type_id=service_type, face="baik",
              safe_to_talk=True, words="Kakaknya baik.")
    p.put("attempt_throttle", key="signin:account:ibu_wati", failures=2, last_failure_at=T0, wait_until=None)
    p.put("recovery_code", user_id=supervisor, code_hash=hashlib.sha256(b"recovery-code-1").hexdigest(),
          used_at=None)
    p.connection.commit()
    p.connection.close()
    ids["planted"] = p.planted
    return ids


def expected(table: str, row: dict, revision_index: int) -> dict:
    """What the newest schema holds for a planted row: the same values, less what a migration changed on
    purpose (0005_reports keeps only the idempotency key's hash; 0005_audit blanks anonymous addresses;
    0012_signin hashes recovery codes again with argon2; 0012_rating_release writes ratings again under new ids)."""
    row = dict(row)
    if table == "report" and "idempotency_key" in row:
        key = row.pop("idempotency_key")
        row["idempotency_key_hash"] = hashlib.sha256(key.encode()).hexdigest() if key else None
    if table == "audit_entry" and row["actor_id"] is None and revision_index < CHAIN.index("0005_audit"):
        row["ip"] = ""
    if table == "session_rating" and revision_index < CHAIN.index("0012_rating_release"):
        row.pop("id")  # written again in a random order under new random ids
    if table == "recovery_code" and revision_index < CHAIN.index("0012_signin"):
        row["code_hash"] = HashedAgain(row["code_hash"])
    return row


class HashedAgain:
    """0012_signin hashes each stored recovery-code digest again with argon2: equal to a stored value that
    verifies against the digest written before."""

    def __init__(self, digest: str) -> None:
        self.digest = digest

    def __eq__(self, stored: object) -> bool:
        try:
            return isinstance(stored, str) and PasswordHasher().verify(stored, self.digest)
        except (VerificationError, InvalidHashError):
            return False

    __hash__ = None  # type: ignore[assignment]  # compared, never kept in a set

    def __repr__(self) -> str:
        return f"argon2({self.digest})"


def same(stored, written) -> bool:
    if isinstance(written, datetime) and isinstance(stored, datetime):
        return stored.astimezone(UTC) == written.astimezone(UTC)
    return stored == written


@pytest.mark.parametrize("revision", CHAIN)
def test_data_written_at_an_earlier_migration_is_all_there_after_upgrading(revision, database_url, app,
                                                                           make_client):
    index = CHAIN.index(revision)
    engine = make_engine(database_url)
    migrate.upgrade(engine, target=revision)
    ids = plant(engine, index)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == CHAIN[-1]

    # Every planted row, column by column, through today's tables (their types: aware UTC datetimes, dates...).
    import_all_models()
    tables = SQLModel.metadata.tables
    with Session(engine) as session:
        for table, key, row in ids["planted"]:
            current = tables[table]
            if table == "session_rating" and index < CHAIN.index("0012_rating_release"):
                key = {name: row[name] for name in ("month", "service_type_id", "words")}
            stored = session.execute(select(current).where(
                *[current.c[name] == value for name, value in key.items()])).mappings().one()
            for column, value in expected(table, row, index).items():
                assert same(stored[column], value), f"{table}.{column} at {revision}: {stored[column]!r}"
        # ...and every row of every table loads as today's model, with the new columns' defaults filled in.
        for mapper in SQLModel._sa_registry.mappers:
            for instance in session.execute(select(mapper.class_)).scalars():
                for column in mapper.columns:
                    assert column.nullable or getattr(instance, column.key) is not None, (mapper.class_, column)
    engine.dispose()
    planted_tables = {table for table, _key, _row in ids["planted"]}

    # The counselor signs in with the password set before the upgrade.
    counselor = sign_in(make_client(), "konselor_rina", PASSWORD)
    if ids.get("report") is None:
        assert counselor.get("/akun").status_code == 200
        return

    # The child's code and PIN still open the case, with both messages and nothing of the note.
    holder = make_client()
    opened = post_form(holder, "/cek", {"code": CODE, "pin": PIN}, token_from="/cek", follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/cek/laporan"
    page = holder.get("/cek/laporan")
    assert page.status_code == 200
    assert re.search(r"data-reporter-status>Sedang ditangani<", page.text)
    assert STAFF_MESSAGE in page.text
    assert CHILD_MESSAGE in page.text
    assert NOTE not in page.text

    case = counselor.get(f"/kasus/{ids['report']}")
    assert case.status_code == 200
    assert CHILD_WORDS in case.text
    assert NOTE in case.text
    assert "Puskesmas Banjarbaru Utara" in case.text

    if "appointment" in planted_tables:
        schedule = counselor.get("/jadwal")
        assert schedule.status_code == 200
        assert f'href="/jadwal/{ids["appointment"]}"' in schedule.text
        details = counselor.get(f"/jadwal/{ids['appointment']}")
        assert details.status_code == 200
        assert "Dimas ingin bercerita." in details.text

    if "check_in" in planted_tables:
        follow_ups = counselor.get("/kasus/pemantauan")
        assert follow_ups.status_code == 200
        assert f'id="pemantauan-{ids["check_in"]}"' in follow_ups.text
        assert "Dimas masih takut ke sekolah." in follow_ups.text

    # The upgrade keeps no address of the anonymous reporter (0005_audit blanks the ones kept before).
    with engine.connect() as connection:
        ip = connection.execute(text("SELECT ip FROM audit_entry WHERE id = :id"),
                                {"id": ids["anonymous_audit"]}).scalar_one()
    assert ip == ""
    engine.dispose()


def test_the_chain_is_one_line_from_the_first_migration_to_the_newest():
    """Names like 0005_accounts / 0005_audit / 0005_reports look like branches but are one chain: the test above
    walks it, so it must have one head and one base."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1
    assert CHAIN[0] == "0001"
    assert CHAIN[-1] == script.get_current_head()
    assert len(CHAIN) == len({revision.revision for revision in script.walk_revisions()})
