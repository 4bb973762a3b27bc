"""aftercare: check-in plans chosen when a case is closed, the check-ins and their answers, and the children's
anonymous ratings of attended sessions

Revision ID: 0008_aftercare
Revises: 0007_simfoni
Create Date: 2026-12-04 18:20:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0008_aftercare'
down_revision: Union[str, None] = '0007_simfoni'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# New tables only: the report and appointment tables are not rebuilt (on SQLite that would drop their triggers).
def upgrade() -> None:
    op.create_table('session_rating',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('service_type_id', sa.Integer(), nullable=False),
    sa.Column('face', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('safe_to_talk', sa.Boolean(), nullable=False),
    sa.Column('words', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['service_type_id'], ['service_type.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('session_rating', schema=None) as batch_op:
        batch_op.create_index('ix_session_rating_month', ['month', 'service_type_id'], unique=False)

    op.create_table('check_in_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('offsets', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('declined', sa.Boolean(), nullable=False),
    sa.Column('declined_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('check_in_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_plan_report_id'), ['report_id'], unique=False)

    op.create_table('check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('recipient_user_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retry_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('give_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('follow_up_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up_done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up_done_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['follow_up_done_by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['check_in_plan.id'], ),
    sa.ForeignKeyConstraint(['recipient_user_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_in_recipient_user_id'), ['recipient_user_id'], unique=False)
        batch_op.create_index('ix_check_in_report', ['report_id', 'id'], unique=False)
        batch_op.create_index('ix_check_in_status_give_up', ['status', 'give_up_at'], unique=False)

    op.create_table('session_rating_given',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ),
    sa.PrimaryKeyConstraint('appointment_id')
    )


def downgrade() -> None:
    op.drop_table('session_rating_given')
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index('ix_check_in_status_give_up')
        batch_op.drop_index('ix_check_in_report')
        batch_op.drop_index(batch_op.f('ix_check_in_recipient_user_id'))
        batch_op.drop_index(batch_op.f('ix_check_in_plan_id'))

    op.drop_table('check_in')
    with op.batch_alter_table('check_in_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_plan_report_id'))

    op.drop_table('check_in_plan')
    with op.batch_alter_table('session_rating', schema=None) as batch_op:
        batch_op.drop_index('ix_session_rating_month')

    op.drop_table('session_rating')
