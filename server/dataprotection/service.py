"""The records of processing as a supervisor reads and exports them, and the data protection settings: the data
protection officer's contact (UU PDP Art. 53-54) and the retention periods a supervisor may change within
their limits. Each change is one transaction with its audit entry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from server import audit
from server.dataprotection import registry, rules
from server.forms import text_error
from server.i18n import gettext as _
from server.models import ServiceSetting

DPO_KEY = "pelindungan_data.petugas"
DPO_MAX = 200


@dataclass(frozen=True)
class Actor:
    id: int
    label: str
    ip: str


def record(session: Session, actor: Actor, action: str, object_type: str = "", object_id: object = "",
           **detail: object) -> None:
    audit.record(session, action, actor_id=actor.id, actor_label=actor.label, object_type=object_type,
                 object_id=object_id, ip=actor.ip, **detail)


# --- the records of processing ---------------------------------------------------------------------------------

CSV_HEADER = ("kunci", "tabel", "kolom", "jenis data", "tujuan", "dasar hukum", "data spesifik", "yang boleh melihat",
              "retensi")


def csv_lines(session: Session) -> Iterator[tuple[str, ...]]:
    """The registry as rows for the DPIA: one line per record, the retention in words with today's period."""
    yield CSV_HEADER
    periods = rules.all_days(session)
    for item in registry.RECORDS:
        yield (item.key, item.table, " ".join(item.fields), str(item.what), str(item.purpose), item.basis_label,
               _("ya") if item.specific else _("tidak"), str(item.who), retention_words(item.retention, periods))


def retention_words(key: str, periods: dict[str, int]) -> str:
    rule = rules.RULES[key]
    if rule.adjustable:
        return _("%(rule)s: %(period)s (%(days)s hari)", rule=rule.label, period=rule.period, days=periods[key])
    return _("%(rule)s: %(period)s", rule=rule.label, period=rule.period)


def record_export(session: Session, actor: Actor) -> None:
    record(session, actor, "dataprotection.registry_exported", "registry", "", rows=len(registry.RECORDS))


# --- settings ----------------------------------------------------------------------------------------------------

def _stored(session: Session, key: str) -> str | None:
    return session.execute(select(col(ServiceSetting.value)).where(col(ServiceSetting.key) == key)).scalar()


def _store(session: Session, key: str, value: str) -> None:
    row = session.get(ServiceSetting, key)
    if row is None:
        session.add(ServiceSetting(key=key, value=value))
    else:
        row.value = value
        session.add(row)


def dpo_contact(session: Session) -> str:
    return _stored(session, DPO_KEY) or ""


def settings_form(session: Session) -> dict[str, str]:
    form = {"dpo": dpo_contact(session)}
    form.update({f"days_{key}": str(value) for key, value in rules.all_days(session).items()})
    return form


def save_settings(session: Session, form: dict[str, str], actor: Actor) -> dict[str, str]:
    """The officer's contact and each adjustable period, checked against its limits; nothing is saved when one
    is wrong. The audit entry names what changed, old and new."""
    errors: dict[str, str] = {}
    dpo = " ".join(form.get("dpo", "").split())
    if error := text_error(
        dpo, limit=DPO_MAX,
        required=_("Tulis kontak petugas pelindungan data: nama jabatan dan e-mail atau nomor telepon kantor."),
        too_long=_("Kontak petugas paling banyak %(n)s karakter.", n=DPO_MAX),
    ):
        errors["dpo"] = error
    periods: dict[str, int] = {}
    for key, rule in rules.RULES.items():
        if not rule.adjustable:
            continue
        typed = form.get(f"days_{key}", "").strip()
        if not typed.isdigit() or not rule.allows(int(typed)):
            errors[f"days_{key}"] = _("Isi jumlah hari antara %(low)s dan %(high)s.", low=rule.min_days,
                                      high=rule.max_days)
        else:
            periods[key] = int(typed)
    if errors:
        return errors
    before = settings_form(session)
    _store(session, DPO_KEY, dpo)
    for key, value in periods.items():
        _store(session, rules.SETTING_PREFIX + key, str(value))
    after = {"dpo": dpo, **{f"days_{key}": str(value) for key, value in periods.items()}}
    changed = {name: [before.get(name, ""), value] for name, value in after.items() if before.get(name) != value}
    if changed:
        record(session, actor, "dataprotection.settings_changed", "service", "", changed=changed)
    return {}
