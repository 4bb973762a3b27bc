"""Numbers for the Dinas: how many cases, victims and perpetrators, of which kinds, where, and how fast the
first follow-up came, for a period; for supervisors over every team, for a counselor over their own team.

Every count is one SQL GROUP BY over the period's reports, never a loop over loaded rows, so a year of a
province's reports is counted in the database.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, false, func, literal, or_, select, true, union
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from server import audit, clock
from server.accounts.models import District, Role, User
from server.aftercare import service as aftercare
from server.aftercare.models import CheckIn, SessionRating
from server.forms import FIRST_YEAR, LAST_YEAR, MAX_ID, one, without_control_characters
from server.i18n import gettext as _
from server.reports import simfoni
from server.reports.models import CaseEvent, CaseService, Perpetrator, Referral, Report, ReportCategory, Status
from server.reports.service import AGENCY_KINDS, REFERRAL_STATUSES
from server.settings import Settings
from server.statistics import export

# Below this a public number could point to a child: shown as "<5" (KLA pack, public CSV).
SMALL_COUNT = 5


def suppress_small(n: int) -> str:
    """A count as it may be published: 1 to 4 become "<5" (a small number in a small place can name a
    child); 0 stays 0, because "none" tells nobody anything about anyone."""
    return "<5" if 0 < n < SMALL_COUNT else str(n)


@dataclass(frozen=True)
class Period:
    """From `start` (inclusive) to `end` (exclusive), days in WITA."""

    year: int
    month: int | None

    @property
    def start(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def end(self) -> date:
        if self.month is None or self.month == 12:
            return date(self.year + 1, 1, 1)
        return date(self.year, self.month + 1, 1)

    def months(self) -> list[int]:
        return [self.month] if self.month else list(range(1, 13))


def wita_midnight(day: date) -> datetime:
    """The moment a WITA day begins, in UTC (what the database stores)."""
    return datetime.combine(day, time(), tzinfo=clock.WITA).astimezone(UTC)


@dataclass(frozen=True)
class StatisticsFilter:
    period: Period
    district_id: int | None = None


def _number(value: str, low: int, high: int) -> int | None:
    """A whole number typed in a field or a query string, within [low, high], or None."""
    value = value.strip()
    if not value.isascii() or not value.isdecimal() or len(value) > 10:
        return None
    number = int(value)
    return number if low <= number <= high else None


def parse_filter(year: str, month: str, district: str) -> tuple[StatisticsFilter, dict[str, str]]:
    """The filter from the query string; what cannot be read falls back to this year / every month / every
    kecamatan, with a message next to that field."""
    errors: dict[str, str] = {}
    this_year = clock.today_wita().year
    chosen_year = _number(year, FIRST_YEAR, LAST_YEAR) if year.strip() else this_year
    if chosen_year is None:
        errors["tahun"] = _("Tulis tahun dengan empat angka, misalnya %(year)s.", year=this_year)
        chosen_year = this_year
    chosen_month = _number(month, 1, 12)
    if month.strip() and chosen_month is None:
        errors["bulan"] = _("Pilih bulan dari daftar.")
    district_id = _number(district, 1, MAX_ID)
    if district.strip() and district_id is None:
        errors["kecamatan"] = _("Pilih kecamatan dari daftar.")
    return StatisticsFilter(Period(chosen_year, chosen_month), district_id), errors


def team_condition(user: User) -> ColumnElement[bool]:
    """Supervisors count every team's reports; a counselor only their own district team's."""
    if user.role == Role.SUPERVISOR:
        return true()
    if user.role == Role.COUNSELOR and user.district_id is not None:
        return Report.team_district_id == user.district_id
    return false()


def _conditions(user: User, filters: StatisticsFilter) -> list[ColumnElement[bool]]:
    conditions = [
        Report.created_at >= wita_midnight(filters.period.start),
        Report.created_at < wita_midnight(filters.period.end),
        team_condition(user),
    ]
    if filters.district_id is not None:
        conditions.append(Report.district_id == filters.district_id)
    return conditions


def _month_case(year: int) -> ColumnElement[int]:
    """The WITA month a report came in, as a CASE over the month boundaries: the same SQL on SQLite and
    PostgreSQL, and the created_at index still serves the period's range."""
    return case(*[(Report.created_at < wita_midnight(date(year, m, 1)), literal(m - 1)) for m in range(2, 13)],
                else_=literal(12))


def _form_case(column: Any) -> ColumnElement[str]:
    return case(*[(column == category, literal(form)) for category, form in simfoni.CATEGORY_TO_FORM.items()],
                else_=literal("lainnya"))


def _age_band_case() -> ColumnElement[str]:
    age = Report.child_age
    return case((age.is_(None), literal("unknown")), (age < 0, literal("unknown")), (age <= 5, literal("0-5")),
                (age <= 12, literal("6-12")), (age <= 17, literal("13-17")), else_=literal("unknown"))


def _hours_to_first_response(session: Session) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Report.first_response_at - Report.created_at) / 3600.0
    return (func.julianday(Report.first_response_at) - func.julianday(Report.created_at)) * 24.0


@dataclass
class Statistics:
    filters: StatisticsFilter
    cases: int
    victims: int
    perpetrators: int
    in_household: int
    by_month: list[tuple[int, int]]
    by_form: list[tuple[str, int]]
    by_age_band: list[tuple[str, int]]
    by_sex: list[tuple[str, int]]
    by_district: list[tuple[str, int]]
    by_place: list[tuple[str, int]]
    by_relationship: list[tuple[str, int]]
    by_service: list[tuple[str, int]]
    median_hours_to_first_response: float | None
    deadlines_met: int
    deadlines_due: int

    @property
    def deadlines_met_percent(self) -> int | None:
        return round(100 * self.deadlines_met / self.deadlines_due) if self.deadlines_due else None


def _grouped(session: Session, key: Any, conditions: list[ColumnElement[bool]], *, count: Any = None,
             join: Any = None) -> dict[Any, int]:
    query = select(key, func.count(count if count is not None else Report.id)).select_from(Report)
    if join is not None:
        query = query.join(join, join.report_id == Report.id)
    rows = session.execute(query.where(*conditions).group_by(key)).all()
    return {row[0]: int(row[1]) for row in rows}


def _in_order(counts: dict[Any, int], keys: tuple[str, ...] | list[Any]) -> list[tuple[Any, int]]:
    """Every known key in its order, with 0 where nothing was counted (a table that always has its rows)."""
    return [(key, counts.get(key, 0)) for key in keys]


def median_hours_to_first_response(session: Session, conditions: list[ColumnElement[bool]]) -> float | None:
    """The median, by ordering the durations in the database and reading the middle one or two."""
    answered = [*conditions, Report.first_response_at.is_not(None)]
    n = session.execute(select(func.count(Report.id)).where(*answered)).scalar_one()
    if not n:
        return None
    hours = _hours_to_first_response(session)
    middle = session.execute(
        select(hours).where(*answered).order_by(hours).offset((n - 1) // 2).limit(2 - n % 2)
    ).scalars().all()
    return round(sum(float(h) for h in middle) / len(middle), 1)


def _report_counts(session: Session, conditions: list[ColumnElement[bool]], year: int) -> list[Any]:
    """The period's reports counted by every report-level dimension at once (month, kecamatan, sex, age band,
    place, KDRT), with the deadlines met and due summed alongside: one pass over the rows instead of one per
    table. At most a few thousand groups come back, whatever the number of reports."""
    now = clock.now()
    answered = Report.first_response_at.is_not(None)
    met = case((and_(answered, Report.first_response_at <= Report.first_response_due_at), 1), else_=0)
    due = case((or_(answered, Report.first_response_due_at < now), 1), else_=0)
    keys = (_month_case(year), Report.district_id, Report.child_gender, _age_band_case(), Report.happened_where,
            Report.in_household)
    return list(session.execute(
        select(*keys, func.count(Report.id), func.sum(met), func.sum(due)).where(*conditions).group_by(*keys)
    ).all())


def statistics(session: Session, user: User, filters: StatisticsFilter) -> Statistics:
    conditions = _conditions(user, filters)
    by_month: Counter[int] = Counter()
    by_district: Counter[int | None] = Counter()
    sexes: Counter[str] = Counter()
    ages: Counter[str] = Counter()
    places: Counter[str] = Counter()
    cases = in_household = met = due = 0
    for month, district_id, gender, age, place, household, n, n_met, n_due in _report_counts(
            session, conditions, filters.period.year):
        by_month[month] += n
        by_district[district_id] += n
        sexes[simfoni.GENDER_TO_SEX.get(gender, "tidak_diketahui")] += n
        ages[age] += n
        places[place] += n
        cases += n
        in_household += n if household else 0
        met += int(n_met or 0)
        due += int(n_due or 0)
    perpetrator_counts = _grouped(session, Perpetrator.relationship, conditions, count=Perpetrator.id,
                                  join=Perpetrator)
    form = _form_case(ReportCategory.category)
    by_form = _grouped(session, form, conditions, count=func.distinct(ReportCategory.report_id), join=ReportCategory)
    districts = dict(session.execute(select(District.id, District.name).order_by(District.name)).all())
    return Statistics(
        filters=filters,
        cases=cases,
        # One child per report: SIMFONI counts a victim per case.
        victims=cases,
        perpetrators=sum(perpetrator_counts.values()),
        in_household=in_household,
        by_month=_in_order(by_month, filters.period.months()),
        by_form=_in_order(by_form, simfoni.FORMS),
        by_age_band=_in_order(ages, simfoni.AGE_BANDS),
        by_sex=_in_order(sexes, ("perempuan", "laki_laki", "tidak_diketahui")),
        by_district=[(name, by_district.get(district_id, 0)) for district_id, name in districts.items()]
        + [(_("Belum diketahui"), by_district.get(None, 0))],
        by_place=_in_order(places, ("home", "school", "online", "public", "other", "")),
        by_relationship=_in_order(perpetrator_counts, simfoni.RELATIONSHIPS),
        by_service=_in_order(_grouped(session, CaseService.kind, conditions, count=CaseService.id, join=CaseService),
                             simfoni.SERVICE_KINDS),
        median_hours_to_first_response=median_hours_to_first_response(session, conditions),
        deadlines_met=met,
        deadlines_due=due,
    )


# --- exports ----------------------------------------------------------------------------------------------

EXPORT_PASSWORD_MIN_LENGTH = 12
EXPORT_PASSWORD_MAX_LENGTH = 128
EXPORT_KINDS = ("csv", "xlsx")


@dataclass(frozen=True)
class ExportForm:
    year: str = ""
    month: str = ""
    kind: str = "csv"
    identity: bool = False
    reason: str = ""
    password: str = ""

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ExportForm:
        return cls(year=one(data, "tahun"), month=one(data, "bulan"), kind=one(data, "format") or "csv",
                   identity=one(data, "identitas") == "1", reason=without_control_characters(one(data, "alasan")),
                   password=str(data.get("kata_sandi", "")))


def may_export_identity(user: User) -> bool:
    """Names and contact details leave the app only by a supervisor's hand, with a reason."""
    return user.role == Role.SUPERVISOR


def validate_export(form: ExportForm) -> tuple[Period | None, dict[str, str]]:
    filters, errors = parse_filter(form.year, form.month, "")
    if form.kind not in EXPORT_KINDS:
        errors["format"] = _("Pilih format berkas.")
    if form.identity and not form.reason:
        errors["alasan"] = _("Tulis alasan mengekspor data dengan identitas.")
    elif len(form.reason) > 500:
        errors["alasan"] = _("Paling banyak %(n)s karakter.", n=500)
    if len(form.password) < EXPORT_PASSWORD_MIN_LENGTH:
        errors["kata_sandi"] = _("Kata sandi berkas minimal %(n)s karakter. Berikan kata sandi ini kepada penerima "
                                 "lewat jalur lain, bukan bersama berkasnya.", n=EXPORT_PASSWORD_MIN_LENGTH)
    elif len(form.password) > EXPORT_PASSWORD_MAX_LENGTH:
        errors["kata_sandi"] = _("Kata sandi berkas paling banyak %(n)s karakter.", n=EXPORT_PASSWORD_MAX_LENGTH)
    return (None if errors else filters.period), errors


def create_export(session: Session, settings: Settings, user: User, form: ExportForm, period: Period, *,
                  ip: str) -> tuple[Path, str]:
    """Write the period's cases (the person's team's, for a counselor) to an encrypted zip in DATA_DIR and
    audit it; returns the zip's path and the name to download it as. The caller commits, then streams."""
    conditions = _conditions(user, StatisticsFilter(period))
    export.remove_leftovers(settings.data_dir / "exports")
    name = f"kasus-{period.year}" + (f"-{period.month:02d}" if period.month else "")
    table = export.write_table(export.rows(session, conditions, identity=form.identity), settings.data_dir / "exports",
                               form.kind)
    path = export.encrypt(table, form.password, f"{name}.{form.kind}")
    detail: dict[str, Any] = {"period": name.removeprefix("kasus-"), "kind": form.kind, "identity": form.identity,
                              "rows": table.rows}
    if form.identity:
        detail["reason"] = form.reason
    audit.record(session, "export.created", actor_id=user.id, actor_label=user.username, object_type="report",
                 object_id="", ip=ip, **detail)
    return path, f"{name}.zip"


NOT_IN_SIMFONI = (Status.DUPLICATE, Status.OUT_OF_SCOPE, Status.UNFOUNDED)


def parse_month(value: str) -> tuple[Period, str | None]:
    """A YYYY-MM month, or this month (WITA) with a message when it cannot be read."""
    today = clock.today_wita()
    if not value.strip():
        return Period(today.year, today.month), None
    year, _dash, month = value.strip().partition("-")
    chosen_year, chosen_month = _number(year, FIRST_YEAR, LAST_YEAR), _number(month, 1, 12)
    if chosen_year is not None and chosen_month is not None:
        return Period(chosen_year, chosen_month), None
    return Period(today.year, today.month), _("Tulis bulan seperti %(month)s.", month=today.strftime("%Y-%m"))


def not_entered_in_simfoni(session: Session, user: User, period: Period) -> list[Report]:
    """The period's cases (of the person's team) that nobody has marked as entered in SIMFONI-PPA yet; reports
    that were duplicates, forwarded elsewhere or unfounded are not SIMFONI cases."""
    conditions = _conditions(user, StatisticsFilter(period))
    return list(session.execute(
        select(Report).where(*conditions, Report.entered_in_simfoni_at.is_(None),
                             Report.status.not_in(NOT_IN_SIMFONI)).order_by(Report.created_at, Report.id)
    ).scalars())


# --- KLA evidence pack ----------------------------------------------------------------------------------


@dataclass
class KlaPack:
    """What Klaster V of the Kota Layak Anak evaluation asks of a year, every count as it may be published."""

    year: int
    cases: int
    by_form: list[tuple[str, int]]
    services: list[tuple[str, int]]
    referrals_by_agency: list[tuple[str, int]]
    referrals_by_outcome: list[tuple[str, int]]
    monitoring_done: int
    check_ins_sent: int
    check_ins_answered: int
    sessions_rated: int
    sessions_safe_to_talk: int

    def lines(self) -> list[tuple[str, str, str]]:
        """(section, item, count as published) for the CSV."""
        rows = [("kasus", "jumlah", suppress_small(self.cases))]
        rows += [("bentuk_kekerasan", key, suppress_small(n)) for key, n in self.by_form]
        rows += [("layanan", key, suppress_small(n)) for key, n in self.services]
        rows += [("rujukan_lembaga", key, suppress_small(n)) for key, n in self.referrals_by_agency]
        rows += [("rujukan_hasil", key, suppress_small(n)) for key, n in self.referrals_by_outcome]
        rows.append(("pemantauan", "kasus_dipantau", suppress_small(self.monitoring_done)))
        rows.append(("pemantauan", "pesan_pemantauan_terkirim", suppress_small(self.check_ins_sent)))
        rows.append(("pemantauan", "pesan_pemantauan_dijawab", suppress_small(self.check_ins_answered)))
        rows.append(("suara_anak", "sesi_dinilai", suppress_small(self.sessions_rated)))
        rows.append(("suara_anak", "aman_bercerita", suppress_small(self.sessions_safe_to_talk)))
        return rows


def kla_pack(session: Session, year: int) -> KlaPack:
    """The city's numbers for a year (every team): cases by form of violence, services given in the year,
    referrals made in the year by agency and by outcome, and cases that reached post-handling monitoring."""
    start, end = wita_midnight(date(year, 1, 1)), wita_midnight(date(year + 1, 1, 1))
    in_year = [Report.created_at >= start, Report.created_at < end]
    form = _form_case(ReportCategory.category)
    by_form = _grouped(session, form, in_year, count=func.distinct(ReportCategory.report_id), join=ReportCategory)
    services = dict(session.execute(
        select(CaseService.kind, func.count(CaseService.id))
        .where(CaseService.given_on >= date(year, 1, 1), CaseService.given_on < date(year + 1, 1, 1))
        .group_by(CaseService.kind)).all())
    referrals = [Referral.created_at >= start, Referral.created_at < end]
    by_agency = dict(session.execute(select(Referral.agency_kind, func.count(Referral.id)).where(*referrals)
                                     .group_by(Referral.agency_kind)).all())
    by_outcome = dict(session.execute(select(Referral.status, func.count(Referral.id)).where(*referrals)
                                      .group_by(Referral.status)).all())
    return KlaPack(
        year=year,
        cases=session.execute(select(func.count(Report.id)).where(*in_year)).scalar_one(),
        by_form=_in_order(by_form, simfoni.FORMS),
        services=_in_order(services, simfoni.SERVICE_KINDS),
        referrals_by_agency=_in_order(by_agency, AGENCY_KINDS),
        referrals_by_outcome=_in_order(by_outcome, REFERRAL_STATUSES),
        monitoring_done=monitoring_done(session, start, end),
        check_ins_sent=aftercare.check_ins_sent(session, start, end),
        check_ins_answered=aftercare.check_ins_answered(session, start, end),
        **_ratings_of(session, year),
    )


def _ratings_of(session: Session, year: int) -> dict[str, int]:
    """The year's session ratings (the child's voice): how many, and how many said it was safe to talk. Ratings
    keep only their month, so the year is read from it."""
    rated, safe = session.execute(
        select(func.count(), func.coalesce(func.sum(case((SessionRating.safe_to_talk, 1), else_=0)), 0))
        .where(SessionRating.month.like(f"{year:04d}-%"))
    ).one()
    return {"sessions_rated": rated, "sessions_safe_to_talk": safe}


def record_kla_export(session: Session, user: User, pack: KlaPack, *, ip: str) -> None:
    audit.record(session, "export.created", actor_id=user.id, actor_label=user.username, object_type="kla",
                 object_id=pack.year, ip=ip, period=str(pack.year), kind="kla_csv", identity=False,
                 rows=len(pack.lines()))


def parse_year(value: str) -> tuple[int, str | None]:
    this_year = clock.today_wita().year
    if not value.strip():
        return this_year, None
    year = _number(value, FIRST_YEAR, LAST_YEAR)
    if year is not None:
        return year, None
    return this_year, _("Tulis tahun dengan empat angka, misalnya %(year)s.", year=this_year)


def monitoring_done(session: Session, start: datetime, end: datetime) -> int:
    """Cases monitored after handling in [start, end): those whose status became `monitoring` (the chronology's
    status changes) and those closed cases whose child or family answered a check-in (server/aftercare), each
    case once."""
    monitored = union(
        select(CaseEvent.report_id).where(CaseEvent.kind == "status", CaseEvent.to_status == Status.MONITORING,
                                          CaseEvent.at >= start, CaseEvent.at < end),
        select(CheckIn.report_id).where(CheckIn.answered_at >= start, CheckIn.answered_at < end),
    ).subquery()
    return session.execute(select(func.count()).select_from(monitored)).scalar_one()

