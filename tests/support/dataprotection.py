"""Helpers for the data protection tests: posting a form as a browser does, reading what was recorded."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import select
from sqlmodel import Session

from server.accounts.models import User
from server.models import AuditEntry
from tests.support.web import post_form

NOT_SUPERVISORS = ["konselor", "guru", "orangtua", "anak"]


def form_post(client: TestClient, path: str, data: dict[str, object] | None = None, token_from: str = "/"):
    return post_form(client, path, data or {}, token_from=token_from, follow_redirects=False)


def audit_entries(db: Session, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).scalars())


def user_named(db: Session, username: str) -> User:
    db.expire_all()
    return db.execute(select(User).where(User.username == username)).scalar_one()
