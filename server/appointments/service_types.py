"""Service types as supervisors edit them: the form with its checks, creating, changing and (de)activating a
type, each with its audit entry in the caller's transaction (the caller commits)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col
from typing_extensions import override

from server import audit
from server.accounts.models import User
from server.appointments.models import Mode, ServiceType
from server.forms import PostedForm, bounded_int, posted
from server.i18n import gettext as _

SERVICE_TYPE_NUMBERS = {
    "duration_minutes": (15, 480),
    "buffer_before_minutes": (0, 240),
    "buffer_after_minutes": (0, 240),
    "min_notice_hours": (0, 720),
    "max_days_ahead": (1, 365),
}


@dataclass
class ServiceTypeForm(PostedForm):
    MULTILINE = frozenset({"description"})

    name: str = ""
    description: str = ""
    duration_minutes: str = "60"
    mode: str = Mode.FACE_TO_FACE.value
    place: str = ""
    buffer_before_minutes: str = "0"
    buffer_after_minutes: str = "15"
    min_notice_hours: str = "24"
    max_days_ahead: str = "30"
    needs_confirmation: str = "1"
    numbers: dict[str, int] = posted({}, read=False)  # the numbers once checked

    @override
    def read(self, data: dict[str, Any]) -> None:
        self.needs_confirmation = "1" if self.needs_confirmation == "1" else ""

    @classmethod
    def of(cls, service_type: ServiceType) -> ServiceTypeForm:
        values: dict[str, Any] = {f.name: str(getattr(service_type, f.name)) for f in fields(cls) if f.name not in
                  ("numbers", "needs_confirmation")}
        return cls(**values, needs_confirmation="1" if service_type.needs_confirmation else "")

    def check(self) -> dict[str, str]:
        errors: dict[str, str] = dict(self.unreadable)
        if not self.name:
            errors["name"] = _("Tulis nama layanan.")
        elif len(self.name) > 80:
            errors["name"] = _("Nama terlalu panjang: paling banyak %(n)s huruf.", n=80)
        if len(self.description) > 300:
            errors["description"] = _("Keterangan terlalu panjang: paling banyak %(n)s huruf.", n=300)
        for name, (low, high) in SERVICE_TYPE_NUMBERS.items():
            number = bounded_int(getattr(self, name))
            if number is None or not low <= number <= high:
                errors[name] = _("Tulis angka dari %(low)s sampai %(high)s.", low=low, high=high)
            else:
                self.numbers[name] = number
        if ("min_notice_hours" in self.numbers and "max_days_ahead" in self.numbers
                and self.numbers["max_days_ahead"] * 24 <= self.numbers["min_notice_hours"]):
            errors["max_days_ahead"] = _("Harus lebih jauh dari pemberitahuan minimal, kalau tidak tidak ada waktu "
                                         "yang bisa dipesan.")
        if self.mode not in set(Mode):
            errors["mode"] = _("Pilih cara konseling.")
        elif len(self.place) > 200:
            errors["place"] = _("Terlalu panjang: paling banyak %(n)s huruf.", n=200)
        elif self.mode == Mode.FACE_TO_FACE and not self.place:
            errors["place"] = _("Tulis tempat konseling tatap muka.")
        elif self.mode == Mode.ONLINE and not self.place.startswith("https://"):
            errors["place"] = _("Tulis tautan panggilan video, mulai dengan https://")
        return errors

    def apply(self, service_type: ServiceType) -> None:
        service_type.name, service_type.description = self.name, self.description
        service_type.mode, service_type.place = self.mode, self.place
        for name, number in self.numbers.items():
            setattr(service_type, name, number)
        service_type.needs_confirmation = self.needs_confirmation == "1"

    def changes(self) -> dict[str, Any]:
        """What the audit entry records."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "numbers"}


def create_service_type(session: Session, actor: User, form: ServiceTypeForm, *, ip: str) -> ServiceType:
    """A new service type from a form that checked without errors."""
    service_type = ServiceType(name="")
    form.apply(service_type)
    session.add(service_type)
    session.flush()
    audit.record(session, "service_type.created", actor_id=actor.id, actor_label=actor.username,
                 object_type="service_type", object_id=service_type.id, ip=ip, **form.changes())
    return service_type


def update_service_type(session: Session, actor: User, service_type: ServiceType, form: ServiceTypeForm, *,
                        ip: str) -> None:
    """Change a service type to a form that checked without errors; the audit entry names the fields changed."""
    before = ServiceTypeForm.of(service_type).changes()
    form.apply(service_type)
    changed = {name: value for name, value in form.changes().items() if before.get(name) != value}
    audit.record(session, "service_type.updated", actor_id=actor.id, actor_label=actor.username,
                 object_type="service_type", object_id=service_type.id, ip=ip, **changed)


def set_active(session: Session, actor: User, service_type: ServiceType, active: bool, *, ip: str) -> None:
    """An inactive type is no longer offered for booking (service.active_service_types)."""
    service_type.active = active
    audit.record(session, "service_type.activated" if active else "service_type.deactivated",
                 actor_id=actor.id, actor_label=actor.username, object_type="service_type",
                 object_id=service_type.id, ip=ip)


def all_service_types(session: Session) -> list[ServiceType]:
    """Every service type, the active ones first, by name (the supervisors' list)."""
    return list(session.execute(
        select(ServiceType).order_by(col(ServiceType.active).desc(), col(ServiceType.name))).scalars())


def service_type_or_none(session: Session, service_type_id: int) -> ServiceType | None:
    return session.get(ServiceType, service_type_id)
