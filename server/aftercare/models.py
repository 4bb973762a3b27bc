"""After a case is closed: the check-in plan chosen at closing, each check-in and its answer, and the child's
anonymous ratings of attended sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from server import clock
from server.models import primary_key, utc_column


class CheckInStatus(StrEnum):
    SCHEDULED = "scheduled"  # its messages are written (first try, then once more) and wait for their time
    ANSWERED = "answered"
    UNANSWERED = "unanswered"  # no answer after both tries: shown on the counselor's list, never chased further
    CANCELLED = "cancelled"  # the case was opened again before it came due


class CheckInPlan(SQLModel, table=True):
    """What the counselor chose when closing a case: check-ins at these offsets, or none (declined, with why)."""

    __tablename__ = "check_in_plan"

    id: int = primary_key()
    report_id: int = Field(foreign_key="report.id", index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    # Comma-separated offsets after closing, e.g. "2w,1m,3m,6m"; empty when declined.
    offsets: str = Field(default="", max_length=60)
    declined: bool = False
    declined_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class CheckIn(SQLModel, table=True):
    """One "how are you?" to the case's code holder or the child's (or parent's) account."""

    __tablename__ = "check_in"
    __table_args__ = (
        Index("ix_check_in_report", "report_id", "id"),
        Index("ix_check_in_status_give_up", "status", "give_up_at"),
    )

    id: int = primary_key()
    plan_id: int = Field(foreign_key="check_in_plan.id", index=True)
    report_id: int = Field(foreign_key="report.id")
    step: str = Field(max_length=4)  # "2w", "1m", "3m", "6m": after closing
    # Exactly one recipient: an account, or (recipient_user_id None) the holder of the case's code.
    recipient_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    due_at: datetime = Field(sa_column=utc_column())
    retry_at: datetime = Field(sa_column=utc_column())
    give_up_at: datetime = Field(sa_column=utc_column())
    status: str = Field(default=CheckInStatus.SCHEDULED, max_length=12)
    version: int = 1
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    answer: str = Field(default="", max_length=12)
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # "Tidak baik", a message, or no answer at all gives the counselor a task with a deadline.
    follow_up_due_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    follow_up_done_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    follow_up_done_by_id: int | None = Field(default=None, foreign_key="user_account.id")


class SessionRatingGiven(SQLModel, table=True):
    """That an appointment was rated (one rating each), and nothing about the rating itself."""

    __tablename__ = "session_rating_given"

    appointment_id: int = Field(foreign_key="appointment.id", primary_key=True)


class SessionRatingPending(SQLModel, table=True):
    """A rating given and not released yet: sealed (AES-GCM under a key from SECRET_KEY, padded to one length), so
    that a copy of the database shows neither its answers nor, by its place among the others, whose it is. Released
    into `session_rating` once five or more of its month and service type are waiting (aftercare.service)."""

    __tablename__ = "session_rating_pending"

    id: str = Field(primary_key=True, max_length=32)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class SessionRating(SQLModel, table=True):
    """A child's (or parent's) rating of an attended session. Anonymous by construction: no appointment, person,
    counselor or time of rating, only the month and the service type; a random id, and written in shuffled
    batches of five or more of one month and service type, so neither the ids nor the order of the rows (rowid,
    heap) line them up with the appointments marked rated or the audit log."""

    __tablename__ = "session_rating"
    __table_args__ = (Index("ix_session_rating_month", "month", "service_type_id"),)

    id: str = Field(primary_key=True, max_length=32)
    month: str = Field(max_length=7)  # "2026-12", in local time
    service_type_id: int = Field(foreign_key="service_type.id")
    face: str = Field(max_length=12)
    safe_to_talk: bool
    words: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
