"""The dispatchers' heartbeats: one row per running dispatcher, stamped on every round."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from server.models import utc_column


class DispatcherHeartbeat(SQLModel, table=True):
    """`worker` is the dispatcher's name (host:pid, as it claims jobs); a row whose `last_seen` is old belongs to
    a dispatcher that stopped or hangs."""

    __tablename__ = "dispatcher_heartbeat"

    worker: str = Field(primary_key=True, max_length=80)
    started_at: datetime = Field(sa_column=utc_column())
    last_seen: datetime = Field(sa_column=utc_column(index=True))
