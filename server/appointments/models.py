"""Counseling appointments: service types, counselors' weekly hours and exceptions, and the appointments.

No two live appointments (requested or confirmed) of one counselor may overlap, buffers included. The database
refuses it itself (migration 0003): an exclusion constraint on PostgreSQL, a trigger inside SQLite's single
writer lock. A check in Python that could race is never relied on.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum

from sqlalchemy import Column, Index, Time
from sqlmodel import Field, SQLModel

from server import clock
from server.models import primary_key, utc_column


class Mode(StrEnum):
    FACE_TO_FACE = "face_to_face"
    PHONE = "phone"
    ONLINE = "online"


class AppointmentStatus(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    NO_SHOW = "no_show"
    # Held for the first person on the waiting list (server/waitlist) until hold_expires_at; no requester yet.
    OFFERED = "offered"


LIVE_STATUSES = frozenset({AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED})
# States whose hold lets the time go when hold_expires_at passes, even before the worker marks them.
HELD_STATUSES = frozenset({AppointmentStatus.REQUESTED, AppointmentStatus.OFFERED})


class ServiceType(SQLModel, table=True):
    __tablename__ = "service_type"

    id: int = primary_key()
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=300)
    duration_minutes: int = 60
    mode: str = Field(default=Mode.FACE_TO_FACE, max_length=20)
    place: str = Field(default="", max_length=200)
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 15
    min_notice_hours: int = 24
    max_days_ahead: int = 30
    needs_confirmation: bool = True
    active: bool = True


class WeeklyHours(SQLModel, table=True):
    """A counselor's regular hours on one weekday, in local time; optionally only for one service type."""

    __tablename__ = "weekly_hours"

    id: int = primary_key()
    counselor_id: int = Field(foreign_key="user_account.id", index=True)
    weekday: int  # 0 = Monday
    starts: time = Field(sa_column=Column(Time, nullable=False))
    ends: time = Field(sa_column=Column(Time, nullable=False))
    service_type_id: int | None = Field(default=None, foreign_key="service_type.id")


class AvailabilityException(SQLModel, table=True):
    """Time a counselor is away from their weekly hours: leave, training."""

    __tablename__ = "availability_exception"

    id: int = primary_key()
    counselor_id: int = Field(foreign_key="user_account.id", index=True)
    starts_at: datetime = Field(sa_column=utc_column())
    ends_at: datetime = Field(sa_column=utc_column())
    reason: str = Field(default="leave", max_length=20)
    note: str = Field(default="", max_length=200)


class Appointment(SQLModel, table=True):
    __table_args__ = (
        Index("ix_appointment_counselor_block", "counselor_id", "block_start", "block_end"),
        Index("ix_appointment_hold", "status", "hold_expires_at"),
    )

    id: int = primary_key()
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    version: int = 1
    counselor_id: int = Field(foreign_key="user_account.id")
    service_type_id: int = Field(foreign_key="service_type.id")
    starts_at: datetime = Field(sa_column=utc_column())
    ends_at: datetime = Field(sa_column=utc_column())
    # The counselor's time the appointment holds: the session plus the service type's buffers.
    block_start: datetime = Field(sa_column=utc_column())
    block_end: datetime = Field(sa_column=utc_column())
    status: str = Field(default=AppointmentStatus.REQUESTED, max_length=12)
    # True while requested or confirmed; the overlap rule applies to live appointments only.
    is_live: bool = True
    hold_expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    requester_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    child_id: int | None = Field(default=None, foreign_key="child.id")
    child_agreed: str = Field(default="", max_length=10)
    note: str = Field(default="", max_length=500)
    decline_reason: str = Field(default="", max_length=500)
    cancelled_by: str = Field(default="", max_length=12)
    cancel_reason: str = Field(default="", max_length=500)
    rescheduled_from_id: int | None = Field(default=None, foreign_key="appointment.id")
    # The number a phone session is called on: kept with this appointment only, never on the account or case.
    phone_number: str = Field(default="", max_length=20)
    # Why the booker chose another counselor than the one of their case; for supervisors.
    counselor_change_reason: str = Field(default="", max_length=500)
    # The booker agreed to one push, after the session is attended, inviting them to rate it (off unless asked).
    rating_invite: bool = False


class ScheduleVersion(SQLModel, table=True):
    """One row whose number grows with every committed change to what free time is computed from (appointments,
    weekly hours, time away, service types, holidays, counselors' accounts): the booking page remembers free
    times under it (server/appointments/freshness.py)."""

    __tablename__ = "schedule_version"

    id: int = Field(default=1, primary_key=True)
    n: int = 0


class CallTask(SQLModel, table=True):
    """"Call to confirm": nothing is known to have reached the person about their session a few hours before it
    (push, WhatsApp and SMS were tried: server/notifications/ladder.py), so their counselor calls. One per
    appointment, however many reminders and workers climbed there."""

    __tablename__ = "call_task"

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(foreign_key="appointment.id", unique=True, ondelete="CASCADE")
    counselor_id: int = Field(foreign_key="user_account.id", index=True)
    # E.164, or empty when the person left no number (the task then says so).
    phone: str = Field(default="", max_length=20)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    done_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
