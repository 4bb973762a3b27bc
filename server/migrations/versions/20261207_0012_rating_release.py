"""session_rating_pending: ratings wait sealed and are released in shuffled batches; the rows already in
session_rating are written again in a random order, so their rowid or heap order no longer follows the audit log

Revision ID: 0012_rating_release
Revises: 0012_signin
Create Date: 2026-12-07 21:00:00
"""
import secrets
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0012_rating_release'
down_revision: Union[str, None] = '0012_signin'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ratings = sa.table('session_rating', sa.column('id', sa.String), sa.column('month', sa.String),
                   sa.column('service_type_id', sa.Integer), sa.column('face', sa.String),
                   sa.column('safe_to_talk', sa.Boolean), sa.column('words', sa.Text))


def upgrade() -> None:
    op.create_table('session_rating_pending',
                    sa.Column('id', sa.String(length=32), nullable=False),
                    sa.Column('sealed', sa.LargeBinary(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    conn = op.get_bind()
    kept = [dict(row._mapping) for row in conn.execute(sa.select(ratings))]
    if kept:
        secrets.SystemRandom().shuffle(kept)
        if conn.dialect.name == 'sqlite':
            # The deleted rows' pages are zeroed instead of kept in the file's free list in their old order.
            conn.exec_driver_sql('PRAGMA secure_delete=ON')
        conn.execute(sa.delete(ratings))
        conn.execute(sa.insert(ratings), [{**row, 'id': secrets.token_hex(16)} for row in kept])


def downgrade() -> None:
    op.drop_table('session_rating_pending')
