"""Helpers for tests of the database's own rules."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session


def execute_and_commit(db: Session, statement: Any) -> None:
    """One write, committed: the database refuses it at the statement or, for a deferred rule, at the commit."""
    db.execute(statement)
    db.commit()
