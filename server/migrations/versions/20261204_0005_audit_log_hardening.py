"""audit log: no rewriting by REPLACE on SQLite, no address kept for anonymous entries

Revision ID: 0005_audit
Revises: 0004
Create Date: 2026-12-04 15:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0005_audit'
down_revision: Union[str, None] = '0005_reports'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BLANK_ANONYMOUS_ADDRESSES = "UPDATE audit_entry SET ip = '' WHERE actor_id IS NULL AND ip <> ''"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Run as the tables' owner: the app's own role may not touch the trigger (README, Security).
        op.execute("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only")
        op.execute(BLANK_ANONYMOUS_ADDRESSES)
        op.execute("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only")
        return
    op.execute("DROP TRIGGER audit_entry_no_update")
    op.execute(BLANK_ANONYMOUS_ADDRESSES)
    op.execute(
        "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
    )
    # INSERT OR REPLACE deletes the old row without firing DELETE triggers (recursive_triggers is off):
    # refuse any insert that names an id already taken.
    op.execute(
        "CREATE TRIGGER audit_entry_no_replace BEFORE INSERT ON audit_entry "
        "WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit_entry WHERE id = NEW.id) "
        "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
    )


def downgrade() -> None:
    # The blanked addresses are gone for good; only the trigger can be taken back.
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER audit_entry_no_replace")
