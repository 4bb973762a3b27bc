"""Supervisor rules: people, schools, districts, the service's settings, and reading the audit log.

Each change writes its audit entry in the caller's transaction and leaves the commit to the caller, so the
change and its entry land together or not at all. Account rules (who may be created, with which password)
stay in accounts/service.py; this module adds only what is a supervisor's business.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from server import audit, clock, service_info
from server.accounts import auth, two_factor
from server.accounts import service as accounts
from server.accounts.models import Child, District, Role, School, User
from server.forms import PostedForm, posted, text_error, to_id
from server.i18n import gettext as _
from server.i18n import lazy_gettext as _l
from server.i18n import local
from server.models import AuditEntry
from server.service_info import ServiceInfo

PAGE_SIZE = 50
T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """The supervisor making a change, as the audit log records them."""

    user_id: int
    username: str
    ip: str


def _record(
    session: Session, actor: Actor, action: str, object_type: str, object_id: object, **detail: object
) -> None:
    audit.record(
        session,
        f"admin.{action}",
        actor_id=actor.user_id,
        actor_label=actor.username,
        object_type=object_type,
        object_id=object_id,
        ip=actor.ip,
        **detail,
    )


@dataclass
class Page(Generic[T]):
    """One page of a list read by keyset: `cursor` is the id to continue from, None on the last page."""

    items: list[T]
    cursor: int | None


def _page(rows: list[T], cursor_of: Callable[[T], int | None]) -> Page[T]:
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        return Page(rows, cursor_of(rows[-1]))
    return Page(rows, None)


# --- people ------------------------------------------------------------------------------------------------


def role_filter(value: str | None) -> Role | None:
    return Role(value) if value in set(Role) else None


def users_page(session: Session, *, role: Role | None, after: int | None) -> Page[User]:
    """People in the order they were added; by id, so a page costs the same however many there are."""
    query = select(User).order_by(col(User.id)).limit(PAGE_SIZE + 1)
    if role is not None:
        query = query.where(col(User.role) == role)
    if after is not None:
        query = query.where(col(User.id) > after)
    return _page(list(session.execute(query).scalars()), lambda user: user.id)


# The order of the fields on the form, so the error summary lists problems in the order they appear.
USER_FIELDS = ("display_name", "username", "role", "school_id", "district_id", "password")


def create_user(session: Session, form: accounts.UserForm, actor: Actor) -> User | None:
    """Create an account, or fill `form.errors` and return None."""
    errors = accounts.validate_new_user(session, form)
    position = {name: n for n, name in enumerate(USER_FIELDS)}
    form.errors = dict(sorted(errors.items(), key=lambda item: position.get(item[0], len(USER_FIELDS))))
    if form.errors:
        return None
    try:
        user = accounts.create_user(session, form)
    except IntegrityError:
        # Someone took the name between the check and the insert; nothing else is in this transaction.
        session.rollback()
        form.errors = {"username": _("Nama pengguna ini sudah dipakai. Pilih yang lain.")}
        return None
    _record(session, actor, "user_created", "user", user.id, role=user.role)
    return user


def set_user_active(session: Session, user: User, *, active: bool, actor: Actor) -> str | None:
    """Deactivate or reactivate an account; returns why not, if it may not be done.

    Deactivating ends every session the person has, so it takes effect on their next click, not at the end
    of their session. A supervisor cannot lock themselves out, which also keeps at least one supervisor."""
    if not active and user.id == actor.user_id:
        return _("Anda tidak bisa menonaktifkan akun Anda sendiri. Minta supervisor lain melakukannya.")
    if user.active == active:
        return None
    user.active = active
    session.add(user)
    if not active:
        auth.end_all_sessions(session, user.id)
    _record(session, actor, "user_reactivated" if active else "user_deactivated", "user", user.id)
    return None


RELATIONS = {"ibu": _l("Ibu"), "ayah": _l("Ayah"), "wali": _l("Wali lainnya")}
OLDEST_CHILD_AGE = 18


@dataclass
class ChildForm(PostedForm):
    """A child linked to a parent's account, as the supervisor typed it."""

    nickname: str = ""
    birth_year: str = ""
    school_id: str = ""
    relation: str = ""
    errors: dict[str, str] = posted({}, read=False)


def validate_child(session: Session, parent: User, form: ChildForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    form.nickname = form.nickname.strip()
    form.birth_year = form.birth_year.strip()
    if parent.role != Role.PARENT:
        errors["form"] = _("Anak hanya bisa dihubungkan dengan akun orang tua atau wali.")
    if error := text_error(form.nickname, limit=60, required=_("Tulis nama panggilan anak."),
                           too_long=_("Nama panggilan paling banyak 60 karakter.")):
        errors["nickname"] = error
    this_year = local(clock.now()).year
    if not (form.birth_year.isdigit() and this_year - OLDEST_CHILD_AGE <= int(form.birth_year) <= this_year):
        errors["birth_year"] = _(
            "Tulis tahun lahir dengan 4 angka, antara %(first)s dan %(last)s.",
            first=this_year - OLDEST_CHILD_AGE,
            last=this_year,
        )
    if form.school_id:
        school = session.get(School, to_id(form.school_id) or 0)
        if school is None or not school.active:
            errors["school_id"] = _("Pilih sekolah dari daftar, atau kosongkan jika anak tidak bersekolah.")
    if form.relation not in RELATIONS:
        errors["relation"] = _("Pilih hubungan orang tua atau wali dengan anak.")
    return errors


def link_child(session: Session, parent: User, form: ChildForm, actor: Actor) -> Child | None:
    """Add a child to a parent's account, or fill `form.errors` and return None."""
    form.errors = validate_child(session, parent, form)
    if form.errors:
        return None
    child = accounts.add_child(
        session,
        parent,
        nickname=form.nickname,
        birth_year=int(form.birth_year),
        school_id=to_id(form.school_id),
        relation=form.relation,
    )
    # The child's name stays out of the audit log: ids are enough to trace the change.
    _record(session, actor, "child_linked", "child", child.id, parent_id=parent.id)
    return child


# --- schools and districts ---------------------------------------------------------------------------------


@dataclass
class PlaceForm(PostedForm):
    """A school (with its district) or a district, as the supervisor typed it."""

    name: str = ""
    district_id: str = ""
    errors: dict[str, str] = posted({}, read=False)


def districts(session: Session, *, active_only: bool = False) -> list[District]:
    query = select(District).order_by(District.name)
    if active_only:
        query = query.where(col(District.active).is_(True))
    return list(session.execute(query).scalars())


def schools(session: Session, *, active_only: bool = False) -> list[tuple[School, District]]:
    query = select(School, District).join(District, col(District.id) == col(School.district_id)).order_by(
        School.name, District.name
    )
    if active_only:
        query = query.where(col(School.active).is_(True))
    return [(school, district) for school, district in session.execute(query).all()]


def school_options(session: Session) -> list[tuple[int, str]]:
    """Schools a person can be placed in now: active ones, named with their district (names repeat)."""
    return [(school.id, f"{school.name} ({district.name})") for school, district in schools(session, active_only=True)]


def _clean_name(value: str) -> str:
    return " ".join(value.split())


def _name_problem(name: str, longest: int) -> str | None:
    if not name:
        return _("Tulis namanya.")
    if len(name) > longest:
        return _("Nama paling banyak %(n)s karakter.", n=longest)
    if not name.isprintable():
        return _("Nama hanya boleh berisi huruf, angka, dan tanda baca biasa.")
    return None


def create_district(session: Session, form: PlaceForm, actor: Actor) -> District | None:
    form.name = _clean_name(form.name)
    form.errors = {}
    if problem := _name_problem(form.name, 80):
        form.errors["name"] = problem
    elif session.execute(select(col(District.id)).where(func.lower(col(District.name)) == form.name.lower())).first():
        form.errors["name"] = _("Kecamatan ini sudah ada di daftar.")
    if form.errors:
        return None
    district = District(name=form.name)
    session.add(district)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        form.errors = {"name": _("Kecamatan ini sudah ada di daftar.")}
        return None
    _record(session, actor, "district_created", "district", district.id)
    return district


def create_school(session: Session, form: PlaceForm, actor: Actor) -> School | None:
    form.name = _clean_name(form.name)
    form.errors = {}
    district = session.get(District, to_id(form.district_id) or 0)
    if district is None or not district.active:
        form.errors["district_id"] = _("Pilih kecamatan tempat sekolah ini berada.")
    if problem := _name_problem(form.name, 120):
        form.errors["name"] = problem
    elif district is not None and session.execute(
        select(col(School.id))
        .where(col(School.district_id) == district.id, func.lower(col(School.name)) == form.name.lower())
    ).first():
        form.errors["name"] = _("Sekolah dengan nama ini sudah ada di kecamatan itu.")
    if form.errors or district is None:  # no district without an error
        return None
    school = School(name=form.name, district_id=district.id)
    session.add(school)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        form.errors = {"name": _("Sekolah dengan nama ini sudah ada di kecamatan itu.")}
        return None
    _record(session, actor, "school_created", "school", school.id, district_id=district.id)
    return school


def set_place_active(session: Session, place: School | District, *, active: bool, actor: Actor) -> None:
    """Deactivate or reactivate a school or district. Nothing is deleted: people and reports keep pointing at
    it; it just can no longer be chosen for someone new."""
    if place.active == active:
        return
    place.active = active
    session.add(place)
    kind = "school" if isinstance(place, School) else "district"
    _record(session, actor, f"{kind}_{'reactivated' if active else 'deactivated'}", kind, place.id)


# --- service settings --------------------------------------------------------------------------------------

PHONE_SEPARATORS = re.compile(r"[\s().-]")
PHONE_NUMBER = re.compile(r"^\+?[0-9]{3,15}$")
WHATSAPP_NUMBER = re.compile(r"^08[0-9]{8,11}$")
REQUIRED_NUMBERS = ("emergency_number", "sapa_number")
SERVICE_FIELDS = tuple(f.name for f in fields(ServiceInfo))


def service_form(session: Session) -> dict[str, str]:
    info = service_info.load(session)
    return {name: getattr(info, name) for name in SERVICE_FIELDS}


def _phone(value: str) -> str:
    return PHONE_SEPARATORS.sub("", value)


def _whatsapp(value: str) -> str:
    """WhatsApp numbers are kept in the national form (08…), which the emergency box turns into a wa.me link."""
    number = _phone(value)
    for prefix in ("+62", "62"):
        if number.startswith(prefix + "8"):
            return "0" + number.removeprefix(prefix)
    return number


def validate_service_info(values: dict[str, str]) -> tuple[ServiceInfo | None, dict[str, str]]:
    """The settings as typed, cleaned, and the problems with them. Returns the ServiceInfo only when valid."""
    errors: dict[str, str] = {}
    for name in ("service_name", "city_name"):
        values[name] = _clean_name(values.get(name, ""))
    if problem := _name_problem(values["service_name"], 60):
        errors["service_name"] = problem
    elif service_info.reveals(values["service_name"]):
        errors["service_name"] = _(
            "Nama layanan tampil di judul setiap halaman dan bisa terlihat orang lain. "
            "Pakai nama yang tidak menyebut kekerasan."
        )
    if problem := _name_problem(values["city_name"], 80):
        errors["city_name"] = problem
    for name in ("emergency_number", "sapa_number", "city_hotline"):
        values[name] = _phone(values.get(name, ""))
        if not values[name] and name not in REQUIRED_NUMBERS:
            continue
        if not PHONE_NUMBER.match(values[name]) or (values[name].startswith("+") and len(values[name]) < 9):
            errors[name] = _(
                "Tulis nomor telepon dengan angka saja, boleh diawali +, panjangnya 3 sampai 15 angka."
            )
    values["sapa_whatsapp"] = _whatsapp(values.get("sapa_whatsapp", ""))
    if values["sapa_whatsapp"] and not WHATSAPP_NUMBER.match(values["sapa_whatsapp"]):
        errors["sapa_whatsapp"] = _(
            "Tulis nomor WhatsApp Indonesia, misalnya 08111129129 atau +628111129129, atau kosongkan."
        )
    # A checkbox: sent when ticked, absent when not.
    values["closed_on_cuti_bersama"] = "1" if values.get("closed_on_cuti_bersama") in ("1", "on") else "0"
    if errors:
        return None, errors
    return ServiceInfo(**{name: values[name] for name in SERVICE_FIELDS}), {}


def save_service_info(session: Session, values: dict[str, str], actor: Actor) -> dict[str, str]:
    """Save the settings if they are valid; the audit entry names the fields that changed, old and new."""
    info, errors = validate_service_info(values)
    if info is None:
        return errors
    before = service_info.load(session)
    changed = {
        name: [getattr(before, name), getattr(info, name)]
        for name in SERVICE_FIELDS
        if getattr(before, name) != getattr(info, name)
    }
    if changed:
        service_info.save(session, info)
        _record(session, actor, "service_settings_changed", "service", "", changed=changed)
    return {}


# --- two-factor sign-in ----------------------------------------------------------------------------------


def set_two_factor_required(session: Session, required: bool, actor: Actor, now: datetime | None = None) -> None:
    """Require two-factor sign-in of every counselor and supervisor (or stop requiring it). Switching it on
    starts everyone's grace period now."""
    if (two_factor.required_since(session) is not None) == required:
        return
    two_factor.set_required(session, required, now or clock.now())
    _record(session, actor, "two_factor_required" if required else "two_factor_not_required", "service", "")


def reset_two_factor(session: Session, person: User, actor: Actor, now: datetime | None = None) -> str | None:
    """Take away a staff member's two-factor sign-in (a lost phone): they sign in with their password and set it
    up again within a new grace period. Their sessions end, as a thief's might be among them."""
    if person.id == actor.user_id:
        return _("Anda tidak bisa mengatur ulang verifikasi dua langkah Anda sendiri. Minta supervisor lain.")
    if not person.is_staff:
        return _("Verifikasi dua langkah hanya untuk konselor dan supervisor.")
    two_factor.disable(session, person, reset_at=now or clock.now())
    auth.end_all_sessions(session, person.id)
    _record(session, actor, "two_factor_reset", "user", person.id)
    return None


# --- the audit log -----------------------------------------------------------------------------------------

# Entries are never rewritten (the log is append-only), so entries written before the action names took one
# style (object.what_happened, in the past tense) keep their old names and are shown under the new ones.
FORMER_NAMES = {
    "signin": "signin.succeeded",
    "signin.password_ok": "signin.password_accepted",
    "report.status": "report.status_changed",
    "report.check_in_plan": "report.check_in_planned",
    "user.created": "admin.user_created",
}

ACTION_LABELS = {
    "signin.succeeded": _l("Masuk"),
    "signin.failed": _l("Gagal masuk"),
    "signin.limited": _l("Masuk ditahan (terlalu banyak percobaan)"),
    "signin.password_accepted": _l("Kata sandi benar, menunggu kode"),
    "signin.code_failed": _l("Kode verifikasi dua langkah salah"),
    "signin.two_factor_missing": _l("Masuk ditolak (verifikasi dua langkah belum dipasang)"),
    "account.password_changed": _l("Kata sandi diganti"),
    "account.password_change_failed": _l("Ganti kata sandi gagal (kata sandi sekarang salah)"),
    "account.two_factor_enabled": _l("Verifikasi dua langkah diaktifkan"),
    "account.two_factor_disabled": _l("Verifikasi dua langkah dimatikan"),
    "account.recovery_code_used": _l("Kode cadangan dipakai untuk masuk"),
    "account.passkey_added": _l("Passkey didaftarkan"),
    "account.passkey_used": _l("Passkey dipakai untuk masuk"),
    "account.passkey_removed": _l("Passkey dihapus"),
    "signin.passkey_failed": _l("Passkey ditolak saat masuk"),
    "account.setup_completed": _l("Akun disiapkan lewat tautan sekali pakai (kata sandi dan verifikasi dua langkah)"),
    "account.setup_link_refused": _l("Tautan penyiapan akun yang sudah tidak berlaku dibuka"),
    "admin.setup_link_created": _l("Tautan sekali pakai untuk menyiapkan akun supervisor dibuat"),
    "admin.two_factor_reset": _l("Verifikasi dua langkah diatur ulang"),
    "admin.two_factor_required": _l("Verifikasi dua langkah diwajibkan untuk semua staf"),
    "admin.two_factor_not_required": _l("Verifikasi dua langkah tidak lagi diwajibkan"),
    "admin.user_created": _l("Akun dibuat"),
    "admin.user_deactivated": _l("Akun dinonaktifkan"),
    "admin.user_reactivated": _l("Akun diaktifkan kembali"),
    "admin.child_linked": _l("Anak dihubungkan dengan orang tua"),
    "admin.school_created": _l("Sekolah ditambahkan"),
    "admin.school_deactivated": _l("Sekolah dinonaktifkan"),
    "admin.school_reactivated": _l("Sekolah diaktifkan kembali"),
    "admin.district_created": _l("Kecamatan ditambahkan"),
    "admin.district_deactivated": _l("Kecamatan dinonaktifkan"),
    "admin.district_reactivated": _l("Kecamatan diaktifkan kembali"),
    "admin.service_settings_changed": _l("Pengaturan layanan diubah"),
    "database.restored": _l("Basis data dipulihkan dari cadangan"),
}

OBJECT_LABELS = {
    "user": _l("Pengguna"),
    "child": _l("Anak"),
    "school": _l("Sekolah"),
    "district": _l("Kecamatan"),
    "service": _l("Layanan"),
}


def action_label(action: str) -> str:
    """Known actions in words; an action added by a later domain shows as its code until it is named here."""
    current = FORMER_NAMES.get(action, action)
    return str(ACTION_LABELS.get(current, current))


def object_label(object_type: str) -> str:
    return str(OBJECT_LABELS.get(object_type, object_type))


def audit_page(session: Session, *, before: int | None) -> Page[AuditEntry]:
    """Newest first, by id: entries are only ever appended, so ids follow time."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(PAGE_SIZE + 1)
    if before is not None:
        query = query.where(col(AuditEntry.id) < before)
    return _page(list(session.execute(query).scalars()), lambda entry: entry.id)
