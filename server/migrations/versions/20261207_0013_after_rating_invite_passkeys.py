"""Issue 22, left out last round: the booker's consent to one push inviting a rating (appointment.rating_invite,
off for every appointment made before), and passkeys as a second way through two-factor sign-in (passkey, and
webauthn_challenge: each challenge kept server-side until it is used once or expires)

Revision ID: 0013_after
Revises: 0012_dispatcher_heartbeat
Create Date: 2026-12-07 22:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0013_after'
down_revision: Union[str, None] = '0012_dispatcher_heartbeat'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain ADD COLUMN, never batch mode: on SQLite batch mode would copy the table (an expression default
    # asks for it) and lose the trigger that refuses overlapping appointments (migration 0003).
    op.add_column('appointment', sa.Column('rating_invite', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'passkey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.String(length=400), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('credential_id'),
    )
    op.create_index('ix_passkey_user_id', 'passkey', ['user_id'])
    op.create_table(
        'webauthn_challenge',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=12), nullable=False),
        sa.Column('challenge', sa.String(length=100), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webauthn_challenge_user_id', 'webauthn_challenge', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_webauthn_challenge_user_id', 'webauthn_challenge')
    op.drop_table('webauthn_challenge')
    op.drop_index('ix_passkey_user_id', 'passkey')
    op.drop_table('passkey')
    op.drop_column('appointment', 'rating_invite')
