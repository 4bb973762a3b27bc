"""The breach register (UU PDP Art. 46): a supervisor records an incident (found when, which systems, which kinds
of data, how, who is affected, what is being done); the audit log gives the evidence (what one account read or
exported in a window, and so which cases and people are affected); the notices to the people and to the
authority are drafted with what Art. 46(2) asks; the 3×24 hour clock runs from the moment it was found until
both are marked sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from server import audit, clock
from server.accounts.models import User
from server.dataprotection.models import Breach
from server.forms import PostedForm, posted, text_error
from server.i18n import LOCAL, format_local
from server.i18n import gettext as _
from server.models import AuditEntry
from server.reports.models import Report

NOTIFY_WITHIN = timedelta(hours=72)
TEXT_MAX = 4000
EVIDENCE_MAX = 500
MOMENT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends, read in the service's zone


def parse_moment(value: str) -> datetime | None:
    try:
        return datetime.strptime(value.strip(), MOMENT_FORMAT).replace(tzinfo=LOCAL).astimezone(clock.now().tzinfo)
    except ValueError:
        return None


def moment_value(value: datetime | None) -> str:
    return value.astimezone(LOCAL).strftime(MOMENT_FORMAT) if value else ""


@dataclass
class BreachForm(PostedForm):
    MULTILINE = frozenset({"how", "affected", "measures"})

    found_at: str = ""
    systems: str = ""
    data_kinds: str = ""
    how: str = ""
    affected: str = ""
    measures: str = ""
    account: str = ""
    window_start: str = ""
    window_end: str = ""
    errors: dict[str, str] = posted({}, read=False)

    @classmethod
    def of(cls, breach: Breach, username: str) -> BreachForm:
        return cls(found_at=moment_value(breach.found_at), systems=breach.systems, data_kinds=breach.data_kinds,
                   how=breach.how, affected=breach.affected, measures=breach.measures, account=username,
                   window_start=moment_value(breach.window_start), window_end=moment_value(breach.window_end))


@dataclass
class Checked:
    found_at: datetime
    account_id: int | None
    window_start: datetime | None
    window_end: datetime | None


def _check_texts(form: BreachForm) -> None:
    """What was typed: the three that must be there, and none holding control characters or too long."""
    required = {
        "systems": _("Tulis sistem atau tempat yang terkena, misalnya „akun konselor”, „cadangan data”."),
        "data_kinds": _("Tulis jenis data yang bocor, misalnya „cerita anak, nomor telepon pelapor”."),
        "how": _("Tulis bagaimana kebocoran terjadi, sejauh yang diketahui."),
    }
    for name, limit in (("systems", 300), ("data_kinds", 500), ("how", TEXT_MAX), ("affected", TEXT_MAX),
                        ("measures", TEXT_MAX), ("account", 60)):
        setattr(form, name, getattr(form, name).strip())
        error = text_error(getattr(form, name), limit=limit, required=required.get(name, ""),
                           too_long=_("Paling banyak %(n)s karakter.", n=limit),
                           multiline=name in form.MULTILINE)
        if error:
            form.errors[name] = error


def _check_window(form: BreachForm, start: datetime | None, end: datetime | None) -> None:
    """The window of the audit log that is the evidence: both ends when an account is named, in order."""
    if form.window_start and start is None:
        form.errors["window_start"] = _("Isi tanggal dan jam awal.")
    if form.window_end and end is None:
        form.errors["window_end"] = _("Isi tanggal dan jam akhir.")
    if form.account and (start is None or end is None) and "window_start" not in form.errors:
        form.errors["window_start"] = _("Untuk bukti dari log audit, isi awal dan akhir rentang waktunya.")
    if start and end and start >= end:
        form.errors["window_end"] = _("Akhir rentang harus sesudah awalnya.")


def _check(session: Session, form: BreachForm) -> Checked | None:
    found_at = parse_moment(form.found_at)
    if found_at is None:
        form.errors["found_at"] = _("Isi tanggal dan jam insiden diketahui.")
    elif found_at > clock.now():
        form.errors["found_at"] = _("Waktu diketahui tidak boleh di masa depan.")
    _check_texts(form)
    account_id = None
    if form.account and "account" not in form.errors:
        account_id = session.execute(select(col(User.id)).where(col(User.username) == form.account)).scalar()
        if account_id is None:
            form.errors["account"] = _("Tidak ada akun dengan nama pengguna ini.")
    start, end = parse_moment(form.window_start), parse_moment(form.window_end)
    _check_window(form, start, end)
    if form.errors or found_at is None:
        return None
    return Checked(found_at, account_id, start, end)


def record(session: Session, form: BreachForm, actor: User, *, ip: str) -> Breach | None:
    checked = _check(session, form)
    if checked is None:
        return None
    breach = Breach(recorded_by_id=actor.id, found_at=checked.found_at, due_at=checked.found_at + NOTIFY_WITHIN,
                    systems=form.systems, data_kinds=form.data_kinds, how=form.how, affected=form.affected,
                    measures=form.measures, account_id=checked.account_id, window_start=checked.window_start,
                    window_end=checked.window_end)
    session.add(breach)
    session.flush()
    audit.record(session, "dataprotection.breach_recorded", actor_id=actor.id, actor_label=actor.username,
                 object_type="breach", object_id=breach.id, ip=ip)
    return breach


def update(session: Session, breach: Breach, form: BreachForm, actor: User, *, ip: str) -> bool:
    checked = _check(session, form)
    if checked is None:
        return False
    breach.found_at, breach.due_at = checked.found_at, checked.found_at + NOTIFY_WITHIN
    breach.systems, breach.data_kinds, breach.how = form.systems, form.data_kinds, form.how
    breach.affected, breach.measures = form.affected, form.measures
    breach.account_id, breach.window_start, breach.window_end = checked.account_id, checked.window_start, \
        checked.window_end
    breach.version += 1
    session.add(breach)
    audit.record(session, "dataprotection.breach_changed", actor_id=actor.id, actor_label=actor.username,
                 object_type="breach", object_id=breach.id, ip=ip)
    return True


def mark_notified(session: Session, breach: Breach, whom: str, actor: User, *, ip: str) -> bool:
    """`whom` is "people" or "authority"; marking twice keeps the first moment."""
    column = {"people": "people_notified_at", "authority": "authority_notified_at"}.get(whom)
    if column is None:
        return False
    if getattr(breach, column) is None:
        setattr(breach, column, clock.now())
        breach.version += 1
        session.add(breach)
        audit.record(session, "dataprotection.breach_notified", actor_id=actor.id, actor_label=actor.username,
                     object_type="breach", object_id=breach.id, ip=ip, whom=whom)
    return True


def done(breach: Breach) -> bool:
    return breach.people_notified_at is not None and breach.authority_notified_at is not None


def register(session: Session) -> list[Breach]:
    return list(session.execute(select(Breach).order_by(col(Breach.found_at).desc())).scalars())


# --- evidence from the audit log -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Affected:
    report_id: int
    reporter: str  # how to reach them: an account's name, or "through the code" for an anonymous reporter


@dataclass(frozen=True)
class Evidence:
    entries: list[AuditEntry]
    reports: list[Affected]
    user_ids: list[int]
    truncated: bool


def evidence(session: Session, breach: Breach) -> Evidence | None:
    """What the chosen account did in the chosen window: its audit entries, the cases it read or exported and the
    accounts it looked at."""
    if breach.account_id is None or breach.window_start is None or breach.window_end is None:
        return None
    entries = list(session.execute(
        select(AuditEntry).where(col(AuditEntry.actor_id) == breach.account_id,
                                 col(AuditEntry.at) >= breach.window_start, col(AuditEntry.at) <= breach.window_end)
        .order_by(col(AuditEntry.at), col(AuditEntry.id)).limit(EVIDENCE_MAX + 1)).scalars())
    truncated = len(entries) > EVIDENCE_MAX
    entries = entries[:EVIDENCE_MAX]
    report_ids = sorted({int(entry.object_id) for entry in entries
                         if entry.object_type == "report" and entry.object_id.isdigit()})
    user_ids = sorted({int(entry.object_id) for entry in entries
                       if entry.object_type == "user" and entry.object_id.isdigit()})
    affected = []
    for report_id in report_ids:
        report = session.get(Report, report_id)
        if report is None:
            continue
        reporter = session.get(User, report.submitted_by_id) if report.submitted_by_id else None
        affected.append(Affected(report_id, reporter.display_name if reporter else _("pemegang kode (lewat /cek)")))
    return Evidence(entries, affected, user_ids, truncated)


def notice_to_people(breach: Breach, dpo: str) -> str:
    """The notice to the people affected, with what Art. 46(2) asks: what data, when and how, what is being done."""
    return _(
        "Kami memberi tahu bahwa data pribadi Anda mungkin ikut bocor.\n"
        "Data apa: %(kinds)s.\n"
        "Kapan diketahui: %(found)s.\n"
        "Bagaimana terjadi: %(how)s\n"
        "Yang sudah dan sedang kami lakukan: %(measures)s\n"
        "Pertanyaan: %(dpo)s.",
        kinds=breach.data_kinds, found=format_local(breach.found_at), how=breach.how,
        measures=breach.measures or "-", dpo=dpo or _("petugas pelindungan data layanan ini"),
    )


def notice_to_authority(breach: Breach, dpo: str, affected_count: int) -> str:
    return _(
        "Pemberitahuan kegagalan pelindungan data pribadi (UU 27/2022 Pasal 46).\n"
        "Sistem: %(systems)s.\n"
        "Jenis data: %(kinds)s.\n"
        "Diketahui: %(found)s.\n"
        "Cara terjadi: %(how)s\n"
        "Subjek data terdampak: %(affected)s (kasus yang terbaca menurut log audit: %(n)s).\n"
        "Upaya penanganan dan pemulihan: %(measures)s\n"
        "Kontak petugas pelindungan data: %(dpo)s.",
        systems=breach.systems, kinds=breach.data_kinds, found=format_local(breach.found_at), how=breach.how,
        affected=breach.affected or "-", n=affected_count, measures=breach.measures or "-", dpo=dpo or "-",
    )

