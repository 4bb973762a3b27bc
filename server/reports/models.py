"""Reports and the cases they become: who reported what, how it is handled, and its chronology."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from server import clock
from server.models import primary_key, utc_column


class Category(StrEnum):
    PHYSICAL = "physical"
    PSYCHOLOGICAL = "psychological"
    SEXUAL = "sexual"
    EXPLOITATION = "exploitation"
    TRAFFICKING = "trafficking"
    NEGLECT = "neglect"
    BULLYING = "bullying"
    MENTAL_HEALTH = "mental_health"
    OTHER = "other"


class Urgency(StrEnum):
    EMERGENCY = "darurat"
    HIGH = "tinggi"
    MEDIUM = "sedang"
    LOW = "rendah"

    @property
    def rank(self) -> int:
        return list(Urgency).index(self)


class Status(StrEnum):
    SUBMITTED = "submitted"
    TRIAGED = "triaged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    REFERRED = "referred"
    MONITORING = "monitoring"
    CLOSED = "closed"
    REOPENED = "reopened"
    DUPLICATE = "duplicate"
    OUT_OF_SCOPE = "out_of_scope"
    UNFOUNDED = "unfounded"


FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)

OPEN_STATUSES = frozenset(
    {Status.SUBMITTED, Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.REFERRED, Status.MONITORING,
     Status.REOPENED}
)

class Report(SQLModel, table=True):
    __table_args__ = (
        # The inbox: open cases by urgency, then the nearest deadline (keyset pagination on these columns).
        Index("ix_report_inbox", "is_open", "urgency_rank", "next_due_at", "id"),
        Index("ix_report_team_inbox", "team_district_id", "is_open", "urgency_rank", "next_due_at", "id"),
        Index("ix_report_assignee_inbox", "assigned_to_id", "is_open", "urgency_rank", "next_due_at", "id"),
        # Statistics: the reports of a period, for everyone (supervisors) or for one team (counselors).
        Index("ix_report_created", "created_at"),
        Index("ix_report_team_created", "team_district_id", "created_at"),
    )

    id: int = primary_key()
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    version: int = 1

    # Follow-up without an account: the code is looked up by its SHA-256, the PIN checked against argon2.
    code_hash: str = Field(max_length=64, unique=True)
    pin_hash: str = Field(max_length=200)
    # A form sent again is recognised by its idempotency key, kept only as its SHA-256 (the key opens nothing).
    idempotency_key_hash: str | None = Field(default=None, max_length=64, unique=True, index=True)
    # The browser that sent the report (the hash of its random token) and, for an offline queue whose answer may
    # be lost, the code and PIN sealed under a key only that token opens; given again only to it, for a day.
    browser_token_hash: str | None = Field(default=None, max_length=64)
    sealed_receipt: str | None = Field(default=None, max_length=200)

    submitted_by_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    reporter_kind: str = Field(max_length=20)
    child_id: int | None = Field(default=None, foreign_key="child.id", index=True)

    danger_now: bool = False
    urgency: str = Field(max_length=10)
    urgency_rank: int
    happened_when: str = Field(default="", max_length=20)
    happened_where: str = Field(default="", max_length=20)
    where_detail: str = Field(default="", max_length=200)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    # The kelurahan/desa, when the reporter chose one (it belongs to `district_id`).
    village_id: int | None = Field(default=None, foreign_key="village.id")
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)
    child_age: int | None = None
    child_gender: str = Field(default="", max_length=20)
    # Named by a teacher only; confidential like every identity field (shown to staff and to that teacher).
    student_name: str = Field(default="", max_length=120)
    student_class: str = Field(default="", max_length=20)
    child_words: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    how_learned: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    others_involved: str = Field(default="", max_length=500)
    child_knows: str = Field(default="", max_length=10)
    afraid_to_go_home: str = Field(default="", max_length=10)

    child_assent: str = Field(default="", max_length=12)
    parent_consent: str = Field(default="", max_length=20)
    consent_by: str = Field(default="", max_length=120)
    consent_reason: str = Field(default="", max_length=500)

    contact_method: str = Field(default="app", max_length=12)
    contact_detail: str = Field(default="", max_length=60)
    contact_safe_time: str = Field(default="", max_length=120)

    status: str = Field(default=Status.SUBMITTED, max_length=20)
    is_open: bool = True
    assigned_to_id: int | None = Field(default=None, foreign_key="user_account.id")
    team_district_id: int | None = Field(default=None, foreign_key="district.id")
    first_response_due_at: datetime = Field(sa_column=utc_column())
    first_response_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    police_due_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    police_reported_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # The nearest unmet deadline, or FAR_FUTURE: never NULL, so the inbox's order runs straight off its index.
    next_due_at: datetime = Field(sa_column=utc_column())
    closed_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    forwarded_to: str = Field(default="", max_length=200)
    duplicate_of_id: int | None = Field(default=None, foreign_key="report.id")
    suspected_spam: bool = False

    # What the national recording system SIMFONI-PPA asks that the report itself does not: filled in by staff.
    incident_on: date | None = None
    in_household: bool = False
    victim_education: str = Field(default="", max_length=20)
    victim_disability: str = Field(default="", max_length=10)
    victim_disability_kind: str = Field(default="", max_length=120)
    entered_in_simfoni_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    @property
    def reference(self) -> str:
        """How staff name a case aloud; not a secret, and useless without sign-in."""
        return f"BC-{self.created_at.year}-{self.id:06d}"

class ReportCategory(SQLModel, table=True):
    __tablename__ = "report_category"
    __table_args__ = (Index("ix_report_category_category", "category", "report_id"),)

    report_id: int = Field(foreign_key="report.id", primary_key=True)
    category: str = Field(max_length=20, primary_key=True)

class CaseEvent(SQLModel, table=True):
    """One line of a case's chronology: submission, triage, assignment, status, note, message, referral."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_report", "report_id", "id"),)

    id: int = primary_key()
    report_id: int = Field(foreign_key="report.id")
    at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    kind: str = Field(max_length=20)
    from_status: str = Field(default="", max_length=20)
    to_status: str = Field(default="", max_length=20)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # Messages between the counselor and the reporter are visible to the reporter; nothing else is.
    visible_to_reporter: bool = False
    from_reporter: bool = False

class Referral(SQLModel, table=True):
    id: int = primary_key()
    report_id: int = Field(foreign_key="report.id", index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    created_by_id: int = Field(foreign_key="user_account.id")
    agency_kind: str = Field(max_length=20)
    agency_name: str = Field(max_length=120)
    status: str = Field(default="sent", max_length=12)
    note: str = Field(default="", max_length=1000)

class Perpetrator(SQLModel, table=True):
    """An alleged perpetrator as SIMFONI-PPA counts them: no name, only sex, age band and relationship to the
    child; confidential like the rest of the case."""

    id: int = primary_key()
    report_id: int = Field(foreign_key="report.id", index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    created_by_id: int = Field(foreign_key="user_account.id")
    sex: str = Field(max_length=20)
    age_band: str = Field(max_length=20)
    relationship: str = Field(max_length=30)


class CaseService(SQLModel, table=True):
    """One service given to the child (SIMFONI-PPA's kinds of layanan), with the day it was given."""

    __tablename__ = "case_service"

    id: int = primary_key()
    report_id: int = Field(foreign_key="report.id", index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    created_by_id: int = Field(foreign_key="user_account.id")
    kind: str = Field(max_length=30)
    given_on: date
    given_by: str = Field(default="", max_length=120)
    note: str = Field(default="", max_length=1000)


class ReportMonthVersion(SQLModel, table=True):
    """A number per local month (`month` = year × 100 + month) that grows with every committed change to a report
    that came in that month, or to its categories, perpetrators or services; month 0 grows with a change whose
    reports are unknown (a bulk statement). The statistics remember each month's counts under it
    (server/reports/freshness.py)."""

    __tablename__ = "report_month_version"

    month: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = 0
