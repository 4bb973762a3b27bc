"""booking: the number a phone session is called on, and why another counselor than the case's was chosen

Revision ID: 0006_booking
Revises: 0005_audit
Create Date: 2026-12-04 16:20:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0006_booking'
down_revision: Union[str, None] = '0006_words'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# Plain ALTER TABLE, not batch mode: rebuilding the table on SQLite would drop its no-overlap trigger (0003).
def upgrade() -> None:
    op.add_column('appointment', sa.Column('phone_number', sqlmodel.sql.sqltypes.AutoString(length=20),
                                           nullable=False, server_default=''))
    op.add_column('appointment', sa.Column('counselor_change_reason', sqlmodel.sql.sqltypes.AutoString(length=500),
                                           nullable=False, server_default=''))


def downgrade() -> None:
    op.drop_column('appointment', 'counselor_change_reason')
    op.drop_column('appointment', 'phone_number')
