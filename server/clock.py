"""The app's one clock. Every service, model default, rate limit, dispatcher and template asks here for the
time, so that a test can pin it (time-machine) and the code under test and its fixtures agree on "now".

It also keeps the service's own time zone, `LOCAL`: the zone of the region (server/region.py, the REGION_CODE
setting: WIB, WITA or WIT). `LOCAL` is one tzinfo object that modules import once; `use_zone()` (at start, from
the settings, and in tests) decides which zone it is, so every "today", deadline, month and label follows it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from typing_extensions import override

ZONE_KEYS = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}


class LocalZone(tzinfo):
    """The service's zone, whichever it is: a tzinfo that hands every question to the chosen ZoneInfo."""

    def __init__(self, abbreviation: str) -> None:
        self._set(abbreviation)

    def _set(self, abbreviation: str) -> None:
        self.abbreviation = abbreviation
        self.zone = ZoneInfo(ZONE_KEYS[abbreviation])

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return self.zone.utcoffset(None if dt is None else dt.replace(tzinfo=None))

    def dst(self, dt: datetime | None) -> timedelta | None:
        return self.zone.dst(None if dt is None else dt.replace(tzinfo=None))

    @override
    def tzname(self, dt: datetime | None) -> str:
        return self.abbreviation

    def fromutc(self, dt: datetime) -> datetime:
        return self.zone.fromutc(dt.replace(tzinfo=self.zone)).replace(tzinfo=self)

    def __repr__(self) -> str:
        return f"LocalZone({self.abbreviation!r})"


LOCAL = LocalZone("WITA")


def use_zone(abbreviation: str) -> None:
    """Make `LOCAL` the zone named (WIB, WITA or WIT): at start from the region, in tests to try another zone."""
    LOCAL._set(abbreviation)


def zone_name() -> str:
    """The abbreviation people read after a time: WIB, WITA or WIT."""
    return LOCAL.abbreviation


def now() -> datetime:
    """The current moment, timezone-aware, in UTC (what the database stores)."""
    return datetime.now(UTC)


def today_local() -> date:
    """Today's date where the service works (the region's zone)."""
    return now().astimezone(LOCAL).date()


def timestamp() -> float:
    """The current moment as seconds since the epoch (for wire formats that count in seconds)."""
    return now().timestamp()
