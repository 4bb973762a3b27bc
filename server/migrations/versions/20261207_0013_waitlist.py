"""waitlist_entry and waitlist_offer: people waiting for a free time, and the times offered to them

Revision ID: 0013_waitlist
Revises: 0013_after
Create Date: 2026-12-07 21:45:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0013_waitlist'
down_revision: Union[str, None] = '0013_after'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'waitlist_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('service_type_id', sa.Integer(), nullable=False),
        sa.Column('requester_user_id', sa.Integer(), nullable=True),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('child_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('offer_appointment_id', sa.Integer(), nullable=True),
        sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['service_type_id'], ['service_type.id']),
        sa.ForeignKeyConstraint(['requester_user_id'], ['user_account.id']),
        sa.ForeignKeyConstraint(['report_id'], ['report.id']),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.ForeignKeyConstraint(['offer_appointment_id'], ['appointment.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_waitlist_entry_queue', 'waitlist_entry', ['service_type_id', 'status', 'created_at'])
    op.create_index('ix_waitlist_entry_requester_user_id', 'waitlist_entry', ['requester_user_id'])
    op.create_index('ix_waitlist_entry_report_id', 'waitlist_entry', ['report_id'])
    op.create_table(
        'waitlist_offer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['entry_id'], ['waitlist_entry.id']),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_waitlist_offer_entry_id', 'waitlist_offer', ['entry_id'])


def downgrade() -> None:
    op.drop_index('ix_waitlist_offer_entry_id', table_name='waitlist_offer')
    op.drop_table('waitlist_offer')
    op.drop_index('ix_waitlist_entry_report_id', table_name='waitlist_entry')
    op.drop_index('ix_waitlist_entry_requester_user_id', table_name='waitlist_entry')
    op.drop_index('ix_waitlist_entry_queue', table_name='waitlist_entry')
    op.drop_table('waitlist_entry')
