"""The service's name and hotline numbers, as a supervisor set them (DESIGN.md: nothing is city-specific
except configuration). Read on every page, so kept for a few seconds per process.

Pages read them while they render, and rendering runs on the event loop. Reading the database there could
deadlock under load: every pooled connection can be held by a request whose session is closed only on that same
loop, and the loop would wait for one of them (bench/pages.py found it at 32 connections, a 30 s stall until
the pool timed out). So `refresh()` re-reads the settings in a worker thread before each request, and
`current()` only reads this process's copy.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, fields

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.models import ServiceSetting

CACHE_SECONDS = 10.0
log = logging.getLogger("bintang.service_info")


@dataclass(frozen=True)
class ServiceInfo:
    service_name: str = "Bintang Ceria"
    city_name: str = "Kota Banjarbaru"
    emergency_number: str = "112"
    sapa_number: str = "129"
    sapa_whatsapp: str = "08111129129"
    city_hotline: str = ""

    @property
    def whatsapp_link(self) -> str:
        """wa.me wants the international number without "+": 0811… and +62811… both become 62811…."""
        digits = "".join(ch for ch in self.sapa_whatsapp if ch.isdigit())
        if not digits:
            return ""
        return "https://wa.me/" + ("62" + digits[1:] if digits.startswith("0") else digits)


_cache: tuple[float, ServiceInfo] | None = None
_refreshing = False


def load(session: Session) -> ServiceInfo:
    stored = dict(session.execute(select(ServiceSetting.key, ServiceSetting.value)).all())
    known = {f.name for f in fields(ServiceInfo)}
    return ServiceInfo(**{key: value for key, value in stored.items() if key in known})


def _read(engine: Engine) -> ServiceInfo:
    global _cache
    with Session(engine) as session:
        _cache = (time.monotonic(), load(session))
    return _cache[1]


def current(engine: Engine) -> ServiceInfo:
    """This process's copy; read from the database only when there is none (`refresh()` keeps it fresh)."""
    return _cache[1] if _cache is not None else _read(engine)


async def refresh(engine: Engine) -> None:
    """Before each request: read the settings again, in a worker thread, when the copy is older than
    CACHE_SECONDS. While one request does so, the others go on with the copy they have."""
    global _refreshing
    if _cache is not None and (_refreshing or time.monotonic() - _cache[0] <= CACHE_SECONDS):
        return
    _refreshing = True
    try:
        await anyio.to_thread.run_sync(_read, engine)
    except Exception:  # noqa: BLE001 - the request may not need the settings (/healthz answers 503 on its own)
        log.warning("could not read the service settings; going on with %s", "the last copy" if _cache else "none")
    finally:
        _refreshing = False


def save(session: Session, info: ServiceInfo) -> None:
    """Write the settings in the caller's transaction; the caller calls `forget()` after committing."""
    for f in fields(ServiceInfo):
        value = getattr(info, f.name)
        existing = session.get(ServiceSetting, f.name)
        if existing is None:
            session.add(ServiceSetting(key=f.name, value=value))
        else:
            existing.value = value


def forget() -> None:
    """Drop this process's copy, so the next page reads the committed settings."""
    global _cache
    _cache = None
