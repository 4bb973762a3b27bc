"""What the service keeps to show it meets UU PDP (Law 27/2022): the people's requests about their own data, the
destruction reports the worker writes when retention runs, and the breach register.

None of these rows holds the content of a case: a request says what kind it is and what the person wrote about
it, a destruction report only what kind of data, how many rows and by which rule, a breach what a supervisor
typed about the incident."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from server import clock
from server.models import utc_column


class RequestKind(StrEnum):
    ACCESS = "access"
    CORRECTION = "correction"
    ERASURE = "erasure"
    RESTRICTION = "restriction"


class RequestStatus(StrEnum):
    OPEN = "open"
    GRANTED = "granted"
    PARTLY = "partly"
    REFUSED = "refused"


class DataRequest(SQLModel, table=True):
    """A person's request about their own data (UU PDP Art. 6-11), answered within 3×24 hours (Art. 32-33)."""

    __tablename__ = "data_request"

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(default_factory=clock.now, sa_column=utc_column(index=True))
    due_at: datetime = Field(sa_column=utc_column())
    version: int = 1
    kind: str = Field(max_length=12)
    # Who asked: a signed-in person, or whoever holds a report's code (never both).
    requester_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    details: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default=RequestStatus.OPEN, max_length=10, index=True)
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    # What the person reads, and what the service kept or changed (and why).
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The supervisors were told that the clock is running out.
    alerted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class DestructionReport(SQLModel, table=True):
    """One rule's work in one retention run: what kind of data, how many rows, when. Never what they held."""

    __tablename__ = "destruction_report"

    id: int | None = Field(default=None, primary_key=True)
    ran_at: datetime = Field(default_factory=clock.now, sa_column=utc_column(index=True))
    rule: str = Field(max_length=40)
    kind: str = Field(max_length=60)
    action: str = Field(max_length=12)  # deleted | pseudonymised | cleared
    count: int = 0


class Breach(SQLModel, table=True):
    """A personal data breach (UU PDP Art. 46): notified to the people and the authority within 3×24 hours of
    being found, saying what leaked, when, how, and what is being done."""

    __tablename__ = "breach"

    id: int | None = Field(default=None, primary_key=True)
    recorded_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    recorded_by_id: int = Field(foreign_key="user_account.id")
    version: int = 1
    found_at: datetime = Field(sa_column=utc_column())
    due_at: datetime = Field(sa_column=utc_column())
    systems: str = Field(default="", max_length=300)
    data_kinds: str = Field(default="", max_length=500)
    how: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    affected: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    measures: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The audit window the evidence is read from: an account's reads and exports between two moments.
    window_start: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    window_end: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    account_id: int | None = Field(default=None, foreign_key="user_account.id")
    people_notified_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    authority_notified_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
