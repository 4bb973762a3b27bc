"""dispatcher_heartbeat: one row per running dispatcher, stamped on every round

Revision ID: 0012_dispatcher_heartbeat
Revises: 0011_job_event_at
Create Date: 2026-12-07 20:50:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0012_dispatcher_heartbeat'
down_revision: Union[str, None] = '0011_job_event_at'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'dispatcher_heartbeat',
        sa.Column('worker', sa.String(length=80), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('worker'),
    )
    op.create_index('ix_dispatcher_heartbeat_last_seen', 'dispatcher_heartbeat', ['last_seen'])


def downgrade() -> None:
    op.drop_index('ix_dispatcher_heartbeat_last_seen', table_name='dispatcher_heartbeat')
    op.drop_table('dispatcher_heartbeat')
