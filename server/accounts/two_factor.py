"""Two-factor sign-in for counselors and supervisors: a time-based code from an authenticator app (TOTP,
RFC 6238) and ten one-time recovery codes.

Time comes from the callers (`now`), never from the system clock here, so a test can pin it and compute the
expected code with pyotp for that moment.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col

from server.accounts.models import STAFF_ROLES, Passkey, PendingSignIn, RecoveryCode, User, WebAuthnChallenge
from server.db import rows_changed
from server.models import ServiceSetting
from server.settings import Settings

STEP_SECONDS = 30
# One step either side: a phone clock a little off, or a code typed as it changed.
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: easy to read off paper
RECOVERY_CODE_LENGTH = 10
PENDING_SIGN_IN_MINUTES = 5
# The service setting a supervisor switches on; its value is when (ISO 8601), empty when off.
REQUIRED_SETTING = "two_factor_required_since"
SECRET_PATTERN = re.compile(r"^[A-Z2-7]{32}$")


# --- codes from the authenticator app ----------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def is_secret(value: str) -> bool:
    return bool(SECRET_PATTERN.match(value))


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri: str, *, title: str) -> str:
    """The enrolment QR code as inline SVG: drawn on the server, no image request, no script."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff", title=title,
                                                 svgclass="qr")


def grouped(secret: str) -> str:
    """The secret for typing by hand, in groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def normalise(typed: str) -> str:
    return re.sub(r"[\s-]", "", typed).upper()


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step `code` belongs to if it is valid at `now` (one step of leeway either side), else None."""
    totp = pyotp.TOTP(secret)
    if not (code.isdigit() and len(code) == totp.digits and totp.verify(code, for_time=now, valid_window=VALID_WINDOW)):
        return None
    for offset in (0, -1, 1):
        moment = now + timedelta(seconds=offset * STEP_SECONDS)
        if hmac.compare_digest(totp.at(moment), code):
            return totp.timecode(moment)
    return None


def accept_code(session: Session, user: User, code: str, now: datetime) -> bool:
    """Check a code from the app for an enrolled account. Each code works once: the step is recorded with a
    conditional update, so the same code sent twice at once signs in one request only."""
    step = matching_step(user.totp_secret or "", code, now) if user.totp_secret else None
    if step is None:
        return False
    result = session.execute(
        update(User)
        .where(col(User.id) == user.id, or_(col(User.totp_last_step).is_(None), col(User.totp_last_step) < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if (rows_changed(result) or 0) != 1:
        return False
    user.totp_last_step = step
    return True


# --- recovery codes ----------------------------------------------------------------------------------------


# Recovery codes are random and checked at most ten at a time, so argon2's cheap end is enough to make a stolen
# backup useless for trying all 2^49 codes. What is hashed is the code's SHA-256: codes stored before (as that
# SHA-256) were hashed again with argon2 by migration 0012, and keep working.
_recovery_hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def _recovery_digest(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def _recovery_hash(code: str) -> str:
    return _recovery_hasher.hash(_recovery_digest(code))


def _recovery_matches(stored: str, code: str) -> bool:
    try:
        return _recovery_hasher.verify(stored, _recovery_digest(code))
    except (VerificationError, InvalidHashError):
        return False


def is_recovery_code_shape(typed: str) -> bool:
    return len(normalise(typed)) == RECOVERY_CODE_LENGTH


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the account's recovery codes with ten new ones and return them, for showing once."""
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw)))
    return codes


def use_recovery_code(session: Session, user: User, typed: str, now: datetime) -> bool:
    """Spend one unused recovery code of `user`. Salted hashes cannot be looked up, so the account's unused
    codes (ten at most) are checked in turn; the update is conditional, so a code used by two requests at once
    is spent by one of them only."""
    unused = session.execute(
        select(col(RecoveryCode.id), col(RecoveryCode.code_hash))
        .where(col(RecoveryCode.user_id) == user.id, col(RecoveryCode.used_at).is_(None))
    ).all()
    for code_id, stored in unused:
        if _recovery_matches(stored, typed):
            result = session.execute(
                update(RecoveryCode).where(col(RecoveryCode.id) == code_id, col(RecoveryCode.used_at).is_(None))
                .values(used_at=now)
            )
            return (rows_changed(result) or 0) == 1
    return False


def recovery_codes_left(session: Session, user_id: int) -> int:
    return len(session.execute(
        select(col(RecoveryCode.id)).where(col(RecoveryCode.user_id) == user_id, col(RecoveryCode.used_at).is_(None))
    ).all())


# --- enrolling, turning off -------------------------------------------------------------------------------


def enable(session: Session, user: User, secret: str, step: int, now: datetime) -> list[str]:
    user.totp_secret = secret
    user.totp_last_step = step
    user.two_factor_enabled_at = now
    session.add(user)
    return new_recovery_codes(session, user)


def disable(session: Session, user: User, *, reset_at: datetime | None = None) -> None:
    """Forget the secret, the recovery codes and any half-finished sign-in of the account."""
    user.totp_secret = None
    user.totp_last_step = None
    user.two_factor_enabled_at = None
    if reset_at is not None:
        user.two_factor_reset_at = reset_at
    session.add(user)
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    session.execute(delete(PendingSignIn).where(col(PendingSignIn.user_id) == user.id))
    # Passkeys are a second way beside the app's codes, never the only one.
    session.execute(delete(Passkey).where(col(Passkey.user_id) == user.id))
    session.execute(delete(WebAuthnChallenge).where(col(WebAuthnChallenge.user_id) == user.id))


# --- the requirement and its grace period -----------------------------------------------------------------


def required_since(session: Session) -> datetime | None:
    stored = session.get(ServiceSetting, REQUIRED_SETTING)
    return datetime.fromisoformat(stored.value) if stored and stored.value else None


def set_required(session: Session, required: bool, now: datetime) -> None:
    """Switch the requirement on or off. Switching it on marks when it was first required of each staff account
    that never had it required: switched off and on again, nobody's grace period starts afresh."""
    value = now.isoformat() if required else ""
    stored = session.get(ServiceSetting, REQUIRED_SETTING)
    if stored is None:
        session.add(ServiceSetting(key=REQUIRED_SETTING, value=value))
    else:
        stored.value = value
    if required:
        session.execute(
            update(User).where(col(User.role).in_(STAFF_ROLES), col(User.two_factor_required_at).is_(None))
            .values(two_factor_required_at=now).execution_options(synchronize_session="fetch")
        )


def mark_required_if_due(session: Session, user: User, now: datetime) -> None:
    """A staff account made while the requirement is on has it required from its creation."""
    if user.is_staff and user.two_factor_required_at is None and required_since(session) is not None:
        user.two_factor_required_at = now


@dataclass(frozen=True)
class Requirement:
    required: bool
    grace_ends: datetime | None = None


def requirement_for(session: Session, settings: Settings, user: User) -> Requirement:
    """Whether `user` must have two-factor sign-in, and until when they may still sign in without it.

    Staff must in production, and everywhere once a supervisor has required it. The grace period counts from
    the first time it was required of the account (its creation, in production), or from a supervisor's later
    reset: switching the requirement off and on again starts no new one."""
    if not user.is_staff:
        return Requirement(False)
    since = required_since(session)
    if since is None and not settings.is_production:
        return Requirement(False)
    if settings.is_production:  # required of every staff account from its creation
        first = user.created_at
    else:
        first = user.two_factor_required_at or max(user.created_at, since or user.created_at)
    start = max(moment for moment in (first, user.two_factor_reset_at) if moment is not None)
    return Requirement(True, start + timedelta(days=settings.two_factor_grace_days))


# --- the half-signed-in state -----------------------------------------------------------------------------


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_pending(session: Session, user: User, *, next_url: str, now: datetime) -> str:
    session.execute(delete(PendingSignIn).where(col(PendingSignIn.created_at) < now - timedelta(days=1)))
    token = secrets.token_urlsafe(32)
    session.add(PendingSignIn(id=_token_id(token), user_id=user.id, created_at=now, next_url=next_url[:300]))
    return token


def pending_user(session: Session, token: str | None, now: datetime) -> tuple[PendingSignIn, User] | None:
    """The account a browser is half signed in to, if its password step is recent and the account active."""
    if not token:
        return None
    pending = session.get(PendingSignIn, _token_id(token))
    if pending is None:
        return None
    user = session.get(User, pending.user_id)
    if (user is None or not user.active or not user.has_two_factor
            or now - pending.created_at > timedelta(minutes=PENDING_SIGN_IN_MINUTES)):
        return None
    return pending, user


def end_pending(session: Session, token: str) -> None:
    session.execute(delete(PendingSignIn).where(col(PendingSignIn.id) == _token_id(token)))
