"""Who may see, ask for and handle which appointment: the access checks of the appointment pages and services.

A booker is a signed-in child, parent or teacher, or the holder of a case's code; an appointment is seen by its
requester (or the code holder of the case it was booked with), its counselor and supervisors, and handled by its
counselor or a supervisor. What someone may not see is NotFound, which the pages show as "not found"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from server.accounts.models import Role, User
from server.accounts.visitor import Visitor, voice
from server.appointments.models import Appointment
from server.forms import bounded_int
from server.reports import access as case_access
from server.reports.models import Report

REQUESTER_ROLES = frozenset({Role.CHILD, Role.PARENT, Role.TEACHER})


def may_handle(appointment: Appointment, user: User | None) -> bool:
    """Who answers, moves, cancels as staff and records attendance: the appointment's counselor, or a supervisor."""
    return (user is not None and user.active
            and (user.role == Role.SUPERVISOR or (user.role == Role.COUNSELOR and user.id == appointment.counselor_id)))


def may_see(appointment: Appointment, *, user: User | None, case_report_id: int | None) -> bool:
    """The requester, the code holder of the linked case, the appointment's counselor and supervisors."""
    if user is not None and user.active and (
            user.role == Role.SUPERVISOR or user.id in (appointment.counselor_id, appointment.requester_user_id)):
        return True
    return (case_report_id is not None and appointment.requester_user_id is None
            and appointment.report_id == case_report_id)


def is_requester(appointment: Appointment, *, user: User | None, case_report_id: int | None) -> bool:
    """Who may cancel or move it as the one who asked: the signed-in requester, or the holder of the code of the
    case it was booked with (never a code holder for a booking made from an account)."""
    if appointment.requester_user_id is not None:
        return user is not None and user.active and user.id == appointment.requester_user_id
    return case_report_id is not None and appointment.report_id == case_report_id


class NotFound(Exception):
    """An appointment or a schedule the person may not see, or that does not exist: the page says "not found"."""


@dataclass(frozen=True)
class Booker:
    """The person on /konseling: a signed-in child, parent or teacher, or the holder of a case's code."""

    user: User | None = None
    report: Report | None = None

    @property
    def voice(self) -> str:
        """"kamu" or "anda": by the account's role, or by what the code holder said they are in the report."""
        return voice(self.user, self.report.reporter_kind if self.report else "")

    @property
    def requester(self) -> Visitor:
        """Who books: the signed-in person, or else the code holder (never both at once)."""
        if self.user is not None or self.report is None:
            return Visitor(user=self.user)
        return Visitor(case_report_id=self.report.id)


def booker_of(session: Session, visitor: Visitor) -> Booker | None:
    """Who may book: a signed-in child, parent or teacher; signed out, the holder of a case's code; else nobody."""
    user = visitor.user
    if user is not None:
        return Booker(user=user) if user.role in REQUESTER_ROLES else None
    report = case_access.case_report(session, visitor)
    return Booker(report=report) if report is not None else None


def requester_of(appointment: Appointment, user: User | None) -> Visitor:
    """The requester of an appointment the person was found to have asked for (is_requester)."""
    if appointment.requester_user_id is None:
        return Visitor(case_report_id=appointment.report_id)
    return Visitor(user=user)


def visible_case(session: Session, visitor: Visitor) -> Report | None:
    """The case whose code this browser proved, for those who may book with it (signed out, or a requester)."""
    user = visitor.user
    return case_access.case_report(session, visitor) if user is None or user.role in REQUESTER_ROLES else None


def visible_appointment(session: Session, appointment_id: int, *, user: User | None,
                        case_report_id: int | None) -> tuple[Appointment, bool]:
    """The appointment and whether the person is its requester; NotFound if they may not see it."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or not may_see(appointment, user=user, case_report_id=case_report_id):
        raise NotFound()
    return appointment, is_requester(appointment, user=user, case_report_id=case_report_id)


def handled_appointment(session: Session, user: User, appointment_id: int) -> Appointment:
    """An appointment as its counselor (or any supervisor) handles it; NotFound for anyone else."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or not (user.role == Role.SUPERVISOR or appointment.counselor_id == user.id):
        raise NotFound()
    return appointment


def whose_schedule(session: Session, user: User, wanted: str) -> User | None:
    """Whose schedule: a counselor's own; a supervisor's choice of counselor (None until chosen). A counselor
    asking for someone else's, or a supervisor for someone who is no active counselor, gets NotFound."""
    if user.role == Role.COUNSELOR:
        if wanted and bounded_int(wanted) != user.id:
            raise NotFound()
        return user
    counselor = session.get(User, bounded_int(wanted) or 0) if wanted else None
    if wanted and (counselor is None or counselor.role != Role.COUNSELOR or not counselor.active):
        raise NotFound()
    return counselor


def counselors(session: Session) -> list[User]:
    return list(session.execute(select(User).where(col(User.active), col(User.role) == Role.COUNSELOR)
                                .order_by(col(User.display_name))).scalars())
