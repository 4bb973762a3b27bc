"""data_request, destruction_report and breach: the people's requests about their own data, the worker's
destruction reports and the breach register (UU PDP)

Revision ID: 0014_data_protection
Revises: 0012_phone_numbers
Create Date: 2026-12-08 00:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0014_data_protection'
down_revision: Union[str, None] = '0012_phone_numbers'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'data_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('requester_user_id', sa.Integer(), nullable=True),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['requester_user_id'], ['user_account.id']),
        sa.ForeignKeyConstraint(['report_id'], ['report.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_data_request_received_at', 'data_request', ['received_at'])
    op.create_index('ix_data_request_requester_user_id', 'data_request', ['requester_user_id'])
    op.create_index('ix_data_request_report_id', 'data_request', ['report_id'])
    op.create_index('ix_data_request_status', 'data_request', ['status'])
    op.create_table(
        'destruction_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ran_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rule', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('action', sa.String(length=12), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_destruction_report_ran_at', 'destruction_report', ['ran_at'])
    op.create_table(
        'breach',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('systems', sa.String(length=300), nullable=False),
        sa.Column('data_kinds', sa.String(length=500), nullable=False),
        sa.Column('how', sa.Text(), nullable=False),
        sa.Column('affected', sa.Text(), nullable=False),
        sa.Column('measures', sa.Text(), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
        sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('people_notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('authority_notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id']),
        sa.ForeignKeyConstraint(['account_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('breach')
    op.drop_index('ix_destruction_report_ran_at', table_name='destruction_report')
    op.drop_table('destruction_report')
    op.drop_index('ix_data_request_status', table_name='data_request')
    op.drop_index('ix_data_request_report_id', table_name='data_request')
    op.drop_index('ix_data_request_requester_user_id', table_name='data_request')
    op.drop_index('ix_data_request_received_at', table_name='data_request')
    op.drop_table('data_request')
