"""Writing notification jobs. Callers pass their own session: a job commits with the change it announces,
or not at all (DESIGN.md §3, Notifications). Sending is the dispatcher's work."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from server import clock
from server.db import rows_changed
from server.i18n import LOCAL
from server.notifications.models import NotificationJob

QUIET_FROM, QUIET_UNTIL = time(21, 0), time(7, 0)  # local time: check-ins are not sent in between
# Kinds that wait for the morning: a phone that lights up at night may be seen by others. Reminders are not among
# them: they are due at the hour the person chose for the session.
QUIET_KINDS = frozenset({"check_in", "rating_invite"})


# Whether a job still applies when its turn comes, asked of the domain that wrote it: this domain knows no
# appointments or check-ins. The job carries the rest (the object's version, when the event happens).
StillApplies = Callable[[Session, NotificationJob, datetime], bool]
_checks: dict[str, StillApplies] = {}


def register_check(object_type: str, check: StillApplies) -> None:
    """The domain that writes jobs about `object_type` says how to tell whether one still applies (its module
    calls this when imported; the app and `bintang worker` import every domain)."""
    _checks[object_type] = check


def still_applies(session: Session, job: NotificationJob, now: datetime) -> bool:
    """A job about an object whose domain registered a check asks it; any other job (an urgent report's alert)
    applies until it is cancelled, and is never dropped for want of a check."""
    check = _checks.get(job.object_type)
    if check is None or job.object_id is None:
        return True
    return check(session, job, now)


def outside_quiet_hours(moment: datetime) -> datetime:
    """`moment`, or 07.00 local time after it when it falls between 21.00 and 07.00 local time."""
    local = moment.astimezone(LOCAL)
    if local.time() >= QUIET_FROM:
        return datetime.combine(local.date() + timedelta(days=1), QUIET_UNTIL, tzinfo=LOCAL).astimezone(moment.tzinfo)
    if local.time() < QUIET_UNTIL:
        return datetime.combine(local.date(), QUIET_UNTIL, tzinfo=LOCAL).astimezone(moment.tzinfo)
    return moment


def enqueue(
    session: Session,
    kind: str,
    *,
    url: str,
    topic: str,
    user_ids: Iterable[int] = (),
    report_id: int | None = None,
    urgency: str = "normal",
    due_at: datetime | None = None,
    object_type: str = "",
    object_id: int | None = None,
    object_version: int | None = None,
    event_at: datetime | None = None,
    ladder: bool = False,
) -> list[NotificationJob]:
    """One job per recipient: each user in `user_ids`, and the code holder of `report_id` when given. `ladder`:
    when push does not reach them, WhatsApp, SMS and the domain's last resort follow (ladder.py)."""
    common: dict[str, Any] = dict(
        kind=kind, url=url, topic=topic[:32], urgency=urgency, due_at=due_at or clock.now(),
        object_type=object_type, object_id=object_id, object_version=object_version, event_at=event_at,
        ladder=ladder,
    )
    jobs = [NotificationJob(recipient_user_id=user_id, **common) for user_id in dict.fromkeys(user_ids)]
    if report_id is not None:
        jobs.append(NotificationJob(recipient_report_id=report_id, **common))
    session.add_all(jobs)
    return jobs


def cancel_pending(session: Session, *, object_type: str, object_id: int, kinds: Iterable[str] | None = None) -> int:
    """Cancel jobs about an object that have not gone out yet, e.g. reminders of a cancelled appointment."""
    statement = update(NotificationJob).where(
        col(NotificationJob.object_type) == object_type,
        col(NotificationJob.object_id) == object_id,
        col(NotificationJob.status) == "pending",
    )
    if kinds is not None:
        statement = statement.where(col(NotificationJob.kind).in_(list(kinds)))
    return rows_changed(session.execute(statement.values(status="cancelled"))) or 0
