"""Fixtures for the appointment service tests: a service type and the counselors' office hours."""

from datetime import time

import pytest

from server.appointments.models import ServiceType, WeeklyHours
from tests.support.appointments import person


@pytest.fixture
def service_type(db) -> ServiceType:
    service_type = ServiceType(name="Konseling individu", duration_minutes=60, buffer_after_minutes=15,
                               min_notice_hours=24, max_days_ahead=30)
    db.add(service_type)
    db.commit()
    return service_type


@pytest.fixture
def office_hours(db) -> None:
    """Both demo counselors work Monday to Friday, 08.00–12.00 WITA."""
    for username in ("konselor", "konselor2"):
        counselor = person(db, username)
        db.add_all(WeeklyHours(counselor_id=counselor.id, weekday=day, starts=time(8), ends=time(12)) for day in range(5))
    db.commit()
