"""backup_run: every backup, verify, off-host copy, prune and restore, with its outcome

Revision ID: 0012_backup_runs
Revises: 0011_job_event_at
Create Date: 2026-12-07 21:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0012_backup_runs'
down_revision: Union[str, None] = '0011_job_event_at'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'backup_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ok', sa.Boolean(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False, server_default=''),
        sa.Column('archive', sa.String(length=255), nullable=False, server_default=''),
        sa.Column('sentinel', sa.String(length=64), nullable=False, server_default=''),
        sa.Column('size_bytes', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_backup_run_kind_started', 'backup_run', ['kind', 'started_at'])


def downgrade() -> None:
    op.drop_index('ix_backup_run_kind_started', table_name='backup_run')
    op.drop_table('backup_run')
