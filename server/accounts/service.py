"""Account rules: signing in (with growing delays after wrong passwords), creating people, changing passwords."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from server import audit, clock, ratelimit, telemetry
from server.accounts import auth, two_factor
from server.accounts.models import Child, District, Guardianship, Role, School, User
from server.forms import has_control_characters, unreadable_message, without_control_characters
from server.i18n import gettext as _
from server.settings import Settings

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")


@dataclass
class SignIn:
    """What a sign-in step came to: `user` signed in; or `pending_token` for a browser that still owes its
    second step; or `error` (with `limited` inside a wait, `refused` for staff whose grace period is over)."""

    user: User | None = None
    error: str | None = None
    limited: bool = False
    refused: bool = False
    pending_token: str | None = None
    # Signed in, but two-factor sign-in is required and not set up yet: go and set it up now.
    enrol: bool = False


def normalise_username(username: str) -> str:
    return username.strip().lower()


def login_backoffs(settings: Settings) -> tuple[ratelimit.Backoff, ratelimit.Backoff]:
    """How wrong passwords slow the next attempt down: per account, and per client address."""
    memory = timedelta(hours=settings.login_forget_hours)
    cap = settings.login_max_delay_minutes * 60
    return (
        ratelimit.Backoff(settings.login_limit_per_account, settings.login_delay_seconds, cap, memory),
        ratelimit.Backoff(settings.login_limit_per_address, settings.login_delay_seconds, cap, memory),
    )


def _account_key(username: str) -> str:
    return f"signin:account:{username}"


# Refused attempts (inside a wait) are audited once per key and window, not once each.
LIMITED_AUDIT_WINDOW = timedelta(minutes=15)


def _address_key(ip: str) -> str:
    return f"signin:address:{ip}"


def wait_message(seconds: int) -> str:
    return _("Terlalu banyak percobaan masuk. Demi keamanan, coba lagi dalam %(seconds)s detik.", seconds=seconds)


def seconds_to_wait(session: Session, *, account_key: str, ip: str, now: datetime) -> int:
    """How long the next attempt at `account_key` from `ip` must wait; an attempt inside the wait is answered
    without looking at what was typed, so it is not a guess and does not count."""
    return ratelimit.wait_left(session, [account_key, _address_key(ip)], now)


def count_failure(session: Session, settings: Settings, *, account_key: str, ip: str, now: datetime) -> None:
    per_account, per_address = login_backoffs(settings)
    ratelimit.record_failure(session, account_key, per_account, now)
    ratelimit.record_failure(session, _address_key(ip), per_address, now)


def sign_in(session: Session, settings: Settings, *, username: str, password: str, ip: str,
            next_url: str = "", now: datetime | None = None) -> SignIn:
    """Check a password, within the growing delays. A failure never tells whether the account exists.

    With the right password, an account with two-factor sign-in is only half signed in (`pending_token`);
    staff who must have it and do not are signed in and sent to set it up, or, in production after the grace
    period, refused."""
    now = now or clock.now()
    username = normalise_username(username)
    # PostgreSQL refuses NUL in a query: the delays count the name without what no one can type.
    account_key = _account_key(without_control_characters(username))
    if wait := seconds_to_wait(session, account_key=account_key, ip=ip, now=now):
        # A flood of attempts inside the waits is one audit entry per account and address each quarter hour.
        if ratelimit.first_refusal(session, f"{account_key}|{ip}", LIMITED_AUDIT_WINDOW, now):
            audit.record(session, "signin.limited", ip=ip)
        session.commit()
        return SignIn(error=wait_message(wait), limited=True)
    # No account's name holds a control character (and PostgreSQL refuses NUL in a query): no such account.
    user = None if has_control_characters(username) else session.execute(
        select(User).where(User.username == username)).scalar_one_or_none()
    password_ok = auth.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        count_failure(session, settings, account_key=account_key, ip=ip, now=now)
        # What was typed for an unknown account is not kept: it may be a password typed into the wrong field.
        telemetry.sign_in_failed("password")
        audit.record(session, "signin.failed", actor_id=user.id if user else None,
                     actor_label=user.username if user else "(unknown)", ip=ip)
        session.commit()
        return SignIn(error=_("Nama pengguna atau kata sandi salah."))
    if auth.needs_rehash(user.password_hash):
        user.password_hash = auth.hash_password(password)
    ratelimit.clear(session, account_key)
    if user.has_two_factor:
        token = two_factor.start_pending(session, user, next_url=next_url, now=now)
        audit.record(session, "signin.password_accepted", actor_id=user.id, actor_label=user.username, ip=ip)
        return SignIn(pending_token=token)
    requirement = two_factor.requirement_for(session, settings, user)
    if requirement.required and settings.is_production and now >= requirement.grace_ends:
        audit.record(session, "signin.two_factor_missing", actor_id=user.id, actor_label=user.username, ip=ip)
        return SignIn(refused=True, error=_(
            "Akun Anda wajib memakai verifikasi dua langkah, tetapi belum dipasang dan masa tenggangnya sudah "
            "habis. Minta supervisor layanan mengatur ulang verifikasi dua langkah akun Anda (jika Anda "
            "supervisor, minta supervisor lain). Setelah itu Anda bisa masuk dan langsung memasangnya."
        ))
    return _signed_in(session, user, ip=ip, now=now, enrol=requirement.required)


def _signed_in(
    session: Session, user: User, *, ip: str, now: datetime, enrol: bool = False, **detail: object
) -> SignIn:
    user.last_sign_in_at = now
    session.add(user)
    audit.record(session, "signin.succeeded", actor_id=user.id, actor_label=user.username, ip=ip, **detail)
    return SignIn(user=user, enrol=enrol)


def _code_key(user: User) -> str:
    return f"signin:code:{user.id}"


def sign_in_second_step(
    session: Session, settings: Settings, *, token: str | None, code: str, ip: str, now: datetime | None = None
) -> tuple[SignIn, str | None]:
    """Check the code from the app, or a recovery code, for a browser half signed in. Returns the outcome and
    where to go next (None when there is no recent password step: start again). Wrong codes slow the next
    attempt down like wrong passwords do."""
    now = now or clock.now()
    found = two_factor.pending_user(session, token, now)
    if found is None:
        return SignIn(error=_("Waktu untuk memasukkan kode sudah habis. Masuk lagi dari awal.")), None
    pending, user = found
    code_key = _code_key(user)
    if wait := seconds_to_wait(session, account_key=code_key, ip=ip, now=now):
        audit.record(session, "signin.limited", actor_id=user.id, actor_label=user.username, ip=ip)
        session.commit()
        return SignIn(error=wait_message(wait), limited=True), pending.next_url
    typed = two_factor.normalise(code)
    if two_factor.accept_code(session, user, typed, now):
        used_recovery = False
    elif two_factor.is_recovery_code_shape(typed) and two_factor.use_recovery_code(session, user, typed, now):
        used_recovery = True
    else:
        count_failure(session, settings, account_key=code_key, ip=ip, now=now)
        telemetry.sign_in_failed("two_factor")
        audit.record(session, "signin.code_failed", actor_id=user.id, actor_label=user.username, ip=ip)
        session.commit()
        return SignIn(error=_("Kode salah atau sudah dipakai. Periksa aplikasi autentikator lalu coba lagi.")), \
            pending.next_url
    ratelimit.clear(session, code_key)
    if token:
        two_factor.end_pending(session, token)
    if used_recovery:
        audit.record(session, "account.recovery_code_used", actor_id=user.id, actor_label=user.username,
                     object_type="user", object_id=user.id, ip=ip,
                     left=two_factor.recovery_codes_left(session, user.id))
    return _signed_in(session, user, ip=ip, now=now, second_step="recovery_code" if used_recovery else "app"), \
        pending.next_url


@dataclass
class Enrolment:
    errors: dict[str, str] = field(default_factory=dict)
    recovery_codes: list[str] = field(default_factory=list)


def enrol_two_factor(session: Session, user: User, *, secret: str, code: str, ip: str,
                     now: datetime | None = None) -> Enrolment:
    """Turn two-factor sign-in on once a code from the app proves the secret was saved there; returns the ten
    recovery codes, to be shown once."""
    now = now or clock.now()
    if not user.is_staff:
        return Enrolment({"form": _("Verifikasi dua langkah hanya untuk konselor dan supervisor.")})
    if user.has_two_factor:
        return Enrolment({"form": _("Verifikasi dua langkah sudah aktif untuk akun ini.")})
    if not two_factor.is_secret(secret):
        return Enrolment({"form": _(
            "Halaman ini sudah kedaluwarsa. Muat ulang halamannya lalu pindai kode QR yang baru."
        )})
    step = two_factor.matching_step(secret, two_factor.normalise(code), now)
    if step is None:
        return Enrolment({"code": _(
            "Kode tidak cocok. Tulis 6 angka yang sedang tampil di aplikasi autentikator, lalu coba lagi."
        )})
    codes = two_factor.enable(session, user, secret, step, now)
    audit.record(session, "account.two_factor_enabled", actor_id=user.id, actor_label=user.username,
                 object_type="user", object_id=user.id, ip=ip)
    return Enrolment(recovery_codes=codes)


def disable_own_two_factor(session: Session, settings: Settings, user: User, *, password: str, ip: str,
                           now: datetime | None = None) -> PasswordChange:
    """Turn one's own two-factor sign-in off, with the password; not while the service requires it."""
    now = now or clock.now()
    if two_factor.requirement_for(session, settings, user).required:
        return PasswordChange({"form": _(
            "Verifikasi dua langkah wajib untuk akun Anda, jadi tidak bisa dimatikan. Jika ponsel Anda hilang, "
            "minta supervisor layanan mengatur ulang."
        )})
    account_key = _account_key(user.username)
    if wait := seconds_to_wait(session, account_key=account_key, ip=ip, now=now):
        audit.record(session, "signin.limited", actor_id=user.id, actor_label=user.username, ip=ip)
        session.commit()
        return PasswordChange({"form": wait_message(wait)}, limited=True)
    if not auth.verify_password(user.password_hash, password):
        count_failure(session, settings, account_key=account_key, ip=ip, now=now)
        session.commit()
        return PasswordChange({"password": _("Kata sandi salah.")})
    two_factor.disable(session, user)
    audit.record(session, "account.two_factor_disabled", actor_id=user.id, actor_label=user.username,
                 object_type="user", object_id=user.id, ip=ip)
    return PasswordChange()


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
    elif has_control_characters(form.display_name):
        errors["display_name"] = unreadable_message()
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


@dataclass
class PasswordChange:
    errors: dict[str, str] = field(default_factory=dict)
    limited: bool = False


def change_password(
    session: Session, settings: Settings, user: User, *, current: str, new: str, repeat: str, ip: str,
    now: datetime | None = None,
) -> PasswordChange:
    """Change a password. A new password ends every session of the account; the caller starts a new one.

    The current password is a guess like one at sign-in (a stolen session must not become a way to guess it
    without delays), so a wrong one counts toward the same delays, and inside a delay it is not checked."""
    now = now or clock.now()
    account_key = _account_key(user.username)
    if wait := seconds_to_wait(session, account_key=account_key, ip=ip, now=now):
        audit.record(session, "signin.limited", actor_id=user.id, actor_label=user.username, ip=ip)
        session.commit()
        return PasswordChange({"form": wait_message(wait)}, limited=True)
    errors: dict[str, str] = {}
    if not auth.verify_password(user.password_hash, current):
        errors["current"] = _("Kata sandi sekarang salah.")
        count_failure(session, settings, account_key=account_key, ip=ip, now=now)
        audit.record(session, "account.password_change_failed", actor_id=user.id, actor_label=user.username,
                     object_type="user", object_id=user.id, ip=ip)
        session.commit()
    if problem := auth.password_problem(new, username=user.username):
        errors["new"] = problem
    elif new != repeat:
        errors["repeat"] = _("Kedua kata sandi baru tidak sama.")
    if not errors:
        user.password_hash = auth.hash_password(new)
        session.add(user)
        auth.end_all_sessions(session, user.id)
        ratelimit.clear(session, account_key)
        audit.record(session, "account.password_changed", actor_id=user.id, actor_label=user.username,
                     object_type="user", object_id=user.id, ip=ip)
    return PasswordChange(errors)


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
