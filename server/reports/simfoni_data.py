"""What SIMFONI-PPA counts, as counselors fill it in on a case: the victim and incident, perpetrators, services,
and the sheet they copy from. Its vocabulary is in simfoni.py.

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from server import clock
from server.accounts.models import District, School, User, Village
from server.forms import (
    day_within_range,
)
from server.i18n import gettext as _
from server.privacy import masking
from server.reports import simfoni
from server.reports.case_record import CaseError, FieldErrors, audit_change, log_event
from server.reports.case_views import categories_of, referrals_of
from server.reports.models import (
    CaseService,
    Perpetrator,
    Referral,
    Report,
)
from server.reports.village import chosen_village


def _day(value: str, *, not_after: date) -> tuple[date | None, str | None]:
    """(day, error) for a YYYY-MM-DD field; an empty field is no day and no error."""
    if not value.strip():
        return None, None
    day = day_within_range(value.strip())
    if day is None:
        return None, _("Tulis tanggal seperti 2026-11-30.")
    if day > not_after:
        return None, _("Tanggal ini belum lewat. Tulis tanggal hari ini atau sebelumnya.")
    return day, None


def update_simfoni(session: Session, report: Report, actor: User, *, incident_on: str, in_household: bool,
                   education: str, disability: str, disability_kind: str, ip: str) -> None:
    errors: dict[str, str] = {}
    day, error = _day(incident_on, not_after=clock.today_local())
    if error:
        errors["incident_on"] = error
    if education and education not in simfoni.EDUCATION_LEVELS:
        errors["victim_education"] = _("Pilih jenjang pendidikan dari daftar.")
    if disability and disability not in simfoni.DISABILITY:
        errors["victim_disability"] = _("Pilih ya atau tidak.")
    disability_kind = disability_kind.strip()
    if disability == "ya" and not disability_kind:
        errors["victim_disability_kind"] = _("Tulis jenis disabilitasnya.")
    elif len(disability_kind) > 120:
        errors["victim_disability_kind"] = _("Paling banyak %(n)s karakter.", n=120)
    if errors:
        raise FieldErrors(errors)
    report.incident_on, report.in_household = day, in_household
    report.victim_education, report.victim_disability = education, disability
    report.victim_disability_kind = disability_kind if disability == "ya" else ""
    report.updated_at = clock.now()
    log_event(session, report, actor, "simfoni", body=_("Data korban dan kejadian diperbarui."))
    audit_change(session, "report.simfoni_updated", report, actor, ip)


def add_perpetrator(session: Session, report: Report, actor: User, *, sex: str, age_band: str, relationship: str,
                    ip: str) -> Perpetrator:
    errors: dict[str, str] = {}
    if sex not in simfoni.SEXES:
        errors["perpetrator_sex"] = _("Pilih jenis kelamin pelaku.")
    if age_band not in simfoni.PERPETRATOR_AGE_BANDS:
        errors["perpetrator_age_band"] = _("Pilih kelompok umur pelaku.")
    if relationship not in simfoni.RELATIONSHIPS:
        errors["perpetrator_relationship"] = _("Pilih hubungan pelaku dengan anak.")
    if errors:
        raise FieldErrors(errors)
    perpetrator = Perpetrator(report_id=report.id, created_by_id=actor.id, sex=sex, age_band=age_band,
                              relationship=relationship)
    session.add(perpetrator)
    session.flush()
    report.updated_at = clock.now()
    log_event(session, report, actor, "simfoni", body=_("Data pelaku ditambahkan."))
    audit_change(session, "report.perpetrator_added", report, actor, ip, perpetrator_id=perpetrator.id)
    return perpetrator


def add_service(session: Session, report: Report, actor: User, *, kind: str, given_on: str, given_by: str,
                note: str, ip: str) -> CaseService:
    errors: dict[str, str] = {}
    if kind not in simfoni.SERVICE_KINDS:
        errors["service_kind"] = _("Pilih jenis layanan.")
    day, error = _day(given_on, not_after=clock.today_local())
    if error or day is None:
        errors["service_given_on"] = error or _("Tulis tanggal layanan diberikan.")
    given_by, note = given_by.strip(), note.strip()
    if len(given_by) > 120:
        errors["service_given_by"] = _("Paling banyak %(n)s karakter.", n=120)
    if len(note) > 1000:
        errors["service_note"] = _("Paling banyak %(n)s karakter.", n=1000)
    if errors or day is None:  # no day without an error
        raise FieldErrors(errors)
    service = CaseService(report_id=report.id, created_by_id=actor.id, kind=kind, given_on=day, given_by=given_by,
                          note=note)
    session.add(service)
    session.flush()
    report.updated_at = clock.now()
    log_event(session, report, actor, "simfoni", body=_("Layanan dicatat."))
    audit_change(session, "report.service_added", report, actor, ip, service_id=service.id, kind=kind)
    return service


def remove_perpetrator(session: Session, report: Report, actor: User, *, perpetrator_id: int, ip: str) -> None:
    """For a line entered by mistake: it is gone from the counts, and the chronology and audit log keep that it was
    there and who removed it."""
    perpetrator = session.get(Perpetrator, perpetrator_id)
    if perpetrator is None or perpetrator.report_id != report.id:
        raise CaseError(_("Data pelaku tidak ditemukan."))
    session.delete(perpetrator)
    report.updated_at = clock.now()
    log_event(session, report, actor, "simfoni", body=_("Data pelaku dihapus."))
    audit_change(session, "report.perpetrator_removed", report, actor, ip, perpetrator_id=perpetrator_id,
           relationship=perpetrator.relationship)


def remove_service(session: Session, report: Report, actor: User, *, service_id: int, ip: str) -> None:
    given = session.get(CaseService, service_id)
    if given is None or given.report_id != report.id:
        raise CaseError(_("Layanan tidak ditemukan."))
    session.delete(given)
    report.updated_at = clock.now()
    log_event(session, report, actor, "simfoni", body=_("Catatan layanan dihapus."))
    audit_change(session, "report.service_removed", report, actor, ip, service_id=service_id, kind=given.kind)


def mark_entered_in_simfoni(session: Session, report: Report, actor: User, *, ip: str) -> None:
    if report.entered_in_simfoni_at is not None:
        raise CaseError(_("Kasus ini sudah ditandai sudah diinput ke SIMFONI."))
    report.entered_in_simfoni_at = report.updated_at = clock.now()
    log_event(session, report, actor, "simfoni", body=_("Ditandai sudah diinput ke SIMFONI-PPA."))
    audit_change(session, "report.simfoni_entered", report, actor, ip)


@dataclass(frozen=True)
class SimfoniSheet:
    """What the SIMFONI-PPA input form asks, in its order: the victim, the incident, perpetrators, services."""

    categories: list[str]
    forms: list[str]
    age_band: str
    district: District | None
    school: School | None
    perpetrators: list[Perpetrator]
    services: list[CaseService]
    referrals: list[Referral]
    # The sheet leaves the case (printed, typed into a national system): free text on it is masked; the counselor
    # reads the original on the case page.
    child_words: str = ""
    where_detail: str = ""
    village: Village | None = None


def simfoni_sheet(session: Session, report: Report) -> SimfoniSheet:
    categories = categories_of(session, report.id)
    forms = [form for form in simfoni.FORMS if form in {simfoni.CATEGORY_TO_FORM[c] for c in categories}]
    return SimfoniSheet(
        categories=categories, forms=forms, age_band=simfoni.age_band(report.child_age),
        district=session.get(District, report.district_id) if report.district_id else None,
        school=session.get(School, report.school_id) if report.school_id else None,
        perpetrators=perpetrators_of(session, report.id), services=services_of(session, report.id),
        referrals=referrals_of(session, report.id),
        child_words=masking.mask(report.child_words), where_detail=masking.mask(report.where_detail),
        village=chosen_village(session, str(report.village_id or "")),
    )


def perpetrators_of(session: Session, report_id: int) -> list[Perpetrator]:
    return list(session.execute(
        select(Perpetrator).where(col(Perpetrator.report_id) == report_id).order_by(col(Perpetrator.id))).scalars())


def services_of(session: Session, report_id: int) -> list[CaseService]:
    return list(session.execute(
        select(CaseService).where(col(CaseService.report_id) == report_id)
        .order_by(col(CaseService.given_on), col(CaseService.id))
    ).scalars())
