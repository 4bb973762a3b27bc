"""Account rules: signing in (with attempt limits), creating people, changing passwords."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from server import audit, ratelimit
from server.accounts import auth
from server.accounts.models import Child, District, Guardianship, Role, School, User
from server.db import utcnow
from server.i18n import gettext as _
from server.settings import Settings

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")


@dataclass
class SignIn:
    user: User | None = None
    error: str | None = None
    limited: bool = False


def normalise_username(username: str) -> str:
    return username.strip().lower()


def sign_in(session: Session, settings: Settings, *, username: str, password: str, ip: str) -> SignIn:
    """Check a password within the attempt limits. A failure never tells whether the account exists."""
    username = normalise_username(username)
    window = timedelta(minutes=settings.login_window_minutes)
    account_key, address_key = f"signin:account:{username}", f"signin:address:{ip}"
    limited_key = (account_key if ratelimit.is_over(session, account_key, settings.login_limit_per_account, window)
                   else address_key if ratelimit.is_over(session, address_key, settings.login_limit_per_address, window)
                   else None)
    if limited_key is not None:
        if ratelimit.first_refusal(session, limited_key, window):
            audit.record(session, "signin.limited", ip=ip)
        session.commit()
        return SignIn(
            error=_(
                "Terlalu banyak percobaan masuk. Demi keamanan, tunggu %(minutes)s menit lalu coba lagi.",
                minutes=settings.login_window_minutes,
            ),
            limited=True,
        )
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    password_ok = auth.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        ratelimit.hit(session, account_key, window)
        ratelimit.hit(session, address_key, window)
        # What was typed for an unknown account is not kept: it may be a password typed into the wrong field.
        audit.record(session, "signin.failed", actor_id=user.id if user else None,
                     actor_label=user.username if user else "(unknown)", ip=ip)
        session.commit()
        return SignIn(error=_("Nama pengguna atau kata sandi salah."))
    if auth.needs_rehash(user.password_hash):
        user.password_hash = auth.hash_password(password)
    user.last_sign_in_at = utcnow()
    ratelimit.reset(session, account_key)
    audit.record(session, "signin", actor_id=user.id, actor_label=user.username, ip=ip)
    return SignIn(user=user)


@dataclass
class UserForm:
    username: str = ""
    display_name: str = ""
    role: str = ""
    school_id: int | None = None
    district_id: int | None = None
    password: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def validate_new_user(session: Session, form: UserForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    form.username = normalise_username(form.username)
    form.display_name = form.display_name.strip()
    if not USERNAME_PATTERN.match(form.username):
        errors["username"] = _(
            "Nama pengguna 3–60 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung."
        )
    elif session.execute(select(User.id).where(User.username == form.username)).first():
        errors["username"] = _("Nama pengguna ini sudah dipakai. Pilih yang lain.")
    if not form.display_name:
        errors["display_name"] = _("Tulis nama yang ditampilkan.")
    elif len(form.display_name) > 80:
        errors["display_name"] = _("Nama paling banyak 80 karakter.")
    if form.role not in set(Role):
        errors["role"] = _("Pilih peran.")
    if form.role == Role.TEACHER:
        school = session.get(School, form.school_id) if form.school_id else None
        if school is None or not school.active:
            errors["school_id"] = _("Guru harus terdaftar di sebuah sekolah. Pilih sekolahnya.")
    if form.role == Role.COUNSELOR:
        district = session.get(District, form.district_id) if form.district_id else None
        if district is None or not district.active:
            errors["district_id"] = _("Konselor harus masuk tim sebuah kecamatan. Pilih kecamatannya.")
    # create_user keeps a supervisor's district too; it may be left empty, but never point nowhere.
    if form.role == Role.SUPERVISOR and form.district_id is not None:
        district = session.get(District, form.district_id)
        if district is None or not district.active:
            errors["district_id"] = _("Pilih kecamatan yang masih aktif, atau kosongkan.")
    if problem := auth.password_problem(form.password, username=form.username):
        errors["password"] = problem
    return errors


def create_user(session: Session, form: UserForm) -> User:
    """Create an account from an already validated form."""
    user = User(
        username=normalise_username(form.username),
        display_name=form.display_name.strip(),
        password_hash=auth.hash_password(form.password),
        role=form.role,
        school_id=form.school_id if form.role == Role.TEACHER else None,
        district_id=form.district_id if form.role in (Role.COUNSELOR, Role.SUPERVISOR) else None,
    )
    session.add(user)
    session.flush()
    return user


def change_password(
    session: Session, user: User, *, current: str, new: str, repeat: str, ip: str
) -> dict[str, str]:
    """Change a password. A new password ends every session of the account; the caller starts a new one."""
    errors: dict[str, str] = {}
    if not auth.verify_password(user.password_hash, current):
        errors["current"] = _("Kata sandi sekarang salah.")
    if problem := auth.password_problem(new, username=user.username):
        errors["new"] = problem
    elif new != repeat:
        errors["repeat"] = _("Kedua kata sandi baru tidak sama.")
    if not errors:
        user.password_hash = auth.hash_password(new)
        session.add(user)
        auth.end_all_sessions(session, user.id)
        audit.record(session, "account.password_changed", actor_id=user.id, actor_label=user.username,
                     object_type="user", object_id=user.id, ip=ip)
    return errors


def add_child(session: Session, parent: User, *, nickname: str, birth_year: int | None, school_id: int | None,
              relation: str = "wali") -> Child:
    child = Child(nickname=nickname.strip(), birth_year=birth_year, school_id=school_id)
    session.add(child)
    session.flush()
    session.add(Guardianship(parent_id=parent.id, child_id=child.id, relation=relation))
    return child


def children_of(session: Session, parent_id: int) -> list[Child]:
    return list(
        session.execute(
            select(Child).join(Guardianship, Guardianship.child_id == Child.id).where(Guardianship.parent_id == parent_id)
            .order_by(Child.nickname)
        ).scalars()
    )


def count_users(session: Session) -> int:
    return session.execute(select(func.count()).select_from(User)).scalar_one()
