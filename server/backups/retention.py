"""Which archives to keep: the newest of each of the last N days, weeks and months that have one (the rule restic's
`forget --keep-daily --keep-weekly --keep-monthly` follows, so the local folder and the off-host copy agree)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from server.i18n import LOCAL


def to_keep(moments: Iterable[datetime], *, daily: int, weekly: int, monthly: int) -> set[datetime]:
    """Days, ISO weeks and months are the Dinas's, in local time. The newest archive is always kept."""
    newest_first = sorted(set(moments), reverse=True)
    keep: set[datetime] = set(newest_first[:1])
    for count, bucket in ((daily, lambda t: t.date()),
                          (weekly, lambda t: t.isocalendar()[:2]),
                          (monthly, lambda t: (t.year, t.month))):
        seen: set[object] = set()
        for moment in newest_first:
            key = bucket(moment.astimezone(LOCAL))
            if key in seen:
                continue
            if len(seen) == count:
                break
            seen.add(key)
            keep.add(moment)
    return keep
