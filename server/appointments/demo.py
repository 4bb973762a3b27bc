"""Demo service types and counselors' weekly hours, so that `make run` can be booked from the first start.

Kept apart from the accounts' demo seed: the test template database has people but no schedule, and each test
sets up the hours it needs."""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from server.accounts import regions
from server.accounts.demo import city_word
from server.accounts.models import Role, User
from server.appointments.models import Mode, ServiceType, WeeklyHours

DEMO_SERVICE_TYPES: tuple[dict[str, Any], ...] = (
    dict(name="Konseling individu", description="Bertemu konselor di kantor layanan.", duration_minutes=60,
         mode=Mode.FACE_TO_FACE, place="Kantor UPTD PPA {city}",
         buffer_after_minutes=15, min_notice_hours=24, max_days_ahead=30),
    dict(name="Konseling lewat telepon", description="Konselor menelepon Anda.", duration_minutes=30,
         mode=Mode.PHONE, buffer_after_minutes=10, min_notice_hours=4, max_days_ahead=14),
)
# Monday to Friday 08.00–15.00 local time, Saturday 08.00–12.00.
DEMO_HOURS = tuple((day, time(8), time(15)) for day in range(5)) + ((5, time(8), time(12)),)


def seed_demo_schedule(session: Session) -> bool:
    """Add the demo service types and every counselor's hours unless a service type exists already."""
    if session.execute(select(col(ServiceType.id)).limit(1)).first() is not None:
        return False
    record = regions.stored(session)
    city = city_word(record.name) if record else ""
    session.add_all(ServiceType(**{**fields, "place": str(fields.get("place", "")).format(city=city)})
                    for fields in DEMO_SERVICE_TYPES)
    counselors = session.execute(select(col(User.id)).where(col(User.role) == Role.COUNSELOR)).scalars()
    session.add_all(
        WeeklyHours(counselor_id=counselor_id, weekday=day, starts=starts, ends=ends)
        for counselor_id in counselors for day, starts, ends in DEMO_HOURS
    )
    session.flush()
    return True
