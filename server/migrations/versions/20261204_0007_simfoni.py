"""simfoni: what SIMFONI-PPA counts that a report lacks (incident, victim, perpetrators, services) and the
indexes the statistics read the reports of a period by

Revision ID: 0007_simfoni
Revises: 0006_booking
Create Date: 2026-12-04 18:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0007_simfoni'
down_revision: Union[str, None] = '0006_booking'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# Plain ALTER TABLE, not batch mode: rebuilding the report table on SQLite would drop its triggers.
def upgrade() -> None:
    op.add_column('report', sa.Column('incident_on', sa.Date(), nullable=True))
    op.add_column('report', sa.Column('in_household', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('report', sa.Column('victim_education', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=False, server_default=''))
    op.add_column('report', sa.Column('victim_disability', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      nullable=False, server_default=''))
    op.add_column('report', sa.Column('victim_disability_kind', sqlmodel.sql.sqltypes.AutoString(length=120),
                                      nullable=False, server_default=''))
    op.add_column('report', sa.Column('entered_in_simfoni_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_report_created', 'report', ['created_at'], unique=False)
    op.create_index('ix_report_team_created', 'report', ['team_district_id', 'created_at'], unique=False)
    op.create_table(
        'perpetrator',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('sex', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('age_band', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('relationship', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id']),
        sa.ForeignKeyConstraint(['report_id'], ['report.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_perpetrator_report_id'), 'perpetrator', ['report_id'], unique=False)
    op.create_table(
        'case_service',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column('given_on', sa.Date(), nullable=False),
        sa.Column('given_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id']),
        sa.ForeignKeyConstraint(['report_id'], ['report.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_case_service_report_id'), 'case_service', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_case_service_report_id'), table_name='case_service')
    op.drop_table('case_service')
    op.drop_index(op.f('ix_perpetrator_report_id'), table_name='perpetrator')
    op.drop_table('perpetrator')
    op.drop_index('ix_report_team_created', table_name='report')
    op.drop_index('ix_report_created', table_name='report')
    op.drop_column('report', 'entered_in_simfoni_at')
    op.drop_column('report', 'victim_disability_kind')
    op.drop_column('report', 'victim_disability')
    op.drop_column('report', 'victim_education')
    op.drop_column('report', 'in_household')
    op.drop_column('report', 'incident_on')
