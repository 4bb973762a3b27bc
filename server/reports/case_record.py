"""What every change to a case leaves: the errors it may refuse with, a new version, a chronology event and an
audit entry.

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server import audit, clock
from server.accounts.models import User
from server.i18n import gettext as _
from server.reports.models import (
    CaseEvent,
    Report,
)


class CaseError(Exception):
    """A case change that is not allowed; the message is for the person who tried it."""


class StaleCase(CaseError):
    """Someone else changed the case since the page was loaded."""


class FieldErrors(CaseError):
    """A case form with answers to fix: one message per field, shown next to that field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def touch(report: Report, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != report.version:
        raise StaleCase(_("Kasus ini baru saja diubah orang lain. Lihat perubahan terbaru, lalu coba lagi."))
    report.version += 1
    report.updated_at = clock.now()


def log_event(session: Session, report: Report, actor: User | None, kind: str, **fields: Any) -> CaseEvent:
    event = CaseEvent(report_id=report.id, actor_id=actor.id if actor else None, kind=kind, **fields)
    session.add(event)
    return event


def first_response(report: Report) -> None:
    if report.first_response_at is None:
        report.first_response_at = clock.now()


def audit_change(session: Session, action: str, report: Report, actor: User, ip: str, **detail: Any) -> None:
    audit.record(session, action, actor_id=actor.id, actor_label=actor.username, object_type="report",
                 object_id=report.id, ip=ip, **detail)
