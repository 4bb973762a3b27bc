"""The notification outbox: a job per person who must hear about a change, written in the change's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from server.db import utcnow
from server.models import utc_column


class NotificationJob(SQLModel, table=True):
    __tablename__ = "notification_job"
    __table_args__ = (
        Index("ix_notification_job_due", "status", "due_at"),
        Index("ix_notification_job_object", "object_type", "object_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    # Exactly one recipient: a person with an account, or the holder of a case code (anonymous reporter).
    recipient_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    recipient_report_id: int | None = Field(default=None, index=True)
    url: str = Field(max_length=200)
    topic: str = Field(max_length=32)
    urgency: str = Field(default="normal", max_length=10)
    object_type: str = Field(default="", max_length=40)
    object_id: int | None = None
    object_version: int | None = None
    status: str = Field(default="pending", max_length=12)
    due_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    read_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    attempts: int = 0
    last_error: str = Field(default="", max_length=200)
