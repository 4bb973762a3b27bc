"""Free times remembered between requests, and exactly when to forget them.

The booking page asks for the same free times again and again (every child choosing a day of one service sees
the same row of days and the same times), and working them out reads every appointment of the next two weeks. So
the times are remembered per process under the number in `schedule_version`, which grows in the same transaction
as every change to what free time is computed from: appointments, weekly hours, time away, service types,
holidays, and counselors' accounts becoming active or not. Any process sees the new number once that change is
committed, and works the times out afresh.

The number is raised by the session itself, just before it commits, whatever code made the change: a service, a
route, the worker, a test. It is the last statement of the transaction, so the row's lock on PostgreSQL is held
only for the commit and never while waiting for anything else (no deadlock with the appointments' exclusion
constraint).

Only what the booking page shows is remembered. A booking itself is checked against the database afresh (and
the database refuses overlaps), so a time remembered a moment too long can at worst be refused with "taken".
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from server import process_cache
from server.accounts.models import User
from server.appointments.models import Appointment, AvailabilityException, ScheduleVersion, ServiceType, WeeklyHours
from server.models import Holiday, ServiceSetting
from server.service_info import CUTI_BERSAMA_SETTING

SCHEDULE_MODELS = (Appointment, WeeklyHours, AvailabilityException, ServiceType, Holiday)
# Of a person's account, only what decides whether they are a counselor with free time.
USER_FIELDS = ("active", "role")
CHANGED = "schedule_changed"
REMEMBERED = 256  # entries per process: a service type × a first day × a chosen day × a counselor choice

T = TypeVar("T")


def _touches_schedule(instance: object, *, dirty: bool) -> bool:
    if isinstance(instance, SCHEDULE_MODELS):
        return True
    if isinstance(instance, ServiceSetting):
        return instance.key == CUTI_BERSAMA_SETTING  # whether cuti bersama days can be booked
    if isinstance(instance, User):
        if not dirty:
            return True
        attributes = inspect(instance).attrs
        return any(attributes[field].history.has_changes() for field in USER_FIELDS)
    return False


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _flush_context: Any, _instances: Any) -> None:
    if session.info.get(CHANGED):
        return
    if (any(_touches_schedule(obj, dirty=False) for obj in session.new)
            or any(_touches_schedule(obj, dirty=False) for obj in session.deleted)
            or any(_touches_schedule(obj, dirty=True) for obj in session.dirty)):
        session.info[CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statements(state: Any) -> None:
    if ((state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None
            and state.bind_mapper.class_ in (*SCHEDULE_MODELS, User)):
        state.session.info[CHANGED] = True


@event.listens_for(Session, "before_commit")
def _raise_version(session: Session) -> None:
    session.flush()  # what is still pending decides whether the schedule changed
    if session.info.pop(CHANGED, False):
        session.execute(update(ScheduleVersion).where(col(ScheduleVersion.id) == 1)
                        .values(n=col(ScheduleVersion.n) + 1))


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(CHANGED, None)


_remembered: process_cache.Remembered[Any] = process_cache.Remembered(REMEMBERED)


def remembered(session: Session, key: tuple[Hashable, ...], work_out: Callable[[], T]) -> T:
    """`work_out()`, or what it gave before for `key` while the schedule has not changed since. The key names the
    database too: one process may serve (in tests) one database after another."""
    version = session.execute(select(col(ScheduleVersion.n)).where(col(ScheduleVersion.id) == 1)).scalar()
    if version is None:
        return work_out()
    return cast(T, _remembered.get((str(session.get_bind().engine.url), version, *key), work_out))
