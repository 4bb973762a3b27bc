"""The districts (kecamatan), their kelurahan/desa and the schools a reporter can choose on the report form, kept by each process (see
server/process_cache.py): the form is the page most people open first, and these lists change a few times a year.
The admin pages that change them call `forget()` after committing; other processes follow within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from server.accounts.models import District, School, Village
from server.process_cache import ProcessCopy


@dataclass(frozen=True)
class Places:
    districts: tuple[tuple[int, str], ...]
    schools: tuple[tuple[int, str], ...]
    # (id, name, district id) of every kelurahan/desa of an active district, by district then name.
    villages: tuple[tuple[int, str, int], ...] = ()

    def villages_of(self, district_id: int | None) -> tuple[tuple[int, str], ...]:
        return tuple((id_, name) for id_, name, district in self.villages if district == district_id)

    def village_groups(self, district_id: int | None = None) -> tuple[tuple[str, tuple[tuple[int, str], ...]], ...]:
        """(kecamatan name, its kelurahan/desa) for a grouped choice: all kecamatan, or the one chosen."""
        return tuple((name, self.villages_of(id_)) for id_, name in self.districts
                     if (district_id is None or id_ == district_id) and self.villages_of(id_))


def load(session: Session) -> Places:
    """Active districts and schools as (value, label) pairs, by name; the districts' kelurahan/desa."""
    districts = session.execute(select(col(District.id), col(District.name)).where(col(District.active))
                                .order_by(col(District.name)))
    schools = session.execute(select(col(School.id), col(School.name)).where(col(School.active))
                              .order_by(col(School.name)))
    villages = session.execute(select(col(Village.id), col(Village.name), col(Village.district_id)).join(District)
                               .where(col(District.active)).order_by(col(Village.district_id), col(Village.name)))
    return Places(districts=tuple((id_, name) for id_, name in districts),
                  schools=tuple((id_, name) for id_, name in schools),
                  villages=tuple((id_, name, district) for id_, name, district in villages))


_copy: ProcessCopy[Places] = ProcessCopy("the district and school lists", load)


def current(engine: Engine) -> Places:
    return _copy.current(engine)


def version() -> int:
    return _copy.version


def forget() -> None:
    _copy.forget()
