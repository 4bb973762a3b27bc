"""Tables every domain shares: service settings, rate-limit counters, attempt delays, the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from server import clock
from server.db import UTCDateTime


def primary_key() -> Any:
    """An autoincrement id, declared `id: int = primary_key()`. It is None only on a row not yet flushed, and
    nothing reads it then; every row read from the database or flushed has one, so the type says `int` (SQLModel's
    usual `int | None` would make every use of a saved row's id check for a None that cannot be there)."""
    return Field(default=None, primary_key=True)


def utc_column(*, nullable: bool = False, index: bool = False, primary_key: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index, primary_key=primary_key)


class ServiceSetting(SQLModel, table=True):
    """Key/value settings a supervisor edits: the service's name and hotline numbers."""

    __tablename__ = "service_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)


class RateLimitCounter(SQLModel, table=True):
    """A fixed-window counter per key, shared by every app process through the database."""

    __tablename__ = "rate_limit_counter"

    key: str = Field(primary_key=True, max_length=200)
    window_start: datetime = Field(sa_column=utc_column(primary_key=True))
    count: int = 0


class AttemptThrottle(SQLModel, table=True):
    """Failed attempts at one key (an account, an address, a report code) and until when the next must wait."""

    __tablename__ = "attempt_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    last_failure_at: datetime = Field(sa_column=utc_column(index=True))
    wait_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AuditEntry(SQLModel, table=True):
    """Who did what to which object, when and from where. Rows are never updated or deleted."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_object", "object_type", "object_id", "id"),)

    id: int = primary_key()
    at: datetime = Field(default_factory=clock.now, sa_column=utc_column(index=True))
    actor_id: int | None = Field(default=None, index=True)
    actor_label: str = Field(default="", max_length=120)
    action: str = Field(max_length=64)
    object_type: str = Field(default="", max_length=40)
    object_id: str = Field(default="", max_length=64)
    ip: str = Field(default="", max_length=64)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class RegionRecord(SQLModel, table=True):
    """The kabupaten/kota this database was set up for (REGION_CODE, server/region.py): one row. Its kecamatan
    and kelurahan/desa are the districts and villages people choose; a start with another REGION_CODE is refused
    once the database holds reports (server/accounts/regions.py)."""

    __tablename__ = "region"

    code: str = Field(primary_key=True, max_length=13)
    name: str = Field(max_length=120)
    province: str = Field(max_length=120)
    zone: str = Field(max_length=4)
    set_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Holiday(SQLModel, table=True):
    """A day off a supervisor entered: a regional holiday (libur daerah, e.g. Hari Jadi Kota), or a national one
    for a year lokal-id does not know yet. National holidays and cuti bersama of the years it knows come from the
    library (server/holidays.py) and are not stored."""

    day: date = Field(primary_key=True)
    kind: str = Field(max_length=20)
    name: str = Field(max_length=120)
