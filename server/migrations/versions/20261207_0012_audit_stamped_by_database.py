"""audit log: on PostgreSQL the database stamps what a role other than the owner writes

The app runs as a role that may only INSERT and SELECT the audit log (`bintang grant-app-role`). Without this, that
role could still write an entry dated to any moment, or name one account while pointing at another. Now such an
insert is stamped by the database: `at` is the statement's time, and an entry that names an account carries that
account's username. The tables' owner (who migrates, and who could disable the trigger anyway) keeps writing
what it sends, so a pinned test clock still works for it. SQLite has no roles: whoever can write its file can
write anything in it, so there is nothing to add there.

Revision ID: 0012_audit_stamped
Revises: 0011_job_event_at
Create Date: 2026-12-07 21:00:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0012_audit_stamped'
down_revision: Union[str, None] = '0011_job_event_at'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION audit_entry_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_user <> (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
                NEW.at := statement_timestamp();
                IF NEW.actor_id IS NOT NULL THEN
                    NEW.actor_label := COALESCE(
                        (SELECT username FROM user_account WHERE id = NEW.actor_id), '');
                END IF;
            END IF;
            RETURN NEW;
        END $$
    """)
    op.execute("CREATE TRIGGER audit_entry_stamped BEFORE INSERT ON audit_entry "
               "FOR EACH ROW EXECUTE FUNCTION audit_entry_stamp()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER audit_entry_stamped ON audit_entry")
    op.execute("DROP FUNCTION audit_entry_stamp()")
