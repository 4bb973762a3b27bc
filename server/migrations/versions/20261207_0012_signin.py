"""Sign-in hardening: setup_link (the first supervisor's one-time link), user_account.two_factor_required_at (the
grace period counts from the first time two-factor sign-in was required of an account), and recovery codes as
argon2 hashes

Existing recovery codes keep working: they were stored as the SHA-256 of the code, and the app now stores an
argon2 hash of that same SHA-256, so each stored value is hashed again with argon2 here ("layering"); nobody has
to print new codes. The grace period of staff already required to have two-factor sign-in counts from when it
was required of them: the later of the account's creation and the current requirement's start.

Revision ID: 0012_signin
Revises: 0012_audit_stamped
Create Date: 2026-12-07 21:00:00
"""
from datetime import UTC, datetime
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from argon2 import PasswordHasher


revision: str = '0012_signin'
down_revision: Union[str, None] = '0012_audit_stamped'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The same parameters as server/accounts/two_factor.py's recovery-code hasher (argon2id).
RECOVERY_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def upgrade() -> None:
    op.create_table(
        'setup_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_setup_link_user_id', 'setup_link', ['user_id'])
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('two_factor_required_at', sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    since = bind.execute(sa.text(
        "SELECT value FROM service_setting WHERE key = 'two_factor_required_since'")).scalar()
    if since:
        since_at = datetime.fromisoformat(since).astimezone(UTC)
        users = sa.table('user_account', sa.column('id', sa.Integer()), sa.column('role', sa.String()),
                         sa.column('created_at', sa.DateTime(timezone=True)),
                         sa.column('two_factor_required_at', sa.DateTime(timezone=True)))
        staff = users.c.role.in_(['counselor', 'supervisor'])
        for user_id, created_at in bind.execute(sa.select(users.c.id, users.c.created_at).where(staff)).all():
            created_at = created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at
            bind.execute(users.update().where(users.c.id == user_id)
                         .values(two_factor_required_at=max(created_at, since_at)))
    with op.batch_alter_table('recovery_code') as batch:
        batch.alter_column('code_hash', type_=sa.String(length=200), existing_type=sa.String(length=64),
                           existing_nullable=False)
    for code_id, stored in bind.execute(sa.text("SELECT id, code_hash FROM recovery_code")).all():
        bind.execute(sa.text("UPDATE recovery_code SET code_hash = :hash WHERE id = :id"),
                     {"hash": RECOVERY_HASHER.hash(stored), "id": code_id})


def downgrade() -> None:
    # Layered hashes cannot be unwrapped: the codes are dropped, and their owners print new ones.
    op.execute("DELETE FROM recovery_code")
    with op.batch_alter_table('recovery_code') as batch:
        batch.alter_column('code_hash', type_=sa.String(length=64), existing_type=sa.String(length=200),
                           existing_nullable=False)
    # Plain ALTER TABLE (SQLite 3.35+): a batch would copy user_account, which the other tables' keys point to.
    op.execute("ALTER TABLE user_account DROP COLUMN two_factor_required_at")
    op.drop_index('ix_setup_link_user_id', table_name='setup_link')
    op.drop_table('setup_link')
