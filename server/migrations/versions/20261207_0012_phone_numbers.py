"""phone numbers in one form: a report's contact number and an appointment's number to call, as E.164

Numbers that parse (lokal-id's parse_phone, the same parse the forms use) become +62...; numbers that do not are
left as they were typed, and the pages show them as typed. There is no way back to the typed spelling, so the
downgrade leaves the E.164 form (which every earlier version reads: it is digits after a +).

Revision ID: 0012_phone_numbers
Revises: 0013_waitlist
Create Date: 2026-12-07 22:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from lokal import parse_phone


revision: str = '0012_phone_numbers'
down_revision: Union[str, None] = '0013_waitlist'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _normalise(table: str, column: str, condition: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} <> '' AND {condition}")).all()
    for row_id, typed in rows:
        info = parse_phone(typed)
        if info.valid and info.e164 and info.e164 != typed:
            bind.execute(sa.text(f"UPDATE {table} SET {column} = :number WHERE id = :id"),
                         {"number": info.e164, "id": row_id})


def upgrade() -> None:
    _normalise("report", "contact_detail", "contact_method IN ('phone', 'whatsapp')")
    _normalise("appointment", "phone_number", "1 = 1")


def downgrade() -> None:
    pass
