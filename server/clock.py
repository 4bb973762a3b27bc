"""The app's one clock. Every service, model default, rate limit, dispatcher and template asks here for the
time, so that a test can pin it (time-machine) and the code under test and its fixtures agree on "now"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

WITA = ZoneInfo("Asia/Makassar")


def now() -> datetime:
    """The current moment, timezone-aware, in UTC (what the database stores)."""
    return datetime.now(UTC)


def today_wita() -> date:
    """Today's date where the service works (Asia/Makassar, WITA)."""
    return now().astimezone(WITA).date()


def timestamp() -> float:
    """The current moment as seconds since the epoch (for wire formats that count in seconds)."""
    return now().timestamp()
