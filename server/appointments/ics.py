"""An appointment as a calendar file (.ics, RFC 5545) that a phone's calendar imports."""

from __future__ import annotations

from datetime import UTC, datetime

from server.appointments.models import Appointment, AppointmentStatus, Mode, ServiceType
from server.clock import zone_name
from server.i18n import LOCAL
from server.i18n import gettext as _


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_fold(line: str) -> str:
    """RFC 5545 §3.1: content lines longer than 75 octets continue on the next line after one space."""
    parts, current, limit = [], "", 75
    for char in line:
        if len((current + char).encode()) > limit:
            parts.append(current)
            current, limit = "", 74
        current += char
    parts.append(current)
    return "\r\n ".join(parts)


def calendar_file(appointment: Appointment, *, status: AppointmentStatus, service_type: ServiceType,
                  page_url: str) -> str:
    """A VCALENDAR with one VEVENT in the service's zone (WIB, WITA or WIT), `status` being the status the pages show. The summary is neutral:
    a calendar is seen by whoever holds the phone."""

    def local(moment: datetime) -> str:
        return moment.astimezone(LOCAL).strftime("%Y%m%dT%H%M%S")

    zone = LOCAL.zone.key
    offset = appointment.starts_at.astimezone(LOCAL).strftime("%z")

    event_status = {AppointmentStatus.REQUESTED: "TENTATIVE", AppointmentStatus.CONFIRMED: "CONFIRMED",
                    AppointmentStatus.COMPLETED: "CONFIRMED", AppointmentStatus.NO_SHOW: "CONFIRMED"}.get(status,
                                                                                                        "CANCELLED")
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Bintang Ceria//Jadwal konseling//ID", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VTIMEZONE", f"TZID:{zone}",
        "BEGIN:STANDARD", "DTSTART:19700101T000000", f"TZOFFSETFROM:{offset}", f"TZOFFSETTO:{offset}",
        f"TZNAME:{zone_name()}",
        "END:STANDARD", "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"UID:appointment-{appointment.id}@bintang-ceria",
        f"DTSTAMP:{appointment.updated_at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART;TZID={zone}:{local(appointment.starts_at)}",
        f"DTEND;TZID={zone}:{local(appointment.ends_at)}",
        f"SUMMARY:{_ics_text(_('Jadwal konseling'))}",
        f"STATUS:{event_status}",
        f"SEQUENCE:{appointment.version}",
        f"URL:{page_url}",
    ]
    if service_type.place and service_type.mode != Mode.PHONE:
        lines.append(f"LOCATION:{_ics_text(service_type.place)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(_ics_fold(line) + "\r\n" for line in lines)
