"""The notification outbox (a job per person who must hear about a change, written in the change's
transaction) and the devices that receive web push."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from server import clock
from server.models import primary_key, utc_column


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting for its time (or for a retry)
    SENDING = "sending"  # claimed by a dispatcher until `lease_until`
    SENT = "sent"  # at least one device's push service accepted it
    NO_DEVICE = "no_device"  # the person has no device subscribed: only the in-app list shows it
    CANCELLED = "cancelled"  # no longer applies (the appointment changed, the session passed)
    FAILED = "failed"  # refused, or still failing after the last try; `last_error` says why


FINAL_STATUSES = frozenset({JobStatus.SENT, JobStatus.NO_DEVICE, JobStatus.CANCELLED, JobStatus.FAILED})


class NotificationJob(SQLModel, table=True):
    __tablename__ = "notification_job"
    __table_args__ = (
        Index("ix_notification_job_due", "status", "due_at"),
        Index("ix_notification_job_object", "object_type", "object_id"),
        # The ladder (ladder.py): each rung above a push reminder is written once, however many workers climb.
        UniqueConstraint("step_of_id", "channel", name="uq_notification_job_step"),
    )

    id: int = primary_key()
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
    # When what the job announces happens (an appointment's start), as it was when the job was written: its TTL
    # counts down to it, and a retry after it is pointless.
    event_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    status: str = Field(default=JobStatus.PENDING, max_length=12)
    due_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    read_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    attempts: int = 0
    last_error: str = Field(default="", max_length=200)
    # Set while a dispatcher holds the job; a job whose lease ran out is claimed again by another.
    claimed_by: str = Field(default="", max_length=64)
    lease_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # The channel ladder (ladder.py). `channel`: push, whatsapp or sms. `ladder`: a push reminder whose person is
    # to be reached by the next channel when push did not reach them. `step_of_id`: the push job a WhatsApp or SMS
    # rung climbs from. `shown_at`: the service worker said the notification was shown (push) / the provider said
    # it was delivered (WhatsApp, SMS); `seen_at`: WhatsApp said it was read. `provider_id`: the provider's message
    # id its status webhooks name. `ladder_done_at`: the reminder climbs no further: it reached its person, or the
    # last resort (a counselor's call) was handed over.
    channel: str = Field(default="push", max_length=10)
    ladder: bool = False
    step_of_id: int | None = Field(default=None, foreign_key="notification_job.id", index=True, ondelete="CASCADE")
    shown_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    seen_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    provider_id: str = Field(default="", max_length=128, index=True)
    ladder_done_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class PushSubscription(SQLModel, table=True):
    """One device's web push subscription, linked to a person or to a case code (or both)."""

    __tablename__ = "push_subscription"

    id: int = primary_key()
    endpoint: str = Field(max_length=1000, unique=True)
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=64)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE")
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True, ondelete="CASCADE")
    language: str = Field(default="id", max_length=5)
    device: str = Field(default="", max_length=60)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    last_seen_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())


class ChannelConsent(SQLModel, table=True):
    """A person's own agreement that a number may be sent reminders by WhatsApp and/or SMS, with when it was given
    and when (and how) it was withdrawn. Only the person themselves records it (a child ticks it on their own
    account; nobody agrees for another). A change withdraws the row and writes a new one, so the history stays."""

    __tablename__ = "channel_consent"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE")
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True, ondelete="CASCADE")
    phone: str = Field(max_length=20, index=True)  # E.164
    whatsapp: bool = False
    sms: bool = False
    # The messages may carry the service's name (otherwise they say only that there is a reminder).
    show_service_name: bool = False
    agreed_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # person (on the page), berhenti (the WhatsApp reply), template (the template's opt-out button), sms.
    withdrawn_how: str = Field(default="", max_length=12)
