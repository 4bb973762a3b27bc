"""reports: idempotency keys kept only as hashes, the sending browser, the sealed receipt

Revision ID: 0005_reports
Revises: 0004
Create Date: 2026-12-04 15:20:00
"""
import hashlib
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0005_reports'
down_revision: Union[str, None] = '0005_accounts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('browser_token_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('sealed_receipt', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=True))
    report = sa.table('report', sa.column('id', sa.Integer), sa.column('idempotency_key', sa.String),
                      sa.column('idempotency_key_hash', sa.String))
    connection = op.get_bind()
    for report_id, key in connection.execute(
            sa.select(report.c.id, report.c.idempotency_key).where(report.c.idempotency_key.is_not(None))).all():
        connection.execute(report.update().where(report.c.id == report_id)
                           .values(idempotency_key_hash=hashlib.sha256(key.encode()).hexdigest()))
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('idempotency_key')
        batch_op.create_index(batch_op.f('ix_report_idempotency_key_hash'), ['idempotency_key_hash'], unique=True)


def downgrade() -> None:
    # The keys themselves are gone for good: reports keep working, only old offline replays are not recognised.
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_idempotency_key_hash'))
        batch_op.add_column(sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.create_unique_constraint('uq_report_idempotency_key', ['idempotency_key'])
        batch_op.drop_column('sealed_receipt')
        batch_op.drop_column('browser_token_hash')
        batch_op.drop_column('idempotency_key_hash')
