"""Numbers for the Dinas: how many cases, victims and perpetrators, of which kinds, where, and how fast the
first follow-up came, for a period; for supervisors over every team, for a counselor over their own team.

Every count is an SQL GROUP BY over a month's reports, never a loop over loaded rows. A year is added up from its
months, and a month is counted again only when one of its reports has changed since this process last counted it
(server/reports/freshness.py), so the page over a year of 100,000 reports counts only the month that changed.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, false, func, literal, select, true, union
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col
from typing_extensions import override

from server import audit, clock, process_cache
from server.accounts.models import District, Role, User
from server.aftercare import service as aftercare
from server.aftercare.models import CheckIn, SessionRating
from server.forms import FIRST_YEAR, LAST_YEAR, MAX_ID, PostedForm, posted, without_control_characters
from server.i18n import gettext as _
from server.reports import freshness, simfoni
from server.reports.models import CaseEvent, CaseService, Perpetrator, Referral, Report, ReportCategory, Status
from server.reports.vocabulary import AGENCY_KINDS, REFERRAL_STATUSES
from server.settings import Settings
from server.statistics import disclosure, export


@dataclass(frozen=True)
class Period:
    """From `start` (inclusive) to `end` (exclusive), days in local time."""

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


def local_midnight(day: date) -> datetime:
    """The moment a local day begins, in UTC (what the database stores)."""
    return datetime.combine(day, time(), tzinfo=clock.LOCAL).astimezone(UTC)


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
    this_year = clock.today_local().year
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
        return col(Report.team_district_id) == user.district_id
    return false()


def _scope_conditions(user: User, filters: StatisticsFilter) -> list[ColumnElement[bool]]:
    """Whose reports (the user's team, or every team) and of which kecamatan, whatever the period."""
    conditions = [team_condition(user)]
    if filters.district_id is not None:
        conditions.append(col(Report.district_id) == filters.district_id)
    return conditions


def _conditions(user: User, filters: StatisticsFilter) -> list[ColumnElement[bool]]:
    return [
        col(Report.created_at) >= local_midnight(filters.period.start),
        col(Report.created_at) < local_midnight(filters.period.end),
        *_scope_conditions(user, filters),
    ]


def _month_case(year: int) -> ColumnElement[int]:
    """The local month a report came in, as a CASE over the month boundaries: the same SQL on SQLite and
    PostgreSQL, and the created_at index still serves the period's range."""
    return case(*[(col(Report.created_at) < local_midnight(date(year, m, 1)), literal(m - 1)) for m in range(2, 13)],
                else_=literal(12))


def _form_case(column: Any) -> ColumnElement[str]:
    return case(*[(column == category, literal(form)) for category, form in simfoni.CATEGORY_TO_FORM.items()],
                else_=literal("lainnya"))


def _age_band_case() -> ColumnElement[str]:
    age = col(Report.child_age)
    return case((age.is_(None), literal("unknown")), (age < 0, literal("unknown")), (age <= 5, literal("0-5")),
                (age <= 12, literal("6-12")), (age <= 17, literal("13-17")), else_=literal("unknown"))


def _hours_to_first_response(session: Session) -> ColumnElement[float | Decimal]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", col(Report.first_response_at) - col(Report.created_at)) / 3600.0
    return (func.julianday(col(Report.first_response_at)) - func.julianday(col(Report.created_at))) * 24.0


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


def _grouped(session: Session, month: ColumnElement[int], key: Any, conditions: list[ColumnElement[bool]], *,
             count: Any, join: Any) -> dict[int, Counter[Any]]:
    """Per month, how many rows of `join` (a report's perpetrators, categories, services) there are by `key`."""
    query = select(month, key, func.count(count)).select_from(Report).join(join, join.report_id == col(Report.id))
    counted: dict[int, Counter[Any]] = {}
    for in_month, value, n in session.execute(query.where(*conditions).group_by(month, key)).all():
        counted.setdefault(in_month, Counter())[value] = int(n)
    return counted


def _in_order(counts: dict[Any, int], keys: tuple[str, ...] | list[Any]) -> list[tuple[Any, int]]:
    """Every known key in its order, with 0 where nothing was counted (a table that always has its rows)."""
    return [(key, counts.get(key, 0)) for key in keys]


@dataclass(frozen=True)
class MonthCounts:
    """One month's reports of one scope (every team, or one team; every kecamatan, or one), counted by every
    dimension the page shows. Months add up to a year; a month is counted again only when one of its reports
    has changed (server/reports/freshness.py)."""

    cases: int = 0
    in_household: int = 0
    districts: Counter[int | None] = field(default_factory=Counter)
    sexes: Counter[str] = field(default_factory=Counter)
    ages: Counter[str] = field(default_factory=Counter)
    places: Counter[str] = field(default_factory=Counter)
    relationships: Counter[str] = field(default_factory=Counter)
    forms: Counter[str] = field(default_factory=Counter)
    services: Counter[str] = field(default_factory=Counter)
    # First follow-ups: how many came, how many within their deadline, and how many took how many minutes
    # (minute, how many), in order.
    answered: int = 0
    met: int = 0
    minutes: tuple[tuple[int, int], ...] = ()
    # The deadlines of the reports still waiting for one, in order: whether a deadline is due depends on the
    # moment the page is asked for, not on the reports.
    waiting_due: tuple[datetime, ...] = ()


def _count_months(session: Session, user: User, filters: StatisticsFilter, months: list[int]) -> dict[int, MonthCounts]:
    """The given months of the filter's year counted, every month in the same pass: each query reads the rows
    from the first of these months to the last once and groups them by month too."""
    year = filters.period.year
    conditions = [
        col(Report.created_at) >= local_midnight(Period(year, min(months)).start),
        col(Report.created_at) < local_midnight(Period(year, max(months)).end),
        *_scope_conditions(user, filters),
    ]
    month = _month_case(year)
    answered = col(Report.first_response_at).is_not(None)
    met = case((and_(answered, col(Report.first_response_at) <= col(Report.first_response_due_at)), 1), else_=0)
    relationships = _grouped(session, month, col(Perpetrator.relationship), conditions, count=col(Perpetrator.id),
                             join=Perpetrator)
    forms = _grouped(session, month, _form_case(col(ReportCategory.category)), conditions,
                     count=func.distinct(col(ReportCategory.report_id)), join=ReportCategory)
    services = _grouped(session, month, col(CaseService.kind), conditions, count=col(CaseService.id), join=CaseService)
    minutes: dict[int, Counter[int]] = {m: Counter() for m in months}
    for in_month, hours in session.execute(select(month, _hours_to_first_response(session))
                                           .where(*conditions, answered)).all():
        if in_month in minutes:
            minutes[in_month][round(float(hours) * 60)] += 1
    waiting: dict[int, list[datetime]] = {m: [] for m in months}
    for in_month, due in session.execute(
            select(month, col(Report.first_response_due_at))
            .where(*conditions, col(Report.first_response_at).is_(None), col(Report.first_response_due_at).is_not(None))
            .order_by(col(Report.first_response_due_at))).all():
        if in_month in waiting:
            waiting[in_month].append(due)
    counted = {m: MonthCounts(relationships=relationships.get(m, Counter()), forms=forms.get(m, Counter()),
                              services=services.get(m, Counter()), minutes=tuple(sorted(minutes[m].items())),
                              answered=minutes[m].total(),
                              waiting_due=tuple(waiting[m])) for m in months}
    totals: dict[int, list[int]] = {m: [0, 0, 0] for m in months}  # cases, in the household, deadlines met
    keys = (month, col(Report.district_id), col(Report.child_gender), _age_band_case(), col(Report.happened_where),
            col(Report.in_household))
    for in_month, district_id, gender, age, place, household, n, n_met in session.execute(
            select(*keys, func.count(col(Report.id)), func.sum(met)).where(*conditions).group_by(*keys)).all():
        if in_month not in counted:
            continue
        counts = counted[in_month]
        counts.districts[district_id] += n
        counts.sexes[simfoni.GENDER_TO_SEX.get(gender, "tidak_diketahui")] += n
        counts.ages[age] += n
        counts.places[place] += n
        totals[in_month][0] += n
        totals[in_month][1] += n if household else 0
        totals[in_month][2] += int(n_met or 0)
    return {m: replace(counted[m], cases=totals[m][0], in_household=totals[m][1], met=totals[m][2]) for m in months}


def _median_hours(months: list[tuple[tuple[int, int], ...]]) -> float | None:
    """The median of the minutes to a first follow-up over several months, in hours to one decimal (the middle
    one, or the mean of the middle two), walking the months' sorted minutes together."""
    n = sum(count for minutes in months for _minute, count in minutes)
    if not n:
        return None
    middle = sorted({(n - 1) // 2, n // 2})
    found: list[int] = []
    seen = 0
    for minute, count in heapq.merge(*months):
        seen += count
        while middle and middle[0] < seen:
            found.append(minute)
            middle.pop(0)
        if not middle:
            break
    return round(sum(found) / len(found) / 60, 1)


# Months counted by this process, per database, scope, kecamatan and month, under the month's number.
_months: process_cache.Remembered[MonthCounts] = process_cache.Remembered(512)


def _scope(user: User) -> tuple[Any, ...]:
    """What `team_condition` depends on."""
    return (user.role, user.district_id if user.role == Role.COUNSELOR else None)


def statistics(session: Session, user: User, filters: StatisticsFilter) -> Statistics:
    """The period's numbers, added up from its months. A month whose reports have not changed since this
    process last counted it is not counted again: a year's page reads the twelve months' numbers and counts
    only the months that changed (usually this one)."""
    year = filters.period.year
    numbers = freshness.versions(session, [year * 100 + month for month in filters.period.months()])
    database = str(session.get_bind().engine.url)

    def key(month: int) -> tuple[Any, ...]:
        return (database, _scope(user), filters.district_id, year, month, numbers[year * 100 + month],
                numbers[freshness.UNKNOWN_MONTH])

    parts = {month: _months.known(key(month)) for month in filters.period.months()}
    missing = [month for month, counts in parts.items() if counts is None]
    if missing:
        for month, counts in _count_months(session, user, filters, missing).items():
            parts[month] = _months.keep(key(month), counts)
    months: list[MonthCounts] = [counts for counts in parts.values() if counts is not None]
    total = MonthCounts(
        cases=sum(counts.cases for counts in months),
        in_household=sum(counts.in_household for counts in months),
        districts=sum((counts.districts for counts in months), Counter()),
        sexes=sum((counts.sexes for counts in months), Counter()),
        ages=sum((counts.ages for counts in months), Counter()),
        places=sum((counts.places for counts in months), Counter()),
        relationships=sum((counts.relationships for counts in months), Counter()),
        forms=sum((counts.forms for counts in months), Counter()),
        services=sum((counts.services for counts in months), Counter()),
        answered=sum(counts.answered for counts in months),
        met=sum(counts.met for counts in months),
    )
    by_month = {month: counts.cases for month, counts in parts.items() if counts is not None}
    # A deadline is due once it has passed, or once the follow-up came (early or late).
    now = clock.now()
    due = total.answered + sum(bisect.bisect_left(counts.waiting_due, now) for counts in months)
    districts = dict(session.execute(select(col(District.id), col(District.name)).order_by(col(District.name))).all())
    return Statistics(
        filters=filters,
        cases=total.cases,
        # One child per report: SIMFONI counts a victim per case.
        victims=total.cases,
        perpetrators=total.relationships.total(),
        in_household=total.in_household,
        by_month=_in_order(by_month, filters.period.months()),
        by_form=_in_order(total.forms, simfoni.FORMS),
        by_age_band=_in_order(total.ages, simfoni.AGE_BANDS),
        by_sex=_in_order(total.sexes, ("perempuan", "laki_laki", "tidak_diketahui")),
        by_district=[(name, total.districts.get(district_id, 0)) for district_id, name in districts.items()]
        + [(_("Belum diketahui"), total.districts.get(None, 0))],
        by_place=_in_order(total.places, ("home", "school", "online", "public", "other", "")),
        by_relationship=_in_order(total.relationships, simfoni.RELATIONSHIPS),
        by_service=_in_order(total.services, simfoni.SERVICE_KINDS),
        median_hours_to_first_response=_median_hours([counts.minutes for counts in months]),
        deadlines_met=total.met,
        deadlines_due=due,
    )


# --- exports ----------------------------------------------------------------------------------------------

EXPORT_PASSWORD_MIN_LENGTH = 12
EXPORT_PASSWORD_MAX_LENGTH = 128
EXPORT_KINDS = ("csv", "xlsx")


@dataclass
class ExportForm(PostedForm):
    year: str = posted(name="tahun")
    month: str = posted(name="bulan")
    kind: str = posted("csv", name="format", empty_is_default=True)
    identity: bool = posted(False, name="identitas")
    reason: str = posted(name="alasan")
    password: str = posted(name="kata_sandi", raw=True)

    @override
    def read(self, data: dict[str, Any]) -> None:
        self.reason = without_control_characters(self.reason)


def may_export_identity(user: User) -> bool:
    """Names and contact details leave the app only by a supervisor's hand, with a reason."""
    return user.role == Role.SUPERVISOR


def validate_export(form: ExportForm) -> tuple[Period | None, dict[str, str]]:
    filters, errors = parse_filter(form.year, form.month, "")
    errors.update({name: message for name, message in form.unreadable.items() if name != "kata_sandi"})
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
    table = export.write_encrypted(export.rows(session, conditions, identity=form.identity),
                                   settings.data_dir / "exports", form.kind, form.password, f"{name}.{form.kind}")
    path = table.path
    detail: dict[str, Any] = {"period": name.removeprefix("kasus-"), "kind": form.kind, "identity": form.identity,
                              "rows": table.rows}
    if form.identity:
        detail["reason"] = form.reason
    audit.record(session, "export.created", actor_id=user.id, actor_label=user.username, object_type="report",
                 object_id="", ip=ip, **detail)
    return path, f"{name}.zip"


NOT_IN_SIMFONI = (Status.DUPLICATE, Status.OUT_OF_SCOPE, Status.UNFOUNDED)


def parse_month(value: str) -> tuple[Period, str | None]:
    """A YYYY-MM month, or this month (local time) with a message when it cannot be read."""
    today = clock.today_local()
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
        select(Report).where(*conditions, col(Report.entered_in_simfoni_at).is_(None),
                             col(Report.status).not_in(NOT_IN_SIMFONI)).order_by(col(Report.created_at), col(Report.id))
    ).scalars())


# --- KLA evidence pack ----------------------------------------------------------------------------------


@dataclass
class KlaPack:
    """What Klaster V of the Kota Layak Anak evaluation asks of a year; `shown` is every count as it may be
    published (server/statistics/disclosure.py: small counts hidden, and whatever would let one be worked out)."""

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
    shown: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.shown = disclosure.protect(*self._counts())

    def _counts(self) -> tuple[dict[str, int], list[disclosure.Relation], tuple[str, ...]]:
        """The counts under the names the page gives them, the sums they obey, and the counts in those sums that
        are never published (in brackets)."""
        counts = {"cases": self.cases}
        counts |= {f"form:{key}": n for key, n in self.by_form}
        counts |= {f"service:{key}": n for key, n in self.services}
        counts |= {f"agency:{key}": n for key, n in self.referrals_by_agency}
        counts |= {f"outcome:{key}": n for key, n in self.referrals_by_outcome}
        counts |= {"monitoring": self.monitoring_done, "check_ins_sent": self.check_ins_sent,
                   "check_ins_answered": self.check_ins_answered, "sessions_rated": self.sessions_rated,
                   "sessions_safe": self.sessions_safe_to_talk}
        unpublished = {"(referrals)": sum(n for _key, n in self.referrals_by_agency),
                       "(not safe)": self.sessions_rated - self.sessions_safe_to_talk,
                       "(not answered)": self.check_ins_sent - self.check_ins_answered}
        relations = [
            disclosure.Relation("cases", tuple(f"form:{key}" for key, _n in self.by_form)),
            disclosure.Relation("(referrals)", tuple(f"agency:{key}" for key, _n in self.referrals_by_agency)),
            disclosure.Relation("(referrals)", tuple(f"outcome:{key}" for key, _n in self.referrals_by_outcome)),
            disclosure.Relation("sessions_rated", ("sessions_safe", "(not safe)")),
            disclosure.Relation("check_ins_sent", ("check_ins_answered", "(not answered)")),
        ]
        return counts | unpublished, relations, tuple(unpublished)

    def lines(self) -> list[tuple[str, str, str]]:
        """(section, item, count as published) for the CSV."""
        shown = self.shown
        rows = [("kasus", "jumlah", shown["cases"])]
        rows += [("bentuk_kekerasan", key, shown[f"form:{key}"]) for key, _n in self.by_form]
        rows += [("layanan", key, shown[f"service:{key}"]) for key, _n in self.services]
        rows += [("rujukan_lembaga", key, shown[f"agency:{key}"]) for key, _n in self.referrals_by_agency]
        rows += [("rujukan_hasil", key, shown[f"outcome:{key}"]) for key, _n in self.referrals_by_outcome]
        rows.append(("pemantauan", "kasus_dipantau", shown["monitoring"]))
        rows.append(("pemantauan", "pesan_pemantauan_terkirim", shown["check_ins_sent"]))
        rows.append(("pemantauan", "pesan_pemantauan_dijawab", shown["check_ins_answered"]))
        rows.append(("suara_anak", "sesi_dinilai", shown["sessions_rated"]))
        rows.append(("suara_anak", "aman_bercerita", shown["sessions_safe"]))
        return rows


def kla_pack(session: Session, year: int) -> KlaPack:
    """The city's numbers for a year (every team): cases by form of violence, services given in the year,
    referrals made in the year by agency and by outcome, and cases that reached post-handling monitoring."""
    start, end = local_midnight(date(year, 1, 1)), local_midnight(date(year + 1, 1, 1))
    in_year = [col(Report.created_at) >= start, col(Report.created_at) < end]
    form = _form_case(col(ReportCategory.category))
    by_form = _grouped(session, literal(year), form, in_year, count=func.distinct(col(ReportCategory.report_id)),
                       join=ReportCategory).get(year, Counter())
    services = dict(session.execute(
        select(col(CaseService.kind), func.count(col(CaseService.id)))
        .where(col(CaseService.given_on) >= date(year, 1, 1), col(CaseService.given_on) < date(year + 1, 1, 1))
        .group_by(col(CaseService.kind))).all())
    referrals = [col(Referral.created_at) >= start, col(Referral.created_at) < end]
    by_agency = dict(session.execute(select(col(Referral.agency_kind), func.count(col(Referral.id))).where(*referrals)
                                     .group_by(col(Referral.agency_kind))).all())
    by_outcome = dict(session.execute(select(col(Referral.status), func.count(col(Referral.id))).where(*referrals)
                                      .group_by(col(Referral.status))).all())
    return KlaPack(
        year=year,
        cases=session.execute(select(func.count(col(Report.id))).where(*in_year)).scalar_one(),
        by_form=_in_order(by_form, simfoni.FORMS),
        services=_in_order(services, simfoni.SERVICE_KINDS),
        referrals_by_agency=_in_order(by_agency, AGENCY_KINDS),
        referrals_by_outcome=_in_order(by_outcome, REFERRAL_STATUSES),
        monitoring_done=monitoring_done(session, start, end),
        check_ins_sent=aftercare.check_ins_sent(session, start, end),
        check_ins_answered=aftercare.check_ins_answered(session, start, end),
        **_ratings_of(session, year),
    )


def _ratings_of(session: Session, year: int) -> dict[str, Any]:
    """The year's session ratings (the child's voice): how many, and how many said it was safe to talk. Ratings
    keep only their month, so the year is read from it."""
    rated, safe = session.execute(
        select(func.count(), func.coalesce(func.sum(case((col(SessionRating.safe_to_talk), 1), else_=0)), 0))
        .where(col(SessionRating.month).like(f"{year:04d}-%"))
    ).one()
    return {"sessions_rated": rated, "sessions_safe_to_talk": safe}


def record_kla_export(session: Session, user: User, pack: KlaPack, *, ip: str) -> None:
    audit.record(session, "export.created", actor_id=user.id, actor_label=user.username, object_type="kla",
                 object_id=pack.year, ip=ip, period=str(pack.year), kind="kla_csv", identity=False,
                 rows=len(pack.lines()))


def parse_year(value: str) -> tuple[int, str | None]:
    this_year = clock.today_local().year
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
        select(col(CaseEvent.report_id))
        .where(col(CaseEvent.kind) == "status", col(CaseEvent.to_status) == Status.MONITORING,
                                          col(CaseEvent.at) >= start, col(CaseEvent.at) < end),
        select(col(CheckIn.report_id)).where(col(CheckIn.answered_at) >= start, col(CheckIn.answered_at) < end),
    ).subquery()
    return session.execute(select(func.count()).select_from(monitored)).scalar_one()

