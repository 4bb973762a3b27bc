"""No cold start: when a process starts, it counts this year's statistics in a thread of its own, for every scope a
statistics page can have (the supervisors' and each district team's), so the first visit after a restart reads
months this process already remembers instead of counting a year of reports while a supervisor waits."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from server import clock
from server.accounts.models import District, Role, User
from server.statistics.service import Period, StatisticsFilter, statistics

log = logging.getLogger("bintang.statistics")


def scopes(session: Session) -> list[User]:
    """One unsaved person per scope `statistics` counts for: a supervisor (every team), a counselor of each team.
    Built with `model_construct`: only the role and team are set (what `statistics` reads of a person), without
    the name and password hash a real account must have."""
    districts = session.execute(select(col(District.id)).order_by(col(District.id))).scalars().all()
    return [User.model_construct(role=Role.SUPERVISOR),
            *(User.model_construct(role=Role.COUNSELOR, district_id=district) for district in districts)]


def warm(engine: Engine) -> int:
    """Counts this year (in the service's time zone) for every scope; returns how many scopes were counted."""
    filters = StatisticsFilter(Period(clock.today_local().year, None))
    with Session(engine) as session:
        people = scopes(session)
        for person in people:
            statistics(session, person, filters)
    return len(people)


def start(engine: Engine) -> threading.Thread:
    """`warm` in a daemon thread: serving starts at once, and a page asked for before it ends counts what it needs."""

    def run() -> None:
        try:
            counted = warm(engine)
        except Exception:  # a failed warm-up costs only speed: the page counts on its first visit, as before
            log.exception("counting this year's statistics at start failed")
            return
        log.info("this year's statistics counted at start", extra={"scopes": counted})

    thread = threading.Thread(target=run, name="bintang-statistics-warm", daemon=True)
    thread.start()
    return thread
