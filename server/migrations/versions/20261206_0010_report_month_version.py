"""report_month_version: a number per month that grows with every change to that month's reports

Revision ID: 0010_report_month_version
Revises: 0009_schedule_version
Create Date: 2026-12-06 21:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010_report_month_version'
down_revision: Union[str, None] = '0009_schedule_version'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'report_month_version',
        sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month'),
    )


def downgrade() -> None:
    op.drop_table('report_month_version')
