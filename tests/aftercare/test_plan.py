"""Closing a case with a check-in plan: when each check-in is due (never between 21.00 and 07.00 WITA), the one
repeat and then "unanswered", a declined plan that sends nothing, opening the case again, and the counts for
statistics. The clock is pinned at Tuesday 1 December 2026, 09.17 WITA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server import worker
from server.aftercare import service
from server.aftercare.models import CheckInStatus
from server.i18n import LOCAL
from server.notifications.models import JobStatus
from server.reports import case_record, cases
from server.reports.models import Status
from tests.support.aftercare import all_check_in_jobs, check_in_jobs, check_ins, close, plans
from tests.support.reports import TEST_IP, events, fresh, make_report, user_named


def wita(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL).astimezone(UTC)


@pytest.mark.parametrize(("moment", "expected"), [
    (wita(2026, 12, 1, 20, 59), wita(2026, 12, 1, 20, 59)),
    (wita(2026, 12, 1, 21, 0), wita(2026, 12, 2, 7, 0)),
    (wita(2026, 12, 1, 23, 45), wita(2026, 12, 2, 7, 0)),
    (wita(2026, 12, 2, 0, 10), wita(2026, 12, 2, 7, 0)),
    (wita(2026, 12, 2, 6, 59), wita(2026, 12, 2, 7, 0)),
    (wita(2026, 12, 2, 7, 0), wita(2026, 12, 2, 7, 0)),
])
def test_it_moves_a_time_in_the_quiet_hours_to_seven_in_the_morning_wita(moment, expected):
    assert service.outside_quiet_hours(moment) == expected


def test_it_plans_the_default_check_ins_two_weeks_one_three_and_six_months_after_closing(app, db):
    report = make_report(app, db).report
    close(db, report.id)

    [plan] = plans(db, report.id)
    assert plan.offsets == "2w,1m,3m,6m"
    assert not plan.declined
    found = check_ins(db, report.id)
    assert [(c.step, c.due_at) for c in found] == [
        ("2w", wita(2026, 12, 15, 9, 17)), ("1m", wita(2027, 1, 1, 9, 17)),
        ("3m", wita(2027, 3, 1, 9, 17)), ("6m", wita(2027, 6, 1, 9, 17))]
    for check_in in found:
        assert check_in.recipient_user_id is None
        assert check_in.status == CheckInStatus.SCHEDULED
        assert check_in.retry_at == check_in.due_at + timedelta(days=3)
        jobs = check_in_jobs(db, check_in.id)
        # The first try and the one repeat, to the holder of the case's code, saying nothing of the case.
        assert [(j.due_at, j.recipient_report_id, j.recipient_user_id, j.url, j.kind) for j in jobs] == [
            (check_in.due_at, report.id, None, f"/pemantauan/{check_in.id}", "check_in"),
            (check_in.retry_at, report.id, None, f"/pemantauan/{check_in.id}", "check_in")]
    [event] = events(db, report.id, "check_in_plan")
    assert event.body == "Pemantauan: 2 minggu, 1 bulan, 3 bulan, 6 bulan setelah ditutup."


def test_a_case_closed_late_in_the_evening_is_checked_on_at_seven_in_the_morning(app, db, pinned_clock):
    report = make_report(app, db).report
    pinned_clock.move_to(wita(2026, 12, 1, 22, 30))
    close(db, report.id, {"check_in_plan": "plan", "check_in_steps": ["2w"]})

    [check_in] = check_ins(db, report.id)
    assert check_in.due_at == wita(2026, 12, 16, 7, 0)
    assert check_in.retry_at == wita(2026, 12, 19, 7, 0)
    assert [j.due_at for j in check_in_jobs(db, check_in.id)] == [wita(2026, 12, 16, 7, 0), wita(2026, 12, 19, 7, 0)]


def test_no_check_in_job_is_due_in_the_quiet_hours_whenever_the_case_is_closed(app, db, pinned_clock):
    for hour in range(24):
        report = make_report(app, db).report
        pinned_clock.move_to(wita(2026, 12, 1, hour, 40))
        close(db, report.id)
        pinned_clock.move_to(wita(2026, 12, 1, 9, 17))
    hours = {job.due_at.astimezone(LOCAL).hour for job in all_check_in_jobs(db)}
    assert hours
    assert all(7 <= hour < 21 for hour in hours)


def test_a_declined_plan_keeps_the_reason_and_sends_nothing(app, db, engine, settings):
    report = make_report(app, db).report
    close(db, report.id, {"check_in_plan": "none", "check_in_reason": "Orang tua menolak dihubungi lagi."})

    [plan] = plans(db, report.id)
    assert plan.declined
    assert plan.declined_reason == "Orang tua menolak dihubungi lagi."
    assert plan.offsets == ""
    assert check_ins(db, report.id) == []
    assert all_check_in_jobs(db) == []
    [event] = events(db, report.id, "check_in_plan")
    assert event.body == "Tanpa pemantauan (ditolak): Orang tua menolak dihubungi lagi."
    # A year later still nothing has been sent about it.
    stats = worker.dispatcher.drain(engine, worker.make_sender(settings), now=wita(2027, 12, 1, 10, 0))
    assert all_check_in_jobs(db) == []
    assert stats.sent == 0


def test_declining_needs_a_reason(app, db):
    report = make_report(app, db).report
    with pytest.raises(case_record.CaseError, match="Tulis alasan tanpa pemantauan"):
        close(db, report.id, {"check_in_plan": "none", "check_in_reason": "  "})


def test_a_teachers_report_has_nobody_to_ask(app, db):
    guru = user_named(db, "guru")
    report = make_report(app, db, user=guru, reporter_kind="teacher", how_learned="Anak bercerita.",
                         child_knows="yes").report
    with pytest.raises(case_record.CaseError, match="tidak ada anak atau orang tua yang bisa ditanya"):
        close(db, report.id, {"check_in_plan": "plan", "check_in_steps": ["2w"]})
    db.rollback()
    close(db, report.id)  # the form did not ask: closed without check-ins, and the chronology says why
    assert check_ins(db, report.id) == []
    assert plans(db, report.id)[0].declined


def test_a_childs_own_report_is_checked_on_in_the_childs_account(app, db):
    anak = user_named(db, "anak")
    report = make_report(app, db, user=anak).report
    close(db, report.id)
    assert {c.recipient_user_id for c in check_ins(db, report.id)} == {anak.id}
    assert {(j.recipient_user_id, j.recipient_report_id) for j in all_check_in_jobs(db)} == {(anak.id, None)}


def test_opening_the_case_again_withdraws_the_check_ins_not_yet_answered(app, db):
    report = make_report(app, db).report
    close(db, report.id)
    konselor = user_named(db, "konselor")
    cases.change_status(db, fresh(db, report.id), konselor, to=Status.REOPENED, reason="Anak melapor lagi.",
                          version=None, ip=TEST_IP)
    db.commit()
    assert {c.status for c in check_ins(db, report.id)} == {CheckInStatus.CANCELLED}
    assert {j.status for j in all_check_in_jobs(db)} == {JobStatus.CANCELLED}


def test_a_check_in_is_sent_twice_and_then_marked_unanswered(app, db, engine, settings, pinned_clock):
    report = make_report(app, db).report
    close(db, report.id, {"check_in_plan": "plan", "check_in_steps": ["2w"]})
    [check_in] = check_ins(db, report.id)
    sender = worker.make_sender(settings)

    def statuses() -> list[str]:
        return [j.status for j in check_in_jobs(db, check_in.id)]

    worker.tick(engine, sender, settings)  # the news that the case is closed goes at once
    pinned_clock.move_to(check_in.due_at - timedelta(minutes=1))
    assert worker.tick(engine, sender, settings).claimed == 0
    assert statuses() == [JobStatus.PENDING, JobStatus.PENDING]
    pinned_clock.move_to(check_in.due_at)
    assert worker.tick(engine, sender, settings).claimed == 1  # no device: kept for the in-app list
    assert statuses() == [JobStatus.NO_DEVICE, JobStatus.PENDING]
    pinned_clock.move_to(check_in.retry_at)
    assert worker.tick(engine, sender, settings).claimed == 1
    assert statuses() == [JobStatus.NO_DEVICE, JobStatus.NO_DEVICE]
    assert check_ins(db, report.id)[0].status == CheckInStatus.SCHEDULED

    pinned_clock.move_to(check_in.give_up_at)
    assert worker.tick(engine, sender, settings).claimed == 0  # never a third time
    [marked] = check_ins(db, report.id)
    assert marked.status == CheckInStatus.UNANSWERED
    assert marked.answered_at is None
    assert [e.body for e in events(db, report.id, "check_in_none")] == ["Tidak dijawab setelah dua kali dikirim."]
    assert len(check_in_jobs(db, check_in.id)) == 2
    pinned_clock.move_to(check_in.give_up_at + timedelta(days=30))
    assert worker.tick(engine, sender, settings).claimed == 0


def test_the_counts_for_statistics(app, db, pinned_clock):
    first, second = make_report(app, db).report, make_report(app, db).report
    close(db, first.id, {"check_in_plan": "plan", "check_in_steps": ["2w", "1m"]})
    close(db, second.id, {"check_in_plan": "plan", "check_in_steps": ["2w"]})
    december = (wita(2026, 12, 1, 0, 0), wita(2027, 1, 1, 0, 0))
    assert service.check_ins_sent(db, *december) == 0  # none due yet

    pinned_clock.move_to(wita(2026, 12, 16, 10, 0))
    assert service.check_ins_sent(db, *december) == 2
    [answered, _later] = check_ins(db, first.id)
    service.answer(db, answered, service.AnswerForm("baik"), user=None, ip="")
    db.commit()
    assert service.check_ins_answered(db, *december) == 1
    assert service.check_ins_answered(db, wita(2027, 1, 1, 0, 0), wita(2027, 2, 1, 0, 0)) == 0
    pinned_clock.move_to(wita(2027, 1, 5, 10, 0))
    assert service.check_ins_sent(db, wita(2027, 1, 1, 0, 0), wita(2027, 2, 1, 0, 0)) == 1


def test_a_check_in_found_due_in_the_quiet_hours_waits_for_seven_in_the_morning(app, db, engine, settings,
                                                                                 pinned_clock):
    """The dispatcher was down all evening: at 23.10 WITA the check-in due at 09.17 is not sent, but kept."""
    report = make_report(app, db).report
    close(db, report.id, {"check_in_plan": "plan", "check_in_steps": ["2w"]})
    [check_in] = check_ins(db, report.id)
    sender = worker.make_sender(settings)
    worker.tick(engine, sender, settings)
    late = wita(2026, 12, 15, 23, 10)
    pinned_clock.move_to(late)

    stats = worker.dispatcher.drain(engine, sender, now=late)
    assert (stats.retried, stats.no_device, stats.sent) == (1, 0, 0)
    first = check_in_jobs(db, check_in.id)[0]
    assert (first.status, first.due_at, first.attempts) == (JobStatus.PENDING, wita(2026, 12, 16, 7, 0), 0)
    morning = wita(2026, 12, 16, 7, 0)
    pinned_clock.move_to(morning)
    assert worker.dispatcher.drain(engine, sender, now=morning).no_device == 1
    assert check_in_jobs(db, check_in.id)[0].status == JobStatus.NO_DEVICE
