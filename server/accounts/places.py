"""The districts and schools a reporter can choose on the report form, kept by each process (see
server/process_cache.py): the form is the page most people open first, and these lists change a few times a year.
The admin pages that change them call `forget()` after committing; other processes follow within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from server.accounts.models import District, School
from server.process_cache import ProcessCopy


@dataclass(frozen=True)
class Places:
    districts: tuple[tuple[int, str], ...]
    schools: tuple[tuple[int, str], ...]


def load(session: Session) -> Places:
    """Active districts and schools as (value, label) pairs, by name."""
    districts = session.execute(select(col(District.id), col(District.name)).where(col(District.active))
                                .order_by(col(District.name)))
    schools = session.execute(select(col(School.id), col(School.name)).where(col(School.active))
                              .order_by(col(School.name)))
    return Places(districts=tuple((id_, name) for id_, name in districts),
                  schools=tuple((id_, name) for id_, name in schools))


_copy: ProcessCopy[Places] = ProcessCopy("the district and school lists", load)


def current(engine: Engine) -> Places:
    return _copy.current(engine)


def version() -> int:
    return _copy.version


def forget() -> None:
    _copy.forget()
