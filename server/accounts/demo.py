"""Reference data every install needs (the city's districts) and demo people for trying the app."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from server.accounts import service
from server.accounts.auth import DEMO_PASSWORD
from server.accounts.models import District, Role, School, User

BANJARBARU_DISTRICTS = ("Banjarbaru Utara", "Banjarbaru Selatan", "Cempaka", "Landasan Ulin", "Liang Anggang")

DEMO_SCHOOLS = (
    ("SMP Negeri 1 Banjarbaru", "Banjarbaru Utara"),
    ("SMA Negeri 1 Banjarbaru", "Banjarbaru Utara"),
    ("SD Negeri 1 Loktabat Selatan", "Banjarbaru Selatan"),
    ("SD Negeri 1 Cempaka", "Cempaka"),
    ("SMP Negeri 5 Banjarbaru", "Landasan Ulin"),
    ("SMK Negeri 1 Banjarbaru", "Liang Anggang"),
)

# username, display name, role, school (teachers), district (counselor teams)
# username, display name, role, school, district
DEMO_PEOPLE: tuple[tuple[str, str, Role, str | None, str | None], ...] = (
    ("supervisor", "Supervisor Dinas", Role.SUPERVISOR, None, None),
    ("konselor", "Konselor Rina", Role.COUNSELOR, None, "Banjarbaru Utara"),
    ("konselor2", "Konselor Budi", Role.COUNSELOR, None, "Cempaka"),
    ("guru", "Guru BK Sari", Role.TEACHER, "SMP Negeri 1 Banjarbaru", None),
    ("orangtua", "Ibu Wati", Role.PARENT, None, None),
    ("anak", "Dimas", Role.CHILD, None, None),
)


def seed_districts(session: Session, names: tuple[str, ...] = BANJARBARU_DISTRICTS) -> dict[str, District]:
    existing = {d.name: d for d in session.execute(select(District)).scalars()}
    for name in names:
        if name not in existing:
            existing[name] = District(name=name)
            session.add(existing[name])
    session.flush()
    return existing


def seed_demo(session: Session) -> list[str]:
    """Add the demo schools and people. Returns the usernames created (none when they already exist)."""
    districts = seed_districts(session)
    schools = {s.name: s for s in session.execute(select(School)).scalars()}
    for name, district in DEMO_SCHOOLS:
        if name not in schools:
            schools[name] = School(name=name, district_id=districts[district].id)
            session.add(schools[name])
    session.flush()
    created = []
    for username, display_name, role, school, team in DEMO_PEOPLE:
        if session.execute(select(col(User.id)).where(col(User.username) == username)).first():
            continue
        form = service.UserForm(
            username=username,
            display_name=display_name,
            role=role,
            school_id=schools[school].id if school else None,
            district_id=districts[team].id if team else None,
            password=DEMO_PASSWORD,
        )
        service.create_user(session, form)
        created.append(username)
    if "orangtua" in created:
        parent = session.execute(select(User).where(col(User.username) == "orangtua")).scalar_one()
        child_user = session.execute(select(User).where(col(User.username) == "anak")).scalar_one()
        child = service.add_child(
            session, parent, nickname="Dimas", birth_year=2013, school_id=schools["SMP Negeri 1 Banjarbaru"].id,
            relation="ibu",
        )
        child.user_id = child_user.id
    session.flush()
    return created


def has_people(session: Session) -> bool:
    return session.execute(select(col(User.id)).limit(1)).first() is not None


