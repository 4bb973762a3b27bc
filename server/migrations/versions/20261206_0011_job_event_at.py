"""notification_job.event_at: when what a job announces happens, carried by the job

Revision ID: 0011_job_event_at
Revises: 0010_report_month_version
Create Date: 2026-12-06 21:45:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011_job_event_at'
down_revision: Union[str, None] = '0010_report_month_version'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('notification_job') as batch:
        batch.add_column(sa.Column('event_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notification_job') as batch:
        batch.drop_column('event_at')
