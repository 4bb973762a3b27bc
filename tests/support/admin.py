"""Helpers for the supervisor pages: posting a form as a signed-in person, and reading what was recorded."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import select
from sqlmodel import Session

from server.accounts.models import District, School, User
from server.models import AuditEntry
from tests.support.web import post_form

PEOPLE_WHO_ARE_NOT_SUPERVISORS = ["guru", "konselor"]


def admin_post(client: TestClient, path: str, data: dict[str, object] | None = None):
    """Post a form the way a browser does after loading a page: with the CSRF token, without following."""
    return post_form(client, path, data or {}, token_from="/", follow_redirects=False)


def audit_entries(db: Session, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).scalars())


def user_named(db: Session, username: str) -> User | None:
    db.expire_all()
    return db.execute(select(User).where(User.username == username)).scalar_one_or_none()


def school_named(db: Session, name: str) -> School | None:
    db.expire_all()
    return db.execute(select(School).where(School.name == name)).scalar_one_or_none()


def district_named(db: Session, name: str) -> District | None:
    db.expire_all()
    return db.execute(select(District).where(District.name == name)).scalar_one_or_none()


SETTINGS = {
    "service_name": "Sahabat Anak",
    "city_name": "Kabupaten Banjar",
    "emergency_number": "112",
    "sapa_number": "129",
    "sapa_whatsapp": "08111129129",
    "city_hotline": "0511-4772 000",
    "closed_on_cuti_bersama": "1",  # the box is ticked unless a supervisor unticks it
}
