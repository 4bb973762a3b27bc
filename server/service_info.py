"""The service's name and hotline numbers, as a supervisor set them (DESIGN.md: nothing is city-specific
except configuration). Every page shows them, so each process keeps a copy (server/process_cache.py):
`ProcessCopyMiddleware` (server/app.py) refreshes it off the event loop before each request, and templates read
it with `current()`, which never waits for the database while a copy exists.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from server.models import ServiceSetting
from server.process_cache import ProcessCopy

# The service's name is the title of every page, of the installed app and of every push, on phones others may
# look at (DESIGN.md §4). This one list decides, for the supervisor's form and for everything that shows the name.
# Word stems, matched anywhere in the lower-cased name ("aniaya" also catches "penganiayaan").
REVEALING_WORDS = (
    "kekerasan", "aniaya", "perkosa", "pemerkosaan", "pelecehan", "cabul", "kdrt", "korban", "seksual", "eksploitasi",
    "trafficking", "perdagangan orang", "violence", "abuse", "assault", "rape", "victim",
)


def reveals(name: str) -> bool:
    lowered = " ".join(name.lower().split())
    return any(word in lowered for word in REVEALING_WORDS)


# Whether the office is closed on cuti bersama ("1", the default) or open ("0"): no bookings, and report
# deadlines skip those days, only when closed (server/workdays.py).
CUTI_BERSAMA_SETTING = "closed_on_cuti_bersama"


@dataclass(frozen=True)
class ServiceInfo:
    service_name: str = "Bintang Ceria"
    city_name: str = "Kota Banjarbaru"
    emergency_number: str = "112"
    sapa_number: str = "129"
    sapa_whatsapp: str = "08111129129"
    city_hotline: str = ""
    closed_on_cuti_bersama: str = "1"

    @property
    def whatsapp_link(self) -> str:
        """wa.me wants the international number without "+": 0811… and +62811… both become 62811…."""
        digits = "".join(ch for ch in self.sapa_whatsapp if ch.isdigit())
        if not digits:
            return ""
        return "https://wa.me/" + ("62" + digits[1:] if digits.startswith("0") else digits)


def load(session: Session) -> ServiceInfo:
    stored = dict(session.execute(select(col(ServiceSetting.key), col(ServiceSetting.value))).all())
    known = {f.name for f in fields(ServiceInfo)}
    info = ServiceInfo(**{key: value for key, value in stored.items() if key in known})
    # A name saved before the check existed (or past it) is never shown: the product's own name stands in.
    return replace(info, service_name=ServiceInfo.service_name) if reveals(info.service_name) else info


def save(session: Session, info: ServiceInfo) -> None:
    """Write the settings in the caller's transaction; the caller calls `forget()` after committing."""
    for f in fields(ServiceInfo):
        value = getattr(info, f.name)
        existing = session.get(ServiceSetting, f.name)
        if existing is None:
            session.add(ServiceSetting(key=f.name, value=value))
        else:
            existing.value = value


_copy: ProcessCopy[ServiceInfo] = ProcessCopy("the service settings", load)


def current(engine: Engine) -> ServiceInfo:
    return _copy.current(engine)


def version() -> int:
    """Changes whenever this process's copy changes (part of the key of a cached page)."""
    return _copy.version


def forget() -> None:
    """Drop this process's copy, so the next page reads the committed settings."""
    _copy.forget()
