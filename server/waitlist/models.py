"""The waiting list: people who found no free time for a service and asked to be told when one opens.

An offer holds the counselor's time with an appointment row in the state `offered` (live, with a hold that
runs out), so the database's own overlap rule (migration 0003) refuses anyone else that time while it is held;
the row has no requester until the person takes it, so it is on nobody's list of appointments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from server import clock
from server.models import primary_key, utc_column


class EntryStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    LEFT = "left"
    EXPIRED = "expired"


OPEN_STATUSES = frozenset({EntryStatus.WAITING, EntryStatus.OFFERED})


class OfferOutcome(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    SKIPPED = "skipped"
    LAPSED = "lapsed"


class WaitlistEntry(SQLModel, table=True):
    __tablename__ = "waitlist_entry"
    __table_args__ = (Index("ix_waitlist_entry_queue", "service_type_id", "status", "created_at"),)

    id: int = primary_key()
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    version: int = 1
    service_type_id: int = Field(foreign_key="service_type.id")
    # The signed-in person, or (requester_user_id empty) the holder of report_id's code.
    requester_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    child_id: int | None = Field(default=None, foreign_key="child.id")
    status: str = Field(default=EntryStatus.WAITING, max_length=10)
    expires_at: datetime = Field(sa_column=utc_column())
    # The appointment row holding the time offered now, and until when.
    offer_appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    offer_expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class WaitlistOffer(SQLModel, table=True):
    """Each time offered to an entry and what became of it: a time skipped or let lapse is not offered again."""

    __tablename__ = "waitlist_offer"

    id: int = primary_key()
    entry_id: int = Field(foreign_key="waitlist_entry.id", index=True)
    appointment_id: int = Field(foreign_key="appointment.id")
    starts_at: datetime = Field(sa_column=utc_column())
    offered_at: datetime = Field(sa_column=utc_column())
    outcome: str = Field(default=OfferOutcome.OPEN, max_length=10)
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
