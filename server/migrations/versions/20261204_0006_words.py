"""report: whether someone is afraid to go home (it raises the urgency); the student and class a teacher names

Revision ID: 0006_words
Revises: 0005_audit
Create Date: 2026-12-04 16:05:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0006_words'
down_revision: Union[str, None] = '0005_audit'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('afraid_to_go_home', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('student_name', sqlmodel.sql.sqltypes.AutoString(length=120),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('student_class', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('student_class')
        batch_op.drop_column('student_name')
        batch_op.drop_column('afraid_to_go_home')
