"""Helpers for the backup tests: realistic data to back up, the `bintang` command's settings and result, and
the runs recorded."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlmodel import Session

from server import clock
from server.accounts.models import User
from server.aftercare.models import CheckIn, CheckInPlan
from server.appointments.models import Appointment, ServiceType
from server.backups.models import BackupRun
from server.notifications import push
from server.notifications.models import PushSubscription
from server.reports import intake, messages, report_form
from server.reports.models import Report
from server.settings import Settings
from tests.support.reports import TEST_IP, report_fields

PHONE = "+6281299887766"  # the stored form: what the database holds
WORDS = "Pamanku memukul punggungku dengan sapu"


@dataclass
class Key:
    identity: Path
    recipient: str


def environment(settings: Settings) -> dict[str, str]:
    """The settings above as the `bintang` command reads them."""
    return {"DATABASE_URL": settings.database_url, "DATA_DIR": str(settings.data_dir),
            "BACKUP_DIR": settings.backup_dir_setting, "BACKUP_RECIPIENTS": ",".join(settings.backup_recipients),
            "BACKUP_REMOTE": settings.backup_remote, "BACKUP_REMOTE_PASSWORD": settings.backup_remote_password,
            "DISPATCHER": "off"}


@dataclass
class Ran:
    code: int
    out: str
    err: str


def runs(engine, kind: str | None = None) -> list[BackupRun]:
    with Session(engine) as session:
        query = select(BackupRun).order_by(BackupRun.id)
        if kind:
            query = query.where(BackupRun.kind == kind)
        return list(session.execute(query).scalars())


@dataclass
class Filled:
    codes: list[tuple[int, str, str]]  # report id, code, PIN


def fill(db: Session, settings: Settings, count: int) -> Filled:
    """`count` reports through the service (codes, hashed PINs, chronology, audit, alerts), half of them with a
    counselor's message and a fifth with the reporter's answer, a phone number on every third; appointments,
    push subscriptions and check-ins beside them in bulk."""
    push.load_vapid(settings)  # the key development makes on first use, which every subscription depends on
    counselor = db.execute(select(User).where(User.username == "konselor")).scalar_one()
    codes = []
    for n in range(count):
        fields = {"child_words": f"{WORDS} nomor {n}."}
        if n % 3 == 0:
            fields.update(contact_method="whatsapp", contact_detail=PHONE)
        form = report_form.ReportForm.from_data(report_fields(**fields))
        receipt = intake.submit_report(db, settings, form, user=None, ip=TEST_IP)
        if n % 2 == 0:
            messages.message_from_staff(db, receipt.report, counselor, body=f"Terima kasih, kami hubungi ({n}).",
                                       ip=TEST_IP)
        if n % 5 == 0:
            messages.message_from_reporter(db, receipt.report, None, body="Baik, saya tunggu.", ip=TEST_IP)
        if n < 5:
            codes.append((receipt.report.id, receipt.code, receipt.pin))
        if n % 100 == 99:
            db.commit()
    db.commit()
    report_ids = list(db.execute(select(Report.id).order_by(Report.id)).scalars())
    service_type = ServiceType(name="Konseling individu", duration_minutes=45, buffer_after_minutes=10,
                               min_notice_hours=24, max_days_ahead=30)
    db.add(service_type)
    db.flush()
    service_type = service_type.id
    now = clock.now().replace(microsecond=0)
    appointments, subscriptions, plans = [], [], []
    for n, report_id in enumerate(report_ids[: count // 4]):
        start = now + timedelta(days=1 + n // 8, hours=n % 8)
        appointments.append(dict(created_at=now, updated_at=now, counselor_id=counselor.id,
                                 service_type_id=service_type, starts_at=start, ends_at=start + timedelta(minutes=45),
                                 block_start=start, block_end=start + timedelta(minutes=55), status="confirmed",
                                 is_live=True, report_id=report_id, note="Ingin bicara soal rumah.",
                                 phone_number=PHONE if n % 2 else ""))
        subscriptions.append(dict(endpoint=f"https://push.example.net/send/{uuid.uuid4().hex}", p256dh="B" * 87,
                                  auth="A" * 22, report_id=report_id, created_at=now, last_seen_at=now))
        plans.append(dict(report_id=report_id, created_at=now, created_by_id=counselor.id, offsets="2w,1m"))
    db.execute(insert(Appointment), appointments)
    db.execute(insert(PushSubscription), subscriptions)
    db.execute(insert(CheckInPlan), plans)
    plan_ids = db.execute(select(CheckInPlan.id, CheckInPlan.report_id)).all()
    db.execute(insert(CheckIn), [dict(plan_id=plan_id, report_id=report_id, step="2w", due_at=now + timedelta(days=14),
                                      retry_at=now + timedelta(days=17), give_up_at=now + timedelta(days=20),
                                      status="scheduled") for plan_id, report_id in plan_ids])
    db.commit()
    return Filled(codes)
