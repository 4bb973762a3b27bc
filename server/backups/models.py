"""One row per backup, verify, off-host copy, prune and restore: when it ran and how it ended."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from server import clock
from server.models import primary_key, utc_column


class RunKind(StrEnum):
    BACKUP = "backup"
    VERIFY = "verify"
    OFF_HOST = "offhost"
    PRUNE = "prune"
    RESTORE = "restore"


class BackupRun(SQLModel, table=True):
    """A run is written when it starts (ok NULL) and again when it ends, so a run that died midway is still seen.
    `sentinel` is a random value a backup writes here before its snapshot: a restore that finds it has this very
    snapshot, not an older one."""

    __tablename__ = "backup_run"
    __table_args__ = (Index("ix_backup_run_kind_started", "kind", "started_at"),)

    id: int = primary_key()
    kind: str = Field(max_length=16)
    started_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ok: bool | None = None
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default="", server_default=""))
    archive: str = Field(default="", max_length=255, sa_column_kwargs={"server_default": ""})
    sentinel: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    size_bytes: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
