"""the channel ladder: WhatsApp/SMS consent, the ladder's columns on notification_job, counselors' call tasks

notification_job gains the channel it goes by (push, whatsapp, sms), whether it is a laddered push reminder, the
push job a rung climbs from (unique with the channel: each rung is written once), when it was shown / delivered
and read, the provider's message id, and when the last resort was handed over. channel_consent records a person's
own agreement to WhatsApp/SMS for a number, with its time and withdrawal; call_task is a counselor's "call to
confirm", one per appointment.

Revision ID: 0014_channel_ladder
Revises: 0014_data_protection
Create Date: 2026-12-08 00:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0014_channel_ladder'
down_revision: Union[str, None] = '0014_data_protection'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('notification_job') as batch:
        batch.add_column(sa.Column('channel', sa.String(length=10), nullable=False, server_default='push'))
        batch.add_column(sa.Column('ladder', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('step_of_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('shown_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('provider_id', sa.String(length=128), nullable=False, server_default=''))
        batch.add_column(sa.Column('ladder_done_at', sa.DateTime(timezone=True), nullable=True))
        # A rung goes with its push job when the finished jobs are purged (JOB_RETENTION).
        batch.create_foreign_key('fk_notification_job_step_of_id', 'notification_job', ['step_of_id'], ['id'],
                                 ondelete='CASCADE')
        batch.create_unique_constraint('uq_notification_job_step', ['step_of_id', 'channel'])
        batch.create_index('ix_notification_job_step_of_id', ['step_of_id'])
        batch.create_index('ix_notification_job_provider_id', ['provider_id'])
    op.create_table(
        'channel_consent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('whatsapp', sa.Boolean(), nullable=False),
        sa.Column('sms', sa.Boolean(), nullable=False),
        sa.Column('show_service_name', sa.Boolean(), nullable=False),
        sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('withdrawn_how', sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_channel_consent_user_id', 'channel_consent', ['user_id'])
    op.create_index('ix_channel_consent_report_id', 'channel_consent', ['report_id'])
    op.create_index('ix_channel_consent_phone', 'channel_consent', ['phone'])
    op.create_table(
        'call_task',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('counselor_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['counselor_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('appointment_id'),
    )
    op.create_index('ix_call_task_counselor_id', 'call_task', ['counselor_id'])


def downgrade() -> None:
    op.drop_index('ix_call_task_counselor_id', table_name='call_task')
    op.drop_table('call_task')
    op.drop_index('ix_channel_consent_phone', table_name='channel_consent')
    op.drop_index('ix_channel_consent_report_id', table_name='channel_consent')
    op.drop_index('ix_channel_consent_user_id', table_name='channel_consent')
    op.drop_table('channel_consent')
    with op.batch_alter_table('notification_job') as batch:
        batch.drop_index('ix_notification_job_provider_id')
        batch.drop_index('ix_notification_job_step_of_id')
        batch.drop_constraint('uq_notification_job_step', type_='unique')
        batch.drop_constraint('fk_notification_job_step_of_id', type_='foreignkey')
        for column in ('ladder_done_at', 'provider_id', 'seen_at', 'shown_at', 'step_of_id', 'ladder', 'channel'):
            batch.drop_column(column)
