"""Account rules: signing in (with growing delays after wrong passwords), creating people, changing passwords."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from server import audit, clock, ratelimit, telemetry
from server.accounts import auth, two_factor
from server.accounts.models import Child, District, Guardianship, Role, School, SetupLink, User
from server.db import rows_changed
from server.forms import PostedForm, has_control_characters, one, posted, text_error, to_id, without_control_characters
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
    # Signed in: the browser's device cookie from now on (it knows this account, see ratelimit.Guesses).
    device_cookie: str | None = None


def normalise_username(username: str) -> str:
    return username.strip().lower()


def login_guesses(settings: Settings) -> ratelimit.Guesses:
    """How wrong passwords and sign-in codes slow the next attempt down: per account and client (its address,
    or a device that signed in to the account before), per address across accounts, and, once as many unknown
    clients have failed at one account as one address may fail across accounts, one guess per unknown client
    and cap."""
    memory = timedelta(hours=settings.login_forget_hours)
    cap = settings.login_max_delay_minutes * 60
    return ratelimit.Guesses(
        per_client=ratelimit.Backoff(settings.login_limit_per_account, settings.login_delay_seconds, cap, memory),
        per_address=ratelimit.Backoff(settings.login_limit_per_address, settings.login_delay_seconds, cap, memory),
        crowded=settings.login_limit_per_address,
    )


def _account_key(username: str) -> str:
    # No account's name is longer than 60; a longer one typed at sign-in needs no key of its own.
    return f"signin:account:{username[:61]}"


# Refused attempts (inside a wait) are audited once per key and window, not once each.
LIMITED_AUDIT_WINDOW = timedelta(minutes=15)


def _address_key(ip: str) -> str:
    return f"signin:address:{ip}"


def wait_message(seconds: int) -> str:
    return _("Terlalu banyak percobaan masuk. Demi keamanan, coba lagi dalam %(seconds)s detik.", seconds=seconds)


def guesser(settings: Settings, *, username: str, ip: str, device_cookie: str | None,
            secret: str | None = None) -> ratelimit.Guesser:
    """Who is guessing at `username`'s password (or, with `secret`, at another of its secrets, such as its
    sign-in codes): this address, or this browser if it signed in to the account before."""
    account_key = _account_key(username)
    device = ratelimit.known_device(device_cookie, secret=account_key, secret_key=settings.secret_key)
    return ratelimit.Guesser(secret=secret or account_key, address_key=_address_key(ip), ip=ip, device=device)


def remembered_device(settings: Settings, user: User, device_cookie: str | None) -> str:
    """The device cookie's value once this browser has signed in to `user`'s account."""
    return ratelimit.remember_device(device_cookie, secret=_account_key(user.username),
                                     secret_key=settings.secret_key)


def _limited(session: Session, who: ratelimit.Guesser, *, ip: str, now: datetime, user: User | None = None) -> None:
    """Audit a refusal inside a wait, once per client and quarter hour however many there are."""
    if ratelimit.first_refusal_of(session, who, LIMITED_AUDIT_WINDOW, now):
        audit.record(session, "signin.limited", actor_id=user.id if user else None,
                     actor_label=user.username if user else "", ip=ip)
    session.commit()


def sign_in(session: Session, settings: Settings, *, username: str, password: str, ip: str,
            next_url: str = "", device_cookie: str | None = None, now: datetime | None = None) -> SignIn:
    """Check a password, within the growing delays. A failure never tells whether the account exists.

    With the right password, an account with two-factor sign-in is only half signed in (`pending_token`);
    staff who must have it and do not are signed in and sent to set it up, or, in production after the grace
    period, refused."""
    now = now or clock.now()
    username = normalise_username(username)
    # PostgreSQL refuses NUL in a query: the delays count the name without what no one can type.
    who = guesser(settings, username=without_control_characters(username), ip=ip, device_cookie=device_cookie)
    if wait := ratelimit.guess_wait(session, who, now):
        _limited(session, who, ip=ip, now=now)
        return SignIn(error=wait_message(wait), limited=True)
    # No account's name holds a control character (and PostgreSQL refuses NUL in a query): no such account.
    user = None if has_control_characters(username) else session.execute(
        select(User).where(col(User.username) == username)).scalar_one_or_none()
    password_ok = auth.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        ratelimit.guess_failed(session, who, login_guesses(settings), now)
        # What was typed for an unknown account is not kept: it may be a password typed into the wrong field.
        telemetry.sign_in_failed("password")
        audit.record(session, "signin.failed", actor_id=user.id if user else None,
                     actor_label=user.username if user else "(unknown)", ip=ip)
        session.commit()
        return SignIn(error=_("Nama pengguna atau kata sandi salah."))
    if auth.needs_rehash(user.password_hash):
        user.password_hash = auth.hash_password(password)
    ratelimit.guess_succeeded(session, who)
    if user.has_two_factor:
        token = two_factor.start_pending(session, user, next_url=next_url, now=now)
        audit.record(session, "signin.password_accepted", actor_id=user.id, actor_label=user.username, ip=ip)
        return SignIn(pending_token=token)
    requirement = two_factor.requirement_for(session, settings, user)
    if requirement.grace_ends is not None and settings.is_production and now >= requirement.grace_ends:
        audit.record(session, "signin.two_factor_missing", actor_id=user.id, actor_label=user.username, ip=ip)
        return SignIn(refused=True, error=_(
            "Akun Anda wajib memakai verifikasi dua langkah, tetapi belum dipasang dan masa tenggangnya sudah "
            "habis. Minta supervisor layanan mengatur ulang verifikasi dua langkah akun Anda (jika Anda "
            "supervisor, minta supervisor lain). Setelah itu Anda bisa masuk dan langsung memasangnya."
        ))
    return _signed_in(session, settings, user, ip=ip, now=now, device_cookie=device_cookie,
                      enrol=requirement.required)


def _signed_in(
    session: Session, settings: Settings, user: User, *, ip: str, now: datetime, device_cookie: str | None,
    enrol: bool = False, **detail: Any
) -> SignIn:
    user.last_sign_in_at = now
    session.add(user)
    audit.record(session, "signin.succeeded", actor_id=user.id, actor_label=user.username, ip=ip, **detail)
    return SignIn(user=user, enrol=enrol, device_cookie=remembered_device(settings, user, device_cookie))


def _code_key(user: User) -> str:
    return f"signin:code:{user.id}"


# What passkeys.py shares with the code step: the same limits, the same way of being signed in.
code_key, limited, signed_in = _code_key, _limited, _signed_in


def sign_in_second_step(
    session: Session, settings: Settings, *, token: str | None, code: str, ip: str,
    device_cookie: str | None = None, now: datetime | None = None
) -> tuple[SignIn, str | None]:
    """Check the code from the app, or a recovery code, for a browser half signed in. Returns the outcome and
    where to go next (None when there is no recent password step: start again). Wrong codes slow the next
    attempt down like wrong passwords do."""
    now = now or clock.now()
    found = two_factor.pending_user(session, token, now)
    if found is None:
        return SignIn(error=_("Waktu untuk memasukkan kode sudah habis. Masuk lagi dari awal.")), None
    pending, user = found
    who = guesser(settings, username=user.username, ip=ip, device_cookie=device_cookie, secret=_code_key(user))
    if wait := ratelimit.guess_wait(session, who, now):
        _limited(session, who, ip=ip, now=now, user=user)
        return SignIn(error=wait_message(wait), limited=True), pending.next_url
    typed = two_factor.normalise(code)
    if two_factor.accept_code(session, user, typed, now):
        used_recovery = False
    elif two_factor.is_recovery_code_shape(typed) and two_factor.use_recovery_code(session, user, typed, now):
        used_recovery = True
    else:
        ratelimit.guess_failed(session, who, login_guesses(settings), now)
        telemetry.sign_in_failed("two_factor")
        audit.record(session, "signin.code_failed", actor_id=user.id, actor_label=user.username, ip=ip)
        session.commit()
        return SignIn(error=_("Kode salah atau sudah dipakai. Periksa aplikasi autentikator lalu coba lagi.")), \
            pending.next_url
    ratelimit.guess_succeeded(session, who)
    if token:
        two_factor.end_pending(session, token)
    if used_recovery:
        audit.record(session, "account.recovery_code_used", actor_id=user.id, actor_label=user.username,
                     object_type="user", object_id=user.id, ip=ip,
                     left=two_factor.recovery_codes_left(session, user.id))
    return _signed_in(session, settings, user, ip=ip, now=now, device_cookie=device_cookie,
                      second_step="recovery_code" if used_recovery else "app"), pending.next_url


@dataclass
class Enrolment:
    errors: dict[str, str] = field(default_factory=dict)
    recovery_codes: list[str] = field(default_factory=list)


def enrol_two_factor(session: Session, user: User, *, secret: str, code: str, ip: str,
                     now: datetime | None = None) -> Enrolment:
    """Turn two-factor sign-in on once a code from the app proves the secret was saved there; returns the ten
    recovery codes, to be shown once. Every session of the account ends: the caller starts a new one."""
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
    # Whoever was signed in with the password alone (on another browser) is signed out: from now on a session
    # of this account has passed both steps. The caller starts a new session for this browser.
    auth.end_all_sessions(session, user.id)
    audit.record(session, "account.two_factor_enabled", actor_id=user.id, actor_label=user.username,
                 object_type="user", object_id=user.id, ip=ip)
    return Enrolment(recovery_codes=codes)


def disable_own_two_factor(session: Session, settings: Settings, user: User, *, password: str, code: str, ip: str,
                           device_cookie: str | None = None, now: datetime | None = None) -> PasswordChange:
    """Turn one's own two-factor sign-in off, with the password and a current code from the app (or a recovery
    code): a session and a password alone, stolen together, must not be enough to remove the second factor.
    Not while the service requires it."""
    now = now or clock.now()
    if two_factor.requirement_for(session, settings, user).required:
        return PasswordChange({"form": _(
            "Verifikasi dua langkah wajib untuk akun Anda, jadi tidak bisa dimatikan. Jika ponsel Anda hilang, "
            "minta supervisor layanan mengatur ulang."
        )})
    proof = check_password_and_code(session, settings, user, password=password, code=code, ip=ip,
                                    device_cookie=device_cookie, now=now)
    if proof.errors:
        return proof
    two_factor.disable(session, user)
    audit.record(session, "account.two_factor_disabled", actor_id=user.id, actor_label=user.username,
                 object_type="user", object_id=user.id, ip=ip)
    return PasswordChange()


def check_password_and_code(session: Session, settings: Settings, user: User, *, password: str, code: str, ip: str,
                            device_cookie: str | None = None, now: datetime | None = None) -> PasswordChange:
    """The account's password and a current code from the app (or a recovery code, spent), with the sign-in
    limits; what turning two-factor sign-in off and adding a passkey ask. Errors are committed (the counts)."""
    now = now or clock.now()
    who = guesser(settings, username=user.username, ip=ip, device_cookie=device_cookie)
    code_who = guesser(settings, username=user.username, ip=ip, device_cookie=device_cookie, secret=_code_key(user))
    if wait := max(ratelimit.guess_wait(session, who, now), ratelimit.guess_wait(session, code_who, now)):
        _limited(session, who, ip=ip, now=now, user=user)
        return PasswordChange({"form": wait_message(wait)}, limited=True)
    errors: dict[str, str] = {}
    if not auth.verify_password(user.password_hash, password):
        ratelimit.guess_failed(session, who, login_guesses(settings), now)
        errors["password"] = _("Kata sandi salah.")
    typed = two_factor.normalise(code)
    if not typed:
        errors["code"] = _("Tulis kode 6 angka dari aplikasi autentikator, atau satu kode cadangan.")
    elif errors:
        pass  # the code is not checked (nor spent) after a wrong password
    elif not (two_factor.accept_code(session, user, typed, now) or (
            two_factor.is_recovery_code_shape(typed) and two_factor.use_recovery_code(session, user, typed, now))):
        ratelimit.guess_failed(session, code_who, login_guesses(settings), now)
        audit.record(session, "signin.code_failed", actor_id=user.id, actor_label=user.username, ip=ip)
        errors["code"] = _("Kode salah atau sudah dipakai. Periksa aplikasi autentikator lalu coba lagi.")
    if errors:
        session.commit()
        return PasswordChange(errors)
    return PasswordChange()


@dataclass
class UserForm(PostedForm):
    """A new account as the supervisor typed it; the school and district as the ids chosen (None for none)."""

    username: str = ""
    display_name: str = ""
    role: str = ""
    school_id: int | None = posted(None, read=False)
    district_id: int | None = posted(None, read=False)
    password: str = posted(raw=True)
    errors: dict[str, str] = posted({}, read=False)

    def read(self, data: dict[str, Any]) -> None:
        self.school_id, self.district_id = to_id(one(data, "school_id")), to_id(one(data, "district_id"))


def validate_new_user(session: Session, form: UserForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    form.username = normalise_username(form.username)
    form.display_name = form.display_name.strip()
    if not USERNAME_PATTERN.match(form.username):
        errors["username"] = _(
            "Nama pengguna 3–60 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung."
        )
    elif session.execute(select(col(User.id)).where(col(User.username) == form.username)).first():
        errors["username"] = _("Nama pengguna ini sudah dipakai. Pilih yang lain.")
    if error := text_error(form.display_name, limit=80, required=_("Tulis nama yang ditampilkan."),
                           too_long=_("Nama paling banyak 80 karakter.")):
        errors["display_name"] = error
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
    two_factor.mark_required_if_due(session, user, user.created_at)
    session.add(user)
    session.flush()
    return user


@dataclass
class PasswordChange:
    errors: dict[str, str] = field(default_factory=dict)
    limited: bool = False


def change_password(
    session: Session, settings: Settings, user: User, *, current: str, new: str, repeat: str, ip: str,
    device_cookie: str | None = None, now: datetime | None = None,
) -> PasswordChange:
    """Change a password. A new password ends every session of the account; the caller starts a new one.

    The current password is a guess like one at sign-in (a stolen session must not become a way to guess it
    without delays), so a wrong one counts toward the same delays, and inside a delay it is not checked."""
    now = now or clock.now()
    who = guesser(settings, username=user.username, ip=ip, device_cookie=device_cookie)
    if wait := ratelimit.guess_wait(session, who, now):
        _limited(session, who, ip=ip, now=now, user=user)
        return PasswordChange({"form": wait_message(wait)}, limited=True)
    errors: dict[str, str] = {}
    if not auth.verify_password(user.password_hash, current):
        errors["current"] = _("Kata sandi sekarang salah.")
        ratelimit.guess_failed(session, who, login_guesses(settings), now)
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
        ratelimit.guess_succeeded(session, who)
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
            select(Child).join(Guardianship, col(Guardianship.child_id) == col(Child.id))
            .where(col(Guardianship.parent_id) == parent_id)
            .order_by(Child.nickname)
        ).scalars()
    )


# --- the first supervisor's one-time link (`bintang setup-link`) -------------------------------------------

SETUP_LINK_HOURS = 24
FIRST_SUPERVISOR = "supervisor"
SETUP_LINK_PATH = "/akun/siapkan"


def _setup_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def supervisor_with_password(session: Session) -> User | None:
    """An active supervisor who can sign in with a password, if there is one (then no setup link is made)."""
    supervisors = session.execute(
        select(User).where(col(User.role) == Role.SUPERVISOR, col(User.active).is_(True)).order_by(col(User.id))
    ).scalars()
    return next((user for user in supervisors if auth.has_usable_password(user.password_hash)), None)


def make_setup_link(session: Session, *, username: str | None = None,
                    now: datetime | None = None) -> tuple[User, str, bool]:
    """(the supervisor, the link's token, whether the account was made now). Makes the first supervisor without
    a usable password unless it exists (the one named, else the first without a password), and a new link for
    it; the account's earlier links stop working. Only the token's SHA-256 is kept. Raises ValueError when the
    name cannot be a supervisor's."""
    now = now or clock.now()
    name = normalise_username(username or FIRST_SUPERVISOR)
    if not USERNAME_PATTERN.match(name):
        raise ValueError(f"not a valid username: {name!r} (3-60 of a-z, 0-9, '.', '_', '-')")
    user = session.execute(select(User).where(col(User.username) == name)).scalar_one_or_none()
    if user is None and username is None:
        user = session.execute(
            select(User).where(col(User.role) == Role.SUPERVISOR, col(User.active).is_(True)).order_by(col(User.id))
        ).scalars().first()
    created = user is None
    if user is None:
        user = User(username=name, display_name="Supervisor", password_hash=auth.UNUSABLE_PASSWORD,
                    role=Role.SUPERVISOR)
        session.add(user)
        session.flush()
        audit.record(session, "admin.user_created", actor_label="bintang setup-link", object_type="user",
                     object_id=user.id, role=user.role)
    elif user.role != Role.SUPERVISOR or not user.active:
        raise ValueError(f"{name} is not an active supervisor's account")
    elif auth.has_usable_password(user.password_hash):
        raise ValueError(f"{name} already has a password")
    session.execute(update(SetupLink).where(col(SetupLink.user_id) == user.id, col(SetupLink.used_at).is_(None),
                                            col(SetupLink.expires_at) > now).values(expires_at=now))
    token = secrets.token_urlsafe(32)
    session.add(SetupLink(token_hash=_setup_token_hash(token), user_id=user.id, created_at=now,
                          expires_at=now + timedelta(hours=SETUP_LINK_HOURS)))
    audit.record(session, "admin.setup_link_created", actor_label="bintang setup-link", object_type="user",
                 object_id=user.id)
    return user, token, created


def setup_link_for(session: Session, token: str | None, now: datetime | None = None) -> tuple[SetupLink, User] | None:
    """The link and its supervisor while it may still be used: unused, within its 24 hours, the newest."""
    now = now or clock.now()
    if not token or len(token) > 100:
        return None
    link = session.execute(
        select(SetupLink).where(col(SetupLink.token_hash) == _setup_token_hash(token))).scalar_one_or_none()
    if link is None or link.used_at is not None or now >= link.expires_at:
        return None
    user = session.get(User, link.user_id)
    if user is None or not user.active or user.role != Role.SUPERVISOR:
        return None
    return link, user


def setup_link_refused(session: Session, *, ip: str, now: datetime | None = None) -> None:
    """Audit a used, expired or unknown link being opened, once per address and quarter hour."""
    if ratelimit.first_refusal(session, f"setup:{ip}", LIMITED_AUDIT_WINDOW, now):
        audit.record(session, "account.setup_link_refused", ip=ip)
    session.commit()


@dataclass
class Setup:
    """What sending the setup form came to: `gone` (the link no longer works), `errors` by field, or done:
    `user` signed in, with the recovery codes to show once and the browser's device cookie."""

    gone: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    user: User | None = None
    recovery_codes: list[str] = field(default_factory=list)
    device_cookie: str | None = None


def complete_setup(session: Session, settings: Settings, *, token: str, password: str, repeat: str, secret: str,
                   code: str, ip: str, device_cookie: str | None = None, now: datetime | None = None) -> Setup:
    """Set the first supervisor's password and two-factor sign-in together, through the one-time link: both or
    neither, so the account is never left with a password alone. The link is spent by a conditional update, so
    two sends at once use it once."""
    now = now or clock.now()
    found = setup_link_for(session, token, now)
    if found is None:
        return Setup(gone=True)
    link, user = found
    errors: dict[str, str] = {}
    if problem := auth.password_problem(password, username=user.username):
        errors["password"] = problem
    elif password != repeat:
        errors["repeat"] = _("Kedua kata sandi tidak sama.")
    if not two_factor.is_secret(secret):
        errors["form"] = _("Halaman ini sudah kedaluwarsa. Muat ulang halamannya lalu pindai kode QR yang baru.")
    step = two_factor.matching_step(secret, two_factor.normalise(code), now) if not errors.get("form") else None
    if step is None and "form" not in errors:
        errors["code"] = _(
            "Kode tidak cocok. Tulis 6 angka yang sedang tampil di aplikasi autentikator, lalu coba lagi."
        )
    if errors or step is None:  # no step without an error
        return Setup(errors=errors)
    spent = session.execute(
        update(SetupLink)
        .where(col(SetupLink.id) == link.id, col(SetupLink.used_at).is_(None), col(SetupLink.expires_at) > now)
        .values(used_at=now).execution_options(synchronize_session=False)
    )
    if rows_changed(spent) != 1:
        return Setup(gone=True)
    user.password_hash = auth.hash_password(password)
    codes = two_factor.enable(session, user, secret, step, now)
    auth.end_all_sessions(session, user.id)
    audit.record(session, "account.setup_completed", actor_id=user.id, actor_label=user.username,
                 object_type="user", object_id=user.id, ip=ip)
    audit.record(session, "account.two_factor_enabled", actor_id=user.id, actor_label=user.username,
                 object_type="user", object_id=user.id, ip=ip)
    signed_in = _signed_in(session, settings, user, ip=ip, now=now, device_cookie=device_cookie, setup_link=True)
    return Setup(user=user, recovery_codes=codes, device_cookie=signed_in.device_cookie)
