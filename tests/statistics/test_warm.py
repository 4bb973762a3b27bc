"""No cold start (issue 27): a process counts this year's statistics in the background when it starts, for the
supervisors and for each team, so the first statistics page after a restart counts nothing."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from server import process_cache
from server.accounts.models import District
from server.statistics import warm
from tests.support.statistics import counted_from_nothing, numbers, statements_of

pytestmark = pytest.mark.both_databases


def counted(statements: list[str]) -> list[str]:
    return [statement for statement in statements if "GROUP BY" in statement]


def test_warming_counts_this_year_for_the_supervisors_and_every_team(known_year, db, engine):
    process_cache.forget_all()
    before = statements_of(db, engine, lambda: warm.warm(engine))
    assert counted(before), "warming counted nothing"
    teams = db.execute(select(District.id)).scalars().all()
    assert len(teams) >= 2
    assert warm.warm(engine) == 1 + len(teams)  # the supervisors, then each team

    for username in ("supervisor", "konselor"):
        assert counted(statements_of(db, engine, lambda username=username: numbers(db, username))) == [], username
    # What was remembered is what a count from nothing gives.
    supervisor, counselor = numbers(db), numbers(db, "konselor")
    assert counted_from_nothing(db) == supervisor
    assert counted_from_nothing(db, "konselor") == counselor


def test_the_app_warms_when_it_starts_and_the_first_page_counts_nothing(known_year, settings, app, monkeypatch,
                                                                       as_user):
    done = threading.Event()
    real = warm.warm

    def warm_and_tell(engine) -> int:
        try:
            return real(engine)
        finally:
            done.set()

    monkeypatch.setattr(warm, "warm", warm_and_tell)
    process_cache.forget_all()
    app.state.settings = replace(settings, statistics_warm=True)
    with TestClient(app=app, base_url="http://127.0.0.1:8000"):
        assert done.wait(60), "the app did not count the year when it started"
    supervisor = as_user("supervisor")
    statements = statements_of(None, app.state.engine, lambda: supervisor.get("/statistik/"))
    page = supervisor.get("/statistik/")
    assert page.status_code == 200
    assert "Statistik" in page.text
    assert counted(statements) == []


def test_a_process_started_with_warming_off_counts_on_the_first_visit(known_year, settings, app, monkeypatch):
    started: list[object] = []
    monkeypatch.setattr(warm, "start", started.append)
    with TestClient(app=app, base_url="http://127.0.0.1:8000"):
        pass
    assert settings.statistics_warm is False
    assert started == []
