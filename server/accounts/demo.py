"""Demo schools and people for trying the app, in the region's own kecamatan (server/accounts/regions.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from server import region as place_names
from server.accounts import regions, service
from server.accounts.auth import DEMO_PASSWORD
from server.accounts.models import District, Role, School, User, Village

# Demo schools, named after the region and placed in its kecamatan by their place in the Kemendagri list (a city
# with fewer kecamatan wraps round). For Kota Banjarbaru: SMP Negeri 1 Banjarbaru in Banjarbaru Utara, and so on.
# "{city}" is the city's name without "Kota"/"Kabupaten", "{village}" the kecamatan's second kelurahan/desa.
DEMO_SCHOOLS = (
    ("SMP Negeri 1 {city}", 2),
    ("SMA Negeri 1 {city}", 2),
    ("SD Negeri 1 {village}", 3),
    ("SD Negeri 1 {kecamatan}", 1),
    ("SMP Negeri 5 {city}", 0),
    ("SMK Negeri 1 {city}", 4),
)

# username, display name, role, school (teachers: its place in DEMO_SCHOOLS), district (counselor teams: the
# kecamatan's place in the list)
DEMO_PEOPLE: tuple[tuple[str, str, Role, int | None, int | None], ...] = (
    ("supervisor", "Supervisor Dinas", Role.SUPERVISOR, None, None),
    ("konselor", "Konselor Rina", Role.COUNSELOR, None, 2),
    ("konselor2", "Konselor Budi", Role.COUNSELOR, None, 1),
    ("guru", "Guru BK Sari", Role.TEACHER, 0, None),
    ("orangtua", "Ibu Wati", Role.PARENT, None, None),
    ("anak", "Dimas", Role.CHILD, None, None),
)


def city_word(region_name: str) -> str:
    """ "Kota Banjarbaru" → "Banjarbaru", "Kabupaten Banjar" → "Banjar"."""
    for prefix in ("Kota Administrasi ", "Kota ", "Kabupaten "):
        if region_name.startswith(prefix):
            return region_name.removeprefix(prefix)
    return region_name


def seed_demo(session: Session, region: place_names.Region | None = None) -> list[str]:
    """Add the demo schools and people, in the database's region (set up first, with `region` or the default,
    when it has none yet). Returns the usernames created (none when they already exist)."""
    record = regions.stored(session)
    if record is None:
        regions.set_up(session, region or place_names.resolve(place_names.DEFAULT_REGION_CODE))
        record = regions.stored(session)
    if record is None:
        raise RuntimeError("the region was not set up")
    kecamatan = list(session.execute(select(District).where(col(District.active), col(District.code).is_not(None))
                                     .order_by(col(District.code))).scalars())
    city = city_word(record.name)
    schools = {s.name: s for s in session.execute(select(School)).scalars()}
    demo_schools = []
    for pattern, index in DEMO_SCHOOLS:
        district = kecamatan[index % len(kecamatan)]
        villages = list(session.execute(select(col(Village.name)).where(col(Village.district_id) == district.id)
                                        .order_by(col(Village.code))).scalars())
        name = pattern.format(city=city, kecamatan=district.name, village=villages[min(1, len(villages) - 1)]
                              if villages else district.name)
        if name not in schools:
            schools[name] = School(name=name, district_id=district.id)
            session.add(schools[name])
        demo_schools.append(schools[name])
    session.flush()
    created = []
    for username, display_name, role, school, team in DEMO_PEOPLE:
        if session.execute(select(col(User.id)).where(col(User.username) == username)).first():
            continue
        form = service.UserForm(
            username=username,
            display_name=display_name,
            role=role,
            school_id=demo_schools[school].id if school is not None else None,
            district_id=kecamatan[team % len(kecamatan)].id if team is not None else None,
            password=DEMO_PASSWORD,
        )
        service.create_user(session, form)
        created.append(username)
    if "orangtua" in created:
        parent = session.execute(select(User).where(col(User.username) == "orangtua")).scalar_one()
        child_user = session.execute(select(User).where(col(User.username) == "anak")).scalar_one()
        child = service.add_child(
            session, parent, nickname="Dimas", birth_year=2013, school_id=demo_schools[0].id, relation="ibu",
        )
        child.user_id = child_user.id
    session.flush()
    return created


def has_people(session: Session) -> bool:
    return session.execute(select(col(User.id)).limit(1)).first() is not None


