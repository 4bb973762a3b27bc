"""Changing or stopping a closed case's check-in plan from the case page: check-ins not sent yet are withdrawn with
their messages or scheduled from the closing time (never in the quiet hours), in one transaction, on the
chronology and in the audit log; refused for anyone who may not handle the case, with nothing changed. The clock
is pinned at Tuesday 1 December 2026, 09.17 WITA."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import Session

from server.accounts.models import User
from server.aftercare import service
from server.aftercare.models import CheckInStatus
from server.i18n import LOCAL
from server.notifications.models import JobStatus
from server.reports import case_record
from server.reports.models import Report
from tests.servers import pause
from tests.support.aftercare import check_in_jobs, check_ins, close, plans
from tests.support.reports import (
    TEST_IP,
    audit_entries,
    case_post,
    district_named,
    events,
    fresh,
    make_report,
    user_named,
)


def wita(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL).astimezone(UTC)


def closed_utara_case(app, db, plan=None) -> int:
    report = make_report(app, db, district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    close(db, report.id, plan)
    return report.id


def job_states(db, report_id: int) -> list[tuple[str, str, datetime]]:
    return [(c.step, j.status, j.due_at) for c in check_ins(db, report_id) for j in check_in_jobs(db, c.id)]


def test_the_case_page_of_a_closed_case_shows_its_plan_and_the_panel(app, db, as_user):
    report_id = closed_utara_case(app, db)
    response = as_user("konselor").get(f"/kasus/{report_id}")
    assert response.status_code == 200
    assert "Rencana pemantauan" in response.text
    assert "Simpan rencana pemantauan" in response.text
    assert "Hentikan pemantauan" in response.text
    assert 'name="plan_steps" value="2w" checked' in response.text


def test_the_counselor_changes_the_steps_and_the_pending_messages_follow(app, db, as_user, pinned_clock):
    report_id = closed_utara_case(app, db)
    client = as_user("konselor")
    response = case_post(client, report_id, "pemantauan", {"plan_choice": "change", "plan_steps": ["1m", "6m"]})
    assert response.status_code == 303
    assert response.headers["location"] == f"/kasus/{report_id}#rencana-pemantauan"

    current = [(c.step, c.status) for c in check_ins(db, report_id)]
    assert current == [("2w", CheckInStatus.CANCELLED), ("1m", CheckInStatus.SCHEDULED),
                       ("3m", CheckInStatus.CANCELLED), ("6m", CheckInStatus.SCHEDULED)]
    states = job_states(db, report_id)
    assert {(step, status) for step, status, _due in states} == {
        ("2w", JobStatus.CANCELLED), ("3m", JobStatus.CANCELLED), ("1m", JobStatus.PENDING), ("6m", JobStatus.PENDING)}
    [plan] = plans(db, report_id)
    assert plan.offsets == "1m,6m"
    assert not plan.declined
    assert events(db, report_id, "check_in_plan")[-1].body == "Pemantauan diubah: 1 bulan, 6 bulan setelah ditutup."
    [entry] = audit_entries(db, "report.check_in_plan_changed", report_id)
    assert json.loads(entry.detail) == {"before": ["2w", "1m", "3m", "6m"], "after": ["1m", "6m"]}

    # Adding a step back schedules it again from the closing time, with its two messages.
    response = case_post(client, report_id, "pemantauan", {"plan_choice": "change", "plan_steps": ["2w", "1m", "6m"]})
    assert response.status_code == 303
    again = [c for c in check_ins(db, report_id) if c.step == "2w" and c.status == CheckInStatus.SCHEDULED]
    assert [c.due_at for c in again] == [wita(2026, 12, 15, 9, 17)]
    assert [(j.status, j.due_at) for j in check_in_jobs(db, again[0].id)] == [
        (JobStatus.PENDING, wita(2026, 12, 15, 9, 17)), (JobStatus.PENDING, wita(2026, 12, 18, 9, 17))]
    page = client.get(f"/kasus/{report_id}")
    assert "Pemantauan diubah: 2 minggu, 1 bulan, 6 bulan setelah ditutup." in page.text


def test_a_step_added_later_never_falls_in_the_quiet_hours(app, db, as_user, pinned_clock):
    pinned_clock.move_to(wita(2026, 12, 1, 22, 30))
    report_id = closed_utara_case(app, db, {"check_in_plan": "plan", "check_in_steps": ["6m"]})
    pinned_clock.move_to(wita(2026, 12, 2, 10, 0))
    assert case_post(as_user("konselor"), report_id, "pemantauan",
                     {"plan_choice": "change", "plan_steps": ["1m", "6m"]}).status_code == 303
    [one_month] = [c for c in check_ins(db, report_id) if c.step == "1m"]
    assert one_month.due_at == wita(2027, 1, 2, 7, 0)
    assert all(7 <= due.astimezone(LOCAL).hour < 21 for _s, _st, due in job_states(db, report_id))


def test_stopping_needs_a_reason_and_withdraws_every_message_not_sent(app, db, as_user):
    report_id = closed_utara_case(app, db)
    client = as_user("konselor")
    refused = case_post(client, report_id, "pemantauan", {"plan_choice": "stop", "plan_reason": ""})
    assert refused.status_code == 422
    assert "Tulis alasan menghentikan pemantauan." in refused.text
    assert {status for _s, status, _d in job_states(db, report_id)} == {JobStatus.PENDING}

    response = case_post(client, report_id, "pemantauan",
                         {"plan_choice": "stop", "plan_reason": "Keluarga pindah ke luar kota."})
    assert response.status_code == 303
    assert {c.status for c in check_ins(db, report_id)} == {CheckInStatus.CANCELLED}
    assert {status for _s, status, _d in job_states(db, report_id)} == {JobStatus.CANCELLED}
    [plan] = plans(db, report_id)
    assert plan.declined
    assert plan.declined_reason == "Keluarga pindah ke luar kota."
    assert events(db, report_id, "check_in_plan")[-1].body == "Pemantauan dihentikan: Keluarga pindah ke luar kota."
    assert len(audit_entries(db, "report.check_in_plan_stopped", report_id)) == 1
    page = client.get(f"/kasus/{report_id}")
    assert "Hentikan pemantauan" not in page.text
    assert "Tidak ada pemantauan yang dijadwalkan." in page.text


def test_a_check_in_already_sent_stays_and_a_past_step_cannot_be_added(app, db, as_user, pinned_clock):
    report_id = closed_utara_case(app, db, {"check_in_plan": "plan", "check_in_steps": ["2w", "3m"]})
    pinned_clock.move_to(wita(2027, 1, 5, 10, 0))  # the 2-week check-in went out, the 1-month time is past
    client = as_user("konselor")
    refused = case_post(client, report_id, "pemantauan", {"plan_choice": "change", "plan_steps": ["1m", "3m"]})
    assert refused.status_code == 422
    assert "Waktu ini sudah lewat: 1 bulan. Pilih waktu yang belum tiba." in refused.text
    assert case_post(client, report_id, "pemantauan",
                     {"plan_choice": "stop", "plan_reason": "Anak menolak."}).status_code == 303
    by_step = {c.step: c.status for c in check_ins(db, report_id)}
    assert by_step == {"2w": CheckInStatus.SCHEDULED, "3m": CheckInStatus.CANCELLED}


def test_an_open_case_has_no_panel_and_its_plan_cannot_be_changed(app, db, as_user):
    report = make_report(app, db, district_id=str(district_named(db, "Banjarbaru Utara").id)).report
    client = as_user("supervisor")
    assert "Rencana pemantauan" not in client.get(f"/kasus/{report.id}").text
    refused = case_post(client, report.id, "pemantauan", {"plan_choice": "change", "plan_steps": ["1m"]})
    assert refused.status_code == 422
    assert "Rencana pemantauan hanya bisa diubah setelah kasus ditutup." in refused.text
    assert check_ins(db, report.id) == []


@pytest.mark.parametrize(("who", "expected"), [("konselor2", 404), ("guru", 403), (None, 403)])
def test_those_who_may_not_handle_the_case_are_refused_and_nothing_changes(who, expected, app, db, as_user,
                                                                             make_client):
    report_id = closed_utara_case(app, db)
    before_jobs = job_states(db, report_id)
    before_events = [e.id for e in events(db, report_id)]
    client = as_user(who) if who else make_client()
    if who is None:
        page = client.get(f"/kasus/{report_id}", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == f"/masuk?lanjut=/kasus/{report_id}"
    for data in ({"plan_choice": "stop", "plan_reason": "x"}, {"plan_choice": "change", "plan_steps": ["6m"]}):
        response = case_post(client, report_id, "pemantauan", data)
        assert response.status_code in ((401, 403) if who is None else (expected,))
        assert "Pemantauan" not in response.text
    assert job_states(db, report_id) == before_jobs
    assert [e.id for e in events(db, report_id)] == before_events
    assert audit_entries(db, "report.check_in_plan_changed", report_id) == []
    assert audit_entries(db, "report.check_in_plan_stopped", report_id) == []


def test_the_service_itself_refuses_a_counselor_of_another_team(app, db):
    report_id = closed_utara_case(app, db)
    with pytest.raises(service.NotAllowed):
        service.change_plan(db, fresh(db, report_id), user_named(db, "konselor2"),
                            service.PlanChangeForm("stop", [], "x"), ip=TEST_IP)
    db.rollback()
    assert {c.status for c in check_ins(db, report_id)} == {CheckInStatus.SCHEDULED}


@pytest.mark.only_database("postgresql")
def test_two_changes_made_at_once_schedule_a_step_once(app, db, engine):
    """The second change waits for the first (the plan's row is locked) and then sees its check-ins."""
    report_id = closed_utara_case(app, db, {"check_in_plan": "plan", "check_in_steps": ["6m"]})
    konselor_id = user_named(db, "konselor").id
    form = service.PlanChangeForm("change", ["1m", "6m"], "")
    outcome: dict[str, str] = {}
    with Session(engine) as first, Session(engine) as second:
        service.change_plan(first, first.get(Report, report_id), first.get(User, konselor_id), form, ip=TEST_IP)
        first.flush()

        def other() -> None:
            try:
                service.change_plan(second, second.get(Report, report_id), second.get(User, konselor_id), form,
                                    ip=TEST_IP)
                second.commit()
                outcome["second"] = "changed"
            except case_record.CaseError as exc:
                second.rollback()
                outcome["second"] = str(exc)

        thread = threading.Thread(target=other)
        thread.start()
        for _try in range(200):  # until the second waits for the lock the first holds
            waiting = db.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).scalar()
            db.rollback()
            if waiting:
                break
            pause(0.05)
        assert waiting, "the second change did not wait for the first"
        first.commit()
        thread.join(timeout=30)
    assert outcome == {"second": "Tidak ada yang berubah: pilih waktu lain, atau hentikan pemantauan."}
    assert [c.step for c in check_ins(db, report_id) if c.status == CheckInStatus.SCHEDULED] == ["6m", "1m"]
