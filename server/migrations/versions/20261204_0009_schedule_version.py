"""schedule_version: a number that grows with every change to what free time is computed from

Revision ID: 0009_schedule_version
Revises: 0008_aftercare
Create Date: 2026-12-04 18:50:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0009_schedule_version'
down_revision: Union[str, None] = '0008_aftercare'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    table = op.create_table(
        'schedule_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(table, [{'id': 1, 'n': 0}])


def downgrade() -> None:
    op.drop_table('schedule_version')
